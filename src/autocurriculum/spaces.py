"""Task spaces: what a teacher may propose.

Two kinds cover the field:

- :class:`Box`, a continuous box of named environment parameters. A batch of tasks is a
  float array of shape ``(n, ndim)``.
- :class:`Discrete`, a finite set of named arms (levels, data buckets, prompt distributions).
  A batch of tasks is an int array of shape ``(n,)``.

Every space validates its own arguments and the tasks handed back to a teacher, with errors
that print the offending value and what was expected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Box", "Discrete", "Space", "space_from_dict"]


def _preview(value: Any, limit: int = 80) -> str:
    text = np.array2string(np.asarray(value), threshold=8) if _is_array(value) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray | list | tuple)


class Space(ABC):
    """A set of tasks a teacher can sample from and a learner can practise."""

    kind: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> NDArray[Any]:
        """Draw ``n`` tasks uniformly with ``rng``."""

    @abstractmethod
    def validate_tasks(self, tasks: ArrayLike, *, name: str = "tasks") -> NDArray[Any]:
        """Return ``tasks`` as a batch array, or raise ``ValueError`` naming the bad value."""

    @abstractmethod
    def contains(self, task: ArrayLike) -> bool:
        """Whether one task, or every task of a batch, lies in the space."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description; :func:`space_from_dict` inverts it."""

    @property
    @abstractmethod
    def task_shape(self) -> tuple[int, ...]:
        """Shape of a single task: ``(ndim,)`` for a Box, ``()`` for a Discrete."""


