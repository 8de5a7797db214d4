"""The oracle: the upper reference of the benchmark, never a product feature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import InvalidParameterError
from autocurriculum.spaces import Box, Space
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["FrontierStudent", "Oracle"]


class FrontierStudent(Protocol):
    """A benchmark student that can tell where it can currently learn."""

    space: Space

    def frontier(self) -> NDArray[Any]:
        """``(m, 2, ndim)`` [low, high] task boxes for a Box space, or arm ids for a Discrete."""
        ...


@register("oracle", expert_params=("student",), benchmark_only=True)
class Oracle(Teacher[Space]):
    """Samples where the student can learn right now (benchmark only).

    It asks the student for its frontier: the cells or arms where one more episode raises
    competence and that are not yet mastered. It picks one uniformly and, in a Box, samples
    uniformly inside it. With an empty frontier (everything learnable is mastered) it samples
    uniformly over the space. It reads the student's internals, which no real teacher can, so it
    is the upper reference for a teacher's quality.

    The registry marks it benchmark-only, with ``student`` as its expert parameter: the
    benchmark runner passes the student it trains. The student is a live object, not plain
    data, so ``state_dict`` records it as ``{"__unsaved__": type name}`` and the oracle cannot
    be saved to a file and rebuilt by :func:`autocurriculum.load`; pickling works.

    Parameters
    ----------
    space : Box or Discrete
        The task space; must equal ``student.space``.
    student : FrontierStudent
        The benchmark student being taught.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> from autocurriculum.bench.students import GridStudent
    >>> import autocurriculum as ac
    >>> student = GridStudent(seed=0)
    >>> teacher = ac.make("oracle", student.space, student=student, seed=0)
    >>> for _ in range(7600):
    ...     task = teacher.sample()
    ...     teacher.update(task, student.episode(task))
    >>> student.score()
    100.0

    References
    ----------
    .. [1] Portelas et al., "Teacher algorithms for curriculum learning of Deep RL in
       continuously parameterized environments", CoRL 2019 (the grid student's protocol).
    """

    def __init__(self, space: Space, *, student: FrontierStudent, seed: int | None = None):
        super().__init__(space, seed=seed)
        if not callable(getattr(student, "frontier", None)):
            raise InvalidParameterError(f"student must have a frontier() method, got {student!r}")
        if getattr(student, "space", None) != space:
            raise InvalidParameterError(
                f"the oracle's space {space!r} must equal the student's space "
                f"{getattr(student, 'space', None)!r}"
            )
        self.student = student

    def _sample(self, n: int) -> NDArray[Any]:
        frontier = np.asarray(self.student.frontier())
        if frontier.shape[0] == 0:
            return self.space.sample(self.rng_, n)
        picks = self.rng_.integers(0, frontier.shape[0], size=n)
        if isinstance(self.space, Box):
            boxes = frontier[picks]
            low, high = boxes[:, 0, :], boxes[:, 1, :]
            return low + self.rng_.random(low.shape) * (high - low)
        return frontier[picks].astype(np.int64)

    def _update(
        self, tasks: NDArray[Any], scores: NDArray[np.float64], signals: Mapping[str, Any]
    ) -> None:
        # The oracle reads the student directly; outcomes teach it nothing.
        pass

    def _metrics(self) -> dict[str, float]:
        return {"frontier_size": float(np.asarray(self.student.frontier()).shape[0])}
