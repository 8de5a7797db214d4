"""SEC: conformance, the TD(0) step by hand, explicit training steps, signals and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.params import InvalidParameterError
from autocurriculum.testing import check_teacher


def _groups(tasks, scores):
    return {"group": np.arange(len(tasks)) // 4}


def _abs_adv(values):
    return {"abs_advantage": np.asarray(values, dtype=float)}


def test_conformance_small():
    check_teacher(ac.make("sec", ac.Discrete(7), seed=0))


def test_conformance_with_group_ids():
    check_teacher(ac.make("sec", ac.Discrete(7), seed=0), signal_fn=_groups)


def test_conformance_large_space():
    check_teacher(ac.make("sec", ac.Discrete(20_000), seed=0), episodes=320)


def test_td_step_by_hand_with_published_constants():
    # lr = 0.5, temperature = 1. Step 1: arm 0 |A| {0.5, 0.3} -> r = 0.4; arm 2 r = 1.0;
    # arm 1 absent, r = 0. Q = 0.5 * r. An update without step ids is one whole step.
    t = ac.make("sec", ac.Discrete(3), seed=0)
    t.update([0, 0, 2], [1.0, 0.0, 1.0], signals=_abs_adv([0.5, 0.3, 1.0]))
    np.testing.assert_allclose(t.q_, [0.2, 0.0, 0.5])
    expected = np.exp([0.2, 0.0, 0.5]) / np.exp([0.2, 0.0, 0.5]).sum()
    np.testing.assert_allclose(t.probabilities(), expected)
    # Step 2: only arm 1, |A| = 0.4: every arm decays, arm 1 also gains 0.5 * 0.4.
    t.update([1], [1.0], signals={"advantage": [-0.4]})  # signed: its absolute value is used
    np.testing.assert_allclose(t.q_, [0.1, 0.2, 0.25])
    assert t.n_steps_ == 2
    t.end_step()  # nothing open: no step, no decay
    assert t.n_steps_ == 2


def test_grpo_advantages_from_group_ids():
    # Arm 0's rollouts are one group with rewards 1, 0 (|A| = 0.5 each without std division);
    # arm 1's group is all-success (|A| = 0).
    t = ac.make("sec", ac.Discrete(2), normalize_advantage=False, seed=0)
    t.update([0, 0, 1, 1], [1.0, 0.0, 1.0, 1.0], signals={"group": np.array([7, 7, 9, 9])})
    np.testing.assert_allclose(t.q_, [0.25, 0.0])
    # With GRPO's std division the group (1, 0) has |A| = 0.5 / sqrt(0.5).
    g = ac.make("sec", ac.Discrete(2), seed=0)
    g.update([0, 0, 1, 1], [1.0, 0.0, 1.0, 1.0], signals={"group": np.array([7, 7, 9, 9])})
    np.testing.assert_allclose(g.q_, [0.5 * 0.5 / (0.5**0.5 + 1e-6), 0.0])


def test_sample_never_ends_a_step():
    t = ac.make("sec", ac.Discrete(3), seed=0)
    t.update([0], [1.0], signals={**_abs_adv([1.0]), "step": [0]})
    t.sample(2)
    t.sample()
    np.testing.assert_array_equal(t.q_, [0.0, 0.0, 0.0])
    assert t.metrics()["teacher/pending"] == 1.0
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.5, 0.0, 0.0])
    # Sampling again without new outcomes does not decay Q.
    q = t.q_.copy()
    t.sample(3)
    np.testing.assert_array_equal(t.q_, q)


def test_a_newer_step_id_applies_the_open_step_first():
    t = ac.make("sec", ac.Discrete(3), seed=0)
    t.update([0, 0], [1.0, 0.0], signals={**_abs_adv([0.4, 0.2]), "step": [3, 3]})
    assert t.n_steps_ == 0
    t.update([1], [1.0], signals={**_abs_adv([1.0]), "step": [4]})
    np.testing.assert_allclose(t.q_, [0.15, 0.0, 0.0])  # step 3 applied, step 4 open
    assert (t.n_steps_, t.step_id_, len(t.step_)) == (1, 4, 1)
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.075, 0.5, 0.0])


def test_one_update_may_span_several_steps_in_id_order():
    spanning = ac.make("sec", ac.Discrete(3), seed=0)
    stepwise = ac.make("sec", ac.Discrete(3), seed=0)
    arms, scores = np.array([2, 0, 1, 0]), np.array([1.0, 0.0, 1.0, 1.0])
    adv, steps = np.array([0.8, 0.4, 0.6, 0.2]), np.array([6, 5, 6, 5])
    spanning.update(arms, scores, signals={"abs_advantage": adv, "step": steps})
    for step in (5, 6):
        mine = steps == step
        stepwise.update(arms[mine], scores[mine],
                        signals={"abs_advantage": adv[mine], "step": steps[mine]})
    spanning.end_step()
    stepwise.end_step()
    np.testing.assert_array_equal(spanning.q_, stepwise.q_)
    assert spanning.n_steps_ == stepwise.n_steps_ == 2


def test_an_update_without_step_ids_closes_the_open_step_and_is_one_step():
    t = ac.make("sec", ac.Discrete(2), seed=0)
    t.update([0], [1.0], signals={**_abs_adv([1.0]), "step": [0]})
    t.update([1], [1.0], signals=_abs_adv([1.0]))
    assert t.n_steps_ == 2
    np.testing.assert_allclose(t.q_, [0.25, 0.5])


@pytest.mark.parametrize(("first", "then", "match"), [
    (5, 4, "step 4, older than the last step 5"),
    (5, 5, "step 5, the same as the last step 5 .already closed"),
])
def test_an_older_or_closed_step_id_is_refused_before_anything_changes(first, then, match):
    t = ac.make("sec", ac.Discrete(3), seed=0)
    t.update([0, 1], [1.0, 0.0], signals={**_abs_adv([0.5, 0.1]), "step": [first, first]})
    t.update([2], [1.0], signals={**_abs_adv([0.2]), "step": [first]})  # same step: fine
    if then == first:
        t.end_step()
    before = t.state_dict()
    with pytest.raises(ValueError, match=match):
        t.update([1, 2], [1.0, 1.0], signals={**_abs_adv([0.3, 0.3]), "step": [first + 1, then]})
    assert _plain_equal(t.state_dict(), before)


def _grpo_step(rng, n_arms, step, n_prompts=6, group_size=4):
    """One GRPO step: prompts on random arms, each rolled out group_size times."""
    arms = np.repeat(rng.integers(0, n_arms, size=n_prompts), group_size)
    scores = (rng.random(len(arms)) < 0.5).astype(float)
    groups = np.repeat(np.arange(n_prompts) + 100 * step, group_size)
    return arms, scores, groups


@pytest.mark.parametrize("name", ["sec", "dump"])
def test_interleaved_clients_learn_only_from_updates(name):
    # Two "workers" each sample their share of a GRPO step, in any interleaving with each
    # other's updates; the updates carry step ids and arrive in a shuffled order within the
    # step (a group may be split between them). The learned state must equal that of a
    # teacher that got the same updates and never sampled.
    rng = np.random.default_rng(0)
    busy = ac.make(name, ac.Discrete(5), seed=1)
    quiet = ac.make(name, ac.Discrete(5), seed=1)
    for step in range(12):
        arms, scores, groups = _grpo_step(rng, 5, step)
        order = rng.permutation(len(arms))
        chunks = np.array_split(order, rng.integers(2, 6))
        events = [("sample", w) for w in (0, 1) for _ in range(int(rng.integers(1, 4)))]
        events += [("update", chunk) for chunk in chunks]
        rng.shuffle(events)
        for kind, what in events:
            if kind == "sample":
                busy.sample(int(rng.integers(1, 9)))
                continue
            signals = {"group": groups[what], "step": np.full(len(what), step)}
            busy.update(arms[what], scores[what], signals)
            quiet.update(arms[what], scores[what], signals)
    busy.end_step()
    quiet.end_step()
    a, b = busy.state_dict()["state"], quiet.state_dict()["state"]
    del a["rng_"], b["rng_"]
    assert _plain_equal(a, b)
    assert busy.n_steps_ == quiet.n_steps_ == 12


def _plain_equal(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _plain_equal(a[k], b[k]) for k in a
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_plain_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("name", ["sec", "dump"])
def test_a_group_split_across_two_updates_of_a_step_equals_one_update(name):
    arms = np.array([0, 0, 0, 0, 2, 2, 2, 2])
    scores = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    groups = np.array([4, 4, 4, 4, 9, 9, 9, 9])
    one = ac.make(name, ac.Discrete(3), seed=0)
    split = ac.make(name, ac.Discrete(3), seed=0)
    one.update(arms, scores, signals={"group": groups, "step": np.zeros(8, dtype=int)})
    first, second = [0, 4, 5], [1, 2, 3, 6, 7]  # both groups split between the two calls
    for part in (first, second):
        split.update(arms[part], scores[part],
                     signals={"group": groups[part], "step": np.zeros(len(part), dtype=int)})
    one.end_step()
    split.end_step()
    np.testing.assert_allclose(one.probabilities(), split.probabilities(), rtol=1e-12)
    # ... while without step ids each update is its own step, and a split group is two groups.
    apart = ac.make(name, ac.Discrete(3), seed=0)
    for part in (first, second):
        apart.update(arms[part], scores[part], signals={"group": groups[part]})
    assert not np.allclose(apart.probabilities(), one.probabilities())


def test_missing_group_ids_and_wrong_lengths():
    t = ac.make("sec", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="'abs_advantage' or 'advantage' or 'group'"):
        t.update([0, 1], [1.0, 0.0], signals={"value_loss": np.ones(2)})
    with pytest.raises(ValueError, match="needs the signal"):
        t.update([0, 1], [1.0, 0.0])
    with pytest.raises(ValueError, match="mapping"):
        t.update([0, 1], [1.0, 0.0], signals=np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals={"group": np.ones(3, dtype=int)})
    with pytest.raises(ValueError, match="Did you mean 'abs_advantage'"):
        t.update([0, 1], [1.0, 0.0], signals={"abs_advantages": np.ones(2)})
    assert len(t.step_) == 0  # nothing was queued by the rejected updates
    assert t.n_updates_ == 0


@pytest.mark.parametrize(
    ("params", "name"),
    [({"lr": 0.0}, "lr"), ({"lr": 1.5}, "lr"), ({"lr": -0.5}, "lr"),
     ({"temperature": 0.0}, "temperature"), ({"temperature": -0.2}, "temperature"),
     ({"normalize_advantage": "no"}, "normalize_advantage"),
     ({"normalize_advantage": 1}, "normalize_advantage")],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        ac.make("sec", ac.Discrete(3), **params)


def test_booleans_are_checked_not_coerced_and_auto_step_is_gone():
    # Probe: normalize_advantage="no" (like auto_step="no") used to become True through bool().
    with pytest.raises(TypeError, match="normalize_advantage must be True or False, got 'no'"):
        ac.make("sec", ac.Discrete(3), normalize_advantage="no")
    flag = np.bool_(False)
    t = ac.make("sec", ac.Discrete(3), normalize_advantage=flag)
    assert t.get_params()["normalize_advantage"] is flag  # stored unchanged
    with pytest.raises(TypeError, match="auto_step"):
        ac.make("sec", ac.Discrete(3), auto_step=False)
