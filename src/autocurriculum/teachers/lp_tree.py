"""LP-Tree (learning-progress tree): learning progress on an adaptive partition of the task box.

Our own continuous teacher (not from a paper). The reasoning, the measurements and the ablation
are in ``docs/new_teacher.md``; this module is the implementation.

The box (mapped to the unit cube) is covered by the leaves of a k-d tree, which starts as a
regular partition (``initial_depth`` halvings). Every leaf keeps the last ``window``
(task, score) pairs that fell in it, and from them:

- its *learning progress* (LP): the least-squares slope of score against the leaf's own visit
  count, that is the score gained per episode spent there. Only the part that is statistically
  clear counts: ``|slope| - z * se`` over the whole window, capped by ``|slope| + z * se`` over
  the last ``recent`` visits, so a leaf whose score has just gone flat (mastered, or stuck)
  stops drawing episodes within a few visits instead of a whole window;
- where to split: the axis-aligned cut that best separates its scores (least squares, as in a
  regression tree), kept only when an F-test finds it significant. Cuts follow the student's
  competence, so the leaves end up along the boundaries of what is learnt, and stay wide along
  dimensions the student ignores.

Sampling picks a leaf with probability proportional to its LP and a uniform task inside it;
``random_ratio`` of the tasks are uniform over the box. While no leaf shows progress, leaves are
drawn in proportion to the spread of their scores times their volume, which skips regions that
are uniformly solved or uniformly out of reach. Two sibling leaves that are both idle (no LP,
full windows) and whose cut no longer separates their scores merge back, which keeps the tree,
and the memory, small, and lets a misplaced cut be made again elsewhere.

Cost: an update walks the tree (depth ``O(log leaves)``), writes a ring buffer and refits one
leaf's slope over ``window`` scores; every ``split_every`` visits a leaf tries a split, sorting
``window`` points per dimension. Nothing depends on the run length, and memory is about
``max_leaves * window * (ndim + 2)`` numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import mul
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import (
    MAX_SIZE,
    InvalidParameterError,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    check_real,
    check_size,
)
from autocurriculum.spaces import Box
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["LPTree"]

# Gains and variances below this are rounding, not signal (scores live in [0, 1]).
_TINY = 1e-12
# Progress below this many score units per episode is rounding too: a flat window of scores
# that are not exact binary fractions (0.7, 0.76) gets a slope and a standard error of about
# 1e-10 from the one-pass sums, and must count as idle.
_LP_FLOOR = 1e-9
# Per-leaf arrays, indexed by slot.
_SLOT_ARRAYS = ("low_", "high_", "volume_", "lp_", "sd_", "pos_", "rew_", "time_")
# The largest window: every update refits a leaf's slope over its window in Python, and the
# slope weights of every window fill are tabulated (window^2 / 2 numbers).
_MAX_WINDOW = 1024
# The largest number of leaves; a full tree holds max_leaves x window x (ndim + 2) numbers,
# also bounded by MAX_SIZE.
_MAX_LEAVES = 1_000_000


@register("lp-tree")
class LPTree(Teacher[Box]):
    """LP-Tree (learning-progress tree): learning progress on an adaptive k-d partition of the box.

    Each leaf of a k-d tree over the box estimates the score gained per episode spent in it
    (its learning progress, LP) from a window of its recent (task, score) pairs; tasks are drawn
    from leaves in proportion to LP. Leaves split where scores differ significantly and merge
    back when both halves are idle and alike. No expert knowledge: it sees tasks and scores
    only. See ``docs/new_teacher.md`` for the reasoning, the benchmark and the ablation.

    LP of a leaf with ``n`` scores in its window (oldest first, indexed by visit):

    - ``b, se``: least-squares slope of score on visit index, and its standard error;
    - ``lp = max(0, |b| - z * se)``: progress (or forgetting) that the window shows clearly;
    - plateau check: ``lp = min(lp, |b_r| + z * se_r)`` with the slope over the last ``recent``
      scores, so a leaf that just stopped improving loses its weight at once.

    A leaf with at least ``min_split`` scores tries, every ``split_every`` visits, every cut
    between two neighbouring points on every axis that leaves ``min_child`` points and
    ``min_width`` of the unit width on each side. The cut that most reduces the squared error of
    a constant score per side wins if ``gain / (sse / (n - 2)) >= split_f``.

    Sampling: with probability ``random_ratio`` a uniform task over the box; otherwise a leaf
    drawn in proportion to its LP (or, while every LP is 0, as ``fallback`` says) and a uniform
    task inside it.

    Parameters
    ----------
    space : Box
        The task space. Work is done in its unit cube.
    window : int
        Scores kept per leaf, for its LP and its splits, in [4, 1024] (each update refits a
        leaf's slope over its window).
    recent : int
        Scores in the plateau check; 0 turns the check off. Must be 3 or more and less than
        ``window``.
    z : float
        Standard errors by which the LP is discounted (the window) or may exceed the recent
        slope (the plateau check); 0 uses the raw slopes.
    absolute : bool
        Count falling score (forgetting) as progress too, as absolute LP does. With False, only
        rising score counts.
    min_split : int
        Scores a leaf needs before it tries a split, in ``[2 * min_child, window]``.
    split_every : int
        Visits between two split tries of a leaf (>= 1).
    min_child : int
        Points each side of a cut must keep, in ``[2, window / 2]``.
    split_f : float
        F-statistic a cut needs: its gain in squared error over the residual variance.
    min_width : float
        Smallest leaf width along a cut axis, as a fraction of the box's range, in (0, 0.5].
    max_leaves : int
        Bound on the number of leaves (and on memory). A full tree stops splitting. It holds
        ``max_leaves * window * (ndim + 2)`` numbers, at most 1e8.
    merge : bool
        Merge idle sibling leaves back into their parent.
    random_ratio : float
        Share of tasks drawn uniformly over the box, in [0, 1].
    fallback : {"contrast", "uniform"}
        Where tasks go while no leaf shows progress. ``"contrast"`` draws leaves in proportion
        to the standard deviation of their window's scores times their volume: the part of
        the box where outcomes differ, skipping regions uniformly solved or uniformly out of
        reach. ``"uniform"`` draws over the whole box.
    initial_depth : int
        The tree starts as ``2 ** initial_depth`` equal leaves (each halving cuts the widest
        side of the unit cube, ties to the lower axis). A small first learnable region in the
        middle of the box then has a window of its own from the start, which one cut of a single
        window cannot give it. Merges never undo these cuts. At most ``log2(max_leaves)``.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> from autocurriculum.bench.students import GridStudent
    >>> student = GridStudent(seed=0)
    >>> teacher = ac.make("lp-tree", student.space, seed=0)
    >>> for _ in range(20):
    ...     tasks = teacher.sample(100)
    ...     teacher.update(tasks, student.episodes(tasks))
    >>> student.score() > 5.0  # uniform sampling masters nothing in 2,000 episodes
    True
    >>> teacher.metrics()["teacher/n_leaves"] > 1
    True

    References
    ----------
    .. [1] Baranes and Oudeyer, "R-IAC: Robust Intrinsically Motivated Exploration and Active
       Learning", IEEE TAMD 2009 (regions split by learning progress; the idea this refines).
    .. [2] Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning of
       Deep RL in continuously parameterized environments", CoRL 2019 (absolute learning
       progress; the grid benchmark).
    .. [3] Breiman, Friedman, Olshen and Stone, "Classification and Regression Trees", 1984
       (least-squares splits).
    """

    supported_spaces = ("box",)

    def __init__(
        self,
        space: Box,
        *,
        window: int = 32,
        recent: int = 8,
        z: float = 0.5,
        absolute: bool = True,
        min_split: int = 24,
        split_every: int = 8,
        min_child: int = 4,
        split_f: float = 8.0,
        min_width: float = 1.0 / 64.0,
        max_leaves: int = 2048,
        merge: bool = True,
        random_ratio: float = 0.1,
        fallback: str = "contrast",
        initial_depth: int = 3,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_size("window", window, low=4, high=_MAX_WINDOW)
        check_int("recent", recent, low=0, high=window - 1)
        if 0 < recent < 3:
            raise InvalidParameterError(
                f"recent must be 0 (no plateau check) or an int in [3, window={window}), "
                f"got {recent!r}"
            )
        check_real("z", z, low=0.0)
        check_bool("absolute", absolute)
        check_int("min_child", min_child, low=2, high=window // 2)
        check_int("min_split", min_split, low=2 * min_child, high=window)
        check_size("split_every", split_every)
        check_positive("split_f", split_f)
        check_real("min_width", min_width, low=0.0, high=0.5, include_low=False)
        check_size("max_leaves", max_leaves, high=_MAX_LEAVES)
        size = max_leaves * window * (space.ndim + 2)
        if size > MAX_SIZE:
            raise InvalidParameterError(
                f"max_leaves={max_leaves!r} with window={window!r}: a full tree would hold "
                f"{max_leaves} leaves x {window} points x {space.ndim + 2} numbers = {size:,}, "
                f"more than {MAX_SIZE:,}; lower max_leaves or window"
            )
        check_bool("merge", merge)
        check_probability("random_ratio", random_ratio)
        check_choice("fallback", fallback, ("contrast", "uniform"))
        # 2 ** initial_depth leaves from the start, at most max_leaves.
        check_int("initial_depth", initial_depth, low=0, high=max_leaves.bit_length() - 1)
        self.window = window
        self.recent = recent
        self.z = z
        self.absolute = absolute
        self.min_split = min_split
        self.split_every = split_every
        self.min_child = min_child
        self.split_f = split_f
        self.min_width = min_width
        self.max_leaves = max_leaves
        self.merge = merge
        self.random_ratio = random_ratio
        self.fallback = fallback
        self.initial_depth = initial_depth

        self._low = space.low.tolist()
        self._range = space.range.tolist()
        self._high = space.high.tolist()
        # Least-squares slope weights (x - mean) / Sxx for x = 0..n-1, per window fill n.
        self._slope_w: list[list[float]] = [[] for _ in range(window + 1)]
        self._sxx = [0.0] * (window + 1)
        for n in range(2, window + 1):
            xc = [i - (n - 1) / 2.0 for i in range(n)]
            sxx = sum(v * v for v in xc)
            self._slope_w[n] = [v / sxx for v in xc]
            self._sxx[n] = sxx

        d = space.ndim
        # Tree nodes; the children of an internal node are node_left_ and node_left_ + 1.
        self.node_dim_: list[int] = [-1]  # split axis, -1 for a leaf
        self.node_cut_: list[float] = [0.0]
        self.node_left_: list[int] = [-1]
        self.node_parent_: list[int] = [-1]
        self.node_slot_: list[int] = [0]  # leaf slot of a leaf node, -1 otherwise
        self.free_nodes_: list[int] = []  # left ids of sibling pairs freed by merges
        # Leaves live in slots 0 .. n_leaves_ - 1; their windows are ring buffers.
        self.slot_node_: list[int] = [0]
        self.count_: list[int] = [0]  # scores written to the slot's ring since it was filled
        self.since_: list[int] = [0]  # visits since the slot's last split try
        cap = 1
        self.low_ = np.zeros((cap, d))
        self.high_ = np.ones((cap, d))
        self.lp_ = np.zeros(cap)
        self.volume_ = np.ones(cap)
        self.sd_ = np.zeros(cap)
        self.pos_ = np.zeros((cap, window, d))
        self.rew_ = np.zeros((cap, window))
        self.time_ = np.zeros((cap, window), dtype=np.int64)
        self.n_leaves_ = 1
        self.step_ = 0
        self.n_splits_ = 0
        self.n_merges_ = 0
        # A coarse regular start: every leaf halved along its widest side, initial_depth
        # times. It gives a small target (a first learnable region in the middle of the box)
        # its own window from the start: one axis-aligned cut of a single window cannot
        # isolate it. Merges never undo these cuts.
        empty = np.zeros((0, d))
        for _ in range(initial_depth):
            for leaf in range(self.n_leaves_):
                widths = self.high_[leaf] - self.low_[leaf]
                axis = int(np.argmax(widths))
                if widths[axis] / 2.0 >= min_width:
                    mid = float(self.low_[leaf, axis] + widths[axis] / 2.0)
                    self._split(leaf, axis, mid, empty, np.zeros(0), np.zeros(0, np.int64))
        self.n_splits_ = 0
        self._fixed_nodes = frozenset(i for i, dim in enumerate(self.node_dim_) if dim >= 0)

    # -------------------------------------------------------------- estimation
    def _fit(self, r: list[float]) -> tuple[float, float, float]:
        """Slope of ``r`` on 0..n-1, its standard error, and the standard deviation of ``r``."""
        n = len(r)
        sxx = self._sxx[n]
        slope = sum(map(mul, self._slope_w[n], r))
        s = sum(r)
        ss = sum(map(mul, r, r)) - s * s / n
        sse = ss - slope * slope * sxx
        se = math.sqrt(sse / ((n - 2) * sxx)) if sse > 0.0 else 0.0
        return slope, se, math.sqrt(ss / n) if ss > _TINY else 0.0

    def _lp(self, r: list[float]) -> tuple[float, float]:
        """Learning progress and standard deviation of a window of scores, oldest first."""
        n = len(r)
        if n < 3:
            return 0.0, _sd(r)
        slope, se, sd = self._fit(r)
        if not self.absolute and slope < 0.0:
            slope = 0.0
        lp = abs(slope) - self.z * se
        if lp < _LP_FLOOR:
            return 0.0, sd
        m = self.recent
        if m and n > m:
            slope_r, se_r, _ = self._fit(r[n - m :])
            if not self.absolute and slope_r < 0.0:
                slope_r = 0.0
            lp = min(lp, abs(slope_r) + self.z * se_r)
        return (lp if lp >= _LP_FLOOR else 0.0), sd

    def _window(self, slot: int) -> tuple[list[int], int]:
        """Ring indices of a slot's window, oldest first, and the window fill."""
        c = self.count_[slot]
        w = self.window
        if c <= w:
            return list(range(c)), c
        s = c % w
        return list(range(s, w)) + list(range(s)), w

    def _window_scores(self, slot: int) -> list[float]:
        c = self.count_[slot]
        w = self.window
        row = self.rew_[slot].tolist()
        if c <= w:
            return row[:c]
        s = c % w
        return row[s:] + row[:s]

    # -------------------------------------------------------------------- tree
    def _find(self, u: list[float]) -> int:
        dims, cuts, left = self.node_dim_, self.node_cut_, self.node_left_
        node = 0
        d = dims[0]
        while d >= 0:
            node = left[node] if u[d] < cuts[node] else left[node] + 1
            d = dims[node]
        return self.node_slot_[node]

    def _new_pair(self, parent: int) -> int:
        if self.free_nodes_:
            left = self.free_nodes_.pop()
        else:
            left = len(self.node_dim_)
            self.node_dim_ += [-1, -1]
            self.node_cut_ += [0.0, 0.0]
            self.node_left_ += [-1, -1]
            self.node_parent_ += [-1, -1]
            self.node_slot_ += [-1, -1]
        for node in (left, left + 1):
            self.node_dim_[node] = -1
            self.node_left_[node] = -1
            self.node_parent_[node] = parent
        return left

    def _new_slot(self) -> int:
        slot = self.n_leaves_
        cap = self.lp_.shape[0]
        if slot >= cap:
            # Capacity doubles (up to max_leaves), so growth is amortised O(1) per split.
            new_cap = min(2 * cap, self.max_leaves)
            for name in _SLOT_ARRAYS:
                old = getattr(self, name)
                arr = np.zeros((new_cap, *old.shape[1:]), dtype=old.dtype)
                arr[:cap] = old
                setattr(self, name, arr)
        self.slot_node_.append(-1)
        self.count_.append(0)
        self.since_.append(0)
        self.n_leaves_ += 1
        return slot

    def _drop_slot(self, slot: int) -> None:
        """Free ``slot`` by moving the last leaf into it."""
        last = self.n_leaves_ - 1
        if slot != last:
            node = self.slot_node_[last]
            self.node_slot_[node] = slot
            self.slot_node_[slot] = node
            for name in _SLOT_ARRAYS:
                arr = getattr(self, name)
                arr[slot] = arr[last]
            self.count_[slot] = self.count_[last]
            self.since_[slot] = self.since_[last]
        self.lp_[last] = 0.0
        self.sd_[last] = 0.0
        self.slot_node_.pop()
        self.count_.pop()
        self.since_.pop()
        self.n_leaves_ -= 1

    def _fill(self, slot: int, idx: NDArray[np.int64], pos: NDArray[np.float64],
              rew: NDArray[np.float64], time: NDArray[np.int64]) -> None:
        """Reset a slot's window to the given points (oldest first)."""
        k = idx.shape[0]
        self.pos_[slot, :k] = pos[idx]
        self.rew_[slot, :k] = rew[idx]
        self.time_[slot, :k] = time[idx]
        self.count_[slot] = k
        self.since_[slot] = 0
        self.lp_[slot], self.sd_[slot] = self._lp(rew[idx].tolist())

    # ------------------------------------------------------------------ update
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        # Validated tasks lie in [low, high], so (x - low) / range lies in [0, 1] exactly.
        units = self.space.to_unit(tasks)
        w = self.window
        pos_, rew_, time_, count, since = self.pos_, self.rew_, self.time_, self.count_, self.since_
        for u, r in zip(units, scores.tolist(), strict=True):
            leaf = self._find(u.tolist())
            if pos_ is not self.pos_:  # a split grew the arrays
                pos_, rew_, time_ = self.pos_, self.rew_, self.time_
            c = count[leaf]
            j = c % w
            pos_[leaf, j] = u
            rew_[leaf, j] = r
            time_[leaf, j] = self.step_
            self.step_ += 1
            count[leaf] = c + 1
            lp, sd = self._lp(self._window_scores(leaf))
            self.lp_[leaf] = lp
            self.sd_[leaf] = sd
            since[leaf] += 1
            if since[leaf] >= self.split_every and min(c + 1, w) >= self.min_split:
                since[leaf] = 0
                # Flat scores (sd 0) leave no squared error for a cut to remove.
                split = sd > 0.0 and self.n_leaves_ < self.max_leaves and self._try_split(leaf)
                if not split and self.merge and lp == 0.0:
                    self._try_merge(leaf)

    def _try_split(self, leaf: int) -> bool:
        idx, n = self._window(leaf)
        x = self.pos_[leaf, idx]
        r = self.rew_[leaf, idx]
        lo, hi = self.low_[leaf], self.high_[leaf]
        order = np.argsort(x, axis=0, kind="stable")
        xs = np.take_along_axis(x, order, axis=0)
        rs = r[order]
        cs = np.cumsum(rs, axis=0)
        cs2 = np.cumsum(rs * rs, axis=0)
        k = np.arange(1, n, dtype=np.float64)[:, None]
        tot, tot2 = cs[-1], cs2[-1]
        # Squared error of a constant per side, for a cut after each sorted point, per axis.
        after = (cs2[:-1] - cs[:-1] ** 2 / k) + ((tot2 - cs2[:-1]) - (tot - cs[:-1]) ** 2 / (n - k))
        cut = 0.5 * (xs[:-1] + xs[1:])
        mc = self.min_child
        valid = (
            (xs[:-1] < xs[1:])
            & (k >= mc)
            & (n - k >= mc)
            & (cut - lo >= self.min_width)
            & (hi - cut >= self.min_width)
        )
        if not valid.any():
            return False
        i, d = np.unravel_index(int(np.argmin(np.where(valid, after, np.inf))), after.shape)
        best = max(float(after[i, d]), 0.0)
        if not self._significant(float(tot2[0] - tot[0] ** 2 / n) - best, best, n):
            return False
        self._split(leaf, int(d), float(cut[i, d]), x, r, self.time_[leaf, idx])
        return True

    def _significant(self, gain: float, sse: float, n: int) -> bool:
        """F-test of a cut: gain in squared error against the residual variance."""
        if gain <= _TINY:
            return False
        resid = sse / (n - 2)
        return resid <= _TINY or gain >= self.split_f * resid

    def _split(self, leaf: int, d: int, cut: float, x: NDArray[np.float64],
               r: NDArray[np.float64], t: NDArray[np.int64]) -> None:
        node = self.slot_node_[leaf]
        left = self._new_pair(node)
        new = self._new_slot()
        self.node_dim_[node] = d
        self.node_cut_[node] = cut
        self.node_left_[node] = left
        self.node_slot_[node] = -1
        self.node_slot_[left] = leaf
        self.node_slot_[left + 1] = new
        self.slot_node_[leaf] = left
        self.slot_node_[new] = left + 1
        self.low_[new] = self.low_[leaf]
        self.high_[new] = self.high_[leaf]
        self.high_[leaf, d] = cut
        self.low_[new, d] = cut
        for slot in (leaf, new):
            self.volume_[slot] = float(np.prod(self.high_[slot] - self.low_[slot]))
        below = x[:, d] < cut  # the same comparison as _find, so points stay in their leaf
        self._fill(leaf, np.flatnonzero(below), x, r, t)
        self._fill(new, np.flatnonzero(~below), x, r, t)
        self.n_splits_ += 1

    def _try_merge(self, leaf: int) -> None:
        node = self.slot_node_[leaf]
        parent = self.node_parent_[node]
        if parent < 0 or parent in self._fixed_nodes:
            return
        left = self.node_left_[parent]
        a, b = self.node_slot_[left], self.node_slot_[left + 1]
        other = b if leaf == a else a
        w = self.window
        if other < 0 or self.lp_[other] > 0.0 or min(self.count_[leaf], self.count_[other]) < w:
            return
        # Merge when the cut no longer separates the scores significantly; if another cut
        # would, the merged leaf finds it at its next split try, so a misplaced cut moves.
        ra, rb = self._window_scores(a), self._window_scores(b)
        sa, sb = sum(ra), sum(rb)
        qa, qb = sum(map(mul, ra, ra)), sum(map(mul, rb, rb))
        sse_split = qa - sa * sa / w + qb - sb * sb / w
        sse_all = qa + qb - (sa + sb) ** 2 / (2 * w)
        if self._significant(sse_all - sse_split, sse_split, 2 * w):
            return
        ia, _ = self._window(a)
        ib, _ = self._window(b)
        x = np.concatenate((self.pos_[a, ia], self.pos_[b, ib]))
        r = np.concatenate((self.rew_[a, ia], self.rew_[b, ib]))
        t = np.concatenate((self.time_[a, ia], self.time_[b, ib]))
        lo = np.minimum(self.low_[a], self.low_[b])
        hi = np.maximum(self.high_[a], self.high_[b])
        # The parent becomes a leaf again, in slot `leaf`, with the latest points of both.
        keep = np.argsort(t, kind="stable")[-w:]
        self.low_[leaf] = lo
        self.high_[leaf] = hi
        self.volume_[leaf] = float(np.prod(hi - lo))
        self.node_dim_[parent] = -1
        self.node_left_[parent] = -1
        self.node_slot_[parent] = leaf
        self.node_slot_[left] = self.node_slot_[left + 1] = -1
        self.free_nodes_.append(left)
        self.slot_node_[leaf] = parent
        self._fill(leaf, keep, x, r, t)
        self._drop_slot(other)
        self.n_merges_ += 1

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int) -> NDArray[Any]:
        # Per task: a mode draw (uniform or by LP), a leaf draw and a position in [0, 1)^ndim.
        rnd = self.rng_.random((n, self.space.ndim + 2))
        cdf = np.cumsum(self.lp_[: self.n_leaves_])
        if cdf[-1] <= 0.0 and self.fallback == "contrast":
            # No leaf shows progress: spread the tasks over the part of the box where
            # outcomes differ (score sd x volume), skipping what is uniformly solved or
            # uniformly out of reach. Where every leaf is flat this is uniform again.
            k = self.n_leaves_
            cdf = np.cumsum(self.sd_[:k] * self.volume_[:k])
        if n == 1:
            return np.array([self._place_one(rnd[0].tolist(), cdf)])
        return self._place(rnd, cdf)

    def _place(self, rnd: NDArray[np.float64], cdf: NDArray[np.float64]) -> NDArray[np.float64]:
        """Tasks from the random draws ``rnd`` (one row per task), vectorised."""
        noise = rnd[:, 2:]
        total = float(cdf[-1])
        if total <= 0.0:
            return self._to_task(noise)
        last = cdf.shape[0] - 1
        leaves = np.minimum(cdf.searchsorted(rnd[:, 1] * total, side="right"), last)
        lo = self.low_[leaves]
        out = lo + noise * (self.high_[leaves] - lo)
        uniform = rnd[:, 0] < self.random_ratio
        out[uniform] = noise[uniform]
        return self._to_task(out)

    def _place_one(self, row: list[float], cdf: NDArray[np.float64]) -> list[float]:
        """One task from one row of draws: the same arithmetic as :meth:`_place`, in scalars,
        because numpy's per-call overhead dominates a batch of one."""
        u = row[2:]
        total = float(cdf[-1])
        if total > 0.0 and row[0] >= self.random_ratio:
            last = cdf.shape[0] - 1
            leaf = min(int(cdf.searchsorted(row[1] * total, side="right")), last)
            lo, hi = self.low_[leaf].tolist(), self.high_[leaf].tolist()
            u = [a + v * (b - a) for a, v, b in zip(lo, u, hi, strict=True)]
        return [
            min(max(a + v * r, a), b)
            for a, v, r, b in zip(self._low, u, self._range, self._high, strict=True)
        ]

    def _to_task(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        space = self.space
        # from_unit can round one ulp past a bound; tasks must stay in the box.
        return np.clip(space.from_unit(u), space.low, space.high)

    # ----------------------------------------------------------------- reports
    def _metrics(self) -> dict[str, float]:
        k = self.n_leaves_
        lp = self.lp_[:k]
        return {
            "n_leaves": float(k),
            "active_leaves": float(np.count_nonzero(lp > 0.0)),
            "max_lp": float(lp.max()),
            "total_lp": float(lp.sum()),
            "n_splits": float(self.n_splits_),
            "n_merges": float(self.n_merges_),
        }

    def model_snapshot(self) -> dict[str, Any]:
        """The leaves as boxes in task coordinates, each valued by its learning progress."""
        with self._lock:  # a consistent view while another thread updates
            k = self.n_leaves_
            lo = self._to_task(self.low_[:k])
            hi = self._to_task(self.high_[:k])
            lp = self.lp_[:k].tolist()
        return {
            "boxes": [
                {"low": lo[i].tolist(), "high": hi[i].tolist(), "value": float(lp[i])}
                for i in range(k)
            ]
        }


def _sd(r: list[float]) -> float:
    n = len(r)
    if n < 2:
        return 0.0
    s = sum(r)
    ss = sum(map(mul, r, r)) - s * s / n
    return math.sqrt(ss / n) if ss > _TINY else 0.0
