"""Synthetic benchmark students: learners whose competence over a task space is known exactly.

A student plays one episode per task and returns a reward in [0, 1]. Unlike a real learner it
also exposes its true state, which only the benchmark may look at: :meth:`Student.score` (the %
of the space mastered), :meth:`Student.best_possible` and :meth:`Student.frontier` (where an
episode would teach it something right now, for an oracle teacher).

Students implement the benchmark's learner protocol
(:class:`autocurriculum.bench.learner.SingleTaskLearner`): ``train`` and ``train_one`` play
episodes, ``evaluate`` is the score, and ``consumed`` counts episodes.

- :class:`GridStudent` is the toy student of the ALP-GMM paper over the unit hypercube, with the
  TeachMyAgent skill-specific twists (distractor dimensions, unlearnable or trivial regions,
  forgetting, reward noise, rugged difficulty).
- :class:`ArmsStudent` is a set of discrete arms with a prerequisite chain, like the digit
  lengths of the addition task in Teacher-Student Curriculum Learning.

The per-episode path is scalar pure Python on purpose: for a 2-vector, ``math``-level work beats
any numpy call, and the students must cost far less than the teachers they benchmark.
"""

from __future__ import annotations

import inspect
import itertools
import math
import operator
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.spaces import Box, Discrete, Space

__all__ = ["ArmsStudent", "GridStudent", "Student"]

#: Grid protocol constants (ALP-GMM paper): competence 0..100, a bin unlocks its successors at
#: >= 75 and counts as mastered at > 75.
_GRID_MAX = 100.0
_GRID_UNLOCK = 75.0
_GRID_MASTERED = 75.0
#: Rugged difficulty cuts every relevant dimension into this many permuted intervals
#: (TeachMyAgent).
_RUGGED_INTERVALS = 4
#: Arms are mastered when their success probability exceeds this.
_ARM_MASTERED = 0.75


