"""SEC: conformance, the TD(0) step by hand, step boundaries, signals and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.testing import check_teacher


def _groups(tasks, scores):
    return {"group": np.arange(len(tasks)) // 4}


def test_conformance_small():
    check_teacher(ac.make("sec", ac.Discrete(7), seed=0))


def test_conformance_with_group_ids():
    check_teacher(ac.make("sec", ac.Discrete(7), seed=0), signal_fn=_groups)


def test_conformance_large_space():
    check_teacher(ac.make("sec", ac.Discrete(20_000), seed=0), episodes=320)


def test_td_step_by_hand_with_published_constants():
    # lr = 0.5, temperature = 1. Step 1: arm 0 |A| {0.5, 0.3} -> r = 0.4; arm 2 r = 1.0;
    # arm 1 absent, r = 0. Q = 0.5 * r.
    t = ac.make("sec", ac.Discrete(3), seed=0)
    t.update([0, 0, 2], [1.0, 0.0, 1.0], signals=[0.5, 0.3, 1.0])
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.2, 0.0, 0.5])
    expected = np.exp([0.2, 0.0, 0.5]) / np.exp([0.2, 0.0, 0.5]).sum()
    np.testing.assert_allclose(t.probabilities(), expected)
    # Step 2: only arm 1, |A| = 0.4: every arm decays, arm 1 also gains 0.5 * 0.4.
    t.update([1], [1.0], signals=[-0.4])  # a signed advantage: its absolute value is used
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.1, 0.2, 0.25])
    assert t.n_steps_ == 2


def test_grpo_advantages_from_group_ids():
    # Arm 0's rollouts are one group with rewards 1, 0 (|A| = 0.5 each without std division);
    # arm 1's group is all-success (|A| = 0).
    t = ac.make("sec", ac.Discrete(2), normalize_advantage=False, seed=0)
    t.update([0, 0, 1, 1], [1.0, 0.0, 1.0, 1.0], signals={"group": np.array([7, 7, 9, 9])})
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.25, 0.0])
    # With GRPO's std division the group (1, 0) has |A| = 0.5 / sqrt(0.5).
    g = ac.make("sec", ac.Discrete(2), seed=0)
    g.update([0, 0, 1, 1], [1.0, 0.0, 1.0, 1.0], signals={"group": np.array([7, 7, 9, 9])})
    g.end_step()
    np.testing.assert_allclose(g.q_, [0.5 * 0.5 / (0.5**0.5 + 1e-6), 0.0])


def test_a_step_is_everything_between_two_samples():
    one = ac.make("sec", ac.Discrete(3), seed=0)
    split = ac.make("sec", ac.Discrete(3), seed=0)
    tasks = one.sample(4)
    split.sample(4)
    scores = np.array([1.0, 0.0, 1.0, 0.0])
    groups = np.array([0, 0, 1, 1])
    one.update(tasks, scores, signals={"group": groups})
    for i in range(4):  # a group split across calls is still one group
        split.update(tasks[i : i + 1], scores[i : i + 1], signals={"group": groups[i : i + 1]})
    assert one.sample(8).tolist() == split.sample(8).tolist()
    np.testing.assert_array_equal(one.q_, split.q_)
    assert one.n_steps_ == split.n_steps_ == 1
    # Sampling again without new outcomes does not decay Q.
    q = one.q_.copy()
    one.sample(3)
    np.testing.assert_array_equal(one.q_, q)


def test_manual_steps():
    t = ac.make("sec", ac.Discrete(3), auto_step=False, seed=0)
    t.update([0], [1.0], signals=[1.0])
    t.sample(2)
    np.testing.assert_array_equal(t.q_, [0.0, 0.0, 0.0])
    assert t.metrics()["teacher/pending"] == 1.0
    t.end_step()
    np.testing.assert_allclose(t.q_, [0.5, 0.0, 0.0])


def test_missing_group_ids_and_wrong_lengths():
    t = ac.make("sec", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="'group'"):
        t.update([0, 1], [1.0, 0.0], signals={"value_loss": np.ones(2)})
    with pytest.raises(ValueError, match="needs signals"):
        t.update([0, 1], [1.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals=np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals={"group": np.ones(3)})
    assert len(t.step_) == 0  # nothing was queued by the rejected updates


@pytest.mark.parametrize(
    ("params", "name"),
    [({"lr": 0.0}, "lr"), ({"lr": 1.5}, "lr"), ({"lr": -0.5}, "lr"),
     ({"temperature": 0.0}, "temperature"), ({"temperature": -0.2}, "temperature")],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(ValueError, match=name):
        ac.make("sec", ac.Discrete(3), **params)
