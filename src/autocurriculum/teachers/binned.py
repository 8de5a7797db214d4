"""The binning adapter: any discrete teacher on a Box, with grid bins as its arms."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import InvalidParameterError, check_size
from autocurriculum.spaces import Box, Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import list_teachers, make, register, teacher_spec

__all__ = ["Binned"]

#: Above this many bins, ``model_snapshot`` leaves the boxes out: a picture of thousands of
#: boxes is unreadable, and the runner stores a snapshot per eval point.
_MAX_SNAPSHOT_BOXES = 400


@register("binned")
class Binned(Teacher[Box]):
    """Any discrete teacher on a Box space: a regular grid of bins are its arms.

    The box is cut into ``bins[d]`` equal intervals along each dimension ``d``; each cell of
    the grid is an arm of a :class:`~autocurriculum.spaces.Discrete` space of
    ``prod(bins)`` arms, numbered in C order (the last dimension varies fastest). ``sample``
    asks the inner teacher for arms and draws each task uniformly inside its cell; ``update``
    maps each task to the cell that holds it (a task on an inner edge belongs to the upper
    cell, one on the upper bound of the box to the last cell) and passes the outcome, and any
    signals, to the inner teacher unchanged.

    The arm count grows as ``bins ** ndim``: 10 bins per dimension give 100 arms in 2-D but
    10^10 in 10-D. Rather than allocate that, the adapter raises ``ValueError`` when the count
    exceeds ``max_arms``. Options then: fewer bins, per-dimension bins (``bins=[10, 10, 1,
    ...]`` when you know which dimensions matter; that is expert knowledge), or a continuous
    teacher (ALP-GMM, RIAC), whose cost does not grow with the dimension.

    The inner teacher is built by the registry, ``make(teacher, Discrete(n_arms),
    seed=..., **teacher_params)``, and is the learned attribute ``inner_``: ``state_dict``
    holds it as a nested teacher state (plain data), and ``clone``, pickling and
    :func:`autocurriculum.load` carry its whole state. Its seed is drawn once from the
    adapter's own generator, so ``seed`` fixes both. All sampling randomness, the inner
    teacher's arm draws included, comes from the adapter's generator ``rng_``, so the inner
    teacher's state depends only on the outcomes it was told.

    Signals: the adapter reads what its inner teacher reads, and needs what it needs
    (``binned`` over ``sec`` needs ``abs_advantage``, ``advantage`` or ``group``); they are
    passed on unchanged, and :meth:`end_step` closes the inner teacher's training step.

    Parameters
    ----------
    space : Box
        The task space.
    teacher : str
        Registry name of a teacher that serves discrete spaces (``"tscl"``, ``"learnability"``,
        ``"plr"``, ``"exp3s"``, ``"sec"``, ``"dump"``, ...). Teachers that need signals (SEC,
        DUMP) still need them: pass ``signals`` to ``update`` as you would to the teacher.
    bins : int or sequence of int
        Bins per dimension: one count for every dimension, or one per dimension; each in
        [1, 1e8].
    teacher_params : mapping or None
        Keyword arguments of the inner teacher (not ``seed``, which the adapter sets).
    max_arms : int
        Largest accepted number of bins, ``prod(bins)``, in [1, 1e8]. The default, 100,000, is
        the arm count the discrete teachers are built to serve at speed.
    seed : int or None
        Seed of the adapter's generator (the draws inside cells and the inner teacher's seed).

    Examples
    --------
    >>> import autocurriculum as ac
    >>> space = ac.Box([0, 0], [1, 2])
    >>> teacher = ac.make("binned", space, teacher="tscl", bins=4, seed=0)
    >>> teacher.n_arms, teacher.arms_of([[0.1, 0.1], [0.99, 1.99], [0.5, 1.0]]).tolist()
    (16, [0, 15, 10])
    >>> tasks = teacher.sample(3)
    >>> tasks.shape, bool(space.contains(tasks))
    ((3, 2), True)
    >>> teacher.update(tasks, [0.0, 0.5, 1.0])
    >>> ac.make("binned", ac.Box([0] * 10, [1] * 10), bins=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autocurriculum.params.InvalidParameterError: bins=10 per dimension of a 10-D box make 100...

    References
    ----------
    .. [1] Matiisen, Oliver, Cohen and Schulman, "Teacher-Student Curriculum Learning",
       IEEE TNNLS 2019 (arXiv:1707.00183): discrete teachers over task bins.
    .. [2] Baranes and Oudeyer, "R-IAC: Robust Intrinsically Motivated Exploration and Active
       Learning", IEEE TAMD 2009: learning progress over regions of a continuous space, the
       adaptive alternative to a fixed grid.
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("box",)

    def __init__(
        self,
        space: Box,
        *,
        teacher: str = "tscl",
        bins: int | Sequence[int] = 10,
        teacher_params: Mapping[str, Any] | None = None,
        max_arms: int = 100_000,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        discrete = list_teachers("discrete")
        if not isinstance(teacher, str) or teacher not in discrete:
            raise InvalidParameterError(
                f"teacher must be the registry name of a teacher for discrete spaces, got "
                f"{teacher!r}; known: {', '.join(discrete)}"
            )
        if "discrete" not in teacher_spec(teacher).kinds:  # pragma: no cover - list_teachers checks
            raise ValueError(f"teacher {teacher!r} does not serve discrete spaces")
        check_size("max_arms", max_arms)
        shape = _bins_shape(bins, space.ndim)
        n_arms = math.prod(shape)
        if n_arms > max_arms:
            per_dim = f"bins={bins!r} per dimension" if isinstance(bins, int) else f"bins={bins!r}"
            raise InvalidParameterError(
                f"{per_dim} of a {space.ndim}-D box make {n_arms} arms, above "
                f"max_arms={max_arms}. Use fewer bins, one count per dimension (1 for the "
                "dimensions that do not matter), raise max_arms, or use a continuous teacher "
                "(alp-gmm, riac), whose cost does not grow with the dimension"
            )
        if teacher_params is not None and not isinstance(teacher_params, Mapping):
            raise InvalidParameterError(
                f"teacher_params must be a mapping or None, got {teacher_params!r}"
            )
        inner_params = dict(teacher_params or {})
        if "seed" in inner_params:
            raise InvalidParameterError(
                "teacher_params must not hold 'seed': the adapter seeds the inner teacher from "
                f"its own seed, got teacher_params={teacher_params!r}"
            )
        self.teacher = teacher
        self.bins = bins
        self.teacher_params = teacher_params
        self.max_arms = max_arms

        self._shape = shape
        self._bins_f = np.asarray(shape, dtype=np.float64)
        self._scale = self._bins_f / space.range
        self._last = np.asarray(shape, dtype=np.int64) - 1
        # C-order strides of the bin grid: arm = sum(cell * stride).
        self._strides = np.append(np.cumprod(np.asarray(shape[:0:-1], dtype=np.int64))[::-1], 1)
        inner_seed = int(self.rng_.integers(0, 2**63 - 1)) if seed is not None else None
        self.inner_ = make(teacher, Discrete(n_arms), seed=inner_seed, **inner_params)
        self.outcomes_ = np.zeros(n_arms, dtype=np.int64)

    # ---------------------------------------------------------------- protocol
    def _sample(self, n: int) -> NDArray[np.float64]:
        # The inner teacher draws its arms with the adapter's generator: its own rng_ is never
        # advanced, so its state is what its updates made it, whoever sampled in between.
        inner = self.inner_
        own_rng = inner.rng_
        inner.rng_ = self.rng_
        try:
            arms = np.asarray(inner.sample(n), dtype=np.int64)
        finally:
            inner.rng_ = own_rng
        cell = np.stack(np.unravel_index(arms, self._shape), axis=1).astype(np.float64)
        unit = (cell + self.rng_.random(cell.shape)) / self._bins_f
        # low + u * range can round one ulp past a bound; the draw is meant to stay inside.
        return np.clip(self.space.from_unit(unit), self.space.low, self.space.high)

    def _update(
        self,
        tasks: NDArray[np.float64],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        arms = self._arms_of_valid(tasks)
        self.inner_.update(arms, scores, signals)
        np.add.at(self.outcomes_, arms, 1)

    def _end_step(self) -> None:
        self.inner_.end_step()

    def _signal_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return self.inner_._signal_names()

    def _metrics(self) -> dict[str, float]:
        out = {
            "n_arms": float(self.n_arms),
            "bins_visited": float(np.count_nonzero(self.outcomes_)),
        }
        for key, value in self.inner_.metrics().items():
            out[f"inner/{key.removeprefix('teacher/')}"] = value
        return out

    # ----------------------------------------------------------------- helpers
    @property
    def n_arms(self) -> int:
        """Number of bins, the inner teacher's arms."""
        return int(self.outcomes_.size)

    @property
    def bins_shape(self) -> tuple[int, ...]:
        """Bins per dimension."""
        return self._shape

    def arms_of(self, tasks: Any) -> NDArray[np.int64]:
        """The bin (arm index) of each task of a batch; raises ``ValueError`` outside the box."""
        return self._arms_of_valid(self.space.validate_tasks(tasks))

    def _arms_of_valid(self, batch: NDArray[np.float64]) -> NDArray[np.int64]:
        cell = ((batch - self.space.low) * self._scale).astype(np.int64)
        # The upper bound of the box belongs to the last bin.
        np.minimum(cell, self._last, out=cell)
        return cell @ self._strides

    def bin_bounds(self, arms: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(low, high)`` task-space corners of the bins ``arms``, each ``(len(arms), ndim)``."""
        arm_arr = Discrete(self.n_arms).validate_tasks(arms, name="arms")
        cell = np.stack(np.unravel_index(arm_arr, self._shape), axis=1).astype(np.float64)
        low = self.space.from_unit(cell / self._bins_f)
        high = self.space.from_unit((cell + 1.0) / self._bins_f)
        return low, np.minimum(high, self.space.high)

    def model_snapshot(self) -> dict[str, Any]:
        """Every bin as a box valued by the outcomes reported in it (up to 400 bins)."""
        if self.n_arms > _MAX_SNAPSHOT_BOXES:
            return {}
        low, high = self.bin_bounds(np.arange(self.n_arms))
        return {
            "boxes": [
                {"low": lo.tolist(), "high": hi.tolist(), "value": float(v)}
                for lo, hi, v in zip(low, high, self.outcomes_, strict=True)
            ]
        }


def _bins_shape(bins: Any, ndim: int) -> tuple[int, ...]:
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        return (check_size("bins", bins),) * ndim
    if isinstance(bins, str) or not isinstance(bins, Sequence | np.ndarray):
        raise InvalidParameterError(
            f"bins must be an int in [1, 100000000] or one such int per dimension, got {bins!r}"
        )
    values = list(bins)
    if len(values) != ndim:
        raise InvalidParameterError(
            f"bins must give one count per dimension ({ndim}), got {len(values)}: {bins!r}"
        )
    return tuple(check_size(f"bins[{i}]", b) for i, b in enumerate(values))
