"""The training-step mechanism shared by the |advantage| teachers (SEC, DUMP).

SEC and DUMP learn once per *training step*, from all of that step's rollouts: a GRPO group's
advantages need the whole group, and SEC decays the arms absent from a step. Which outcomes
form a step is said by the trainer, never guessed from ``sample`` calls, so that several
clients (Ray env runners, DataLoader workers) may sample and report in any interleaving and the
teacher's learned state depends only on the updates it received:

- an update whose signals carry ``step`` ids: each outcome belongs to the step it names. The
  open step stays open until an update names a newer step (the open step is then applied first)
  or :meth:`~autocurriculum.teachers.base.Teacher.end_step` is called. Ids inside one update
  may span several steps: they are applied in increasing order. An id older than the open step
  (or equal to a step already closed) is a ``ValueError``, raised before anything changes;
- an update without ``step`` ids is one whole step: any open step is applied first, then this
  update's outcomes as one step;
- :meth:`~autocurriculum.teachers.base.Teacher.end_step` applies the open step, if any.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.progress import AdvantageStep, draw, read_abs_advantage
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher

__all__ = ["AdvantageStepTeacher"]


class AdvantageStepTeacher(Teacher[Discrete]):
    """A teacher that learns once per training step from the step's |advantages|.

    ``update`` queues rollouts in ``self.step_`` (an
    :class:`~autocurriculum.progress.AdvantageStep`, so a GRPO group may span several calls of
    one step) and closes steps as the module docstring says; a closed step's |advantages| are
    handed to :meth:`_apply_step`. Subclasses create ``step_`` in ``__init__`` (with
    :meth:`_init_steps`) and define :meth:`_apply_step` and :meth:`probabilities`.

    Learned state of the step mechanism: ``step_`` (the open step's rollouts), ``step_id_``
    (the id of the open step, or of the last one named; -1 before any) and ``step_open_``
    (whether rollouts of ``step_id_`` may still arrive).
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)
    reads: ClassVar[frozenset[str]] = frozenset({"abs_advantage", "advantage", "group", "step"})
    needs_one_of: ClassVar[frozenset[str]] = frozenset({"abs_advantage", "advantage", "group"})
    step_: AdvantageStep
    step_id_: int
    step_open_: bool

    def _init_steps(self, normalize: bool) -> None:
        self.step_ = AdvantageStep(normalize=normalize)
        self.step_id_ = -1
        self.step_open_ = False

    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        owner = type(self).__name__
        # Check everything before anything changes.
        read_abs_advantage(signals, owner=owner)
        steps = signals.get("step")
        if steps is None:
            self._close_step()
            self.step_.add(tasks, scores, signals, owner=owner)
            self._close_step()
            return
        first = int(steps.min()) if len(steps) else self.step_id_
        if first < self.step_id_ or (first == self.step_id_ and not self.step_open_):
            closed = "older than" if first < self.step_id_ else "the same as"
            raise ValueError(
                f"signals['step'] holds step {first}, {closed} the last step {self.step_id_} "
                f"({'still open' if self.step_open_ else 'already closed'}): step ids must not "
                "decrease, and a closed step cannot take more outcomes"
            )
        if len(steps) == 0 or first == int(steps.max()):
            self._add_to_step(first, tasks, scores, signals, owner)
            return
        # Outcomes of several steps in one update: apply them step by step, in id order (the
        # outcomes of one step keep their batch order).
        order = np.argsort(steps, kind="stable")
        ids, bounds = np.unique(steps[order], return_index=True)
        ends = [*bounds[1:].tolist(), len(order)]
        for step_id, lo, hi in zip(ids.tolist(), bounds.tolist(), ends, strict=True):
            idx = order[lo:hi]
            part = {key: value[idx] for key, value in signals.items()}
            self._add_to_step(step_id, tasks[idx], scores[idx], part, owner)

    def _add_to_step(
        self,
        step_id: int,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
        owner: str,
    ) -> None:
        if step_id > self.step_id_:
            self._close_step()
            self.step_id_ = step_id
        self.step_.add(tasks, scores, signals, owner=owner)
        self.step_open_ = True

    def _end_step(self) -> None:
        """Apply the open step (nothing if no rollout came since the last step closed)."""
        self._close_step()

    def _close_step(self) -> None:
        self.step_open_ = False
        arms, abs_adv = self.step_.flush()
        if len(arms) > 0:
            self._apply_step(arms, abs_adv)

    @abstractmethod
    def _apply_step(self, arms: NDArray[np.int64], abs_adv: NDArray[np.float64]) -> None:
        """Learn from one step's rollouts: their arms and |advantages|."""

    @abstractmethod
    def probabilities(self) -> NDArray[np.float64]:
        """The current sampling distribution (the open step's rollouts not yet included)."""

    def _sample(self, n: int) -> NDArray[np.int64]:
        return draw(self.rng_, self.probabilities(), n)
