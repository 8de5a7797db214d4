"""The training-step mechanism shared by the |advantage| teachers (SEC, DUMP)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.progress import draw
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher

__all__ = ["AdvantageStepTeacher"]


class AdvantageStepTeacher(Teacher):
    """A teacher that learns once per training step from the step's |advantages|.

    ``update`` only queues rollouts in ``self.step_`` (an
    :class:`~autocurriculum.progress.AdvantageStep`, so a GRPO group may span several calls);
    :meth:`end_step` turns the queue into |advantages| and hands them to :meth:`_apply_step`.
    With ``auto_step`` the step ends at the next ``sample()``, so a batch update equals
    one-by-one updates. Subclasses set ``step_`` and ``auto_step`` and define
    :meth:`_apply_step` and :meth:`probabilities`.
    """

    supported_spaces = ("discrete",)
    requires_signals = True
    space: Discrete
    auto_step: bool

    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: NDArray[np.float64] | Mapping[str, NDArray[Any]] | None,
    ) -> None:
        self.step_.add(tasks, scores, signals, owner=type(self).__name__)

    def end_step(self) -> None:
        """End the current training step; does nothing if no rollout came since the last one."""
        arms, abs_adv = self.step_.flush()
        if len(arms) > 0:
            self._apply_step(arms, abs_adv)

    @abstractmethod
    def _apply_step(self, arms: NDArray[np.int64], abs_adv: NDArray[np.float64]) -> None:
        """Learn from one step's rollouts: their arms and |advantages|."""

    @abstractmethod
    def probabilities(self) -> NDArray[np.float64]:
        """The current sampling distribution (queued rollouts not yet included)."""

    def _sample(self, n: int) -> NDArray[np.int64]:
        if self.auto_step:
            self.end_step()
        return draw(self.rng_, self.probabilities(), n)
