"""Self-paced, cyclical and easy-to-hard teachers: hand-computed steps and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac


def test_self_paced_warms_up_on_every_arm_before_leaving_any_out():
    teacher = ac.make("self-paced", ac.Discrete(4), seed=0)
    teacher.update([0, 1], [1.0, 1.0])
    assert sorted(set(teacher.sample(50).tolist())) == [2, 3]


def test_self_paced_threshold_grows_with_episodes():
    teacher = ac.make("self-paced", ac.Discrete(2), initial_threshold=0.5, growth=2.0,
                      grow_every=3, probe=0.0, seed=0)
    teacher.update([0, 1], [0.8, 0.1])  # losses 0.2 and 0.9
    assert teacher.threshold() == 0.5
    assert set(teacher.sample(30).tolist()) == {0}
    teacher.update([0], [0.8])  # the third episode: 0.5 * 2
    assert teacher.threshold() == 1.0
    assert set(teacher.sample(30).tolist()) == {0, 1}


def test_self_paced_probes_inactive_arms_at_the_given_rate():
    teacher = ac.make("self-paced", ac.Discrete(2), initial_threshold=0.5, probe=0.25, seed=0)
    teacher.update([0, 1], [0.9, 0.0])
    share = float(np.mean(teacher.sample(20_000) == 1))
    assert share == pytest.approx(0.25, abs=0.015)


def test_self_paced_falls_back_to_the_easiest_arm():
    teacher = ac.make("self-paced", ac.Discrete(3), initial_threshold=0.1, probe=0.0, seed=0)
    teacher.update([0, 1, 2], [0.2, 0.6, 0.4])  # every loss above 0.1; arm 1 is easiest
    assert set(teacher.sample(20).tolist()) == {1}


def test_cyclical_share_is_a_triangle_wave():
    teacher = ac.make("cyclical", ac.Discrete(8), start_fraction=0.25, period=8, seed=0)
    shares = []
    for arm in range(8):
        shares.append(teacher.share())
        teacher.update([arm], [0.5])
    assert shares == [0.25, 0.4375, 0.625, 0.8125, 1.0, 0.8125, 0.625, 0.4375]
    assert teacher.share() == 0.25  # the next cycle


def test_cyclical_plays_the_easiest_arms_by_loss():
    teacher = ac.make("cyclical", ac.Discrete(4), start_fraction=0.25, period=1000, seed=0)
    assert teacher.in_play().tolist() == [0, 1, 2, 3]  # unplayed arms first
    teacher.update([0, 1, 2, 3], [0.1, 0.9, 0.5, 0.95])
    # share 0.25 + 0.75 * 0.008 = 0.256 -> ceil(1.024) = 2 arms: 3 (loss 0.05) and 1 (0.1)
    assert teacher.in_play().tolist() == [1, 3]
    assert set(teacher.sample(40).tolist()) == {1, 3}


def test_easy_to_hard_unlocks_in_the_given_order_by_name():
    space = ac.Discrete(["hard", "easy", "medium"])
    teacher = ac.make("easy-to-hard", space, order=["easy", "medium", "hard"], threshold=0.7,
                      window=2, seed=0)
    assert set(teacher.sample(20).tolist()) == {1}
    teacher.update([1, 1], [0.6, 0.7])  # mean 0.65: not yet
    assert teacher.unlocked_ == 1
    teacher.update([1], [0.8])  # last two: 0.7, 0.8 -> 0.75
    assert teacher.unlocked_ == 2
    assert set(teacher.sample(40).tolist()) == {1, 2}


def test_easy_to_hard_unlock_mid_batch_equals_one_at_a_time():
    kwargs = {"threshold": 0.5, "window": 1, "seed": 0}
    batch = ac.make("easy-to-hard", ac.Discrete(3), **kwargs)
    single = ac.make("easy-to-hard", ac.Discrete(3), **kwargs)
    arms, scores = [0, 1, 1], [0.9, 0.2, 0.9]
    batch.update(arms, scores)
    for arm, score in zip(arms, scores, strict=True):
        single.update([arm], [score])
    assert batch.unlocked_ == single.unlocked_ == 3


def test_easy_to_hard_patience_and_newest_only():
    teacher = ac.make("easy-to-hard", ac.Discrete(3), threshold=1.0, window=5, patience=4,
                      cumulative=False, seed=0)
    teacher.update([0, 0, 0, 0], [0.0] * 4)  # never good enough, but patience is 4
    assert teacher.unlocked_ == 2
    assert set(teacher.sample(20).tolist()) == {1}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"order": [0, 0, 1]}, "every arm .* exactly once"),
        ({"order": "012"}, "sequence of arms"),
        ({"threshold": 1.5}, r"threshold must be a real number in \[0, 1\]"),
        ({"cumulative": "yes"}, "cumulative must be True or False"),
        ({"patience": 0}, "patience must be an int"),
    ],
)
def test_easy_to_hard_bad_parameters(params, message):
    with pytest.raises(ac.InvalidParameterError, match=message):
        ac.make("easy-to-hard", ac.Discrete(3), **params)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("self-paced", {"growth": 1.0}, r"growth must be a real number in \(1, inf\)"),
        ("self-paced", {"probe": 1.0}, r"probe must be a real number in \[0, 1\)"),
        ("self-paced", {"window": 10**9}, "window"),
        ("cyclical", {"start_fraction": 0.0}, "start_fraction"),
        ("cyclical", {"period": 1}, "period must be an int"),
    ],
)
def test_bad_parameters_are_named(name, params, message):
    with pytest.raises(ac.InvalidParameterError, match=message):
        ac.make(name, ac.Discrete(3), **params)