class Student(ABC):
    """Base class of the synthetic benchmark students.

    A student owns a task :attr:`space`, a seeded ``numpy.random.Generator`` and an episode
    counter. Subclasses take their hyperparameters as explicit keyword arguments stored
    unchanged under the same names (as scikit-learn does), so :meth:`get_params` and ``repr``
    work without per-class code.

    Parameters
    ----------
    decay : float
        Competence lost per episode by everything not practised in that episode.
    reset_at : iterable of int
        Episode counts at which all competence returns to its initial state: the reset happens
        right after the episode that brings :attr:`n_episodes` to that value, so a score read
        at that count already shows it.
    seed : int or None
        Seed of the student's own generator. Global RNGs are never used.

    Examples
    --------
    A teacher loop over any student:

    >>> import numpy as np
    >>> student: Student = GridStudent(seed=0)
    >>> rng = np.random.default_rng(0)
    >>> rewards = student.episodes(student.space.sample(rng, 500))
    >>> student.n_episodes, rewards.shape, student.score() <= student.best_possible()
    (500, (500,), True)

    References
    ----------
    .. [1] Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning
       of Deep RL in continuously parameterized environments", CoRL 2019.
    .. [2] Romac, Portelas, Hofmann and Oudeyer, "TeachMyAgent: a Benchmark for Automatic
       Curriculum Learning in Deep RL", ICML 2021.
    """

    space: Space

    def __init__(self, *, decay: float, reset_at: Iterable[int], seed: int | None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        if isinstance(decay, bool) or not isinstance(decay, int | float | np.number):
            raise ValueError(f"decay must be a number >= 0, got {decay!r}")
        if not (math.isfinite(decay) and decay >= 0):
            raise ValueError(f"decay must be finite and >= 0, got {decay!r}")
        resets = _check_reset_at(reset_at)
        self.decay = decay
        # A one-shot iterator would be spent (and unpicklable); keep what was given otherwise.
        self.reset_at = reset_at if isinstance(reset_at, tuple | list) else resets
        self.seed = seed
        self._decay = float(decay)
        self._resets = resets
        self._next_reset_i = 0
        self._next_reset = self._resets[0] if self._resets else -1
        self._rng = np.random.default_rng(seed)
        self._t = 0
        # The frontier only changes when a cell or arm crosses a threshold (or with decay, every
        # episode), so an oracle asking every episode mostly reads a cached answer.
        self._frontier_cache: tuple[int, NDArray[Any]] | None = None
        self._frontier_dirty = True

    # ------------------------------------------------------------------ protocol
    @property
    def n_episodes(self) -> int:
        """Number of episodes played so far."""
        return self._t

    def episode(self, task: Any) -> float:
        """Play one episode of ``task`` and return its reward in [0, 1].

        Raises
        ------
        ValueError
            If ``task`` is not a task of :attr:`space`; the message names the value.
        """
        return self._play(self._locate(task))

    def episodes(self, tasks: ArrayLike) -> NDArray[np.float64]:
        """Play a batch of tasks in order; the result equals calling :meth:`episode` on each.

        The whole batch is validated before any episode is played, so a bad task leaves the
        student untouched.
        """
        if isinstance(self.space, Box) and self.space.ndim == 1:
            arr = np.asarray(tasks)
            if arr.ndim <= 1:  # in a 1-D space, a flat array is n tasks, not one
                tasks = arr.reshape(-1, 1)
        batch = self.space.validate_tasks(tasks)
        play = self._play
        return np.array([play(i) for i in self._locate_batch(batch)], dtype=np.float64)

    # The learner protocol (autocurriculum.bench.learner): a student trains by playing episodes.
    #: What :meth:`consumed` counts.
    unit = "episodes"
    train_one = episode
    train = episodes

    def evaluate(self) -> float:
        """The learner protocol's name for :meth:`score`."""
        return self.score()

    def consumed(self) -> int:
        """Episodes played so far (the learner protocol's cost)."""
        return self._t

    @abstractmethod
    def score(self) -> float:
        """The % of all cells or arms mastered now, in [0, 100]."""

    @abstractmethod
    def best_possible(self) -> float:
        """The % of cells or arms that can ever be mastered (100 unless some never learn)."""

    def frontier(self) -> NDArray[Any]:
        """Where an episode would raise competence now, among cells or arms not yet mastered.

        Returns
        -------
        numpy.ndarray
            For a Box student, ``(m, 2, ndim)`` floats: ``m`` boxes ``[low, high]`` in task
            space, to be picked uniformly and sampled uniformly inside. For a Discrete
            student, ``(m,)`` int arm ids. Empty when nothing can be learned. A fresh array
            the caller may modify.
        """
        cached = self._frontier_cache
        if cached is None or self._frontier_dirty or (self._decay and cached[0] != self._t):
            cached = (self._t, self._compute_frontier())
            self._frontier_cache = cached
            self._frontier_dirty = False
        return cached[1].copy()

    def competence_image(self, resolution: int = 100) -> NDArray[np.float64]:
        """Competence in [0, 1] on a ``resolution x resolution`` grid (Box students only)."""
        raise NotImplementedError(
            f"competence_image is defined for students over a Box space; {type(self).__name__} "
            f"has {self.space!r}"
        )

    # --------------------------------------------------------------- to implement
    @abstractmethod
    def _compute_frontier(self) -> NDArray[Any]:
        """The frontier from scratch (see :meth:`frontier`)."""

    @abstractmethod
    def _locate(self, task: Any) -> int:
        """Validate one task and return the cell or arm it exercises."""

    @abstractmethod
    def _locate_batch(self, batch: NDArray[Any]) -> list[int]:
        """The cells or arms of an already validated batch; must agree with :meth:`_locate`."""

    @abstractmethod
    def _play(self, index: int) -> float:
        """Play one episode on a cell or arm, advance the counter, return the reward."""

    @abstractmethod
    def _restore_initial(self) -> None:
        """Put competence back to its initial state (as of episode ``self._t``)."""

    # ------------------------------------------------------------------- helpers
    def _reset(self) -> None:
        self._restore_initial()
        self._frontier_dirty = True
        self._next_reset_i += 1
        resets = self._resets
        self._next_reset = resets[self._next_reset_i] if self._next_reset_i < len(resets) else -1

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self"]

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, as given."""
        return {name: getattr(self, name) for name in self._param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class GridStudent(Student):
    """The toy "grid" student of the ALP-GMM paper, over the unit hypercube.

    Each relevant dimension of ``[0, 1]`` is cut into ``cells`` bins, and each bin (cell) holds
    a competence in ``0..100``. An episode at task ``p`` adds 1 (capped at 100) to the
    competence of ``p``'s cell if that cell is the origin cell, or if one of its *previous
    neighbours* (cells whose every index is equal to or one lower than the cell's, the cell
    itself excluded) has competence >= 75. The reward is the cell's competence / 100 after the
    update. A cell is mastered when its competence is > 75, so 100% is reachable after
    ``76 * cells**dims`` well-chosen episodes (7,600 on the default 10x10 grid), while uniform
    sampling masters about 4% in 20,000.

    Parameters
    ----------
    cells : int
        Bins per relevant dimension.
    dims : int
        Relevant dimensions (the first ``dims`` task dimensions, named ``x0, x1, ...``).
    distractor_dims : int
        Extra task dimensions (``distractor0, ...``) that the learner ignores.
    unlearnable_fraction : float
        Share of cells that never learn. Cells are ranked by (index sum, then lexicographic
        index); the cells beyond the first ``round((1 - unlearnable_fraction) * cells**dims)``
        never learn, so the learnable part stays a staircase connected to the origin.
    trivial_fraction : float
        Share of cells, the first ones in that same ranking, that start at competence 100.
        ``trivial_fraction + unlearnable_fraction`` must not exceed 1.
    noise : float
        Standard deviation of Gaussian noise added to the reward. The reward is then
        ``clip(competence / 100 + N(0, noise), 0, 1)``: the clip is part of this student's
        definition of its reward, not a repair of bad input.
    decay : float
        Competence lost per episode by every cell not practised in that episode, floored at
        0 (applied lazily, with the same result as subtracting it every episode).
    reset_at : iterable of int
        Episode counts at which all competence returns to the initial state (trivial cells back
        at 100), right after the episode that reaches that count.
    rugged : bool
        Rugged difficulty: each relevant dimension is cut into 4 equal intervals that are
        permuted (a seeded permutation per dimension); a task coordinate is mapped through the
        permutation before binning, so neighbouring skills are scattered over the task space.
    seed : int or None
        Seed of the student's generator (rugged permutations and reward noise).

    Examples
    --------
    >>> student = GridStudent(seed=0)
    >>> student.episode([0.05, 0.05])  # the origin cell learns from the start
    0.01
    >>> student.episode([0.95, 0.95])  # a far cell is locked
    0.0
    >>> student.score(), student.best_possible()
    (0.0, 100.0)
    >>> student.frontier()  # one box in task space: the origin cell
    array([[[0. , 0. ],
            [0.1, 0.1]]])

    References
    ----------
    .. [1] Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning
       of Deep RL in continuously parameterized environments", CoRL 2019.
    .. [2] Romac, Portelas, Hofmann and Oudeyer, "TeachMyAgent: a Benchmark for Automatic
       Curriculum Learning in Deep RL", ICML 2021 (distractor, unfeasible, trivial,
       forgetting and rugged variants).
    """

    space: Box

    def __init__(
        self,
        *,
        cells: int = 10,
        dims: int = 2,
        distractor_dims: int = 0,
        unlearnable_fraction: float = 0.0,
        trivial_fraction: float = 0.0,
        noise: float = 0.0,
        decay: float = 0.0,
        reset_at: Iterable[int] = (),
        rugged: bool = False,
        seed: int | None = 0,
    ):
        super().__init__(decay=decay, reset_at=reset_at, seed=seed)
        _check_int(cells, "cells", 1)
        _check_int(dims, "dims", 1)
        _check_int(distractor_dims, "distractor_dims", 0)
        _check_fraction(unlearnable_fraction, "unlearnable_fraction")
        _check_fraction(trivial_fraction, "trivial_fraction")
        if trivial_fraction + unlearnable_fraction > 1.0:
            raise ValueError(
                "trivial_fraction + unlearnable_fraction must be <= 1, got "
                f"{trivial_fraction!r} + {unlearnable_fraction!r}"
            )
        _check_nonnegative(noise, "noise")
        if not isinstance(rugged, bool | np.bool_):
            raise ValueError(f"rugged must be a bool, got {rugged!r}")
        n_cells = cells**dims
        if n_cells > 10_000_000:
            raise ValueError(
                f"cells**dims = {cells}**{dims} = {n_cells} cells is too many for a grid student "
                "(the limit is 10,000,000)"
            )
        self.cells = cells
        self.dims = dims
        self.distractor_dims = distractor_dims
        self.unlearnable_fraction = unlearnable_fraction
        self.trivial_fraction = trivial_fraction
        self.noise = noise
        self.rugged = rugged

        names = [f"x{d}" for d in range(dims)] + [f"distractor{d}" for d in range(distractor_dims)]
        ndim = dims + distractor_dims
        self.space = Box(np.zeros(ndim), np.ones(ndim), names=names)
        self._ndim = ndim
        self._n_cells = n_cells
        self._noise = float(noise)
        self._shape = (cells,) * dims

        # Rank cells by (index sum, lexicographic index): any prefix of this order is closed
        # under "previous neighbour", so unlearnable cells never cut the staircase.
        index = np.indices(self._shape).reshape(dims, -1).T
        # np.lexsort sorts by its last key first.
        order = np.lexsort((*(index[:, d] for d in reversed(range(dims))), index.sum(1)))
        n_learnable = round((1.0 - unlearnable_fraction) * n_cells)
        n_trivial = round(trivial_fraction * n_cells)
        learnable = np.zeros(n_cells, dtype=bool)
        learnable[order[:n_learnable]] = True
        initial = np.zeros(n_cells)
        initial[order[:n_trivial]] = _GRID_MAX
        self._learnable: list[bool] = learnable.tolist()
        self._learnable_mask = learnable
        self._n_learnable = int(n_learnable)
        self._initial: list[float] = initial.tolist()

        # Previous neighbours, flat ids; the padded matrix serves the vectorised frontier.
        strides = np.array([cells ** (dims - 1 - d) for d in range(dims)])
        offsets = [np.array(o) for o in itertools.product((0, -1), repeat=dims) if any(o)]
        nbrs: list[tuple[int, ...]] = []
        for idx in index:
            ok = [idx + o for o in offsets if (idx + o).min() >= 0]
            nbrs.append(tuple(int(v @ strides) for v in ok))
        self._nbrs = nbrs
        width = max(1, len(offsets))
        mat = np.full((n_cells, width), n_cells, dtype=np.int64)
        for i, row in enumerate(nbrs):
            mat[i, : len(row)] = row
        self._nbr_mat = mat
        self._strides = strides

        if rugged:
            perms = [self._rng.permutation(_RUGGED_INTERVALS) for _ in range(dims)]
        else:
            perms = [np.arange(_RUGGED_INTERVALS) for _ in range(dims)]
        self._perms: tuple[tuple[int, ...], ...] = tuple(tuple(int(v) for v in p) for p in perms)
        self._perm_arrays = [np.array(p, dtype=np.int64) for p in self._perms]
        # Last cell that a learner-space interval q overlaps: clamps x == 1.0 (the top of the
        # last task interval) to the cell its interval maps to.
        hi_cell = [
            math.ceil(Fraction((q + 1) * cells, _RUGGED_INTERVALS)) - 1
            for q in range(_RUGGED_INTERVALS)
        ]
        self._hi_cell = hi_cell
        self._hi_cell_array = np.array(hi_cell, dtype=np.int64)
        self._boxes, self._box_cell = self._build_boxes()

        self._comp: list[float] = list(self._initial)
        self._last: list[int] = [0] * n_cells

    # ------------------------------------------------------------------ protocol
    def score(self) -> float:
        return 100.0 * float(np.count_nonzero(self._competence() > _GRID_MASTERED)) / self._n_cells

    def best_possible(self) -> float:
        return 100.0 * self._n_learnable / self._n_cells

    def _compute_frontier(self) -> NDArray[np.float64]:
        mask = self._frontier_mask()
        return self._boxes[mask[self._box_cell]]

    def competence_image(self, resolution: int = 100) -> NDArray[np.float64]:
        """Competence in [0, 1] over the first two task dimensions, the others at 0.5.

        Parameters
        ----------
        resolution : int
            Grid points per dimension, at the centres of ``resolution`` equal intervals.

        Returns
        -------
        numpy.ndarray
            ``(resolution, resolution)`` floats; row index = dimension 1, column index =
            dimension 0, for ``imshow(..., origin="lower")``. A 1-D space repeats its single
            row.
        """
        _check_int(resolution, "resolution", 1)
        axis = (np.arange(resolution) + 0.5) / resolution
        xs, ys = np.meshgrid(axis, axis)
        points = np.full((resolution * resolution, self._ndim), 0.5)
        points[:, 0] = xs.ravel()
        if self._ndim > 1:
            points[:, 1] = ys.ravel()
        values = self._competence()[np.asarray(self._locate_batch(points))] / _GRID_MAX
        return values.reshape(resolution, resolution)

    # ------------------------------------------------------------- extra access
    def competence(self) -> NDArray[np.float64]:
        """Competence of every cell now, ``0..100``, shaped ``(cells,) * dims``."""
        return self._competence().reshape(self._shape)

    def learnable(self) -> NDArray[np.bool_]:
        """Whether each cell can ever learn, shaped ``(cells,) * dims``."""
        return self._learnable_mask.reshape(self._shape).copy()

    def cells_of(self, tasks: ArrayLike) -> NDArray[np.int64]:
        """The flat cell id (C order over ``(cells,) * dims``) each task exercises."""
        batch = self.space.validate_tasks(tasks)
        return np.asarray(self._locate_batch(batch), dtype=np.int64)

    def previous_neighbours(self, index: Sequence[int]) -> list[tuple[int, ...]]:
        """The previous neighbours of the cell at multi-index ``index``, in the grid's bounds."""
        idx = tuple(operator.index(i) for i in index)
        if len(idx) != self.dims or not all(0 <= i < self.cells for i in idx):
            raise ValueError(
                f"index must be {self.dims} ints in [0, {self.cells - 1}], got {tuple(index)!r}"
            )
        flat = int(np.ravel_multi_index(idx, self._shape))
        return [tuple(int(v) for v in np.unravel_index(j, self._shape)) for j in self._nbrs[flat]]

    @property
    def interval_permutations(self) -> tuple[tuple[int, ...], ...]:
        """Per relevant dimension, where each task interval lands (identity unless rugged).

        ``interval_permutations[d][j] = q`` sends task interval ``[j/4, (j+1)/4]`` of dimension
        ``d`` to interval ``q`` of the learner's own space.
        """
        return self._perms

    # ------------------------------------------------------------------- internals
    def _competence(self) -> NDArray[np.float64]:
        comp = np.array(self._comp)
        if self._decay:
            comp = np.maximum(comp - self._decay * (self._t - np.array(self._last)), 0.0)
        return comp

    def _frontier_mask(self) -> NDArray[np.bool_]:
        comp = self._competence()
        padded = np.append(comp, -1.0)
        unlocked: NDArray[np.bool_] = np.any(padded[self._nbr_mat] >= _GRID_UNLOCK, axis=1)
        unlocked[0] = True  # the origin needs no neighbour
        return self._learnable_mask & unlocked & (comp <= _GRID_MASTERED)

    def _build_boxes(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        # Per dimension and learner cell, the task-space intervals that bin into it; exact
        # fractions so that interval and cell boundaries compare without rounding.
        pieces = [[self._cell_pieces(d, k) for k in range(self.cells)] for d in range(self.dims)]
        boxes: list[NDArray[np.float64]] = []
        owner: list[int] = []
        lows = np.zeros(self._ndim)
        highs = np.ones(self._ndim)
        for flat, idx in enumerate(np.ndindex(*self._shape)):
            for combo in itertools.product(*(pieces[d][k] for d, k in enumerate(idx))):
                box = np.stack([lows, highs])
                for d, (lo, hi) in enumerate(combo):
                    box[0, d], box[1, d] = lo, hi
                boxes.append(box)
                owner.append(flat)
        return np.array(boxes), np.array(owner, dtype=np.int64)

    def _cell_pieces(self, d: int, k: int) -> list[tuple[float, float]]:
        lo, hi = Fraction(k, self.cells), Fraction(k + 1, self.cells)
        inverse = {q: j for j, q in enumerate(self._perms[d])}
        out: list[tuple[Fraction, Fraction]] = []
        for q in range(_RUGGED_INTERVALS):
            a = max(lo, Fraction(q, _RUGGED_INTERVALS))
            b = min(hi, Fraction(q + 1, _RUGGED_INTERVALS))
            if a < b:
                shift = Fraction(inverse[q] - q, _RUGGED_INTERVALS)
                out.append((a + shift, b + shift))
        out.sort()
        merged: list[tuple[Fraction, Fraction]] = []
        for a, b in out:
            if merged and merged[-1][1] == a:
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return [(float(a), float(b)) for a, b in merged]

    def _locate(self, task: Any) -> int:
        try:
            vals = task.tolist() if isinstance(task, np.ndarray) else list(task)
            ok = len(vals) == self._ndim and min(vals) >= 0.0 and max(vals) <= 1.0
            if ok:
                total = sum(vals)
                ok = total == total  # NaN can hide from min/max, never from a sum
        except TypeError:
            ok = False
        if not ok:
            vals = self._check_task(task)
        cells = self.cells
        flat = 0
        if self.rugged:
            hi_cell = self._hi_cell
            for d, perm in enumerate(self._perms):
                x = vals[d] * 4.0
                j = int(x)
                if j == 4:
                    j = 3
                q = perm[j]
                k = int((q + (x - j)) * 0.25 * cells)
                if k > hi_cell[q]:
                    k = hi_cell[q]
                flat = flat * cells + k
        else:
            for d in range(self.dims):
                k = int(vals[d] * cells)
                if k == cells:  # x == 1.0 belongs to the last cell
                    k -= 1
                flat = flat * cells + k
        return flat

    def _locate_batch(self, batch: NDArray[Any]) -> list[int]:
        # Mirrors _locate operation by operation (same IEEE results), vectorised.
        cells = self.cells
        flat = np.zeros(len(batch), dtype=np.int64)
        for d in range(self.dims):
            if self.rugged:
                x = batch[:, d] * 4.0
                j = np.minimum(x.astype(np.int64), 3)
                q = self._perm_arrays[d][j]
                k = ((q + (x - j)) * 0.25 * cells).astype(np.int64)
                k = np.minimum(k, self._hi_cell_array[q])
            else:
                k = np.minimum((batch[:, d] * cells).astype(np.int64), cells - 1)
            flat = flat * cells + k
        return flat.tolist()

    def _check_task(self, task: Any) -> list[float]:
        try:
            arr = np.asarray(task)
        except ValueError as err:
            raise ValueError(f"task must be one point of {self.space!r}, got {task!r}") from err
        if arr.dtype.kind not in "fiub":
            raise ValueError(
                f"task must be real numbers for {self.space!r}, got dtype {arr.dtype}: {task!r}"
            )
        if arr.shape != (self._ndim,):
            raise ValueError(
                f"task must have shape ({self._ndim},) for {self.space!r}, got shape "
                f"{arr.shape}: {task!r}"
            )
        arr = arr.astype(np.float64)
        bad = ~((arr >= 0.0) & (arr <= 1.0))
        if bad.any():
            d = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"task {arr.tolist()!r} is outside {self.space!r}: dimension "
                f"{self.space.names[d]!r} is {float(arr[d])!r}, expected a value in [0.0, 1.0]"
            )
        return arr.tolist()

    def _play(self, index: int) -> float:
        t = self._t
        comp = self._comp
        decay = self._decay
        if decay:
            last = self._last
            c = comp[index] - decay * (t - last[index])
            if c < 0.0:
                c = 0.0
            last[index] = t + 1
        else:
            c = comp[index]
        if c < _GRID_MAX and self._learnable[index]:
            unlocked = index == 0
            if not unlocked:
                if decay:
                    for j in self._nbrs[index]:
                        if comp[j] - decay * (t - last[j]) >= _GRID_UNLOCK:
                            unlocked = True
                            break
                else:
                    for j in self._nbrs[index]:
                        if comp[j] >= _GRID_UNLOCK:
                            unlocked = True
                            break
            if unlocked:
                c = c + 1.0 if c <= _GRID_MAX - 1.0 else _GRID_MAX
                if 74.0 < c <= 76.0:  # reached 75 (unlocks successors) or 76 (mastered)
                    self._frontier_dirty = True
        comp[index] = c
        reward = c / _GRID_MAX
        if self._noise:
            reward += self._noise * self._rng.standard_normal()
            reward = 0.0 if reward < 0.0 else 1.0 if reward > 1.0 else reward
        self._t = t = t + 1
        if t == self._next_reset:
            self._reset()
        return reward

    def _restore_initial(self) -> None:
        self._comp = list(self._initial)
        self._last = [self._t] * self._n_cells


