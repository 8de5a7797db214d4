"""Easy to hard: arms in a given order of difficulty, each unlocked once the last is learned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import InvalidParameterError, check_bool, check_probability, check_size
from autocurriculum.progress.windows import ArmWindow
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["EasyToHard"]


@register("easy-to-hard", expert_params=("order",))
class EasyToHard(Teacher[Discrete]):
    """Easy to hard: unlock the arms one at a time, in an order of difficulty given by an expert.

    The classic curriculum (Elman; Bengio et al.'s "baby steps"): training starts on the easiest
    arm, and the next one in ``order`` is unlocked when the mean score of the newest unlocked
    arm over its last ``window`` episodes reaches ``threshold``, or, if ``patience`` is set,
    after ``patience`` episodes on that stage. Draws are uniform over every unlocked arm
    (``cumulative=True``, so earlier arms are rehearsed) or go to the newest one only.

    Parameters
    ----------
    space : Discrete
        The arms.
    order : sequence of int or str, or None
        Every arm once, easiest first, by index or name. ``None``: the arms' index order (for
        example digit lengths 1, 2, 3, ...).
    threshold : float
        Mean score of the newest arm that unlocks the next, in [0, 1].
    window : int
        Episodes of the newest arm in that mean; the arm needs a full window first.
    patience : int or None
        Episodes after which a stage ends even below the threshold; ``None`` waits forever.
    cumulative : bool
        Draw over every unlocked arm (True) or the newest one only (False).
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("easy-to-hard", ac.Discrete(["1", "2", "3"]), threshold=0.8,
    ...                   window=2, seed=0)
    >>> teacher.update([0, 0], [0.9, 0.8])   # arm "1" mastered: arm "2" unlocks
    >>> teacher.unlocked_
    2
    >>> sorted(set(teacher.sample(20).tolist()))
    [0, 1]

    References
    ----------
    .. [1] Bengio, Louradour, Collobert and Weston, "Curriculum Learning", ICML 2009.
    .. [2] Spitkovsky, Alshawi and Jurafsky, "From Baby Steps to Leapfrog: How 'Less is More'
       in Unsupervised Dependency Parsing", NAACL 2010.
    """

    supported_spaces = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        order: Sequence[int | str] | None = None,
        threshold: float = 0.9,
        window: int = 50,
        patience: int | None = None,
        cumulative: bool = True,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_probability("threshold", threshold)
        if patience is not None:
            check_size("patience", patience)
        check_bool("cumulative", cumulative)
        self.order = order
        self.threshold = threshold
        self.window = window
        self.patience = patience
        self.cumulative = cumulative
        self._arms = _resolve_order(order, space)
        self.scores_ = ArmWindow(space.n, window, name="window")
        self.unlocked_ = 1
        self.stage_episodes_ = 0

    def _sample(self, n: int) -> NDArray[np.int64]:
        pool = self._arms[: self.unlocked_] if self.cumulative else self._arms[self.unlocked_ - 1 :
                                                                               self.unlocked_]
        return self.rng_.choice(pool, size=n).astype(np.int64)

    def _update(
        self,
        tasks: NDArray[np.int64],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        # One episode at a time: an unlock mid-batch must see exactly the episodes before it.
        for arm, score in zip(tasks.tolist(), scores.tolist(), strict=True):
            self.scores_.push([arm], [score])
            self.stage_episodes_ += 1
            if self.unlocked_ < self.space.n and self._stage_done():
                self.unlocked_ += 1
                self.stage_episodes_ = 0

    def _stage_done(self) -> bool:
        newest = int(self._arms[self.unlocked_ - 1])
        full = self.scores_.total[newest] >= self.window
        if full and self.scores_.mean_of([newest])[0] >= self.threshold:
            return True
        return self.patience is not None and self.stage_episodes_ >= self.patience

    def _metrics(self) -> dict[str, float]:
        return {"unlocked": float(self.unlocked_), "stage_episodes": float(self.stage_episodes_)}


def _resolve_order(order: Sequence[int | str] | None, space: Discrete) -> NDArray[np.int64]:
    if order is None:
        return np.arange(space.n, dtype=np.int64)
    if isinstance(order, str) or not isinstance(order, Sequence | np.ndarray):
        raise InvalidParameterError(f"order must be a sequence of arms, got {order!r}")
    arms = [space.index(a) if isinstance(a, str) else int(a) for a in order]
    if sorted(arms) != list(range(space.n)):
        raise InvalidParameterError(
            f"order must list every arm of {space!r} exactly once, got {list(order)!r}"
        )
    return np.asarray(arms, dtype=np.int64)
