"""Every registered teacher, built from its spec, passes check_teacher on every space it serves."""

from __future__ import annotations

import pytest

import autocurriculum as ac
from autocurriculum.teachers.registry import list_teachers, teacher_spec
from autocurriculum.testing import check_teacher
from teacher_cases import ARMS, BOX, REQUIRED, params_for


def _cases():
    for name in list_teachers(benchmark_only=True):
        for space in (BOX, ARMS):
            if space.kind in teacher_spec(name).kinds:
                yield pytest.param(name, space, id=f"{name}-{space.kind}")


@pytest.mark.parametrize(("name", "space"), list(_cases()))
def test_registered_teacher_is_conformant(name, space):
    teacher = ac.make(name, space, seed=0, **params_for(name, space))
    check_teacher(teacher)


def test_every_registered_teacher_is_covered():
    covered = {p.values[0] for p in _cases()}
    assert covered == set(list_teachers(benchmark_only=True))
    assert "oracle" in covered
    assert "oracle" not in list_teachers()


def test_every_spec_is_complete():
    for name in list_teachers(benchmark_only=True):
        spec = teacher_spec(name)
        assert spec.name == name
        assert spec.summary
        assert spec.kinds
        assert spec.needs_one_of <= spec.reads <= ac.SIGNALS.keys()
        missing = [p for p in spec.required_params if p not in REQUIRED]
        assert not missing, f"{name} requires {missing}: add a value to REQUIRED"
