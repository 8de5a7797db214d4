"""ADR: Automatic Domain Randomization, a box of tasks grown from a start point by thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.params import (
    MAX_SIZE,
    InvalidParameterError,
    check_probability,
    check_real,
    check_size,
)
from autocurriculum.spaces import Box
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["ADR"]


@register("adr", expert_params=("start", "low_threshold", "high_threshold", "step_size"))
class ADR(Teacher[Box]):
    """Automatic Domain Randomization: widen the sampled box where the learner succeeds.

    The sampled region is a box that starts collapsed at ``start``. Each task is uniform in
    the current box; with probability ``boundary_sampling_p`` one random dimension is then
    pinned at its current low or high bound (chosen at random among the bounds that can still
    move outward; a dimension whose two bounds both reach the space's edges is not pinned).

    The outcome of a task is queued for every bound the task sits *exactly* on: a bound is
    identified by value, ``task[i] == low[i]`` or ``task[i] == high[i]``, checked against the
    bounds current at update time. That is exact and needs no memory of what was sampled, so
    batches, lost episodes, resumed runs and tasks arriving out of order all work; an outcome
    for a bound that has moved since its task was sampled no longer matches and is dropped,
    as it measures a value that is no longer the boundary. Pass tasks back as sampled: a
    cast to float32 and back changes them, and their outcomes would be dropped. While a
    dimension's box is collapsed (``low == high``), every task sits on both of its bounds, so
    every outcome is queued for both, as in the reference.

    When a bound's queue holds ``queue_len`` outcomes, their mean decides and the queue is
    emptied: mean >= ``high_threshold`` moves the bound outward by ``step_size`` times the
    space's range, clamped to the space's edge; mean <= ``low_threshold`` moves it inward by
    the same step, never past ``start``, so the box always contains the start point. A bound
    is always ``start -/+ k * step`` (clamped) for a whole number of steps ``k``, computed
    afresh rather than accumulated, so it never drifts by rounding.

    Parameters
    ----------
    space : Box
        The task space.
    start : array_like of float
        Expert knowledge, required: a task the learner can already practise, inside the space.
    low_threshold : float
        Expert knowledge, required: a bound's mean score at or below which it moves inward.
    high_threshold : float
        Expert knowledge, required: a bound's mean score at or above which it moves outward;
        greater than ``low_threshold``. Both are on the normalised [0, 1] score scale.
    step_size : float
        Expert knowledge: bound move, as a fraction of the space's range in that dimension, in
        (0, 1] (0.1).
    boundary_sampling_p : float
        Probability of pinning a dimension at a bound (0.5; 0.7 in the TeachMyAgent benchmark).
    queue_len : int
        Outcomes a bound's queue holds before it decides (10), at most ``1e8 / (2 * ndim)``
        (the queues hold ``2 * ndim * queue_len`` floats).
    seed : int or None
        Seed of the teacher's generator.

    Notes
    -----
    Where this differs from the reference implementation (TeachMyAgent's ``adr.py``): its
    check for bounds already on the space's edge tests ``all`` where ``any`` was meant, so its
    one-sided branches are unreachable and it pins an edge bound half of the time; here only a
    bound that can still widen is pinned, its evident intent. A narrowing bound stops at the
    start (the reference stops it at the opposite bound). Bounds are recomputed from step
    counts instead of accumulated, and the step is a fraction of the range (the reference's is
    in task units; they agree on the unit box).

    Examples
    --------
    >>> import autocurriculum as ac
    >>> space = ac.Box([0.0, 0.0], [1.0, 1.0])
    >>> teacher = ac.make("adr", space, start=[0.0, 0.0], low_threshold=0.2,
    ...                   high_threshold=0.7, seed=0)
    >>> for _ in range(10):  # every task sits on the collapsed start, and succeeds
    ...     teacher.update(teacher.sample(), 1.0)
    >>> teacher.model_snapshot()["boxes"][0]["high"]
    [0.1, 0.1]

    References
    ----------
    .. [1] OpenAI et al., "Solving Rubik's Cube with a Robot Hand", arXiv:1910.07113, 2019.
    .. [2] Romac et al., "TeachMyAgent: a Benchmark for Automatic Curriculum Learning in Deep
       RL", ICML 2021 (the episodic variant and its benchmark values).
    """

    supported_spaces = ("box",)

    def __init__(
        self,
        space: Box,
        *,
        start: ArrayLike,
        low_threshold: float,
        high_threshold: float,
        step_size: float = 0.1,
        boundary_sampling_p: float = 0.5,
        queue_len: int = 10,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        start_arr = _start_point(start, self.space)
        low = check_probability("low_threshold", low_threshold)
        high = check_probability("high_threshold", high_threshold)
        # The checked thresholds, as floats (the parameters themselves are stored as given).
        self._low_threshold = low
        self._high_threshold = high
        if not low < high:
            raise InvalidParameterError(
                f"low_threshold must be < high_threshold, got low_threshold={low_threshold!r}, "
                f"high_threshold={high_threshold!r}"
            )
        check_real("step_size", step_size, low=0.0, high=1.0, include_low=False)
        check_probability("boundary_sampling_p", boundary_sampling_p)
        check_size("queue_len", queue_len, high=MAX_SIZE // (2 * self.space.ndim))
        self.start = start
        self.low_threshold = low_threshold
        self.high_threshold = high_threshold
        self.step_size = step_size
        self.boundary_sampling_p = boundary_sampling_p
        self.queue_len = queue_len

        d = self.space.ndim
        # Bounds are start -/+ (steps taken) * step, clamped to the space: computed from integer
        # counts, so they never drift (k steps out and k back in is the start again, exactly).
        self.low_steps_: NDArray[np.int64] = np.zeros(d, dtype=np.int64)
        self.high_steps_: NDArray[np.int64] = np.zeros(d, dtype=np.int64)
        self.low_: NDArray[np.float64] = start_arr.copy()
        self.high_: NDArray[np.float64] = start_arr.copy()
        # Queues per (side, dimension): side 0 is the low bound, side 1 the high bound.
        self.queue_: NDArray[np.float64] = np.zeros((2, d, int(queue_len)))
        self.queue_n_: NDArray[np.int64] = np.zeros((2, d), dtype=np.int64)
        self.n_widened_ = 0
        self.n_narrowed_ = 0

    # --------------------------------------------------------------- sampling
    def _sample(self, n: int) -> NDArray[np.float64]:
        rng = self.rng_
        space = self.space
        d = space.ndim
        draws = rng.random((n, d + 3))
        low, high = self.low_, self.high_
        tasks = low + draws[:, :d] * (high - low)
        # Rounding can land a hair above high when the box is wide; the box is the contract.
        np.minimum(tasks, high, out=tasks)
        pin = draws[:, d] < self.boundary_sampling_p
        if pin.any():
            can_low = low > space.low
            can_high = high < space.high
            dims = np.minimum((draws[:, d + 1] * d).astype(np.int64), d - 1)
            for i in np.flatnonzero(pin).tolist():
                j = int(dims[i])
                if can_low[j] and can_high[j]:
                    use_high = draws[i, d + 2] < 0.5
                elif can_low[j] or can_high[j]:
                    use_high = bool(can_high[j])
                else:
                    continue
                tasks[i, j] = high[j] if use_high else low[j]
        return tasks

    # ---------------------------------------------------------------- updates
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        for task, score in zip(tasks, scores.tolist(), strict=True):
            on_low = task == self.low_
            on_high = task == self.high_
            if on_low.any():
                for i in np.flatnonzero(on_low).tolist():
                    self._push(0, i, score)
            if on_high.any():
                for i in np.flatnonzero(on_high).tolist():
                    self._push(1, i, score)

    def _push(self, side: int, dim: int, score: float) -> None:
        k = int(self.queue_n_[side, dim])
        self.queue_[side, dim, k] = score
        k += 1
        if k < self.queue_len:
            self.queue_n_[side, dim] = k
            return
        self.queue_n_[side, dim] = 0
        mean = float(self.queue_[side, dim].mean())
        steps = self.low_steps_ if side == 0 else self.high_steps_
        bound = self.low_ if side == 0 else self.high_
        edge = float(self.space.low[dim] if side == 0 else self.space.high[dim])
        if mean >= self._high_threshold:
            if bound[dim] != edge:  # a bound on the space's edge cannot widen further
                steps[dim] += 1
            self.n_widened_ += 1
        elif mean <= self._low_threshold:
            if steps[dim] > 0:  # never past the start
                steps[dim] -= 1
            self.n_narrowed_ += 1
        else:
            return
        offset = int(steps[dim]) * self.step_size * float(self.space.range[dim])
        start = float(self._start[dim])
        if side == 0:
            bound[dim] = max(start - offset, edge)
        else:
            bound[dim] = min(start + offset, edge)

    @property
    def _start(self) -> NDArray[np.float64]:
        return np.asarray(self.start, dtype=np.float64).reshape(self.space.ndim)

    # ------------------------------------------------------------ reporting
    def _metrics(self) -> dict[str, float]:
        widths = (self.high_ - self.low_) / self.space.range
        return {
            "adr_volume": float(np.prod(widths)),
            "adr_mean_width": float(widths.mean()),
            "adr_widened": float(self.n_widened_),
            "adr_narrowed": float(self.n_narrowed_),
        }

    def model_snapshot(self) -> dict[str, Any]:
        """The current sampling box in task space, valued by its share of each range."""
        with self._lock:  # a consistent view while another thread updates
            low, high = self.low_.copy(), self.high_.copy()
        widths = (high - low) / self.space.range
        return {"boxes": [{"low": low.tolist(), "high": high.tolist(),
                           "value": float(widths.mean())}]}


def _start_point(start: ArrayLike, space: Box) -> NDArray[np.float64]:
    arr = np.asarray(start)
    if arr.dtype.kind not in "fiu":
        raise InvalidParameterError(f"start must be real numbers, got {start!r}")
    arr = arr.astype(np.float64).reshape(-1) if arr.ndim == 0 else arr.astype(np.float64)
    if arr.shape != (space.ndim,):
        raise InvalidParameterError(
            f"start must have shape ({space.ndim},) for {space!r}, got shape {arr.shape}: "
            f"{start!r}"
        )
    outside = ~((arr >= space.low) & (arr <= space.high))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InvalidParameterError(
            f"start = {arr.tolist()!r} is outside {space!r}: dimension {space.names[i]!r} is "
            f"{float(arr[i])!r}, expected a value in [{float(space.low[i])!r}, "
            f"{float(space.high[i])!r}]"
        )
    return arr