class Box(Space):
    """A continuous box of task parameters, ``low <= x <= high`` in every dimension.

    Parameters
    ----------
    low, high : array_like of float
        Bounds, one per dimension. Each must be finite, and ``low < high``.
    names : sequence of str, optional
        A name per dimension, for reports and logs. Defaults to ``x0, x1, ...``.

    Examples
    --------
    >>> import numpy as np
    >>> space = Box(low=[0, 0], high=[3, 6], names=["stump_height", "stump_spacing"])
    >>> space.sample(np.random.default_rng(0), 2).shape
    (2, 2)
    >>> space.to_unit([1.5, 3.0])
    array([0.5, 0.5])
    """

    kind = "box"

    def __init__(self, low: ArrayLike, high: ArrayLike, names: Sequence[str] | None = None):
        low_arr = _as_float_vector(low, "low")
        high_arr = _as_float_vector(high, "high")
        if low_arr.shape != high_arr.shape:
            raise ValueError(
                f"Box low and high must have the same shape, got low shape {low_arr.shape} "
                f"and high shape {high_arr.shape}"
            )
        bad = ~(low_arr < high_arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Box needs low < high in every dimension, got low[{i}]={float(low_arr[i])!r}, "
                f"high[{i}]={float(high_arr[i])!r}"
            )
        with np.errstate(over="ignore"):  # an overflow is reported below, by value
            range_arr = high_arr - low_arr
        if not np.all(np.isfinite(range_arr)):
            i = int(np.flatnonzero(~np.isfinite(range_arr))[0])
            raise ValueError(
                f"Box high - low must be finite, got high[{i}] - low[{i}] = "
                f"{float(high_arr[i])!r} - {float(low_arr[i])!r}, which overflows a float64; "
                "rescale the dimension"
            )
        if names is None:
            names = [f"x{i}" for i in range(low_arr.size)]
        elif isinstance(names, str) or not isinstance(names, Sequence):
            raise ValueError(
                f"Box names must be a sequence of str, one per dimension, got {names!r}"
            )
        names = [str(n) for n in names]
        if len(names) != low_arr.size:
            raise ValueError(
                f"Box names must give one name per dimension ({low_arr.size}), got {len(names)}: "
                f"{names!r}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"Box names must be unique, got {names!r}")
        low_arr.setflags(write=False)
        high_arr.setflags(write=False)
        self.low: NDArray[np.float64] = low_arr
        self.high: NDArray[np.float64] = high_arr
        self.names: tuple[str, ...] = tuple(names)
        range_arr.setflags(write=False)
        self.range: NDArray[np.float64] = range_arr

    @property
    def ndim(self) -> int:
        """Number of task dimensions."""
        return int(self.low.size)

    @property
    def task_shape(self) -> tuple[int, ...]:
        return (self.ndim,)

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return self.low + rng.random((n, self.ndim)) * self.range

    def contains(self, task: ArrayLike) -> bool:
        arr = np.asarray(task, dtype=np.float64)
        if arr.shape[-1:] != (self.ndim,) or arr.ndim > 2:
            return False
        return bool(np.all((arr >= self.low) & (arr <= self.high)))

    def validate_tasks(self, tasks: ArrayLike, *, name: str = "tasks") -> NDArray[np.float64]:
        arr = np.asarray(tasks)
        if arr.dtype.kind not in "fiu":
            raise ValueError(
                f"{name} must be real numbers for {self!r}, got dtype {arr.dtype}: "
                f"{_preview(tasks)}"
            )
        arr = arr.astype(np.float64, copy=False)
        if arr.ndim == 1 and arr.shape[0] == self.ndim:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.ndim:
            raise ValueError(
                f"{name} must have shape (n, {self.ndim}) for {self!r}, got shape {arr.shape}"
            )
        outside = ~((arr >= self.low) & (arr <= self.high))
        if outside.any():
            row, col = (int(v) for v in np.argwhere(outside)[0])
            raise ValueError(
                f"{name}[{row}] = {_preview(arr[row])} is outside {self!r}: dimension "
                f"{self.names[col]!r} is {float(arr[row, col])!r}, expected a value in "
                f"[{float(self.low[col])!r}, {float(self.high[col])!r}]"
            )
        return arr

    def to_unit(self, x: ArrayLike) -> NDArray[np.float64]:
        """Map tasks from the box to the unit cube ``[0, 1]^ndim``."""
        return (np.asarray(x, dtype=np.float64) - self.low) / self.range

    def from_unit(self, u: ArrayLike) -> NDArray[np.float64]:
        """Map points of the unit cube ``[0, 1]^ndim`` into the box."""
        return self.low + np.asarray(u, dtype=np.float64) * self.range

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "names": list(self.names),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Box:
        _check_kind(data, cls.kind)
        return cls(low=data["low"], high=data["high"], names=data.get("names"))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Box)
            and self.names == other.names
            and np.array_equal(self.low, other.low)
            and np.array_equal(self.high, other.high)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.names, self.low.tobytes(), self.high.tobytes()))

    def __repr__(self) -> str:
        bounds = zip(self.names, self.low, self.high, strict=True)
        dims = ", ".join(f"{n}=[{lo:g}, {hi:g}]" for n, lo, hi in bounds)
        return f"Box({dims})"


