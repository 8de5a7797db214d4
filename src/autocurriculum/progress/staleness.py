"""Which arms were played, and when: staleness sampling and unseen-arm draws in O(log arms).

Prioritized Level Replay mixes its score priority with a *staleness* priority: a level's
weight is the number of episodes since it was last played. Recomputing and renormalising that
over every level on each draw costs O(levels); here the weights live in a Fenwick (binary
indexed) tree. The trick is that every weight is linear in the global clock, ``now - last_i``,
so the tree stores the two coefficients (a seen flag and ``last_i``) and the clock stays a
scalar: a tick costs nothing, a play or a draw costs O(log arms), all integer arithmetic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum._state import state_class
from autocurriculum.params import check_size
from autocurriculum.progress._batch import group_batch

__all__ = ["Staleness", "UnseenArms"]


@state_class
class Staleness:
    """Last-played times of arms; draws seen arms with probability ∝ episodes since played.

    Parameters
    ----------
    n_arms : int
        Number of arms.

    Attributes
    ----------
    now : int
        Episodes recorded so far (the clock).
    last : ndarray of int64
        Clock value at each arm's latest play (0 if never played).
    seen : ndarray of bool
        Whether each arm was ever played.
    n_seen : int
        Number of arms played at least once.

    Examples
    --------
    >>> s = Staleness(n_arms=4)
    >>> s.play([2, 0, 2])          # episodes 1, 2, 3
    >>> s.staleness().tolist()     # arm 0 played at 2, arm 2 at 3, clock at 3
    [1, 0, 0, 0]
    >>> s.draw(np.random.default_rng(0), 3).tolist()  # all weight on arm 0
    [0, 0, 0]
    """

    def __init__(self, n_arms: int):
        self.n_arms = check_size("n_arms", n_arms)
        self.now = 0
        self.last: NDArray[np.int64] = np.zeros(self.n_arms, dtype=np.int64)
        self.seen: NDArray[np.bool_] = np.zeros(self.n_arms, dtype=bool)
        self.n_seen = 0
        self.sum_last = 0
        # Fenwick trees (1-based) over the seen flags and the last-played times.
        self._tree_seen: NDArray[np.int64] = np.zeros(self.n_arms + 1, dtype=np.int64)
        self._tree_last: NDArray[np.int64] = np.zeros(self.n_arms + 1, dtype=np.int64)
        self._top = 1 << (self.n_arms.bit_length() - 1)

    def play(self, arms: ArrayLike) -> None:
        """Record one episode per item, in batch order: the clock advances by ``len(arms)``."""
        arm_arr = np.asarray(arms, dtype=np.int64)
        n = len(arm_arr)
        if n == 0:
            return
        groups = group_batch(arm_arr)
        arms_u = groups.unique
        new_last = self.now + 1 + groups.last
        newly = ~self.seen[arms_u]
        d_last = new_last - self.last[arms_u]
        d_seen = newly.astype(np.int64)
        self._add(arms_u, d_seen, d_last)
        self.last[arms_u] = new_last
        self.seen[arms_u] = True
        self.n_seen += int(newly.sum())
        self.sum_last += int(d_last.sum())
        self.now += n

    def staleness(self) -> NDArray[np.int64]:
        """Episodes since each arm was last played (0 for arms never played). O(arms)."""
        return np.where(self.seen, self.now - self.last, 0)

    def total(self) -> int:
        """Sum of the staleness of all seen arms."""
        return self.now * self.n_seen - self.sum_last

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.int64]:
        """``n`` seen arms, each with probability ∝ its staleness (uniform if all are 0).

        Raises
        ------
        ValueError
            If no arm has been played yet.
        """
        if self.n_seen == 0:
            raise ValueError("no arm has been played yet: nothing to draw by staleness")
        total = self.total()
        if total > 0:
            targets = rng.integers(0, total, size=n, dtype=np.int64)
            return self._descend(targets, clock=self.now)
        targets = rng.integers(0, self.n_seen, size=n, dtype=np.int64)
        return self._descend(targets, clock=None)

    # ------------------------------------------------------------------ tree
    def _add(
        self, arms: NDArray[np.int64], d_seen: NDArray[np.int64], d_last: NDArray[np.int64]
    ) -> None:
        idx = arms + 1
        while idx.size:
            np.add.at(self._tree_seen, idx, d_seen)
            np.add.at(self._tree_last, idx, d_last)
            idx = idx + (idx & -idx)
            keep = idx <= self.n_arms
            idx, d_seen, d_last = idx[keep], d_seen[keep], d_last[keep]

    def _descend(self, targets: NDArray[np.int64], clock: int | None) -> NDArray[np.int64]:
        # Fenwick search for the arm whose cumulative weight first exceeds each target. With a
        # clock the weight of a node is clock * seen - last (staleness); without, it is the
        # seen count (uniform over seen arms).
        pos = np.zeros(targets.shape, dtype=np.int64)
        rem = targets.copy()
        step = self._top
        while step:
            nxt = pos + step
            valid = nxt <= self.n_arms
            node = np.where(valid, nxt, 0)
            weight = self._tree_seen[node]
            if clock is not None:
                weight = clock * weight - self._tree_last[node]
            go = valid & (weight <= rem)
            rem -= np.where(go, weight, 0)
            pos = np.where(go, nxt, pos)
            step >>= 1
        return pos


@state_class
class UnseenArms:
    """The arms never played, with O(1) uniform draws and O(1) removal per arm.

    A permutation of the arms whose first ``n_unseen`` entries are the unseen ones; marking an
    arm seen swaps it with the last unseen entry.

    Examples
    --------
    >>> pool = UnseenArms(n_arms=3)
    >>> pool.mark_seen([1, 1])
    >>> pool.n_unseen, sorted(pool.unseen().tolist())
    (2, [0, 2])
    """

    def __init__(self, n_arms: int):
        n = check_size("n_arms", n_arms)
        self.perm: NDArray[np.int64] = np.arange(n, dtype=np.int64)
        self.pos: NDArray[np.int64] = np.arange(n, dtype=np.int64)
        self.n_unseen = n

    def unseen(self) -> NDArray[np.int64]:
        """The unseen arms (in no particular order)."""
        return self.perm[: self.n_unseen].copy()

    def mark_seen(self, arms: ArrayLike) -> None:
        """Remove ``arms`` from the unseen pool (arms already seen are ignored), in order."""
        for arm in np.asarray(arms, dtype=np.int64).tolist():
            p = int(self.pos[arm])
            if p >= self.n_unseen:
                continue
            last = self.n_unseen - 1
            other = int(self.perm[last])
            self.perm[p], self.perm[last] = other, arm
            self.pos[other], self.pos[arm] = p, last
            self.n_unseen = last

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.int64]:
        """``n`` unseen arms, uniformly with replacement.

        Raises
        ------
        ValueError
            If every arm has been seen.
        """
        if self.n_unseen == 0:
            raise ValueError("every arm has been seen: no unseen arm to draw")
        return self.perm[rng.integers(0, self.n_unseen, size=n)]
