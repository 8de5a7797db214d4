"""Exp3.S: conformance, the weight rule by hand, the lazy O(1) form against the O(N) rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.params import InvalidParameterError
from autocurriculum.progress import DeltaTracker, QuantileReservoir
from autocurriculum.testing import check_teacher


def _direct_exp3s(n, arms, rewards, eta, eps, beta=0.0):
    """The published rule, literally: O(N) per step over log-weights."""
    w = np.zeros(n)
    for t, (a, r) in enumerate(zip(arms, rewards, strict=True), start=1):
        p = np.exp(w - w.max())
        p /= p.sum()
        pi = (1 - eps) * p + eps / n
        r_tilde = (r * (np.arange(n) == a) + beta) / pi
        alpha = 1.0 / t
        e = w + eta * r_tilde
        m = e.max()
        ex = np.exp(e - m)
        w = m + np.log((1 - alpha) * ex + alpha / (n - 1) * (ex.sum() - ex))
    p = np.exp(w - w.max())
    return p / p.sum()


def _scaled_rewards(arms, scores, capacity=1000):
    deltas = DeltaTracker(int(max(arms)) + 1).push(arms, scores)
    res = QuantileReservoir(capacity)
    out = []
    for d in deltas:
        res.add(d, np.random.default_rng(0))
        out.append(res.rescale(d))
    return out


@pytest.mark.parametrize("params", [{}, {"beta": 0.1}, {"progress": "ema"}, {"epsilon": 0.0}])
def test_conformance_small(params):
    check_teacher(ac.make("exp3s", ac.Discrete(7), seed=0, **params))


def test_conformance_large_space():
    check_teacher(ac.make("exp3s", ac.Discrete(20_000), seed=0), episodes=320)


def test_conformance_with_progress_and_cost_signals():
    def signals(tasks, scores):
        return {"progress": scores - 0.5, "cost": np.full(len(scores), 2.0)}

    check_teacher(ac.make("exp3s", ac.Discrete(7), seed=0), signal_fn=signals)


def test_three_steps_by_hand_with_published_constants():
    eta, eps = 1e-3, 0.05
    t = ac.make("exp3s", ac.Discrete(3), seed=0)
    # Step 1 (t = 1): arm 0 scores 1.0, progress 1 - 0 = 1; the reservoir holds only it, so
    # the rescaled reward is 0; α_1 = 1 mixes the (equal) weights fully: still uniform.
    t.update([0], [1.0])
    np.testing.assert_allclose(t.probabilities(), [1 / 3] * 3)
    # Step 2 (t = 2): arm 0 scores 0.25, progress -0.75. Reservoir {1, -0.75}: the 20th
    # percentile is -0.75 + 0.2 * 1.75 = -0.4 > -0.75, so r = -1; π_0 = 1/3, r̃_0 = -3.
    t.update([0], [0.25])
    g = math.exp(-3 * eta)
    alpha = 0.5
    w = np.log([(1 - alpha) * g + alpha / 2 * 2, (1 - alpha) + alpha / 2 * (g + 1),
                (1 - alpha) + alpha / 2 * (g + 1)])
    p = np.exp(w) / np.exp(w).sum()
    np.testing.assert_allclose(t.weights(), p, rtol=1e-12)
    np.testing.assert_allclose(t.probabilities(), (1 - eps) * p + eps / 3, rtol=1e-12)
    # Step 3 (t = 3): arm 1 scores 0.75, progress 0.75. Reservoir {-0.75, 0.75, 1}: the
    # quantiles are -0.15 and 0.9, so r = 2 * 0.9 / 1.05 - 1.
    t.update([1], [0.75])
    r = 2 * (0.75 + 0.15) / (0.9 + 0.15) - 1
    pi1 = (1 - eps) * p[1] + eps / 3
    e = w.copy()
    e[1] += eta * r / pi1
    alpha = 1 / 3
    ex = np.exp(e)
    w3 = np.log((1 - alpha) * ex + alpha / 2 * (ex.sum() - ex))
    np.testing.assert_allclose(t.weights(), np.exp(w3) / np.exp(w3).sum(), rtol=1e-12)
    assert t.weights()[1] > t.weights()[2]


@pytest.mark.parametrize(("n", "eta", "beta"), [(2, 1e-3, 0.0), (5, 1.0, 0.0), (40, 5.0, 0.0),
                                                (6, 0.5, 0.2)])
def test_lazy_update_equals_the_published_rule(n, eta, beta):
    # Large η with 0/1 scores drives single arms to dominate and collapse: the hard case for
    # the lazy scale/offset form.
    rng = np.random.default_rng(n)
    arms = rng.integers(0, n, 500)
    scores = (rng.random(500) < (arms + 1) / (n + 1)).astype(float)
    t = ac.make("exp3s", ac.Discrete(n), eta=eta, beta=beta, epsilon=0.01, seed=0)
    for lo in range(0, 500, 37):
        t.update(arms[lo : lo + 37], scores[lo : lo + 37])
    expected = _direct_exp3s(n, arms, _scaled_rewards(arms, scores), eta, 0.01, beta)
    np.testing.assert_allclose(t.weights(), expected, rtol=1e-9, atol=1e-15)


def test_progress_and_cost_signals_replace_the_score_delta():
    a = ac.make("exp3s", ac.Discrete(4), eta=0.5, seed=0)
    b = ac.make("exp3s", ac.Discrete(4), eta=0.5, seed=0)
    arms = np.array([0, 1, 2, 1, 3, 0])
    gains = np.array([0.3, -0.2, 0.1, 0.6, 0.0, 0.4])
    a.update(arms, np.zeros(6), signals={"progress": gains, "cost": np.full(6, 2.0)})
    b.update(arms, np.ones(6), signals={"progress": gains / 2})
    np.testing.assert_allclose(a.weights(), b.weights(), rtol=1e-12)
    before = a.weights()
    with pytest.raises(ValueError, match="cost"):
        a.update([0], [0.5], signals={"cost": np.array([0.0])})
    np.testing.assert_array_equal(a.weights(), before)


def test_positive_progress_raises_an_arm():
    t = ac.make("exp3s", ac.Discrete(4), eta=0.1, seed=0)
    for _ in range(40):
        t.update([2, 1], [1.0, 0.0], signals={"progress": np.array([1.0, -1.0])})
    p = t.probabilities()
    assert p.argmax() == 2
    assert p.argmin() == 1
    assert p.min() >= 0.05 / 4 - 1e-12


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"eta": 0.0}, "eta"),
        ({"eta": -1e-3}, "eta"),
        ({"epsilon": 1.5}, "epsilon"),
        ({"beta": -0.1}, "beta"),
        ({"beta": float("inf")}, "beta"),
        ({"reservoir_size": 0}, "reservoir_size"),
        ({"reservoir_size": 10**7}, r"reservoir_size must be an int in \[1, 1000000\]"),
        ({"low_quantile": 1.5}, r"low_quantile must be a real number in \[0, 1\]"),
        ({"high_quantile": -0.1}, r"high_quantile must be a real number in \[0, 1\]"),
        ({"progress": "slope"}, "progress"),
        ({"ema_fast": 0.01}, "ema_slow"),
    ],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        ac.make("exp3s", ac.Discrete(3), **params)


def test_quantile_parameters_are_named_in_full():
    # Probe: the error named the reservoir's `low`/`high` instead of the teacher's parameters.
    with pytest.raises(InvalidParameterError) as err:
        ac.make("exp3s", ac.Discrete(3), low_quantile=0.9)
    assert str(err.value) == (
        "low_quantile must be < high_quantile, got low_quantile=0.9, high_quantile=0.8"
    )
    res = QuantileReservoir(10, low_quantile=0.1, high_quantile=0.9)
    assert (res.low_quantile, res.high_quantile) == (0.1, 0.9)
    with pytest.raises(TypeError):
        QuantileReservoir(10, low=0.1)  # the old, ambiguous names are gone


def test_reservoir_draws_do_not_use_the_sampling_generator():
    # The reservoir's replacement draws (once it is full) come from their own generator, so
    # extra sample() calls leave the learned weights unchanged.
    quiet = ac.make("exp3s", ac.Discrete(5), reservoir_size=4, eta=0.5, seed=3)
    busy = ac.make("exp3s", ac.Discrete(5), reservoir_size=4, eta=0.5, seed=3)
    rng = np.random.default_rng(0)
    for _ in range(30):
        arms = rng.integers(0, 5, size=6)
        scores = rng.random(6)
        busy.sample(int(rng.integers(1, 20)))
        quiet.update(arms, scores)
        busy.update(arms, scores)
    assert quiet.reservoir_.sorted == busy.reservoir_.sorted
    np.testing.assert_array_equal(quiet.weights(), busy.weights())


def test_needs_two_arms_and_rejects_bad_signals():
    with pytest.raises(ValueError, match="at least 2 arms"):
        ac.make("exp3s", ac.Discrete(1))
    t = ac.make("exp3s", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="signals must be a mapping"):
        t.update([0, 1], [0.5, 0.5], signals=np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [0.5, 0.5], signals={"progress": np.zeros(3)})
    with pytest.raises(ValueError, match="Did you mean 'progress'"):
        t.update([0, 1], [0.5, 0.5], signals={"progres": np.zeros(2)})
    # Known signals exp3s does not read are ignored.
    t.update([0, 1], [0.5, 0.5], signals={"value_loss": np.zeros(2), "group": [0, 0]})
