"""A ``torch.utils.data.Sampler`` whose draws a teacher chooses: data curricula for DataLoaders.

Items of a dataset are grouped into *arms* by a key (a digit length, a class, a source, a
difficulty bucket). The teacher picks the arm of every draw, the sampler picks the item inside
the arm, and ``update(indices, scores, signals)`` credits each item's outcome to its arm::

    keys (one per item) ──► arms ──► teacher.sample(draw_size) ──► items ──► DataLoader
                                     teacher.update(arms, ...) ◄── sampler.update(indices, ...)

How it fits a DataLoader:

- The DataLoader iterates the sampler in the main process, also with ``num_workers > 0``
  (workers only receive indices), so the teacher, the draws and the updates all live in the
  training process and no state crosses a process boundary.
- Draws are batched: one ``teacher.sample(draw_size)`` call serves ``draw_size`` items. The
  DataLoader prefetches ``num_workers * prefetch_factor`` batches, so a draw reflects the updates
  made a few batches earlier; credit is never affected, since ``update`` names the items.
- Every drawn item is *pending* until its outcomes come back. ``update`` accepts an index only
  as many times as it was drawn (times ``outcomes`` for grouped draws), so an index the sampler
  never produced, or one updated twice, is an error and not a silently wrong curriculum.
- ``state_dict()`` holds the teacher, the generators, the pending items and the position in the
  epoch. With a prefetching DataLoader, pass ``consumed`` (how many indices of this epoch the
  training loop has received): the indices drawn after it are replayed first on resume, so the
  resumed DataLoader yields exactly what the uninterrupted one would have.

Multi-process training (torch.distributed, accelerate). Every rank holds its own sampler with the
same keys, teacher parameters and seeds; every rank applies the same, gathered outcomes in the
same order, so the teachers stay identical and so do the draws — without any broadcast in the
DataLoader's path. Concretely ``update`` is a collective (``all_gather_object``) when a process
group of more than one rank is initialised: call it on every rank at the same point of the loop,
with that rank's own outcomes. Each gathered update also compares the ranks' draw checksums and
raises if they differ (a different seed, or a rank that drew at another time). With accelerate,
keep ``num_replicas=1`` (accelerate shards the batches itself); with a bare
``DistributedDataParallel`` loop, pass ``num_replicas=world_size, rank=rank`` so each rank takes
its share of the common stream, as ``DistributedSampler`` does.

Examples
--------
>>> import torch
>>> import autocurriculum as ac
>>> from autocurriculum.torch import CurriculumSampler
>>> lengths = [1, 1, 2, 2, 2, 3, 3, 3, 3]                  # each item's arm: its digit length
>>> teacher = ac.make("exp3s", ac.Discrete(["1", "2", "3"]), seed=0)
>>> sampler = CurriculumSampler(lengths, teacher, num_samples=6, seed=0)
>>> loader = torch.utils.data.DataLoader(range(9), batch_size=3, sampler=sampler)
>>> for batch in loader:
...     sampler.update(batch, scores=[0.5] * len(batch))
>>> sampler.metrics()["sampler/pending"]
0.0
"""

from __future__ import annotations

import operator
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from numpy.typing import ArrayLike, NDArray
from torch.utils.data import Sampler

from autocurriculum._state import StateError, from_plain, to_plain
from autocurriculum._threads import Guarded
from autocurriculum.params import MAX_SIZE, check_bool, check_int, check_seed, check_size
from autocurriculum.signals import Signals
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher

__all__ = ["CurriculumSampler"]

#: Version of :meth:`CurriculumSampler.state_dict`'s layout.
STATE_VERSION = 1
#: How far behind the delivered position ``state_dict(consumed=...)`` may rewind, in items of
#: the global stream: far more than any DataLoader prefetches (workers x prefetch x batch).
REWIND_WINDOW = 1 << 16


