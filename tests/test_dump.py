"""DUMP: conformance, the UCB-softmax by hand, the sliding window, signals and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.params import InvalidParameterError
from autocurriculum.testing import check_teacher


def test_conformance_small():
    check_teacher(ac.make("dump", ac.Discrete(7), seed=0))


def test_conformance_with_group_ids():
    check_teacher(
        ac.make("dump", ac.Discrete(7), seed=0),
        signal_fn=lambda tasks, scores: {"group": np.arange(len(tasks)) // 4},
    )


def test_conformance_large_space():
    check_teacher(ac.make("dump", ac.Discrete(5_000), seed=0), episodes=320)


def test_ucb_softmax_by_hand_with_published_constants():
    # window 300, τ = 0.1. Arm 0: |A| {0.5, 0.25}, arm 1: {0.0}, arm 2: nothing; n_total = 3.
    t = ac.make("dump", ac.Discrete(3), seed=0)
    t.update([0, 0, 1], [1.0, 0.0, 1.0], signals={"abs_advantage": [0.5, 0.25, 0.0]})
    bonus = [math.sqrt(2 * math.log(4) / (n + 1)) for n in (2, 1, 0)]
    ucb = np.array([0.375 + bonus[0], 0.0 + bonus[1], 0.0 + bonus[2]])
    np.testing.assert_allclose(t.ucb(), ucb)
    expected = np.exp(ucb / 0.1) / np.exp(ucb / 0.1).sum()
    np.testing.assert_allclose(t.probabilities(), expected)
    assert t.probabilities().argmax() == 2  # the untried arm has the largest bonus


def test_before_any_outcome_sampling_is_uniform():
    t = ac.make("dump", ac.Discrete(4), seed=0)
    np.testing.assert_allclose(t.probabilities(), [0.25] * 4)


def test_sliding_window_mean_and_all_time_counts():
    t = ac.make("dump", ac.Discrete(2), window=2, seed=0)
    t.update([0, 0, 0, 1], [0.0] * 4, signals={"abs_advantage": [1.0, 0.5, 0.25, 0.0]})
    # μ_0 is the mean of the last 2 values; n_0 counts all 3.
    bonus0 = math.sqrt(2 * math.log(5) / 4)
    bonus1 = math.sqrt(2 * math.log(5) / 2)
    np.testing.assert_allclose(t.ucb(), [0.375 + bonus0, bonus1])


def test_group_ids_give_grpo_advantages():
    t = ac.make("dump", ac.Discrete(2), normalize_advantage=False, seed=0)
    steps = {"step": np.array([0, 0])}
    t.update([0, 0], [1.0, 0.0], signals={"group": np.array([3, 3]), **steps})
    t.update([1, 1], [1.0, 1.0], signals={"group": np.array([4, 4]), **steps})
    assert t.abs_adv_.total.tolist() == [0, 0]  # step 0 is still open
    t.end_step()
    assert t.abs_adv_.means().tolist() == [0.5, 0.0]
    assert t.n_steps_ == 1


def test_sample_never_ends_a_step():
    t = ac.make("dump", ac.Discrete(2), seed=0)
    t.update([0], [1.0], signals={"abs_advantage": [0.5], "step": [2]})
    t.sample(5)
    assert t.metrics()["teacher/pending"] == 1.0
    t.update([1], [1.0], signals={"abs_advantage": [0.5], "step": [3]})  # closes step 2
    assert t.abs_adv_.total.tolist() == [1, 0]
    with pytest.raises(ValueError, match="step 2, older than the last step 3"):
        t.update([1], [1.0], signals={"abs_advantage": [0.5], "step": [2]})
    assert t.metrics()["teacher/pending"] == 1.0


def test_missing_group_ids_and_wrong_lengths():
    t = ac.make("dump", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="Did you mean 'advantage'"):
        t.update([0], [1.0], signals={"advantages": np.ones(1)})
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals={"abs_advantage": np.ones(3)})
    with pytest.raises(ValueError, match="mapping"):
        t.update([0, 1], [1.0, 0.0], signals=np.ones(2))
    with pytest.raises(ValueError, match="needs the signal"):
        t.update([0], [1.0])
    with pytest.raises(ValueError, match="needs the signal"):
        t.update([0], [1.0], signals={"value_loss": [0.5], "step": [0]})
    assert t.n_updates_ == 0
    assert len(t.step_) == 0


@pytest.mark.parametrize(
    ("params", "name"),
    [({"temperature": 0.0}, "temperature"), ({"temperature": -0.1}, "temperature"),
     ({"window": 0}, "window"), ({"window": 2.5}, "window"),
     ({"normalize_advantage": "no"}, "normalize_advantage")],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        ac.make("dump", ac.Discrete(3), **params)


def test_window_has_an_upper_bound_naming_it():
    # Probe: huge sizes used to fail later with a MemoryError or a numpy message.
    with pytest.raises(InvalidParameterError, match=r"window must be an int in \[1, 100000000\]"):
        ac.make("dump", ac.Discrete(3), window=10**12)
    # The windows are allocated up front: window x arms is bounded too.
    with pytest.raises(InvalidParameterError, match="window=10000000 with 100 arms"):
        ac.make("dump", ac.Discrete(100), window=10**7)


def test_booleans_are_checked_not_coerced():
    with pytest.raises(InvalidParameterError, match="normalize_advantage must be True or False"):
        ac.make("dump", ac.Discrete(3), normalize_advantage="no")
    with pytest.raises(TypeError, match="auto_step"):
        ac.make("dump", ac.Discrete(3), auto_step=False)
