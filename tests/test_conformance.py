"""Every registered teacher passes check_teacher on every space kind it serves."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.teachers.registry import teacher_kinds
from autocurriculum.testing import check_teacher

BOX = ac.Box([0.0, -1.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])
ARMS = ac.Discrete(7)


class _FrontierStudent:
    """A stand-in frontier for the oracle's conformance run (the real students have their own
    oracle tests); the frontier moves with its own counter so the oracle has something to follow.
    """

    def __init__(self, space):
        self.space = space

    def frontier(self):
        if isinstance(self.space, ac.Box):
            return np.array([[[0.0, -1.0], [1.0, 0.0]], [[1.0, 0.0], [3.0, 6.0]]])
        return np.array([1, 4])


# Teachers that need knowledge or a student get it here; every other teacher is built with
# its defaults, so a teacher that cannot be is a failing test, not a skipped one.
PARAMS = {
    "schedule": lambda space: {
        "stages": [{"episodes": 100}, {"threshold": 0.4, "window": 20}, {}]
    },
    "oracle": lambda space: {"student": _FrontierStudent(space)},
    "adr": lambda space: {"start": space.low + 0.3 * space.range, "low_threshold": 0.2,
                          "high_threshold": 0.7},
}

# Small refit/split schedules so that the conformance run exercises the fitted models.
FAST = {
    "alp-gmm": {"fit_rate": 50},
    "covar-gmm": {"fit_rate": 50},
    "riac": {"max_region_size": 40},
}


def _cases():
    for name in ac.list_teachers():
        if name == "auto":
            continue
        for space in (BOX, ARMS):
            if space.kind in teacher_kinds(name):
                yield pytest.param(name, space, id=f"{name}-{space.kind}")


@pytest.mark.parametrize(("name", "space"), list(_cases()))
def test_registered_teacher_is_conformant(name, space):
    params = {**PARAMS.get(name, lambda s: {})(space), **FAST.get(name, {})}
    teacher = ac.make(name, space, seed=0, **params)
    check_teacher(teacher)


def test_every_registered_teacher_is_covered():
    covered = {p.values[0] for p in _cases()}
    assert covered == set(ac.list_teachers()) - {"auto"}
