"""A bounded history of points with exact nearest-neighbour queries, for ALP.

ALP-GMM's absolute learning progress of a new (task, score) pair is ``|score - score of the
nearest earlier task|``. The reference implementation keeps every task ever seen and rebuilds a
k-d tree over all of them every few hundred episodes, so its cost grows with the run. Here the
history is a ring buffer of the last ``max_history`` points (bounded memory), and a query costs
the same whether the run is 20 thousand or 1 million episodes long.

How a query stays cheap
-----------------------
The stored points are split in two parts:

- most of them sit in a k-d tree (``scipy.spatial.cKDTree``, compiled code, queried in
  batches);
- a small *brute-force* part is scanned exhaustively with one vectorised pass: the points added
  since the tree was built, and the oldest points, which will leave the window before the next
  rebuild (so the tree never holds a point that is out of some query's window).

Every ``rebuild_every`` insertions the tree is rebuilt over the bounded history. That costs
``O(max_history log max_history)`` once every ``rebuild_every`` insertions, a constant per
insertion at a fixed bound however long the run. The tree is derived data: it is kept beside
the instance, not in it, so that the instance's fields are plain data (a teacher's
``state_dict`` and pickles hold the points, not the tree), and a copy builds the same tree over
the same points on first use.

Answers are exact: the nearest point among the last ``max_history`` ones, ties (several points
at the same smallest distance) going to the earliest inserted. Every distance that decides an
answer is computed by one formula, and where the tree's own rounding could decide a near tie
the candidates are re-examined with that formula, so a batch and the same points one at a time
give the same answers bit for bit.

A uniform spatial hash grid (the point's cell, then expanding rings of cells, exact by a
projected-distance bound) was tried first. In 2-D it was no faster once written in Python, and
in 5 to 10 dimensions an exact grid search scans a large share of the history (the nearest
neighbour is far away in every projection), an order of magnitude slower per query than the
tree, which prunes in every coordinate (figures in ``benchmarks/RESULTS.md``). 10-D stays the
expensive case for any exact method.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from autocurriculum._state import state_class
from autocurriculum.params import MAX_SIZE, check_int, check_size

__all__ = ["NearestHistory"]

# Two tree answers closer than this (relative) are re-examined with the one distance formula,
# so that the tree's own rounding never decides a tie.
_NEAR_TIE = 1e-9
# Points per vectorised step of a batch (bounds the in-batch distance matrix).
_CHUNK = 256
_MAX_REBUILD_EVERY = 1024
# Distances per block of the brute-force scan (about 256 KB of temporaries).
_SCAN_BLOCK = 32_768

# Each history's k-d tree and the points it was built on, by history. Derived data, rebuilt on
# demand, so it lives outside the instance: its fields stay plain data for state dicts and
# pickles, and a copy (deepcopy, pickle, load_state_dict) rebuilds its own tree on first use.
_TREES: weakref.WeakKeyDictionary[NearestHistory, tuple[Any, NDArray[np.float64]]] = (
    weakref.WeakKeyDictionary()
)


@state_class
class NearestHistory:
    """The last ``max_history`` points of the unit cube, each with a value; exact 1-NN queries.

    Parameters
    ----------
    ndim : int
        Dimension of the points, which lie in ``[0, 1]^ndim``.
    max_history : int, default 20_000
        How many of the most recent points are kept; older ones are forgotten. At most
        ``1e8 / (ndim + 1)``: the history holds ``max_history * (ndim + 1)`` floats.
    rebuild_every : int or None, default None
        Insertions between two rebuilds of the tree. When None it follows the history size as
        ``4 * sqrt(n)``, between 64 and 1024, which balances the rebuild against the scan of
        the points outside the tree.

    Examples
    --------
    >>> history = NearestHistory(ndim=2, max_history=100)
    >>> history.add([[0.1, 0.1], [0.9, 0.9]], [0.2, 0.7])
    >>> serial, distance, value = history.nearest([0.8, 0.7])
    >>> serial, round(distance, 4), value
    (1, 0.2236, 0.7)
    >>> values, distances, counts = history.query_add([[0.2, 0.1], [0.2, 0.15]], [0.5, 0.6])
    >>> values.tolist(), counts.tolist()
    ([0.2, 0.5], [2, 3])
    """

    def __init__(self, ndim: int, max_history: int = 20_000, *, rebuild_every: int | None = None):
        check_size("ndim", ndim)
        check_size("max_history", max_history, high=MAX_SIZE // (int(ndim) + 1))
        if rebuild_every is not None:
            check_int("rebuild_every", rebuild_every, low=1, high=_MAX_REBUILD_EVERY)
        self.ndim = int(ndim)
        self.max_history = int(max_history)
        self.rebuild_every = None if rebuild_every is None else int(rebuild_every)

        cap = self.max_history
        # Ring buffer of the window: the point with serial s sits in slot s % max_history.
        self._points = np.zeros((cap, self.ndim))
        self._values = np.zeros(cap)
        self._total = 0
        # The tree (kept in _TREES) holds the serials [_tree_lo, _built); the brute-force part
        # holds the older serials [_total - len, _tree_lo) and the newer ones [_built, _total),
        # in this order (so ascending serials), contiguously for a cheap scan.
        self._tree_lo = 0
        self._built = 0
        self._next_rebuild = 0
        # Coordinates first (one contiguous row per coordinate): the scan runs on long
        # contiguous rows.
        size = 2 * _MAX_REBUILD_EVERY
        self._brute = np.zeros((self.ndim, size))
        self._brute_serial = np.zeros(size, dtype=np.int64)
        self._n_brute = 0
        self._rebuilds = 0

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return min(self._total, self.max_history)

    @property
    def n_added(self) -> int:
        """How many points were ever added, stored or forgotten."""
        return self._total

    @property
    def n_rebuilds(self) -> int:
        """How many times the tree was rebuilt."""
        return self._rebuilds

    # ---------------------------------------------------------------- updates
    def add(self, points: ArrayLike, values: ArrayLike) -> None:
        """Store points and their values, forgetting the oldest beyond ``max_history``."""
        pts, vals = self._check(points, values)
        start = 0
        while start < len(pts):
            m = self._chunk_size(len(pts) - start)
            self._insert(pts[start : start + m], vals[start : start + m])
            start += m

    def query_add(
        self, points: ArrayLike, values: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """For each point in order: find its nearest stored point, then store the point.

        A batch gives exactly what the same points given one at a time would: point ``i`` sees
        the points before it in the batch (and not the oldest ones they pushed out).

        Returns
        -------
        values : numpy.ndarray
            The value of each point's nearest neighbour, NaN when nothing was stored yet.
        distances : numpy.ndarray
            The Euclidean distance to it, ``inf`` when nothing was stored.
        counts : numpy.ndarray
            How many points were stored when each point was queried.
        """
        pts, vals = self._check(points, values)
        n = len(pts)
        nn_values = np.full(n, np.nan)
        nn_d2 = np.full(n, np.inf)
        counts = np.empty(n, dtype=np.int64)
        start = 0
        while start < n:
            m = self._chunk_size(n - start)
            sl = slice(start, start + m)
            serial, d2 = self._query_chunk(pts[sl])
            stored = (serial >= 0) & (serial < self._total)
            in_chunk = serial >= self._total
            out = nn_values[sl]
            out[stored] = self._values[serial[stored] % self.max_history]
            out[in_chunk] = vals[sl][serial[in_chunk] - self._total]
            nn_d2[sl] = d2
            counts[sl] = np.minimum(self._total + np.arange(m), self.max_history)
            self._insert(pts[sl], vals[sl])
            start += m
        return nn_values, np.sqrt(nn_d2), counts

    # ---------------------------------------------------------------- queries
    def nearest(self, point: ArrayLike) -> tuple[int, float, float] | None:
        """The stored point nearest to ``point`` as ``(serial, distance, value)``; None if empty.

        ``serial`` is the point's insertion number (0 for the first point ever added).
        """
        pts, _ = self._check(np.reshape(np.asarray(point, dtype=np.float64), (1, -1)), [0.0])
        if not len(self):
            return None
        serial, d2 = self._query_chunk(pts)
        s = int(serial[0])
        return s, math.sqrt(float(d2[0])), float(self._values[s % self.max_history])

    def points(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The stored points and their values, oldest first."""
        slots = np.arange(self._total - len(self), self._total) % self.max_history
        return self._points[slots].copy(), self._values[slots].copy()

    # -------------------------------------------------------------- internals
    def _check(
        self, points: ArrayLike, values: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim == 1 and pts.shape[0] == self.ndim:
            pts = pts[None, :]
        if pts.ndim != 2 or pts.shape[1] != self.ndim:
            raise ValueError(f"points must have shape (n, {self.ndim}), got shape {pts.shape}")
        if pts.size and not (pts.min() >= 0.0 and pts.max() <= 1.0):
            bad = ~((pts >= 0.0) & (pts <= 1.0))
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"points[{row}, {col}] = {float(pts[row, col])!r}: points must lie in the unit "
                "cube [0, 1]"
            )
        vals = np.atleast_1d(np.asarray(values, dtype=np.float64))
        if vals.shape != (len(pts),):
            raise ValueError(f"values has shape {vals.shape} for {len(pts)} points")
        return pts, vals

    def _rebuild_period(self, n: int) -> int:
        if self.rebuild_every is not None:
            return self.rebuild_every
        return int(min(_MAX_REBUILD_EVERY, max(64, 4.0 * math.sqrt(n))))

    def _chunk_size(self, remaining: int) -> int:
        # A chunk never runs past the next rebuild, which bounds both the brute-force part and
        # the windows of the queries the current tree must serve.
        return max(1, min(remaining, _CHUNK, self._next_rebuild - self._total))

    def _insert(self, pts: NDArray[np.float64], vals: NDArray[np.float64]) -> None:
        m = len(pts)
        cap = self.max_history
        if m == 1:
            slot = self._total % cap
            self._points[slot] = pts[0]
            self._values[slot] = vals[0]
        else:
            keep = slice(max(0, m - cap), m)  # of a batch longer than the window, the tail
            slots = (self._total + np.arange(m)[keep]) % cap
            self._points[slots] = pts[keep]
            self._values[slots] = vals[keep]
        b = self._n_brute
        self._brute[:, b : b + m] = pts.T
        self._brute_serial[b : b + m] = np.arange(self._total, self._total + m)
        self._n_brute = b + m
        self._total += m
        if self._total >= self._next_rebuild:
            self._rebuild()

    def _rebuild(self) -> None:
        total = self._total
        n = len(self)
        period = self._rebuild_period(n)
        self._next_rebuild = total + period
        # Every query before the next rebuild has a serial below next_rebuild, so its window
        # starts below next_rebuild - max_history: points older than that may leave some
        # window, and they stay in the brute-force part instead of the tree.
        cut = min(total, max(total - n, self._next_rebuild - self.max_history))
        old = np.arange(total - n, cut)
        self._brute[:, : len(old)] = self._points[old % self.max_history].T
        self._brute_serial[: len(old)] = old
        self._n_brute = len(old)
        self._tree_lo, self._built = cut, total
        self._build_tree()
        self._rebuilds += 1

    def _build_tree(self) -> tuple[Any, NDArray[np.float64]]:
        """Build the tree over the serials [_tree_lo, _built) and remember it."""
        if self._tree_lo < self._built:
            pts = self._points[np.arange(self._tree_lo, self._built) % self.max_history]
            tree = cKDTree(pts, leafsize=16, balanced_tree=False, compact_nodes=False)
        else:
            tree, pts = None, np.zeros((0, self.ndim))
        _TREES[self] = (tree, pts)
        return tree, pts

    def _tree(self) -> tuple[Any, NDArray[np.float64]]:
        """The tree and its points: built by the last rebuild, or again over the same points
        for a copy (the same points give the same tree, so answers do not change)."""
        found = _TREES.get(self)
        return found if found is not None else self._build_tree()

    def _query_chunk(self, q: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Serial and squared distance of each point's nearest earlier point (-1, inf if none).

        Point ``i`` of the chunk is treated as insertion number ``_total + i``: it sees the
        stored points in its window and the chunk's points before it.
        """
        m = len(q)
        total = self._total
        rows = np.arange(m)
        lo = total + rows - self.max_history  # first serial of each window
        best_serial = np.full(m, -1, dtype=np.int64)
        best_d2 = np.full(m, np.inf)
        tree, tree_points = self._tree()
        if tree is not None:
            self._query_tree(tree, tree_points, q, best_serial, best_d2)

        nb = self._n_brute
        if nb:
            brute = self._brute[:, None, :nb]
            serials = self._brute_serial[:nb]
            # Blocks of queries keep the (queries x points) temporaries in cache.
            step = max(1, _SCAN_BLOCK // nb)
            for a in range(0, m, step):
                blk = slice(a, a + step)
                d2 = _sq_dist(q[blk].T[:, :, None], brute)
                if lo[blk].max() > serials[0]:
                    d2[serials[None, :] < lo[blk, None]] = np.inf
                # Ascending serials: argmin's first hit is the earliest of equal distances.
                j = d2.argmin(axis=1)
                dj = d2[np.arange(len(j)), j]
                sj = serials[j]
                bd, bs = best_d2[blk], best_serial[blk]
                better = (dj < bd) | ((dj == bd) & (sj < bs))
                bd[better] = dj[better]
                bs[better] = sj[better]

        if m > 1:  # earlier points of the same chunk, all later than anything stored
            d2 = _sq_dist(q.T[:, :, None], q.T[:, None, :])
            serials = total + rows
            d2[(rows[None, :] >= rows[:, None]) | (serials[None, :] < lo[:, None])] = np.inf
            j = d2.argmin(axis=1)
            dj = d2[rows, j]
            better = dj < best_d2
            best_d2[better] = dj[better]
            best_serial[better] = serials[j[better]]
        return best_serial, best_d2

    def _query_tree(
        self,
        tree: Any,
        tree_points: NDArray[np.float64],
        q: NDArray[np.float64],
        best_serial: NDArray[np.int64],
        best_d2: NDArray[np.float64],
    ) -> None:
        n_tree = self._built - self._tree_lo
        k = min(2, n_tree)
        dist, idx = tree.query(q, k=k)
        dist = dist.reshape(len(q), k)
        idx = idx.reshape(len(q), k)
        # The first answer stands when it is clearly closer than the second (which bounds
        # every other tree point); otherwise the near ties are re-examined.
        clear = np.ones(len(q), dtype=bool) if k == 1 else dist[:, 1] > dist[:, 0] * (1 + _NEAR_TIE)
        rows = np.flatnonzero(clear)
        first = idx[rows, 0]
        best_serial[rows] = self._tree_lo + first
        best_d2[rows] = _sq_dist(q[rows].T, tree_points[first].T)
        for r in np.flatnonzero(~clear):
            near = np.asarray(
                tree.query_ball_point(q[r], dist[r, 0] * (1 + 2 * _NEAR_TIE) + 1e-300),
                dtype=np.int64,
            )
            d2 = _sq_dist(q[r][:, None], tree_points[near].T)
            best = d2.min()
            best_serial[r] = self._tree_lo + near[d2 == best].min()  # tree order = serial order
            best_d2[r] = best


def _sq_dist(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Squared distances between ``a`` and ``b``, coordinates on the first axis, broadcast.

    Coordinates are summed one after the other in every code path, so the same pair of points
    always gives the same float and ties break the same way, batched or not. (It is also much
    faster than ``sum(axis=-1)`` over a short last axis.)
    """
    diff = a[0] - b[0]
    acc = diff * diff
    for j in range(1, len(a)):
        diff = a[j] - b[j]
        diff *= diff
        acc += diff
    return acc