class ArmsStudent(Student):
    """Discrete arms with an optional prerequisite chain, like the digit lengths of addition.

    Each arm has a competence in [0, 1], its success probability; an arm is mastered when its
    competence is > 0.75. Practising a learnable arm adds ``learn_rate`` to its competence
    (capped at 1). With ``chain=True``, chain arm ``k`` is learnable only once chain arm
    ``k - 1`` is mastered. The reward is a Bernoulli success drawn with probability equal to
    the competence after the update; :meth:`score` uses the true competence.

    With the defaults (20 chained arms, ``learn_rate=0.02``) an arm is mastered after 38
    practice episodes (0.76 > 0.75, while 37 give 0.74). An oracle masters everything in
    20 * 38 = 760 episodes. A uniform teacher practises the one learnable chain arm once in 20
    episodes, so it needs about 20 * 20 * 38 = 15,200 episodes on average.

    Parameters
    ----------
    n_arms : int
        Learnable arms (the chain when ``chain=True``).
    chain : bool
        Whether the learnable arms form a prerequisite chain (otherwise each learns on its own).
    learn_rate : float
        Competence gained per practice episode on a learnable arm, in (0, 1].
    unlearnable : int
        Extra arms that never learn: their success probability stays at
        ``unlearnable_success`` and does not decay.
    unlearnable_success : float
        Success probability of the unlearnable arms, in [0, 0.75] (so they are never
        mastered). A non-zero value gives rewards that wander like progress but never stick.
    trivial : int
        Extra arms, outside the chain, mastered from the start (competence 1).
    decay : float
        Competence lost per episode by every learnable or trivial arm not practised in that
        episode, floored at 0 (applied lazily, with the same result).
    reset_at : iterable of int
        Episode counts at which all competence returns to the initial state.
    shuffle : bool
        Whether arm ids are a seeded permutation of the roles (chain, unlearnable, trivial),
        so ids carry no order. :attr:`chain_order` gives the chain's ids.
    seed : int or None
        Seed of the student's generator (the shuffle and the Bernoulli rewards).

    Examples
    --------
    >>> student = ArmsStudent(n_arms=3, learn_rate=0.5, shuffle=False, seed=0)
    >>> student.frontier()  # only the first arm of the chain can learn
    array([0])
    >>> student.episodes([0, 0]).shape
    (2,)
    >>> student.frontier(), round(student.score(), 1)
    (array([1]), 33.3)

    References
    ----------
    .. [1] Matiisen, Oliver, Cohen and Schulman, "Teacher-Student Curriculum Learning",
       arXiv:1707.00183, 2017 (IEEE TNNLS 2019).
    .. [2] Romac, Portelas, Hofmann and Oudeyer, "TeachMyAgent: a Benchmark for Automatic
       Curriculum Learning in Deep RL", ICML 2021 (unfeasible, trivial and forgetting
       variants).
    """

    space: Discrete

    _CHAIN, _UNLEARNABLE, _FREE = 0, 1, 2

    def __init__(
        self,
        *,
        n_arms: int = 20,
        chain: bool = True,
        learn_rate: float = 0.02,
        unlearnable: int = 0,
        unlearnable_success: float = 0.0,
        trivial: int = 0,
        decay: float = 0.0,
        reset_at: Iterable[int] = (),
        shuffle: bool = True,
        seed: int | None = 0,
    ):
        super().__init__(decay=decay, reset_at=reset_at, seed=seed)
        _check_int(n_arms, "n_arms", 1)
        _check_int(unlearnable, "unlearnable", 0)
        _check_int(trivial, "trivial", 0)
        if not isinstance(chain, bool | np.bool_):
            raise ValueError(f"chain must be a bool, got {chain!r}")
        if not isinstance(shuffle, bool | np.bool_):
            raise ValueError(f"shuffle must be a bool, got {shuffle!r}")
        _check_nonnegative(learn_rate, "learn_rate")
        if not 0.0 < learn_rate <= 1.0:
            raise ValueError(f"learn_rate must be in (0, 1], got {learn_rate!r}")
        _check_nonnegative(unlearnable_success, "unlearnable_success")
        if unlearnable_success > _ARM_MASTERED:
            raise ValueError(
                f"unlearnable_success must be in [0, {_ARM_MASTERED}] so those arms are never "
                f"mastered, got {unlearnable_success!r}"
            )
        self.n_arms = n_arms
        self.chain = chain
        self.learn_rate = learn_rate
        self.unlearnable = unlearnable
        self.unlearnable_success = unlearnable_success
        self.trivial = trivial
        self.shuffle = shuffle

        total = n_arms + unlearnable + trivial
        self.space = Discrete(total)
        self._n = total
        self._lr = float(learn_rate)
        self._p_unlearnable = float(unlearnable_success)
        # Roles in internal order: chain, unlearnable, trivial; ids are their (shuffled) images.
        ids = self._rng.permutation(total) if shuffle else np.arange(total)
        self._chain_ids = tuple(int(a) for a in ids[:n_arms])
        kind = [self._CHAIN] * total
        prev = [-1] * total
        initial = [0.0] * total
        for role, arm in enumerate(ids.tolist()):
            if role < n_arms:
                if chain and role > 0:
                    prev[arm] = int(ids[role - 1])
            elif role < n_arms + unlearnable:
                kind[arm] = self._UNLEARNABLE
                initial[arm] = self._p_unlearnable
            else:
                kind[arm] = self._FREE
                initial[arm] = 1.0
        self._kind = kind
        self._prev = prev
        self._initial = initial
        self._kind_array = np.array(kind)
        self._prev_array = np.array(prev, dtype=np.int64)
        self._comp: list[float] = list(initial)
        self._last: list[int] = [0] * total

    # ------------------------------------------------------------------ protocol
    def score(self) -> float:
        return 100.0 * float(np.count_nonzero(self._competence() > _ARM_MASTERED)) / self._n

    def best_possible(self) -> float:
        return 100.0 * (self.n_arms + self.trivial) / self._n

    def _compute_frontier(self) -> NDArray[np.int64]:
        comp = self._competence()
        padded = np.append(comp, 1.0)  # an arm without prerequisite sees a mastered one
        unlocked = padded[self._prev_array] > _ARM_MASTERED
        mask = (self._kind_array != self._UNLEARNABLE) & unlocked & (comp <= _ARM_MASTERED)
        return np.flatnonzero(mask).astype(np.int64)

    # ------------------------------------------------------------- extra access
    def competence(self) -> NDArray[np.float64]:
        """Every arm's competence (true success probability) now, indexed by arm id."""
        return self._competence()

    @property
    def chain_order(self) -> tuple[int, ...]:
        """Ids of the learnable arms in chain order (prerequisites first)."""
        return self._chain_ids

    # ------------------------------------------------------------------- internals
    def _competence(self) -> NDArray[np.float64]:
        comp = np.array(self._comp)
        if self._decay:
            decayed = np.maximum(comp - self._decay * (self._t - np.array(self._last)), 0.0)
            comp = np.where(self._kind_array == self._UNLEARNABLE, comp, decayed)
        return comp

    def _locate(self, task: Any) -> int:
        if type(task) is int or isinstance(task, np.integer):
            arm = int(task)
        else:
            arm = self._check_task(task)
        if 0 <= arm < self._n:
            return arm
        raise ValueError(
            f"task {arm} is not an arm of {self.space!r}: expected an index in [0, {self._n - 1}]"
        )

    def _check_task(self, task: Any) -> int:
        if isinstance(task, bool | np.bool_):
            raise ValueError(f"task must be an integer arm id, got the bool {task!r}")
        try:
            return operator.index(task)
        except TypeError:
            raise ValueError(
                f"task must be an integer arm id of {self.space!r}, got {task!r}"
            ) from None

    def _locate_batch(self, batch: NDArray[Any]) -> list[int]:
        return batch.tolist()

    def _play(self, index: int) -> float:
        t = self._t
        if self._kind[index] == self._UNLEARNABLE:
            p = self._p_unlearnable
        else:
            comp = self._comp
            decay = self._decay
            if decay:
                last = self._last
                c = comp[index] - decay * (t - last[index])
                if c < 0.0:
                    c = 0.0
                last[index] = t + 1
            else:
                c = comp[index]
            if c < 1.0:
                pre = self._prev[index]
                if pre < 0:
                    unlocked = True
                elif decay:
                    unlocked = comp[pre] - decay * (t - self._last[pre]) > _ARM_MASTERED
                else:
                    unlocked = comp[pre] > _ARM_MASTERED
                if unlocked:
                    was_mastered = c > _ARM_MASTERED
                    c += self._lr
                    if c > 1.0:
                        c = 1.0
                    if (c > _ARM_MASTERED) != was_mastered:
                        self._frontier_dirty = True
            comp[index] = p = c
        reward = 1.0 if self._rng.random() < p else 0.0
        self._t = t = t + 1
        if t == self._next_reset:
            self._reset()
        return reward

    def _restore_initial(self) -> None:
        self._comp = list(self._initial)
        self._last = [self._t] * self._n


# ---------------------------------------------------------------- validation
def _check_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_nonnegative(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def _check_fraction(value: Any, name: str) -> None:
    _check_nonnegative(value, name)
    if value > 1:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def _check_reset_at(reset_at: Iterable[int]) -> tuple[int, ...]:
    if isinstance(reset_at, str | bytes) or not isinstance(reset_at, Iterable):
        raise ValueError(f"reset_at must be a sequence of episode counts, got {reset_at!r}")
    points = list(reset_at)
    for r in points:
        if isinstance(r, bool) or not isinstance(r, int | np.integer) or r < 1:
            raise ValueError(f"reset_at must hold ints >= 1, got {r!r} in {reset_at!r}")
    return tuple(sorted({int(r) for r in points}))
