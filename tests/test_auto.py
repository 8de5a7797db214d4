"""``make("auto", space)``: the recommended teacher per space kind."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.bench.students import ArmsStudent
from autocurriculum.spaces import Space
from autocurriculum.teachers import auto
from autocurriculum.teachers.registry import list_teachers, teacher_spec
from autocurriculum.testing import check_teacher


def test_discrete_gets_the_recommended_discrete_teacher():
    name, params = auto.DISCRETE_TEACHER
    teacher = ac.make("auto", ac.Discrete(6), seed=0)
    assert type(teacher) is teacher_spec(name).builder
    defaults = type(teacher)(ac.Discrete(6), seed=0).get_params()
    assert teacher.get_params() == {**defaults, **params}
    check_teacher(teacher)


def test_box_gets_the_recommended_box_teacher():
    name, _ = auto.BOX_TEACHER
    teacher = ac.make("auto", ac.Box([0.0, 0.0], [1.0, 1.0]), seed=0)
    assert type(teacher) is teacher_spec(name).builder
    assert "box" in type(teacher).supported_spaces


def test_user_parameters_override_the_recommended_ones():
    a = ac.make("auto", ac.Discrete(5), seed=3)
    b = ac.make("auto", ac.Discrete(5), seed=3)
    assert a.seed == 3
    for _ in range(5):
        tasks = a.sample(8)
        np.testing.assert_array_equal(tasks, b.sample(8))
        a.update(tasks, np.full(8, 0.5))
        b.update(tasks, np.full(8, 0.5))


def test_registered_for_both_kinds_with_a_summary():
    assert "auto" in list_teachers("discrete")
    assert "auto" in list_teachers("box")
    assert "z-scored learning progress" in teacher_spec("auto").summary
    assert teacher_spec("auto").reads == teacher_spec("lp-tree").reads | teacher_spec("zlp").reads


class _GraphSpace(Space):
    kind = "graph"

    def sample(self, rng: np.random.Generator, n: int) -> Any:
        return np.zeros(n)

    def validate_tasks(self, tasks: Any, *, name: str = "tasks") -> Any:
        return np.asarray(tasks)

    def contains(self, task: Any) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    @property
    def task_shape(self) -> tuple[int, ...]:
        return ()


def test_unknown_space_kind_is_a_value_error():
    with pytest.raises(ValueError, match="no recommended teacher for space kind 'graph'"):
        ac.make("auto", _GraphSpace())
    with pytest.raises(ValueError, match="space must be an autocurriculum Box or Discrete"):
        ac.make("auto", [0, 1, 2])


def _episodes_to_master_chain(teacher_name: str, seed: int, cap: int = 30_000) -> int:
    student = ArmsStudent(n_arms=20, chain=True, learn_rate=0.02, shuffle=True, seed=seed)
    teacher = ac.make(teacher_name, student.space, seed=seed)
    for t in range(1, cap + 1):
        task = teacher.sample()
        teacher.update(task, student.episode(task))
        if student.score() == 100.0:
            return t
    return cap


def test_auto_masters_a_shuffled_chain_much_faster_than_uniform():
    # Uniform needs about 20 * 20 * 38 = 15,200 episodes on this chain; the benchmark's pick
    # must do far better with no ordering given (ids are shuffled).
    auto_eps = _episodes_to_master_chain("auto", seed=1)
    assert auto_eps < 0.5 * 15_200
