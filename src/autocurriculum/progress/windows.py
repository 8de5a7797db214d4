"""Per-arm sliding windows: the last ``window`` values of every arm, and their mean and slope.

Storage is one 2-D ring buffer ``(n_arms, window)`` plus a push counter per arm, so memory is
O(arms x window) and fixed up front. A push costs O(window) for each distinct arm it touches
(the arm's statistics are recomputed from its row, which keeps them exact: no running sum
drifts over a long run), independent of the run length and of the number of arms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum._state import state_class
from autocurriculum.params import MAX_SIZE, InvalidParameterError, check_size
from autocurriculum.progress._batch import group_batch

__all__ = ["ArmWindow", "WindowSlope"]


@state_class
class ArmWindow:
    """The last ``window`` values pushed for each arm, with exact per-arm means.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    window : int
        Values kept per arm. ``n_arms * window`` is at most 1e8 (800 MB of float64): the
        buffers are allocated up front.
    dtype : numpy dtype
        Storage type of the values. ``float32`` halves the memory of long windows; sums are
        always accumulated in float64.
    name : str
        The owner's name for ``window``, for error messages.

    Attributes
    ----------
    values : ndarray, shape (n_arms, window)
        Ring buffers. Row ``a`` holds arm ``a``'s values in slots ``0 .. count-1`` until it is
        full, then the oldest slot is overwritten first. Unwritten slots are 0.
    total : ndarray of int64
        Values ever pushed per arm (not capped by the window).
    sums : ndarray of float64
        Sum of each arm's values in the window.

    Examples
    --------
    >>> w = ArmWindow(n_arms=3, window=2)
    >>> _ = w.push([0, 0, 0, 2], [1.0, 0.0, 0.5, 1.0])
    >>> w.means().tolist()  # arm 0 keeps its last two values; arm 1 has none
    [0.25, nan, 1.0]
    >>> w.ordered(0).tolist(), int(w.total[0])
    ([0.0, 0.5], 3)
    """

    def __init__(
        self, n_arms: int, window: int, *, dtype: Any = np.float64, name: str = "window"
    ):
        self.n_arms = check_size("n_arms", n_arms)
        self.window = check_size(name, window)
        if self.n_arms * self.window > MAX_SIZE:
            raise InvalidParameterError(
                f"{name}={window!r} with {self.n_arms} arms needs {self.n_arms * self.window} "
                f"stored values, above the limit of {MAX_SIZE}; use a shorter {name}"
            )
        self.values: NDArray[Any] = np.zeros((self.n_arms, self.window), dtype=dtype)
        self.total: NDArray[np.int64] = np.zeros(self.n_arms, dtype=np.int64)
        self.sums: NDArray[np.float64] = np.zeros(self.n_arms, dtype=np.float64)

    @property
    def count(self) -> NDArray[np.int64]:
        """Values currently in each arm's window (at most ``window``)."""
        return np.minimum(self.total, self.window)

    def push(self, arms: ArrayLike, values: ArrayLike) -> NDArray[np.int64]:
        """Append ``values[i]`` to arm ``arms[i]``'s window, in batch order.

        Returns
        -------
        ndarray of int64
            The distinct arms touched, sorted.
        """
        arm_arr = np.asarray(arms, dtype=np.int64)
        val_arr = np.asarray(values, dtype=np.float64)
        groups = group_batch(arm_arr)
        if len(arm_arr) == 0:
            return groups.unique
        # An arm pushed more than `window` times in one batch keeps only its last `window`
        # values; writing only those makes every (arm, slot) pair unique, so one fancy
        # assignment reproduces the sequential overwrites.
        keep = groups.rank >= groups.counts[groups.inverse] - self.window
        slots = (self.total[arm_arr] + groups.rank) % self.window
        self.values[arm_arr[keep], slots[keep]] = val_arr[keep]
        touched = groups.unique
        self.total[touched] += groups.counts
        self.sums[touched] = self.values[touched].sum(axis=1, dtype=np.float64)
        return touched

    def means(self, default: float = np.nan) -> NDArray[np.float64]:
        """Mean of every arm's window, ``default`` where an arm has no value yet. O(arms)."""
        count = self.count
        out = np.full(self.n_arms, default, dtype=np.float64)
        seen = count > 0
        out[seen] = self.sums[seen] / count[seen]
        return out

    def mean_of(self, arms: ArrayLike, default: float = np.nan) -> NDArray[np.float64]:
        """Mean of the windows of ``arms`` only."""
        arm_arr = np.asarray(arms, dtype=np.int64)
        count = np.minimum(self.total[arm_arr], self.window)
        out = np.full(arm_arr.shape, default, dtype=np.float64)
        seen = count > 0
        out[seen] = self.sums[arm_arr[seen]] / count[seen]
        return out

    def ordered(self, arm: int) -> NDArray[np.float64]:
        """Arm ``arm``'s window, oldest value first."""
        total = int(self.total[arm])
        row = self.values[arm].astype(np.float64)
        if total <= self.window:
            return row[:total]
        return np.roll(row, -(total % self.window))


@state_class
class WindowSlope:
    """Least-squares slope of each arm's last ``window`` (time, value) points.

    TSCL's "window" learning-progress estimate. The slope is refitted from the arm's own
    ``window`` points whenever it gets a new one: O(window) per touched arm, with the times
    centred in the window so that large time stamps lose no precision.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    window : int
        Points kept per arm; at least 2, the fewest that define a slope.
    default : float
        Slope reported for an arm with fewer than two points.
    name : str
        The owner's name for ``window``, for error messages.

    Attributes
    ----------
    slopes : ndarray of float64
        The current slope of every arm.

    Examples
    --------
    >>> s = WindowSlope(n_arms=2, window=3, default=1.0)
    >>> s.push([0, 0, 0, 0], times=[0, 1, 2, 3], values=[0.0, 0.0, 0.25, 0.5])
    >>> s.slopes.tolist()  # arm 0 fits its last 3 points (1, 0), (2, .25), (3, .5)
    [0.25, 1.0]
    """

    def __init__(
        self, n_arms: int, window: int, *, default: float = np.nan, name: str = "window"
    ):
        self.window = check_size(name, window, low=2)
        self.times = ArmWindow(n_arms, self.window, name=name)
        self.points = ArmWindow(n_arms, self.window, name=name)
        self.default = float(default)
        self.slopes: NDArray[np.float64] = np.full(self.times.n_arms, self.default)

    @property
    def count(self) -> NDArray[np.int64]:
        """Points currently in each arm's window."""
        return self.points.count

    def push(self, arms: ArrayLike, times: ArrayLike, values: ArrayLike) -> None:
        """Add the point ``(times[i], values[i])`` to arm ``arms[i]``, in batch order."""
        self.times.push(arms, times)
        touched = self.points.push(arms, values)
        if len(touched) == 0:
            return
        count = np.minimum(self.points.total[touched], self.window)
        mask = np.arange(self.window)[None, :] < count[:, None]
        t = self.times.values[touched]
        x = self.points.values[touched]
        t_mean = self.times.sums[touched] / count
        x_mean = self.points.sums[touched] / count
        dt = np.where(mask, t - t_mean[:, None], 0.0)
        dx = np.where(mask, x - x_mean[:, None], 0.0)
        num = (dt * dx).sum(axis=1)
        den = (dt * dt).sum(axis=1)
        ok = (count >= 2) & (den > 0.0)
        slope = np.full(len(touched), self.default)
        slope[ok] = num[ok] / den[ok]
        self.slopes[touched] = slope
