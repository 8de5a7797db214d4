"""Batch bookkeeping shared by the per-arm estimators.

A teacher's ``update(tasks, scores)`` must equal the same updates applied one at a time. For
per-arm state that means: items of different arms commute, items of the same arm apply in batch
order. These helpers find, with one stable sort, each arm's items and their order inside the
batch, so that estimators can update vectorised and still match the one-by-one result exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchGroups", "group_batch", "occurrence_levels", "split_levels"]


class BatchGroups(NamedTuple):
    """How the items of a batch fall into arms.

    Attributes
    ----------
    unique : ndarray of int64
        The distinct arms of the batch, sorted.
    inverse : ndarray of int64
        For each item, the index of its arm in ``unique``.
    counts : ndarray of int64
        Items per distinct arm.
    rank : ndarray of int64
        For each item, how many earlier items of the batch have the same arm.
    last : ndarray of int64
        For each distinct arm, the batch position of its last item.
    """

    unique: NDArray[np.int64]
    inverse: NDArray[np.int64]
    counts: NDArray[np.int64]
    rank: NDArray[np.int64]
    last: NDArray[np.int64]


def group_batch(arms: NDArray[np.int64]) -> BatchGroups:
    """Group the items of a batch by arm, keeping batch order inside each arm.

    Examples
    --------
    >>> g = group_batch(np.array([4, 1, 4, 4]))
    >>> g.unique.tolist(), g.counts.tolist(), g.rank.tolist(), g.last.tolist()
    ([1, 4], [1, 3], [0, 0, 1, 2], [1, 3])
    """
    keys = np.asarray(arms, dtype=np.int64)
    n = keys.shape[0]
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return BatchGroups(empty, empty, empty, empty, empty)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    is_start = np.empty(n, dtype=bool)
    is_start[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    counts = np.diff(np.append(starts, n))
    group_of_sorted = np.cumsum(is_start) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group_of_sorted
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[group_of_sorted]
    last = order[starts + counts - 1]
    return BatchGroups(sorted_keys[starts], inverse, counts.astype(np.int64), rank, last)


def occurrence_levels(arms: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """Split batch positions into levels where each arm appears at most once.

    Level ``r`` holds, in batch order, the ``r``-th item of every arm. Applying a per-arm update
    level by level therefore gives exactly the one-by-one result, with one vectorised step per
    level; there are as many levels as the most repeated arm has items.

    Examples
    --------
    >>> [level.tolist() for level in occurrence_levels(np.array([4, 1, 4, 4]))]
    [[0, 1], [2], [3]]
    """
    n = len(arms)
    if n == 0:
        return []
    rank = group_batch(arms).rank
    top = int(rank.max())
    if top == 0:
        return [np.arange(n)]
    order = np.argsort(rank, kind="stable")
    bounds = np.cumsum(np.bincount(rank))[:-1]
    return np.split(order, bounds)


def split_levels(
    arms: NDArray[np.int64], max_levels: int = 4, *, groups: BatchGroups | None = None
) -> tuple[list[NDArray[np.int64]], NDArray[np.int64]]:
    """The first ``max_levels`` occurrence levels, and the remaining positions in batch order.

    ``groups`` is :func:`group_batch` of ``arms`` when the caller already has it (it costs a
    sort).

    A batch dominated by one arm (an ε-greedy teacher's batch is mostly its best arm) would
    need one small vectorised step per repeat; past ``max_levels`` levels a plain loop over the
    remaining items, in batch order, is faster and gives the same result, since every arm's
    items still apply in order and after its earlier ones.

    Examples
    --------
    >>> levels, tail = split_levels(np.array([4, 1, 4, 4, 4]), max_levels=2)
    >>> [level.tolist() for level in levels], tail.tolist()
    ([[0, 1], [2]], [3, 4])
    """
    n = len(arms)
    if n == 0:
        return [], np.zeros(0, dtype=np.int64)
    rank = (groups if groups is not None else group_batch(arms)).rank
    top = int(rank.max())
    if top == 0:
        return [np.arange(n)], np.zeros(0, dtype=np.int64)
    head = rank < max_levels
    order = np.flatnonzero(head)
    order = order[np.argsort(rank[order], kind="stable")]
    counts = np.bincount(rank[head])
    levels = np.split(order, np.cumsum(counts)[:-1])
    return levels, np.flatnonzero(~head)
