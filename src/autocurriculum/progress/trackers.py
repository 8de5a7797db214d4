"""Per-arm running estimates: exponential moving averages, learning progress, score deltas.

Every update is vectorised over a batch and equals the same updates applied one at a time
(items of one arm apply in batch order). State is a few arrays of length ``n_arms``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum._state import state_class
from autocurriculum.params import InvalidParameterError, check_bool, check_rate, check_size
from autocurriculum.progress._batch import group_batch, split_levels

__all__ = ["ArmEMA", "DeltaTracker", "EMAProgress"]


@state_class
class ArmEMA:
    """An exponential moving average per arm: ``v <- v + rate * (x - v)``.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    rate : float
        Step size in (0, 1].
    initial : float
        Value of an arm before its first update.
    start_at_first : bool
        If true, an arm's first value replaces ``initial`` instead of being averaged with it.

    Attributes
    ----------
    values : ndarray of float64
        The current averages.
    counts : ndarray of int64
        Updates per arm.

    Examples
    --------
    >>> ema = ArmEMA(n_arms=2, rate=0.5)
    >>> ema.update([0, 0], [1.0, 0.0])
    >>> ema.values.tolist()  # 0 -> 0.5 -> 0.25
    [0.25, 0.0]
    """

    def __init__(
        self, n_arms: int, rate: float, *, initial: float = 0.0, start_at_first: bool = False
    ):
        n = check_size("n_arms", n_arms)
        self.rate = check_rate("rate", rate)
        self.start_at_first = check_bool("start_at_first", start_at_first)
        self.values: NDArray[np.float64] = np.full(n, float(initial))
        self.counts: NDArray[np.int64] = np.zeros(n, dtype=np.int64)

    def update(self, arms: ArrayLike, x: ArrayLike) -> None:
        """Fold ``x[i]`` into arm ``arms[i]``'s average, in batch order."""
        self.push(arms, x)

    def push(self, arms: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
        """Like :meth:`update`, and return each item's arm average right after its update."""
        arm_arr = np.asarray(arms, dtype=np.int64)
        x_arr = np.asarray(x, dtype=np.float64)
        after = np.empty(len(arm_arr))
        levels, tail = split_levels(arm_arr)
        for level in levels:
            a = arm_arr[level]
            v = self.values[a]
            new = v + self.rate * (x_arr[level] - v)
            if self.start_at_first:
                new = np.where(self.counts[a] == 0, x_arr[level], new)
            self.values[a] = new
            self.counts[a] += 1
            after[level] = new
        # Items past the first levels repeat an arm already updated in this batch, so the
        # "first value" case cannot arise; the scalar ops equal the vectorised ones bit for bit.
        rate = self.rate
        values = self.values
        for i, arm, value in zip(
            tail.tolist(), arm_arr[tail].tolist(), x_arr[tail].tolist(), strict=True
        ):
            old = float(values[arm])
            new_v = old + rate * (value - old)
            values[arm] = new_v
            after[i] = new_v
        if len(tail):
            np.add.at(self.counts, arm_arr[tail], 1)
        return after


@state_class
class EMAProgress:
    """Learning progress as the difference of a fast and a slow moving average of scores.

    ``lp = fast - slow`` is positive while an arm's score rises, negative while it falls
    (forgetting) and near zero on a plateau. Both averages start at an arm's first score, so a
    new arm starts with zero progress.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    fast, slow : float
        Rates of the two averages, ``0 < slow < fast <= 1``.

    Examples
    --------
    >>> lp = EMAProgress(n_arms=1, fast=0.5, slow=0.25)
    >>> lp.update([0, 0], [0.0, 1.0])
    >>> lp.progress().tolist()  # fast 0.5, slow 0.25
    [0.25]

    References
    ----------
    .. [1] Kanitscheider et al., "Multi-task curriculum learning in a complex, visual,
       hard-exploration domain: Minecraft", arXiv:2106.14876, 2021.
    """

    def __init__(self, n_arms: int, *, fast: float = 0.1, slow: float = 0.01):
        check_rate("fast", fast)
        check_rate("slow", slow)
        if not slow < fast:
            raise InvalidParameterError(
                f"slow must be < fast, got slow={slow!r}, fast={fast!r}"
            )
        self.fast = ArmEMA(n_arms, fast, start_at_first=True)
        self.slow = ArmEMA(n_arms, slow, start_at_first=True)

    def update(self, arms: ArrayLike, scores: ArrayLike) -> None:
        """Fold new scores into both averages."""
        self.fast.update(arms, scores)
        self.slow.update(arms, scores)

    def push(self, arms: ArrayLike, scores: ArrayLike) -> NDArray[np.float64]:
        """Like :meth:`update`, and return each item's progress right after its update."""
        return self.fast.push(arms, scores) - self.slow.push(arms, scores)

    def progress(self) -> NDArray[np.float64]:
        """Signed learning progress of every arm (0 for arms never updated)."""
        return self.fast.values - self.slow.values


@state_class
class DeltaTracker:
    """The change of each arm's score since its previous score: ``x_t - x_{t-1}``.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    initial : float
        The "previous score" of an arm seen for the first time.

    Examples
    --------
    >>> d = DeltaTracker(n_arms=2)
    >>> d.push([0, 1, 0], [0.5, 1.0, 0.75]).tolist()
    [0.5, 1.0, 0.25]
    >>> d.last.tolist()
    [0.75, 1.0]
    """

    def __init__(self, n_arms: int, *, initial: float = 0.0):
        n = check_size("n_arms", n_arms)
        self.last: NDArray[np.float64] = np.full(n, float(initial))
        self.counts: NDArray[np.int64] = np.zeros(n, dtype=np.int64)

    def push(self, arms: ArrayLike, scores: ArrayLike) -> NDArray[np.float64]:
        """Record new scores; return each one's delta from the arm's previous score."""
        arm_arr = np.asarray(arms, dtype=np.int64)
        x = np.asarray(scores, dtype=np.float64)
        n = len(arm_arr)
        if n == 0:
            return np.zeros(0)
        groups = group_batch(arm_arr)
        # Previous score of each item: the item before it of the same arm in this batch, or
        # the arm's stored last score for the arm's first item.
        order = np.argsort(arm_arr, kind="stable")
        prev_sorted = np.empty(n)
        prev_sorted[1:] = x[order][:-1]
        prev = np.empty(n)
        prev[order] = prev_sorted
        first = groups.rank == 0
        prev[first] = self.last[arm_arr[first]]
        self.last[groups.unique] = x[groups.last]
        self.counts[groups.unique] += groups.counts
        return x - prev
