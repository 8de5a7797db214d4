"""ADR: required expert knowledge, bound moves, boundary sampling and conformance."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.testing import check_teacher

UNIT2 = ac.Box([0.0, 0.0], [1.0, 1.0])
BOX = ac.Box([0.0, -1.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])
# Thresholds exactly representable in binary, so means of equal scores hit them exactly.
KNOW = {"low_threshold": 0.25, "high_threshold": 0.75}


def _bounds(teacher):
    box = teacher.model_snapshot()["boxes"][0]
    return np.array(box["low"]), np.array(box["high"])


# ---------------------------------------------------------- expert knowledge
@pytest.mark.parametrize("missing", ["start", "low_threshold", "high_threshold"])
def test_missing_knowledge_is_a_clear_error_naming_it(missing):
    params = {"start": [0.5, 0.5], **KNOW}
    del params[missing]
    with pytest.raises(ValueError, match=rf"needs the parameter\(s\) {missing}"):
        ac.make("adr", UNIT2, **params)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"start": [0.5, 1.5]}, "start .* outside"),
        ({"start": [-0.1, 0.5]}, "start .* outside"),
        ({"start": [0.5, 0.5, 0.5]}, "start must have shape"),
        ({"start": ["a", "b"]}, "start must be real"),
        ({"start": [0.5, 0.5], "low_threshold": 0.8}, "low_threshold must be < high_threshold"),
        ({"start": [0.5, 0.5], "high_threshold": 1.5}, "high_threshold"),
        ({"start": [0.5, 0.5], "step_size": 0.0}, "step_size"),
        ({"start": [0.5, 0.5], "boundary_sampling_p": 1.2}, "boundary_sampling_p"),
        ({"start": [0.5, 0.5], "queue_len": 0}, "queue_len"),
        # Used to fail with numpy's "Unable to allocate" message, naming no parameter.
        ({"start": [0.5, 0.5], "queue_len": 10**12}, "queue_len must be an int in"),
        ({"start": [0.5, 0.5], "step_size": 1.5}, "step_size"),
        ({"start": [0.5, 0.5], "low_threshold": "0.2"}, "low_threshold"),
    ],
)
def test_bad_knowledge_or_hyperparameters_raise(params, match):
    with pytest.raises(ValueError, match=match):
        ac.make("adr", UNIT2, **{**KNOW, **params})


def test_bounds_start_collapsed_at_the_start_point():
    teacher = ac.make("adr", BOX, start=[1.0, 2.0], **KNOW, seed=0)
    low, high = _bounds(teacher)
    assert low.tolist() == high.tolist() == [1.0, 2.0]
    assert np.all(teacher.sample(50) == [1.0, 2.0])


# ----------------------------------------------------------------- bound moves
def test_a_full_queue_at_the_high_threshold_widens_every_collapsed_bound():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, seed=0)
    for _ in range(9):
        teacher.update([0.5, 0.5], 0.75)
    low, high = _bounds(teacher)
    assert low.tolist() == high.tolist() == [0.5, 0.5], "a queue decides only when full"
    teacher.update([0.5, 0.5], 0.75)  # mean exactly 0.75 >= high_threshold
    low, high = _bounds(teacher)
    assert low == pytest.approx([0.4, 0.4])
    assert high == pytest.approx([0.6, 0.6])


def test_step_is_a_fraction_of_each_range():
    teacher = ac.make("adr", BOX, start=[1.0, 2.0], **KNOW, step_size=0.1, seed=0)
    for _ in range(10):
        teacher.update([1.0, 2.0], 1.0)
    low, high = _bounds(teacher)
    assert low == pytest.approx([0.7, 1.3])
    assert high == pytest.approx([1.3, 2.7])


def test_queue_is_emptied_after_every_decision():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, seed=0)
    for _ in range(10):  # mean 0.5: between the thresholds, no move, but the queue resets
        teacher.update([0.5, 0.5], 0.5)
    for _ in range(9):
        teacher.update([0.5, 0.5], 1.0)
    _low, high = _bounds(teacher)
    assert high.tolist() == [0.5, 0.5], "a rolling window would have moved here"
    teacher.update([0.5, 0.5], 1.0)
    assert _bounds(teacher)[1] == pytest.approx([0.6, 0.6])


def _widen_once(teacher, start):
    for _ in range(10):
        teacher.update(start, 1.0)


def test_low_threshold_narrows_but_never_past_the_start():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, seed=0)
    _widen_once(teacher, [0.5, 0.5])
    low, high = _bounds(teacher)
    # Failures at the high bound of dim 0 (dim 1 interior: no other bound is fed).
    for _ in range(10):
        teacher.update([high[0], 0.5], 0.25)  # mean 0.25 <= low_threshold
    low2, high2 = _bounds(teacher)
    assert high2[0] == 0.5
    assert high2[1] == high[1]
    assert low2.tolist() == low.tolist()
    # The bound now sits on the start: further failures there cannot push it past it.
    for _ in range(20):
        teacher.update([0.5, 0.5], 0.0)
    low3, high3 = _bounds(teacher)
    assert high3[0] == 0.5
    assert low3[0] <= 0.5 <= high3[0]
    assert teacher.metrics()["teacher/adr_narrowed"] >= 1.0


def test_widening_is_clamped_to_the_space():
    teacher = ac.make("adr", UNIT2, start=[0.95, 0.5], **KNOW, seed=0)
    _widen_once(teacher, [0.95, 0.5])
    low, high = _bounds(teacher)
    assert high[0] == 1.0
    assert low[0] == pytest.approx(0.85)
    for _ in range(10):
        teacher.update([1.0, 0.5], 1.0)
    assert _bounds(teacher)[1][0] == 1.0


def test_outcomes_for_a_bound_that_has_moved_are_dropped():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, seed=0)
    _widen_once(teacher, [0.5, 0.5])  # high bound of dim 0 is now 0.6
    for _ in range(10):  # stale: tasks on the old bound value, dim 1 interior
        teacher.update([0.5, 0.45], 1.0)
    assert _bounds(teacher)[1][0] == pytest.approx(0.6)
    high0 = _bounds(teacher)[1][0]
    for _ in range(10):
        teacher.update([high0, 0.45], 1.0)
    assert _bounds(teacher)[1][0] == pytest.approx(0.7)


# ------------------------------------------------------------------- sampling
def test_boundary_sampling_pins_one_dimension_on_a_bound():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, boundary_sampling_p=1.0, seed=0)
    for _ in range(3):
        _widen_once(teacher, [0.5, 0.5])
    low, high = _bounds(teacher)
    tasks = teacher.sample(500)
    on_bound = (tasks == low) | (tasks == high)
    assert np.all(on_bound.sum(axis=1) == 1)
    assert np.all((tasks >= low) & (tasks <= high))
    # Both sides and both dimensions get pinned.
    assert np.all(on_bound.any(axis=0))
    assert (tasks == low).any()
    assert (tasks == high).any()


def test_a_bound_at_the_space_edge_is_not_pinned():
    teacher = ac.make("adr", UNIT2, start=[0.0, 0.0], **KNOW, boundary_sampling_p=1.0, seed=0)
    _widen_once(teacher, [0.0, 0.0])
    tasks = teacher.sample(300)
    # The low bounds sit on the space's edge and cannot widen: every pin is on a high bound.
    assert np.all(((tasks == 0.1).sum(axis=1)) == 1)


def test_without_boundary_sampling_tasks_are_uniform_in_the_bounds():
    teacher = ac.make("adr", UNIT2, start=[0.5, 0.5], **KNOW, boundary_sampling_p=0.0, seed=0)
    for _ in range(2):
        _widen_once(teacher, [0.5, 0.5])
    low, high = _bounds(teacher)
    tasks = teacher.sample(4000)
    assert np.all((tasks >= low) & (tasks <= high))
    assert np.mean(tasks, axis=0) == pytest.approx((low + high) / 2, abs=0.01)


# ---------------------------------------------------------------- conformance
def _moving_score(space, start):
    """Success within 0.15 of the start (in range units), failure beyond: bounds widen to 0.2
    away, fail there and narrow back, again and again."""

    def score(tasks, step):
        dist = np.abs(space.to_unit(tasks) - space.to_unit(start)).max(axis=1)
        return np.where(dist < 0.15, 1.0, 0.0)

    return score


def test_conformance_while_bounds_move():
    start = BOX.low + 0.3 * BOX.range
    teacher = ac.make("adr", BOX, start=start, **KNOW, boundary_sampling_p=0.7, seed=0)
    check_teacher(teacher, score_fn=_moving_score(BOX, start))
    # The same drive really moves bounds both ways, so the checks above covered moves.
    run = ac.make("adr", BOX, start=start, **KNOW, boundary_sampling_p=0.7, seed=0)
    score = _moving_score(BOX, start)
    for step in range(40):
        tasks = run.sample(16)
        run.update(tasks, score(tasks, step))
    metrics = run.metrics()
    assert metrics["teacher/adr_widened"] > 0
    assert metrics["teacher/adr_narrowed"] > 0


def test_conformance_default_drive_and_one_dimension():
    check_teacher(ac.make("adr", BOX, start=BOX.low, **KNOW, seed=3))
    check_teacher(ac.make("adr", ac.Box([2.0], [5.0]), start=[3.0], **KNOW, seed=3),
                  score_fn=lambda tasks, step: np.full(len(tasks), 0.75 if step % 3 else 0.1))


def test_discrete_space_is_refused_with_the_teachers_that_can_serve_it():
    with pytest.raises(ValueError, match="discrete") as err:
        ac.make("adr", ac.Discrete(4), start=[0], **KNOW)
    assert "random" in str(err.value)
