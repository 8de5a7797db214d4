"""check_teacher must catch each way a teacher can break the protocol."""

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.teachers.base import Teacher
from autocurriculum.testing import check_teacher


class _Good(Teacher):
    """A small learning teacher: samples near its best task so far."""

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        self.best_ = None
        self.best_score_ = -1.0

    def _sample(self, n):
        tasks = self.space.sample(self.rng_, n)
        if self.best_ is not None:
            tasks[: n // 2] = self.best_
        return tasks

    def _update(self, tasks, scores, signals):
        i = int(np.argmax(scores))
        if scores[i] > self.best_score_:
            self.best_, self.best_score_ = tasks[i].copy(), float(scores[i])


class _GlobalRng(_Good):
    def _sample(self, n):
        return self.space.from_unit(np.random.random((n, self.space.ndim)))  # noqa: NPY002


class _Outside(_Good):
    def _sample(self, n):
        return super()._sample(n) * 2.0 + 0.5


class _HiddenState(_Good):
    def _update(self, tasks, scores, signals):
        super()._update(tasks, scores, signals)
        self.hidden = self.best_  # learned state outside the `attr_` convention

    def _sample(self, n):
        tasks = self.space.sample(self.rng_, n)
        if getattr(self, "hidden", None) is not None:
            tasks[:] = self.hidden
        return tasks


class _LastOfBatch(_Good):
    def _update(self, tasks, scores, signals):
        super()._update(tasks[-1:], scores[-1:], signals)


class _Lenient(_Good):
    def update(self, tasks, scores, signals=None):
        scores = np.clip(np.nan_to_num(np.asarray(scores, dtype=float)), 0, 1)
        tasks = np.clip(np.asarray(tasks, dtype=float), self.space.low, self.space.high)
        n = min(len(tasks), len(scores))
        self._update(tasks[:n], scores[:n], None)


SPACE = ac.Box([0, -1], [3, 6])


def test_a_conformant_teacher_passes():
    check_teacher(_Good(SPACE, seed=0))


@pytest.mark.parametrize(
    ("teacher_cls", "check"),
    [
        (_GlobalRng, "same seed, same stream"),
        (_Outside, "samples in space"),
        (_HiddenState, "state_dict round trip"),
        (_LastOfBatch, "batch and single agree"),
        (_Lenient, "bad input"),
    ],
)
def test_broken_teachers_fail_the_named_check(teacher_cls, check):
    with pytest.raises(AssertionError, match=f"fails check '{check}'"):
        check_teacher(teacher_cls(SPACE, seed=0))
