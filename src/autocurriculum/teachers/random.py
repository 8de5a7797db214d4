"""The uniform random teacher: the baseline in every table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.spaces import Space
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["Random"]


@register("random")
class Random(Teacher[Space]):
    """Uniform sampling over the whole space (domain randomisation).

    Parameters
    ----------
    space : Box or Discrete
        The task space.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("random", ac.Discrete(4), seed=0)
    >>> teacher.sample(5).tolist()
    [3, 2, 2, 1, 1]

    References
    ----------
    .. [1] Tobin et al., "Domain Randomization for Transferring Deep Neural Networks from
       Simulation to the Real World", IROS 2017.
    """

    def __init__(self, space: Space, *, seed: int | None = None):
        super().__init__(space, seed=seed)

    def _sample(self, n: int) -> NDArray[Any]:
        return self.space.sample(self.rng_, n)

    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        pass
