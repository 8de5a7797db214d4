"""Learnability sampling: the arms with the most uncertain outcome, mixed with random arms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_probability, check_size
from autocurriculum.progress import ArmWindow, learnability
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["Learnability"]

_EMPTY: NDArray[np.int64] = np.zeros(0, dtype=np.int64)


@register("learnability")
class Learnability(Teacher[Discrete]):
    """Sampling for learnability: a buffer of the top ``p (1 - p)`` arms, mixed with random ones.

    Each arm's success rate ``p`` is the mean of its last ``window`` scores (a score is a
    success flag, or a success probability, in [0, 1]); its learnability is ``p (1 - p)``,
    largest at ``p = 0.5`` and zero for arms always solved or never solved. The buffer holds
    the ``buffer_size`` arms of highest learnability among those with learnability > 0
    (:meth:`buffer`; a cache outside the learned state, recomputed from the success windows at
    the next ``sample`` after an update, so ``sample`` changes nothing an update depends on).
    Each drawn task comes, with
    probability ``buffer_ratio``, uniformly from the buffer, and otherwise uniformly from all
    arms, which is how new arms enter the estimates (an empty buffer means uniform sampling).

    Defaults follow SFL: a buffer of 100 levels (JaxNav; 1,000 for MiniGrid) and half of each
    training batch from it (128 of 256 environments). Signals are not read.

    Cost: ``sample`` re-ranks with a partial sort (``argpartition``), O(arms) per call after an
    update; ``update`` is O(window) per distinct arm.

    Parameters
    ----------
    space : Discrete
        The arms.
    window : int
        Scores kept per arm for its success rate; ``window`` times the number of arms is at
        most 1e8.
    buffer_size : int
        Arms kept in the high-learnability buffer, in [1, 1e8].
    buffer_ratio : float
        Probability that a drawn task comes from the buffer, in [0, 1].
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("learnability", ac.Discrete(4), buffer_size=1, seed=0)
    >>> teacher.update([0, 0, 1, 1, 2, 2, 2, 2], [1, 1, 0, 1, 1, 1, 1, 0])  # p = 1, .5, .75
    >>> teacher.learnability_scores().tolist()
    [0.0, 0.25, 0.1875, 0.0]
    >>> teacher.buffer().tolist()  # the top-1 arm by learnability
    [1]

    References
    ----------
    .. [1] Rutherford, Beukman, Willi, Lacerda, Hawes and Foerster, "No Regrets: Investigating
       and Improving Regret Approximations for Curriculum Discovery", NeurIPS 2024 (SFL).
    .. [2] Foster and Foerster, "Learning to Reason at the Frontier of Learnability",
       arXiv:2502.12272, 2025 (LILO).
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        window: int = 10,
        buffer_size: int = 100,
        buffer_ratio: float = 0.5,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_size("window", window)
        check_size("buffer_size", buffer_size)
        check_probability("buffer_ratio", buffer_ratio)
        self.window = window
        self.buffer_size = buffer_size
        self.buffer_ratio = buffer_ratio
        self.success_ = ArmWindow(self.space.n, window)
        # (the success windows it was ranked from, the buffer): a cache, not learned state.
        self._buffer: tuple[ArmWindow | None, NDArray[np.int64]] = (None, _EMPTY)

    def _update(
        self, tasks: NDArray[Any], scores: NDArray[np.float64], signals: Mapping[str, Any]
    ) -> None:
        self.success_.push(tasks, scores)
        self._buffer = (None, _EMPTY)

    def learnability_scores(self) -> NDArray[np.float64]:
        """``p (1 - p)`` per arm (0 for arms never scored). O(arms)."""
        return learnability(np.clip(self.success_.means(default=0.0), 0.0, 1.0))

    def buffer(self) -> NDArray[np.int64]:
        """The arms of the high-learnability buffer, sorted (read-only; O(arms) after an update).

        The top ``buffer_size`` arms by learnability among those with learnability > 0; ties
        at the cut are broken by the deterministic introselect order of ``argpartition``.
        """
        with self._lock:
            source, buffer = self._buffer
            if source is not self.success_:
                buffer = self._rank_buffer()
                self._buffer = (self.success_, buffer)
            return buffer

    def _rank_buffer(self) -> NDArray[np.int64]:
        score = self.learnability_scores()
        candidates = np.flatnonzero(score > 0.0)
        if len(candidates) > self.buffer_size:
            # Partial sort: O(arms), not a full argsort.
            top = np.argpartition(-score[candidates], self.buffer_size - 1)[: self.buffer_size]
            candidates = np.sort(candidates[top])
        out = candidates.astype(np.int64)
        out.flags.writeable = False
        return out

    def _sample(self, n: int) -> NDArray[np.int64]:
        buffer = self.buffer()
        tasks = self.rng_.integers(0, self.space.n, size=n, dtype=np.int64)
        if len(buffer) and self.buffer_ratio > 0.0:
            from_buffer = self.rng_.random(n) < self.buffer_ratio
            k = int(from_buffer.sum())
            tasks[from_buffer] = buffer[self.rng_.integers(0, len(buffer), size=k)]
        return tasks

    def _metrics(self) -> dict[str, float]:
        score = self.learnability_scores()
        buffer = self.buffer()
        return {
            "buffer_size": float(len(buffer)),
            "buffer_mean_learnability": float(score[buffer].mean()) if len(buffer) else 0.0,
            "max_learnability": float(score.max()),
        }