class CurriculumSampler(Guarded, Sampler[int]):
    """Draw dataset indices whose arm a teacher chooses; feed outcomes back per item.

    Parameters
    ----------
    keys : sequence, numpy array, ``datasets`` column, or str
        The arm of each item: ``keys[i]`` is item ``i``'s key, matched to the teacher's arm names
        by ``str(key)`` (so integer keys ``1, 2, 3`` serve ``Discrete(["1", "2", "3"])``, and
        ``Discrete(n)``'s arms ``"0" .. "n-1"``). A Hugging Face ``datasets`` column
        (``dataset["difficulty"]``) is read through Arrow, without a Python loop. A str names a
        column of ``dataset``.
    teacher : Teacher
        A teacher over a :class:`~autocurriculum.Discrete` space; every arm must hold an item.
    dataset : sized, optional
        The dataset the indices address. Needed when ``keys`` is a column name; otherwise used to
        check that there is one key per item.
    num_samples : int or None
        Indices per epoch of the whole stream (all ranks together); default: one per item.
    draw_size : int
        Arms requested from the teacher per ``sample`` call, in [1, 65536] (rounded up to a
        multiple of ``num_replicas``). The draws then lag the updates by up to ``draw_size``
        items, on top of the DataLoader's own prefetch (``num_workers * prefetch_factor``
        batches); smaller follows the teacher more closely, larger costs less per item (each
        call has a fixed cost of some tens of µs).
    replacement : bool
        ``False`` (default) walks each arm through a shuffled order and reshuffles it once every
        item of the arm has been drawn, so no item repeats before its arm is exhausted. ``True``
        draws the item uniformly inside the arm.
    seed : int or None
        Seed of the within-arm generator. Every rank of a multi-process run needs the same seed.
    num_replicas, rank : int or None
        Shard the stream over ``num_replicas`` processes, as ``DistributedSampler`` does: this
        rank yields the stream's positions ``rank, rank + num_replicas, ...``. Leave both ``None``
        (one replica) with accelerate or TRL, which shard batches themselves.
    gather_updates : bool or None
        Gather every rank's outcomes in :meth:`update` (a collective). ``None``: when a
        ``torch.distributed`` process group with more than one rank is initialised. Pass
        ``False`` when the outcomes given to ``update`` are already global (TRL gathers rewards).

    Attributes
    ----------
    arm_of : numpy.ndarray of int64
        The arm index of every item.
    arm_sizes : numpy.ndarray of int64
        Number of items per arm.

    Raises
    ------
    ValueError
        A key that is not an arm (naming it), an arm without any item (naming it), a column name
        missing from the dataset, keys whose length differs from the dataset's, or a teacher over
        a space that is not Discrete.

    Examples
    --------
    Arms from a Hugging Face ``datasets`` column:

    >>> import datasets
    >>> import autocurriculum as ac
    >>> from autocurriculum.torch import CurriculumSampler
    >>> ds = datasets.Dataset.from_dict({"q": ["1+1", "12+5", "7+8"], "level": [1, 2, 1]})
    >>> teacher = ac.make("learnability", ac.Discrete(["1", "2"]), seed=0)
    >>> sampler = CurriculumSampler("level", teacher, dataset=ds, seed=0)
    >>> sampler.arm_sizes.tolist()
    [2, 1]
    >>> indices = list(sampler)
    >>> set(indices) <= {0, 1, 2}, len(indices)
    (True, 3)
    >>> sampler.update(indices, scores=[1.0, 0.0, 1.0])
    """

    def __init__(
        self,
        keys: Any,
        teacher: Teacher[Any],
        *,
        dataset: Any = None,
        num_samples: int | None = None,
        draw_size: int = 1024,
        replacement: bool = False,
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
        gather_updates: bool | None = None,
    ):
        if not isinstance(teacher, Teacher) or not isinstance(teacher.space, Discrete):
            over = getattr(teacher, "space", None)
            raise ValueError(
                "CurriculumSampler needs a teacher over a Discrete space (one arm per key), got "
                f"{teacher!r}" + (f" over {over!r}" if over is not None else "")
            )
        check_size("draw_size", draw_size, high=REWIND_WINDOW)
        check_bool("replacement", replacement)
        check_seed(seed)
        if num_samples is not None:
            check_size("num_samples", num_samples, high=MAX_SIZE)
        if num_replicas is not None:
            check_size("num_replicas", num_replicas, high=1 << 16)
        if rank is not None:
            check_int("rank", rank, low=0, high=(num_replicas or 1) - 1)
        if gather_updates is not None:
            check_bool("gather_updates", gather_updates)
        self.keys = keys
        self.teacher = teacher
        self.dataset = dataset
        self.num_samples = num_samples
        self.draw_size = draw_size
        self.replacement = replacement
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.gather_updates = gather_updates

        space = teacher.space
        self.arm_of: NDArray[np.int64] = _arms_of(keys, space, dataset)
        n_items = len(self.arm_of)
        self.arm_sizes: NDArray[np.int64] = np.bincount(self.arm_of, minlength=space.n)
        empty = np.flatnonzero(self.arm_sizes == 0)
        if empty.size:
            names = [space.names[i] for i in empty[:5]]
            raise ValueError(
                f"arm {names[0]!r} of the teacher's space has no item: no key equals it"
                + (f" (nor {names[1:]})" if len(names) > 1 else "")
                + f". The keys hold {_preview_keys(self.arm_of, space)}; the teacher cannot be "
                "served an arm without data"
            )
        # Items sorted by arm: arm a's items are members[starts[a] : starts[a] + sizes[a]].
        self._members = np.argsort(self.arm_of, kind="stable").astype(np.int64)
        self._starts = np.concatenate([[0], np.cumsum(self.arm_sizes)[:-1]]).astype(np.int64)
        self._replicas = num_replicas or 1
        self._rank = rank or 0
        # Chunks hold a whole number of indices per rank, so every rank pulls its k-th index
        # from the same chunk and all ranks call the teacher at the same points of the loop.
        self._chunk = -(-draw_size // self._replicas) * self._replicas
        stream = num_samples if num_samples is not None else n_items
        # The global stream of an epoch is padded to a multiple of the replicas, as
        # DistributedSampler pads, so every rank yields the same number of indices.
        self._total = -(-stream // self._replicas) * self._replicas
        self._fingerprint = zlib.crc32(self.arm_of.tobytes())
        self._init_lock()

        seed_seq = np.random.SeedSequence(seed)
        # Learned/iteration state; everything here is in state_dict().
        self.entropy_: int = int(seed_seq.entropy)  # type: ignore[arg-type]
        self.rng_ = np.random.default_rng(seed_seq)
        self.cursor_ = np.zeros(space.n, dtype=np.int64)  # position in each arm's current cycle
        self.cycle_ = np.full(space.n, -1, dtype=np.int64)  # -1: the arm's order is not built yet
        self.outstanding_ = np.zeros(n_items, dtype=np.int32)  # outcomes each item still owes
        self.position_ = 0  # global stream positions delivered this epoch (own and other ranks')
        self.delivered_ = 0  # this rank's indices yielded this epoch
        self.pending_ = np.empty(0, dtype=np.int64)  # drawn, not yet delivered (resume replay)
        self.n_draws_ = 0
        self.checksum_ = 0  # crc32 of every drawn index: compared across ranks on gather
        self._order = self._members.copy()  # each arm's current shuffled cycle (derived state)
        self._log: deque[tuple[int, NDArray[np.int64]]] = deque()  # (start, chunk) delivered
        self._iteration = 0
        self._resume = False
        # (delivered before the chunk, chunk size, iterator over its local items) or None.
        self._current: tuple[int, int, Iterator[int]] | None = None

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        """Indices this rank yields per epoch."""
        return self._total // self._replicas

    @property
    def num_items(self) -> int:
        """Number of items (dataset rows) the keys describe."""
        return len(self.arm_of)

    # ------------------------------------------------------------------ draws
    def draw(self, n: int, *, outcomes: int = 1) -> NDArray[np.int64]:
        """Draw ``n`` item indices in one teacher call, outside any iteration.

        This is the batch path the iterator uses; integrations that lay indices out themselves
        (TRL's prompt groups) call it directly.

        Parameters
        ----------
        n : int
            Number of items.
        outcomes : int
            Outcomes each drawn item will receive through :meth:`update` (``num_generations``
            rollouts of a GRPO prompt, for example).

        Returns
        -------
        numpy.ndarray of int64
            ``(n,)`` item indices.
        """
        n = check_size("n", n, high=MAX_SIZE)
        outcomes = check_size("outcomes", outcomes, high=1 << 20)
        with self._lock:
            return self._draw(n, outcomes)

    def _draw(self, n: int, outcomes: int) -> NDArray[np.int64]:
        arms = np.asarray(self.teacher.sample(n), dtype=np.int64)
        items = self._pick(arms) if not self.replacement else self._pick_uniform(arms)
        # An int32 increment: with a Python int, numpy's add.at takes a casting path ~10x slower.
        np.add.at(self.outstanding_, items, np.int32(outcomes))
        self.n_draws_ += n
        self.checksum_ = zlib.crc32(items.tobytes(), self.checksum_)
        return items

    def _pick_uniform(self, arms: NDArray[np.int64]) -> NDArray[np.int64]:
        offsets = self.rng_.integers(0, self.arm_sizes[arms])
        return self._members[self._starts[arms] + offsets]

    def _pick(self, arms: NDArray[np.int64]) -> NDArray[np.int64]:
        # Without replacement: arm a's k-th draw of cycle c is the k-th item of a permutation
        # seeded by (entropy, a, c). The state is then two small counters per arm, and resuming
        # rebuilds the permutations instead of storing one index per item.
        n = len(arms)
        by_arm = np.argsort(arms, kind="stable")
        sorted_arms = arms[by_arm]
        # Runs of equal arms in the sorted batch (np.unique would sort again: ~3x slower).
        first = np.concatenate(([0], np.flatnonzero(sorted_arms[1:] != sorted_arms[:-1]) + 1))
        touched = sorted_arms[first]
        counts = np.diff(np.append(first, n))
        fresh = touched[self.cycle_[touched] < 0]
        for arm in fresh.tolist():
            self._new_cycle(arm, 0)
        rank_in_arm = np.arange(n) - np.repeat(first, counts)
        positions = self.cursor_[sorted_arms] + rank_in_arm
        out = np.empty(n, dtype=np.int64)
        wraps = self.cursor_[touched] + counts > self.arm_sizes[touched]
        if not wraps.any():
            out[by_arm] = self._order[self._starts[sorted_arms] + positions]
            self.cursor_[touched] += counts
            return out
        chosen = np.empty(n, dtype=np.int64)
        for arm, start, count, wrap in zip(
            touched.tolist(), first.tolist(), counts.tolist(), wraps.tolist(), strict=True
        ):
            if wrap:
                chosen[start : start + count] = self._take_wrapping(arm, count)
            else:
                cursor = int(self.cursor_[arm])
                base = int(self._starts[arm]) + cursor
                chosen[start : start + count] = self._order[base : base + count]
                self.cursor_[arm] = cursor + count
        out[by_arm] = chosen
        return out

    def _take_wrapping(self, arm: int, count: int) -> NDArray[np.int64]:
        size, start = int(self.arm_sizes[arm]), int(self._starts[arm])
        parts = []
        while count:
            cursor = int(self.cursor_[arm])
            if cursor == size:
                self._new_cycle(arm, int(self.cycle_[arm]) + 1)
                cursor = 0
            take = min(count, size - cursor)
            # A copy: the next cycle reshuffles this slice of _order in place.
            parts.append(self._order[start + cursor : start + cursor + take].copy())
            self.cursor_[arm] = cursor + take
            count -= take
        return np.concatenate(parts)

    def _new_cycle(self, arm: int, cycle: int) -> None:
        start, size = int(self._starts[arm]), int(self.arm_sizes[arm])
        perm = np.random.default_rng([self.entropy_, arm, cycle]).permutation(size)
        self._order[start : start + size] = self._members[start : start + size][perm]
        self.cycle_[arm] = cycle
        self.cursor_[arm] = 0

    # -------------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[int]:
        with self._lock:
            self._iteration += 1
            if not self._resume or self.position_ >= self._total:
                self._start_epoch()
            self._resume = False
        return self._iterate(self._iteration)

    def _start_epoch(self) -> None:
        # Draws an abandoned iterator never delivered owe no outcome.
        if self.pending_.size:
            np.subtract.at(self.outstanding_, self.pending_, np.int32(1))
        self.pending_ = np.empty(0, dtype=np.int64)
        self.position_ = 0
        self.delivered_ = 0
        self._current = None
        self._log.clear()

    def _iterate(self, iteration: int) -> Iterator[int]:
        replicas, rank = self._replicas, self._rank
        while True:
            with self._lock:
                if iteration != self._iteration:
                    return  # a newer iterator (the next epoch) owns the stream
                start = self.position_
                if self.pending_.size:
                    chunk, self.pending_ = self.pending_, np.empty(0, dtype=np.int64)
                elif start < self._total:
                    chunk = self._draw(min(self._chunk, self._total - start), 1)
                else:
                    return
                self.position_ = start + len(chunk)
                self._remember(start, chunk)
                local = chunk[(rank - start) % replicas :: replicas].tolist()
                self._current = (self.delivered_, len(local), iter(local))
            # `yield from` a list iterator hands items out at C speed; how many went out is
            # read from the iterator's remaining length when a state_dict needs it.
            yield from self._current[2]
            with self._lock:
                if iteration == self._iteration:
                    self.delivered_ += len(local)
                    self._current = None

    def _delivered_now(self) -> int:
        """This rank's indices yielded this epoch, counting inside the current chunk."""
        if self._current is None:
            return self.delivered_
        base, size, rest = self._current
        return base + size - operator.length_hint(rest)

    def _remember(self, start: int, chunk: NDArray[np.int64]) -> None:
        self._log.append((start, chunk))
        while len(self._log) > 1 and self.position_ - self._log[1][0] >= REWIND_WINDOW:
            self._log.popleft()

    def set_epoch(self, epoch: int) -> None:
        """Accepted for accelerate/Trainer compatibility; the teacher, not the epoch, decides."""

    # ----------------------------------------------------------------- update
    def update(self, indices: ArrayLike, scores: ArrayLike, signals: Signals = None) -> None:
        """Credit outcomes to the items that produced them, hence to their arms.

        Parameters
        ----------
        indices : array_like of int
            Item indices this sampler yielded (a DataLoader batch's indices, a tensor works).
            An item drawn once takes one outcome; a grouped draw (``draw(..., outcomes=k)``)
            takes ``k``.
        scores : array_like of float
            Normalised performance in [0, 1], one per index.
        signals : mapping of str to array_like, optional
            Per-index signals of :data:`autocurriculum.SIGNALS` (``group``, ``abs_advantage``,
            ``step``, a loss drop as ``progress`` ...), passed to the teacher.

        Raises
        ------
        ValueError
            An index the sampler never drew or whose outcomes already came back, lengths that
            differ, or anything the teacher rejects. Nothing changes on an error.
        RuntimeError
            In a gathered update, if the ranks' draws differ (their streams diverged).
        """
        batch = (np.atleast_1d(_as_numpy(indices)), np.atleast_1d(_as_numpy(scores)),
                 _signals_numpy(signals))
        if self._gathering():
            batch = self._gather(batch)
        self._apply(*batch)

    def _apply(
        self, idx_arr: NDArray[Any], score_arr: NDArray[Any], signal_map: dict[str, Any] | None
    ) -> None:
        """Check and apply outcomes that are already global (gathered, or a single process)."""
        idx = self._check_indices(idx_arr)
        n = len(idx)
        if np.ndim(score_arr) != 1 or len(score_arr) != n:
            raise ValueError(
                f"scores has shape {np.shape(score_arr)} for {n} indices: one score per index"
            )
        for name, value in (signal_map or {}).items():
            if np.ndim(value) != 1 or len(value) != n:
                raise ValueError(
                    f"signals[{name!r}] has shape {np.shape(value)} for {n} indices (and {n} "
                    f"scores): one value per index"
                )
        with self._lock:
            items, counts = np.unique(idx, return_counts=True)
            short = self.outstanding_[items] < counts
            if short.any():
                i = int(np.flatnonzero(short)[0])
                item, owed = int(items[i]), int(self.outstanding_[items[i]])
                raise ValueError(
                    f"index {item} appears {int(counts[i])} time(s) in this update but owes "
                    f"{owed} outcome(s): this sampler never drew it, or its outcomes were "
                    "already updated"
                )
            self.teacher.update(self.arm_of[idx], score_arr, signal_map)
            self.outstanding_[items] -= counts.astype(np.int32)

    def end_step(self) -> None:
        """Close the teacher's current training step (see :meth:`Teacher.end_step`)."""
        self.teacher.end_step()

    def _check_indices(self, idx: NDArray[Any]) -> NDArray[np.int64]:
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValueError(
                f"indices must be a 1-D array of item indices, got dtype {idx.dtype} and shape "
                f"{idx.shape}"
            )
        bad = (idx < 0) | (idx >= self.num_items)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"indices[{i}] = {int(idx[i])} is not an item of this sampler: expected an index "
                f"in [0, {self.num_items - 1}]"
            )
        return idx.astype(np.int64, copy=False)

    def _gathering(self) -> bool:
        if self.gather_updates is False:
            return False
        active = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if self.gather_updates and not active:
            raise RuntimeError(
                "gather_updates=True needs an initialised torch.distributed process group"
            )
        return active

    def _gather(self, batch: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
        # Every rank gets every rank's outcomes, concatenated in rank order, and applies them:
        # identical updates keep identical teachers, hence identical draws, with no broadcast.
        parts: list[Any] = [None] * dist.get_world_size()
        with self._lock:
            mark = (self.n_draws_, self.checksum_)
        dist.all_gather_object(parts, (batch, mark))
        marks = [m for _, m in parts]
        if any(m != marks[0] for m in marks):
            detail = ", ".join(f"rank {r}: {d} draws, checksum {c}" for r, (d, c) in
                               enumerate(marks))
            raise RuntimeError(
                "the ranks' curriculum samplers drew different indices before this update ("
                f"{detail}). Give every rank the same keys, teacher parameters and seeds, and "
                "call update on every rank at the same point of the loop"
            )
        batches = [b for b, _ in parts]
        for r, (i, s, sig) in enumerate(batches):
            if np.ndim(i) != 1 or np.ndim(s) != 1 or len(i) != len(s):
                raise ValueError(
                    f"rank {r} passed {np.shape(i)} indices and {np.shape(s)} scores: one score "
                    "per index"
                )
            if (sig or {}).keys() != (batches[0][2] or {}).keys():
                raise ValueError(
                    f"rank {r} passed signals {sorted(sig or {})}, rank 0 "
                    f"{sorted(batches[0][2] or {})}: every rank must pass the same signal names"
                )
        indices = np.concatenate([np.asarray(b[0]).reshape(-1) for b in batches])
        scores = np.concatenate([np.asarray(b[1], dtype=np.float64) for b in batches])
        names = sorted(batches[0][2] or {})
        signals = {k: np.concatenate([np.asarray(b[2][k]) for b in batches]) for k in names}
        return indices, scores, signals or None

    # ----------------------------------------------------------------- extras
    def pending(self) -> int:
        """Outcomes still owed by drawn items (prefetched, in training, or dropped)."""
        return int(self.outstanding_.sum())

    def metrics(self) -> dict[str, float]:
        """The teacher's metrics plus the sampler's, keyed for a logger."""
        out = self.teacher.metrics()
        out["sampler/pending"] = float(self.pending())
        out["sampler/draws"] = float(self.n_draws_)
        return out

    # ------------------------------------------------------------------ state
    def state_dict(self, consumed: int | None = None) -> dict[str, Any]:
        """Everything needed to continue the stream exactly, the teacher included, as plain data.

        Parameters
        ----------
        consumed : int or None
            How many of this epoch's indices the training loop has received on this rank. A
            DataLoader with workers has pulled more from the sampler than it delivered; the
            indices past ``consumed`` are stored and replayed first by the resumed sampler, so
            a resumed DataLoader yields what the uninterrupted one would have. ``None``: every
            index yielded so far was consumed (``num_workers=0``, or a snapshot between epochs).

        Returns
        -------
        dict
            Numbers, strings, lists, dicts and numpy arrays only.
        """
        with self._lock:
            delivered = self._delivered_now()
            if consumed is None:
                consumed = delivered
            consumed = check_int("consumed", consumed, low=0, high=delivered)
            # All ranks consume in lockstep, so after `consumed` indices each, the stream's
            # first consumed * replicas positions are used by some rank and the rest replays.
            cut = consumed * self._replicas
            replay = self._drawn_from(cut)
            outstanding = np.flatnonzero(self.outstanding_)
            return {
                "version": STATE_VERSION,
                "num_items": self.num_items,
                "keys_crc32": self._fingerprint,
                "params": {
                    "draw_size": self.draw_size,
                    "replacement": self.replacement,
                    "num_samples": self.num_samples,
                    "num_replicas": self._replicas,
                    "rank": self._rank,
                },
                "teacher": self.teacher.state_dict(),
                "sampler": {
                    "entropy": str(self.entropy_),  # may exceed 64 bits: kept exact as text
                    "rng": to_plain(self.rng_, "CurriculumSampler.rng_"),
                    "cursor": self.cursor_.copy(),
                    "cycle": self.cycle_.copy(),
                    "outstanding_index": outstanding.astype(np.int64),
                    "outstanding_count": self.outstanding_[outstanding].astype(np.int64),
                    "position": cut,
                    "delivered": consumed,
                    "replay": replay,
                    "n_draws": self.n_draws_,
                    "checksum": self.checksum_,
                },
            }

    def _drawn_from(self, cut: int) -> NDArray[np.int64]:
        """The stream from global position ``cut`` on: drawn and not yet used by any rank."""
        parts = []
        if cut < self.position_:
            if not self._log or self._log[0][0] > cut:
                raise ValueError(
                    f"consumed is too far behind the sampler: it can rewind at most "
                    f"{REWIND_WINDOW} items of the stream (far more than a DataLoader prefetches)"
                )
            parts = [chunk[max(cut - start, 0) :] for start, chunk in self._log
                     if start + len(chunk) > cut]
        parts.append(self.pending_)
        return np.concatenate(parts).astype(np.int64)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; the next ``iter()`` continues the stream.

        Raises
        ------
        ValueError
            A state from a sampler over other keys, other parameters, or a malformed state.
            Nothing changes on an error.
        """
        if not isinstance(state_dict, Mapping) or state_dict.get("version") != STATE_VERSION:
            raise ValueError(
                "state_dict must be CurriculumSampler.state_dict() output of version "
                f"{STATE_VERSION}, got {type(state_dict).__name__}"
            )
        if state_dict.get("num_items") != self.num_items or (
            state_dict.get("keys_crc32") != self._fingerprint
        ):
            raise ValueError(
                f"state_dict is from a sampler over other keys ({state_dict.get('num_items')} "
                f"items), this one has {self.num_items} items with other arms"
            )
        mine = {"draw_size": self.draw_size, "replacement": self.replacement,
                "num_samples": self.num_samples, "num_replicas": self._replicas,
                "rank": self._rank}
        if state_dict.get("params") != mine:
            raise ValueError(
                f"state_dict was saved with sampler parameters {state_dict.get('params')}, "
                f"this sampler has {mine}"
            )
        s = state_dict.get("sampler")
        try:
            if not isinstance(s, Mapping):
                raise TypeError(f"expected a mapping, got {type(s).__name__}")
            n_arms = self.teacher.space.n
            cursor = np.asarray(s["cursor"], dtype=np.int64).reshape(n_arms)
            cycle = np.asarray(s["cycle"], dtype=np.int64).reshape(n_arms)
            rng = from_plain(s["rng"], "sampler.rng")
            if not isinstance(rng, np.random.Generator):
                raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
            outstanding = np.zeros(self.num_items, dtype=np.int32)
            outstanding[np.asarray(s["outstanding_index"], dtype=np.int64)] = np.asarray(
                s["outstanding_count"], dtype=np.int64
            )
            replay = np.asarray(s["replay"], dtype=np.int64).reshape(-1)
            entropy = int(s["entropy"])
            position, delivered = int(s["position"]), int(s["delivered"])
            n_draws, checksum = int(s["n_draws"]), int(s["checksum"])
            if not ((cursor >= 0) & (cursor <= self.arm_sizes)).all():
                raise ValueError(f"cursor {cursor} is outside the arms' sizes {self.arm_sizes}")
            if not ((replay >= 0) & (replay < self.num_items)).all():
                raise ValueError("replay holds indices outside the items")
            if position % self._replicas or position > self._total:
                raise ValueError(f"position {position} is not a stream position of this sampler")
        except (KeyError, TypeError, ValueError, IndexError, StateError) as err:
            raise ValueError(f"state_dict['sampler'] is malformed: {err!r}") from err
        self.teacher.load_state_dict(state_dict["teacher"])  # checks the teacher; raises first
        with self._lock:
            self.entropy_, self.rng_ = entropy, rng
            self.cursor_, self.cycle_, self.outstanding_ = cursor, cycle, outstanding
            self.position_, self.delivered_, self.pending_ = position, delivered, replay
            self.n_draws_, self.checksum_ = n_draws, checksum
            cursor_kept = cursor.copy()
            for arm in np.flatnonzero(cycle >= 0).tolist():
                self._new_cycle(arm, int(cycle[arm]))  # rebuilds the arm's order...
            self.cursor_ = cursor_kept  # ...and keeps its position in it
            self._log.clear()
            self._current = None
            self._iteration += 1  # iterators of the old stream stop
            self._resume = True

    def __repr__(self) -> str:
        return (
            f"CurriculumSampler({self.num_items} items in {len(self.arm_sizes)} arms, "
            f"teacher={self.teacher.name!r}, len={len(self)})"
        )


# ------------------------------------------------------------------ keys to arms
def _arms_of(keys: Any, space: Discrete, dataset: Any) -> NDArray[np.int64]:
    """Map each item's key to its arm index, reading columns without a Python loop."""
    codes, values = _encode_keys(keys, dataset)
    if dataset is not None and not isinstance(keys, str):
        try:
            n_data = len(dataset)
        except TypeError:
            n_data = None
        if n_data is not None and n_data != len(codes):
            raise ValueError(
                f"the key column has {len(codes)} values for a dataset of {n_data} items: one "
                "key per item"
            )
    if len(codes) == 0:
        raise ValueError("keys is empty: the sampler needs at least one item")
    lookup = {name: i for i, name in enumerate(space.names)}
    arm_of_value = np.empty(len(values), dtype=np.int64)
    for j, raw in enumerate(values):
        value = raw.item() if isinstance(raw, np.generic) else raw
        arm = lookup.get(_key_name(value))
        if arm is None:
            item = int(np.flatnonzero(codes == j)[0])
            raise ValueError(
                f"key {value!r} (item {item}) is not an arm of the teacher's space "
                f"{space!r}; keys are matched to arm names by str(key). Arms: "
                f"{list(space.names)[:20]}"
            )
        arm_of_value[j] = arm
    return arm_of_value[codes]


def _key_name(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    return str(value)


def _encode_keys(keys: Any, dataset: Any) -> tuple[NDArray[np.int64], list[Any]]:
    """``(codes, values)``: item i's key is ``values[codes[i]]``."""
    if isinstance(keys, str):
        if dataset is None:
            raise ValueError(
                f"keys={keys!r} names a column: pass dataset= as well, or pass the keys "
                "themselves (a list, an array or dataset[column])"
            )
        columns = getattr(dataset, "column_names", None)
        if columns is None or keys not in columns:
            raise ValueError(
                f"the dataset has no column {keys!r}"
                + (f"; its columns: {list(columns)}" if columns is not None else
                   " (a column name needs a Hugging Face datasets.Dataset)")
            )
        arrow = _arrow_column(dataset, keys)
        if arrow is not None:
            return arrow
        keys = dataset[keys]
    source = getattr(keys, "source", None)
    name = getattr(keys, "column_name", None)
    if source is not None and isinstance(name, str):  # a datasets Column: read it via Arrow
        arrow = _arrow_column(source, name)
        if arrow is not None:
            return arrow
    if isinstance(keys, torch.Tensor):
        keys = keys.detach().cpu().numpy()
    arr = np.asarray(keys)
    if arr.ndim != 1:
        raise ValueError(f"keys must be one key per item (1-D), got shape {arr.shape}")
    values, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), list(values)


def _arrow_column(dataset: Any, name: str) -> tuple[NDArray[np.int64], list[Any]] | None:
    """Dictionary-encode a ``datasets.Dataset`` column in Arrow (milliseconds for 1M rows;
    ``np.asarray(dataset[name])`` walks the rows in Python and takes tens of seconds)."""
    table = getattr(dataset, "data", None)
    column_of = getattr(table, "column", None)
    if column_of is None:
        return None
    try:
        column = column_of(name)
        # A shuffled/selected/filtered dataset maps its rows through an indices table; this is
        # the datasets library's own layout (Dataset._indices), read as it does.
        indices = getattr(dataset, "_indices", None)
        if indices is not None:
            column = column.take(indices.column(0))
        if hasattr(column, "combine_chunks"):
            column = column.combine_chunks()
        encoded = column.dictionary_encode()
        if encoded.indices.null_count:
            raise ValueError(f"column {name!r} has missing (null) keys: every item needs an arm")
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
        values = encoded.dictionary.to_pylist()
    except (AttributeError, TypeError, KeyError):
        return None
    return codes.astype(np.int64), values


def _preview_keys(arm_of: NDArray[np.int64], space: Discrete) -> str:
    present = [space.names[i] for i in np.unique(arm_of)[:10]]
    return f"the arms {present}" + (" ..." if len(np.unique(arm_of)) > 10 else "")


# --------------------------------------------------------------- batch helpers
def _as_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _signals_numpy(signals: Signals) -> dict[str, Any] | None:
    if signals is None:
        return None
    if not isinstance(signals, Mapping):
        raise ValueError(
            "signals must be a mapping of signal names to one value per index, for example "
            f"signals={{'group': ids}}, got {type(signals).__name__}"
        )
    return {k: _as_numpy(v) for k, v in signals.items()}