class Discrete(Space):
    """A finite set of named arms, indexed ``0 .. n-1``.

    Parameters
    ----------
    n_or_names : int or sequence of str
        The number of arms (named ``"0"``, ``"1"``, ...), or the arm names themselves, unique.

    Examples
    --------
    >>> import numpy as np
    >>> space = Discrete(["easy", "medium", "hard"])
    >>> space.n
    3
    >>> space.sample(np.random.default_rng(0), 4).tolist()
    [2, 1, 1, 0]
    >>> space.index("hard")
    2
    """

    kind = "discrete"

    def __init__(self, n_or_names: int | Sequence[str]):
        if isinstance(n_or_names, bool):
            raise ValueError(
                f"Discrete needs a number of arms or a list of names, got {n_or_names!r}"
            )
        if isinstance(n_or_names, int | np.integer):
            n = int(n_or_names)
            if n < 1:
                raise ValueError(f"Discrete needs at least one arm, got n={n}")
            names: tuple[str, ...] = tuple(str(i) for i in range(n))
        elif isinstance(n_or_names, str):
            raise ValueError(
                f"Discrete takes a list of arm names, not a single string: {n_or_names!r}"
            )
        elif not isinstance(n_or_names, Sequence | np.ndarray):
            raise ValueError(
                f"Discrete needs a number of arms (an int >= 1) or a sequence of arm names, got "
                f"{n_or_names!r}"
            )
        else:
            names = tuple(str(x) for x in n_or_names)
            if not names:
                raise ValueError("Discrete needs at least one arm, got an empty list of names")
            if len(set(names)) != len(names):
                seen: set[str] = set()
                dupes = sorted({x for x in names if x in seen or seen.add(x)})  # type: ignore[func-returns-value]
                raise ValueError(f"Discrete arm names must be unique, duplicated: {dupes!r}")
        self.names = names
        self.n: int = len(names)
        self._index: dict[str, int] | None = None

    @property
    def task_shape(self) -> tuple[int, ...]:
        return ()

    def index(self, name: str) -> int:
        """The arm index of ``name``."""
        if self._index is None:
            self._index = {x: i for i, x in enumerate(self.names)}
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"{name!r} is not an arm of {self!r}") from None

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.int64]:
        return rng.integers(0, self.n, size=n, dtype=np.int64)

    def contains(self, task: ArrayLike) -> bool:
        arr = np.asarray(task)
        if arr.dtype.kind not in "iu" or arr.ndim > 1:
            return False
        return bool(np.all((arr >= 0) & (arr < self.n)))

    def validate_tasks(self, tasks: ArrayLike, *, name: str = "tasks") -> NDArray[np.int64]:
        arr = np.asarray(tasks)
        if arr.dtype.kind not in "iu":
            raise ValueError(
                f"{name} must be integer arm indices for {self!r}, got dtype {arr.dtype}: "
                f"{_preview(tasks)}"
            )
        if arr.ndim == 0:
            arr = arr[None]
        if arr.ndim != 1:
            raise ValueError(f"{name} must have shape (n,) for {self!r}, got shape {arr.shape}")
        outside = (arr < 0) | (arr >= self.n)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{name}[{i}] = {int(arr[i])} is not an arm of {self!r}: expected an index in "
                f"[0, {self.n - 1}]"
            )
        return arr.astype(np.int64, copy=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Discrete:
        _check_kind(data, cls.kind)
        return cls(data["names"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Discrete) and self.names == other.names

    def __hash__(self) -> int:
        return hash((self.kind, self.names))

    def __getstate__(self) -> dict[str, Any]:
        return {"names": self.names, "n": self.n, "_index": None}

    def __repr__(self) -> str:
        if self.n <= 6:
            return f"Discrete({list(self.names)!r})"
        first, second, last = self.names[0], self.names[1], self.names[-1]
        return f"Discrete({self.n} arms: {first!r}, {second!r}, ..., {last!r})"


def space_from_dict(data: dict[str, Any]) -> Space:
    """Rebuild a space from :meth:`Space.to_dict` output."""
    kinds: dict[str, type[Box] | type[Discrete]] = {"box": Box, "discrete": Discrete}
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in kinds:
        raise ValueError(f"unknown space kind {kind!r}, expected one of {sorted(kinds)}")
    return kinds[kind].from_dict(data)


def _check_kind(data: dict[str, Any], kind: str) -> None:
    if data.get("kind") != kind:
        raise ValueError(f"expected a space dict of kind {kind!r}, got kind {data.get('kind')!r}")


def _as_float_vector(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"Box {name} must be real numbers, got {_preview(value)}")
    arr = np.array(arr, dtype=np.float64).reshape(-1) if arr.ndim == 0 else np.array(arr, float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"Box {name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"Box {name} must be finite, got {name}[{i}]={float(arr[i])!r}")
    return arr
