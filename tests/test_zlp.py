"""ZLP (z-scored learning progress): progress beyond its noise, greedy; else exploration."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.bench.students import ArmsStudent
from autocurriculum.params import InvalidParameterError
from autocurriculum.teachers.zlp import ZLP
from autocurriculum.testing import check_teacher


@pytest.mark.parametrize("n", [1, 7])
def test_conformance(n):
    check_teacher(ac.make("zlp", ac.Discrete(n), seed=0))


def test_value_by_hand():
    teacher = ZLP(ac.Discrete(3), seed=0)
    teacher.update([0] * 20 + [1] * 20, [0.0] * 20 + [0.0] * 19 + [1.0])
    # Arm 1: 19 zeros then a 1. f = 0.15, s = 0.02 (both started at the first score, 0).
    f, s = 0.15, 0.02
    # Noise factor of f - s for iid scores: a/(2-a) + b/(2-b) - 2ab/(1-(1-a)(1-b)).
    c = 0.15 / 1.85 + 0.02 / 1.98 - 2 * 0.15 * 0.02 / (1 - 0.85 * 0.98)
    n_eff = 20  # min(20 episodes, 1 / slow = 50)
    p = (s * n_eff + 0.5) / (n_eff + 1)
    sd = math.sqrt(p * (1 - p) * c)
    expected = (abs(f - s) - 1.0 * sd) * (1 - f)
    assert teacher.progress()[1] == pytest.approx(f - s)
    assert teacher.values()[1] == pytest.approx(expected)
    # Arm 0 (all zeros) has no progress; arm 2 was never played.
    assert teacher.values()[[0, 2]].tolist() == [0.0, 0.0]


def test_noise_factor_matches_simulation():
    # Var(f - s) of two moving averages of iid Bernoulli(0.25) scores, at stationarity.
    teacher = ZLP(ac.Discrete(1), seed=0)
    rng = np.random.default_rng(1)
    x = (rng.random(200_000) < 0.25).astype(float)
    f = s = x[0]
    diffs = np.empty(len(x))
    for i, xi in enumerate(x):
        f += 0.15 * (xi - f)
        s += 0.02 * (xi - s)
        diffs[i] = f - s
    measured = diffs[1000:].var()
    assert measured == pytest.approx(0.25 * 0.75 * teacher._variance_factor(), rel=0.05)


def test_chance_arm_rarely_has_value_and_a_first_success_does():
    teacher = ZLP(ac.Discrete(2), seed=0)
    rng = np.random.default_rng(2)
    has_value = []
    for _ in range(3000):
        teacher.update([0], [float(rng.random() < 0.25)])
        has_value.append(teacher.values()[0] > 0.0)
    # The noise model is calibrated: with z = 1 the chance arm shows value about as often as
    # a normal variable leaves +-1 sd, 31.7% of the time (the steps are correlated: loose).
    assert 0.25 < np.mean(has_value[200:]) < 0.40
    teacher.update([1] * 40, [0.0] * 40)
    assert teacher.values()[1] == 0.0
    teacher.update([1], [1.0])  # a first success after 40 failures stands out of tiny noise
    assert teacher.values()[1] > teacher.values()[0]


def test_quiet_counts_episodes_since_strong_progress():
    teacher = ZLP(ac.Discrete(2), boredom_z=3.0, seed=0)
    teacher.update([0] * 10, [0.0] * 10)
    assert teacher.quiet_.tolist() == [10, 0]
    # A success after 10 failures: |f - s| = 0.13, p = (0.02 * 11 + 0.5) / 12 = 0.06,
    # sd = sqrt(0.06 * 0.94 * 0.0553) = 0.056: 2.3 sd, not strong; quiet goes on.
    teacher.update([0], [1.0])
    assert teacher.quiet_[0] == 11
    # After 40 failures the same success is 3.2 sd (p = 0.031, sd = 0.041): it resets.
    teacher.update([1] * 40 + [1], [0.0] * 40 + [1.0])
    assert teacher.quiet_[1] == 0
    teacher.update([1, 1], [0.0, 0.0])  # f - s shrinks back below 3 sd: counting again
    assert teacher.quiet_[1] == 2


def test_exploration_weights_by_hand():
    teacher = ZLP(ac.Discrete(3), boredom=20.0, stale_sweeps=25.0, rehearsal=0.3, seed=0)
    teacher.update([0] * 30, [1.0] * 30)  # held: f = 1, no room; just played: age 0
    np.testing.assert_allclose(teacher.exploration_weights(), [0.0, 1.0, 1.0])
    teacher.update([1] * 10, [0.0] * 10)  # ten failures: no progress, quiet 10
    horizon = 25.0 * 3
    expected = [0.3 * 10 / horizon, math.exp(-10 / 20), 1.0]
    np.testing.assert_allclose(teacher.exploration_weights(), expected)


def test_progress_elsewhere_forgives_quiet():
    teacher = ZLP(ac.Discrete(3), boredom=20.0, unlock=1.0, seed=0)
    teacher.update([1] * 10, [0.0] * 10)
    teacher.update([2] * 40, [0.0] * 40)
    assert teacher.events_ == 0.0
    teacher.update([2], [1.0])  # a first success after 40 failures: 3.2 sd, confirmed progress
    assert teacher.events_ == 1.0
    assert teacher.quiet_[2] == 0.0
    # Arm 1's quiet count of 10 is forgiven one episode per episode of progress, lazily.
    assert teacher.exploration_weights()[1] == pytest.approx(math.exp(-9 / 20))
    teacher.update([1], [0.0])  # written back when the arm is played: 10 - 1 + 1
    assert teacher.quiet_[1] == pytest.approx(10.0)
    assert teacher.exploration_weights()[1] == pytest.approx(math.exp(-10 / 20))
    off = ZLP(ac.Discrete(3), boredom=20.0, unlock=0.0, seed=0)
    off.update([1] * 10 + [2] * 40 + [2], [0.0] * 50 + [1.0])
    assert off.exploration_weights()[1] == pytest.approx(math.exp(-10 / 20))
    # Forgiveness stops at zero quiet: the weight never exceeds the room to learn.
    big = ZLP(ac.Discrete(3), boredom=20.0, unlock=100.0, seed=0)
    big.update([1] * 10 + [2] * 40 + [2], [0.0] * 50 + [1.0])
    assert big.exploration_weights()[1] == pytest.approx(1.0)


@pytest.mark.parametrize("n_arms", [3, 50])
def test_long_batches_with_repeats_equal_one_at_a_time(n_arms):
    # Batches dominated by a few arms go through the one-item path; the state must match
    # single updates bit for bit.
    rng = np.random.default_rng(n_arms)
    batch = ZLP(ac.Discrete(n_arms), seed=0)
    single = ZLP(ac.Discrete(n_arms), seed=0)
    for _ in range(20):
        tasks = rng.choice(n_arms, size=64, p=None if n_arms == 3 else _skewed(n_arms))
        scores = (rng.random(64) < (tasks % 4) / 4).astype(float)
        batch.update(tasks, scores)
        for task, score in zip(tasks.tolist(), scores.tolist(), strict=True):
            single.update(task, score)
    assert batch.events_ == single.events_ > 0
    for name in ("f_", "s_", "count_", "quiet_", "quiet_mark_", "value_", "novelty_log_"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(single, name), err_msg=name)


def _skewed(n):
    p = 1.0 / np.arange(1, n + 1) ** 2
    return p / p.sum()


def test_forgiveness_in_a_batch_equals_one_at_a_time():
    tasks = [2] * 40 + [2, 1, 0, 2, 1]
    scores = [0.0] * 40 + [1.0, 0.0, 1.0, 1.0, 0.0]
    batch = ZLP(ac.Discrete(3), seed=0)
    batch.update([1, 0], [0.0, 0.0])
    batch.update(tasks, scores)
    single = ZLP(ac.Discrete(3), seed=0)
    single.update([1, 0], [0.0, 0.0])
    for task, score in zip(tasks, scores, strict=True):
        single.update(task, score)
    assert batch.events_ == single.events_ > 0
    np.testing.assert_allclose(batch.quiet_, single.quiet_)
    np.testing.assert_allclose(batch.quiet_mark_, single.quiet_mark_)
    np.testing.assert_allclose(batch.exploration_weights(), single.exploration_weights())


def test_a_held_arm_left_alone_is_rehearsed():
    teacher = ZLP(ac.Discrete(2), stale_sweeps=25.0, rehearsal=0.3, seed=0)
    teacher.update([0] * 30, [1.0] * 30)
    teacher.update([1] * 50, [0.0] * 50)
    # Arm 0 was last played 50 episodes ago; the horizon is 25 sweeps x 2 arms = 50 episodes,
    # so its weight has grown to the full rehearsal weight, and it goes on growing.
    assert teacher.exploration_weights()[0] == pytest.approx(0.3)
    teacher.update([1] * 50, [0.0] * 50)
    assert teacher.exploration_weights()[0] == pytest.approx(0.6)
    # Rehearsal is for reliable arms: f^8. An arm near 25% chance success gets almost none.
    chance = ZLP(ac.Discrete(2), stale_sweeps=25.0, rehearsal=0.3, boredom=20.0, seed=0)
    chance.update([0] * 40, [1.0, 0.0, 0.0, 0.0] * 10)
    chance.update([1] * 50, [0.0] * 50)
    f, quiet = chance.f_[0], chance.quiet_[0]
    assert 0.1 < f < 0.4
    assert chance.quiet_mark_[0] == chance.events_  # nothing to forgive since its last play
    expected = (1 - f) * math.exp(-quiet / 20) + 0.3 * f**8 * 50 / 50
    assert chance.exploration_weights()[0] == pytest.approx(expected)
    off = ZLP(ac.Discrete(2), stale_sweeps=0.0, seed=0)
    off.update([0] * 30 + [1] * 50, [1.0] * 30 + [0.0] * 50)
    assert off.exploration_weights()[0] == 0.0


def test_draws_explore_when_no_arm_has_value():
    teacher = ZLP(ac.Discrete(3), seed=0)
    teacher.update([0] * 30, [1.0] * 30)
    assert teacher.values().max() == 0.0
    tasks = teacher.sample(20_000)
    weights = teacher.exploration_weights()
    np.testing.assert_allclose(
        np.bincount(tasks, minlength=3) / len(tasks), weights / weights.sum(), atol=0.01
    )


def test_greedy_share_follows_the_best_value():
    teacher = ZLP(ac.Discrete(4), epsilon=0.05, explore_mass=0.03, seed=0)
    teacher.update([1] * 20 + [1], [0.0] * 20 + [1.0])
    value = teacher.values()
    best = value.max()
    assert np.flatnonzero(value == best).tolist() == [1]
    tasks = teacher.sample(20_000)
    p_explore = 0.05 + 0.95 * 0.03 / (best + 0.03)
    weights = teacher.exploration_weights()
    expected = (1 - p_explore) + p_explore * weights[1] / weights.sum()
    assert np.mean(tasks == 1) == pytest.approx(expected, abs=0.015)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fast": 0.02, "slow": 0.02}, "slow must be < fast"),
        ({"fast": 1.5}, r"fast must be a real number in \(0, 1\], got 1.5"),
        ({"slow": 0.0}, r"slow must be a real number in \(0, 1\], got 0.0"),
        ({"z": -1.0}, r"z must be a real number in \[0, inf\), got -1.0"),
        ({"z": float("nan")}, "z must be a real number in"),
        ({"z": True}, "z must be a real number in"),
        ({"explore_mass": 0.0}, r"explore_mass must be a real number in \(0, inf\)"),
        ({"room_floor": 0.0}, "room_floor must be a real number in"),
        ({"boredom": -2.0}, "boredom must be a real number in"),
        ({"boredom_z": "3"}, "boredom_z must be a real number in"),
        ({"epsilon": 1.5}, r"epsilon must be a real number in \[0, 1\]"),
        ({"stale_sweeps": -1.0}, "stale_sweeps must be a real number in"),
        ({"unlock": -0.1}, "unlock must be a real number in"),
        ({"rehearsal": float("inf")}, "rehearsal must be a real number in"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        ZLP(ac.Discrete(3), **kwargs)


def test_parameters_are_stored_unchanged():
    fast = np.float32(0.25)
    teacher = ZLP(ac.Discrete(3), fast=fast, z=2)
    assert teacher.get_params()["fast"] is fast
    assert teacher.get_params()["z"] == 2
    assert isinstance(teacher.get_params()["z"], int)


def test_docstring_spells_out_the_name():
    assert ZLP.__doc__.splitlines()[0].startswith("Z-scored learning progress (ZLP)")
    assert ac.teacher_spec("zlp").summary.startswith("Z-scored learning progress")
    assert "µs" not in ZLP.__doc__  # measured timings live in benchmarks/RESULTS.md


def test_two_threads_sharing_one_teacher():
    # Probe: two threads sampling and updating one zlp teacher raised "ValueError: high <= 0"
    # (a draw among the best arms while another thread's update changed them).
    teacher = ZLP(ac.Discrete(50), seed=0)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(300):
                tasks = teacher.sample(8)
                teacher.update(tasks, (rng.random(8) < (tasks + 1) / 51).astype(float))
        except Exception as err:  # collected, re-raised by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert teacher.n_updates_ == 4 * 300 * 8
    assert int(teacher.count_.sum()) == teacher.n_updates_


def test_masters_a_chain_among_chance_arms_faster_than_uniform():
    # 20 chained arms, 10 arms that succeed 25% of the time by chance, 5 mastered ones, ids
    # shuffled: uniform sampling needs about 29,000 episodes to master every learnable arm.
    student = ArmsStudent(
        n_arms=20, learn_rate=0.02, unlearnable=10, unlearnable_success=0.25, trivial=5, seed=3
    )
    teacher = ac.make("zlp", student.space, seed=3)
    done = None
    for t in range(1, 15_001):
        task = teacher.sample()
        teacher.update(task, student.episode(task))
        if student.score() == student.best_possible():
            done = t
            break
    assert done is not None
    assert done < 0.5 * 29_000
    # Once everything learnable is mastered, the chance arms stop drawing episodes: uniform
    # would give them 10 / 35 = 29%.
    chance = np.flatnonzero(
        (student.competence() < 0.75) & ~np.isin(np.arange(35), student.chain_order)
    )
    played = []
    for _ in range(8_000):
        task = teacher.sample()
        teacher.update(task, student.episode(task))
        played.append(task)
    assert np.isin(played[4_000:], chance).mean() < 0.1


def test_a_measured_fall_restarts_both_averages():
    teacher = ZLP(ac.Discrete(2), seed=0)
    teacher.update([0] * 50, [1.0] * 50)  # mastered: f = s = 1
    teacher.update([0], [0.0])
    # Before the restart f = 0.85, s = 0.98; p = (0.98 * 50 + 0.5) / 51, sd = sqrt(p (1 - p)
    # c) = 0.040: the fall of 0.13 is beyond 3 sd, so both averages restart from the score.
    assert teacher.f_[0] == 0.0
    assert teacher.s_[0] == 0.0
    assert teacher.quiet_[0] == 0
    assert teacher.events_ == 0.0  # a fall is not progress
    # The arm now looks unknown: full room, no quiet, so it is explored like an unplayed arm.
    assert teacher.exploration_weights()[0] == pytest.approx(1.0)
    teacher.update([0], [1.0])  # not a fall: f = 0.15, s = 0.02
    assert (teacher.f_[0], teacher.s_[0]) == pytest.approx((0.15, 0.02))


def test_a_single_failure_of_a_held_arm_is_not_a_fall():
    teacher = ZLP(ac.Discrete(1), seed=0)
    teacher.update([0] * 200, [1.0] * 100 + [1.0, 1.0, 1.0, 0.0] * 25)  # 75% after 100 1s
    # The first failure after 100 successes falls by 0.13 against 3 sd = 0.12 (p = 0.99):
    # restarted to 0. Later failures at a 75% rate are inside the noise of p = 0.75.
    assert teacher.f_[0] > 0.5
