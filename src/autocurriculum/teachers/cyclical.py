"""The cyclical curriculum: the practised subset grows from the easiest arms to all, and back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_real, check_size
from autocurriculum.progress.windows import ArmWindow
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["Cyclical"]


@register("cyclical")
class Cyclical(Teacher[Discrete]):
    """Cyclical curriculum: train on the easiest share of the arms, a share that cycles.

    Kesgin and Amasyali rank the training data by loss and let the size of the training subset
    cycle between a curriculum-sized subset of the easiest examples and the full data, instead
    of only growing as a classic curriculum does. Over arms:

    - an arm's difficulty is its loss, ``1 - score``, averaged over its last ``window``
      episodes; every arm is played once first, in random order, to estimate it;
    - the share of arms in play follows a triangle wave of period ``period`` episodes: it rises
      linearly from ``start_fraction`` to 1 over the first half of each cycle and falls back
      over the second half;
    - draws are uniform over the ``ceil(share * n_arms)`` arms of lowest loss (ties broken by
      arm index).

    Parameters
    ----------
    space : Discrete
        The arms.
    start_fraction : float
        Share of the arms in play at the start of each cycle, in (0, 1].
    period : int
        Episodes per cycle (easy subset -> all arms -> easy subset).
    window : int
        Episodes per arm in its loss estimate.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("cyclical", ac.Discrete(4), start_fraction=0.5, period=100, seed=0)
    >>> teacher.update([0, 1, 2, 3], [0.9, 0.1, 0.7, 0.3])
    >>> teacher.share()  # 4 episodes into a 100-episode cycle
    0.54
    >>> teacher.in_play().tolist()  # ceil(0.54 * 4) = 3 arms of lowest loss
    [0, 2, 3]

    References
    ----------
    .. [1] Kesgin and Amasyali, "Cyclical Curriculum Learning", IEEE Transactions on Neural
       Networks and Learning Systems, 2023.
    """

    supported_spaces = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        start_fraction: float = 0.25,
        period: int = 10_000,
        window: int = 20,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_real("start_fraction", start_fraction, low=0.0, high=1.0, include_low=False)
        check_size("period", period, low=2)
        self.start_fraction = start_fraction
        self.period = period
        self.window = window
        self.losses_ = ArmWindow(space.n, window, name="window")

    def share(self) -> float:
        """The share of arms in play at this point of the cycle."""
        phase = (self.n_updates_ % self.period) / self.period
        rise = 1.0 - abs(2.0 * phase - 1.0)  # 0 -> 1 -> 0 over a cycle
        return round(self.start_fraction + (1.0 - self.start_fraction) * rise, 12)

    def in_play(self) -> NDArray[np.int64]:
        """The arms drawn from now: unplayed arms first, then the easiest ``share``."""
        unseen = np.flatnonzero(self.losses_.total == 0)
        if unseen.size:
            return unseen.astype(np.int64)
        size = max(1, math.ceil(self.share() * self.space.n - 1e-9))
        order = np.argsort(self.losses_.means(), kind="stable")
        return np.sort(order[:size]).astype(np.int64)

    def _sample(self, n: int) -> NDArray[np.int64]:
        return self.rng_.choice(self.in_play(), size=n).astype(np.int64)

    def _update(
        self,
        tasks: NDArray[np.int64],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        self.losses_.push(tasks, 1.0 - scores)

    def _metrics(self) -> dict[str, float]:
        return {"share": self.share(), "arms_in_play": float(len(self.in_play()))}
