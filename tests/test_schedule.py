"""Schedule: stages by hand, stages as plain data (saved and rebuilt), expert spec, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum._state import from_plain, is_plain, to_plain
from autocurriculum.params import InvalidParameterError
from autocurriculum.teachers.schedule import Schedule, Stage
from autocurriculum.testing import check_teacher

ARMS = ac.Discrete(["easy", "medium", "hard"])
BOX = ac.Box([0.0, 0.0], [1.0, 2.0])


def _box_stages():
    return [
        Stage(episodes=30, low=[0.0, 0.0], high=[0.5, 0.5]),
        Stage(threshold=0.6, window=10, tasks=np.array([[0.5, 1.0], [0.9, 1.9]])),
        Stage(),
    ]


def test_conformance_with_stage_objects_on_a_box():
    check_teacher(ac.make("schedule", BOX, stages=_box_stages(), seed=0))


def test_conformance_with_dict_stages_on_arms():
    stages = [{"episodes": 40, "weights": {"easy": 1.0}}, {"threshold": 0.5, "window": 8,
              "weights": [0.2, 0.8, 0.0]}, {}]
    check_teacher(ac.make("schedule", ARMS, stages=stages, seed=0))


def test_stages_by_hand():
    teacher = ac.make("schedule", ARMS, seed=0, stages=[
        {"episodes": 3, "weights": {"easy": 1.0}},
        {"threshold": 0.8, "window": 2, "tasks": [2]},
        {},
    ])
    assert set(teacher.sample(20).tolist()) == {0}
    teacher.update([0, 0], [0.0, 0.0])
    assert teacher.metrics()["teacher/stage"] == 0.0
    teacher.update([0], [0.0])  # third episode: the stage ends
    assert teacher.metrics()["teacher/stage"] == 1.0
    assert set(teacher.sample(20).tolist()) == {2}
    teacher.update([2, 2, 2], [0.9, 0.5, 0.9])  # windows of 2: means 0.7 and 0.7, below 0.8
    assert teacher.metrics()["teacher/stage"] == 1.0
    teacher.update([2], [0.9])  # last two 0.9, 0.9: mean 0.9 >= 0.8
    assert teacher.metrics()["teacher/stage"] == 2.0


def test_stages_are_plain_data_and_compare_by_value():
    stage = Stage(threshold=0.5, window=7, tasks=np.array([[0.1, 0.2]]), weights=None)
    plain = to_plain(stage, "stage")
    assert is_plain(plain)
    back = from_plain(plain, "stage")
    assert isinstance(back, Stage)
    assert back == stage
    assert Stage(tasks=[[0.1, 0.2]], threshold=0.5, window=7) == stage  # list vs array
    assert Stage(tasks=[[0.1, 0.3]], threshold=0.5, window=7) != stage
    assert Stage(weights={"easy": 1.0}) == Stage(weights={"easy": 1.0})
    assert Stage(weights={"easy": 1.0}) != Stage(weights={"hard": 1.0})
    assert Stage(episodes=3) != Stage(threshold=0.3)
    assert Stage() != {"episodes": None}


@pytest.mark.parametrize(("space", "stages"), [
    (BOX, _box_stages()),
    (ARMS, [{"episodes": 4, "weights": {"medium": 2.0, "hard": 1.0}}, {"tasks": (0, 1)}]),
])
def test_a_schedule_is_saved_and_rebuilt_by_ac_load(tmp_path, space, stages):
    teacher = ac.make("schedule", space, stages=stages, seed=3)
    for _ in range(4):
        tasks = teacher.sample(11)
        teacher.update(tasks, np.linspace(0.0, 1.0, 11))
    state = teacher.state_dict()
    assert is_plain(state)
    path = tmp_path / "schedule.ckpt"
    teacher.save(path)
    loaded = ac.load(path)
    assert isinstance(loaded, Schedule)
    assert loaded.stage_ == teacher.stage_
    assert list(loaded.recent_scores_) == list(teacher.recent_scores_)
    np.testing.assert_array_equal(loaded.sample(64), teacher.sample(64))
    # The rebuilt schedule takes its own state back, and refuses another schedule's.
    loaded.load_state_dict(teacher.state_dict())
    other = ac.make("schedule", space, stages=[{}], seed=3)
    with pytest.raises(ValueError, match="stages"):
        other.load_state_dict(state)


def test_spec_marks_stages_as_expert_knowledge():
    spec = ac.teacher_spec("schedule")
    assert spec.expert_params == ("stages",)
    assert spec.required_params == ("stages",)
    assert spec.kinds == ("box", "discrete")
    assert not spec.benchmark_only


def test_parameters_are_stored_unchanged():
    stages = _box_stages()
    teacher = Schedule(BOX, stages=stages)
    assert teacher.get_params()["stages"] is stages
    assert teacher.clone().get_params()["stages"] is stages


@pytest.mark.parametrize(("stages", "match"), [
    ([], "stages must be a non-empty list"),
    ("abc", "stages must be a non-empty list"),
    ([{"episodes": 0}, {}], r"stages\[0\]\.episodes must be an int >= 1, got 0"),
    ([{"episodes": True}, {}], r"stages\[0\]\.episodes must be an int >= 1, got True"),
    ([{"threshold": 1.5}, {}], r"stages\[0\]\.threshold must be a real number in \[0, 1\]"),
    ([{"threshold": 0.5, "window": 10**9}, {}],
     r"stages\[0\]\.window must be an int in \[1, 100000000\]"),
    ([{"episodes": 3, "threshold": 0.5}, {}], "both episodes and threshold"),
    ([{}, {}], r"stages\[0\] has no exit condition"),
    ([{"epsiodes": 3}, {}], r"stages\[0\] has unknown keys \['epsiodes'\]"),
    ([{"weights": [1.0, 0.0, 1.0]}], "arm weights but the space is Box"),
    ([5], r"stages\[0\] must be a Stage or a dict"),
])
def test_bad_stages(stages, match):
    with pytest.raises(InvalidParameterError, match=match):
        ac.make("schedule", BOX, stages=stages)
