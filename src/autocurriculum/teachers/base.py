"""The teacher protocol every curriculum algorithm implements.

A teacher proposes tasks (``sample``) and learns from their outcomes (``update``). It never sees
the learner's internals, only tasks, scores in [0, 1] and, where the trainer has them, named
signals from :mod:`autocurriculum.signals`. The contract:

- **Learning happens in ``update`` only.** ``sample`` draws from the teacher's sampling generator
  ``rng_`` and changes nothing else a later update depends on, so several clients may interleave
  ``sample`` and ``update`` in any order and the teacher's learned state depends only on the
  updates it received. Randomness used while learning comes from another generator
  (:meth:`Teacher._spawn_rng`).
- **Training steps are explicit.** Teachers that learn once per training step (SEC, DUMP) close a
  step when an update carries a newer ``step`` signal, at :meth:`Teacher.end_step`, or, for an
  update with no ``step`` signal, at the end of that update. Other teachers learn per outcome and
  ``end_step`` does nothing.
- **Everything learned lives in attributes ending in ``_``**, created in ``__init__``. That is
  what makes ``state_dict``, ``clone``, checkpoints and pickling exact without per-teacher code.
  ``state_dict()`` is plain data (see :mod:`autocurriculum._state`).
- **Thread-safe.** Public methods hold a per-teacher lock (about 0.1 µs uncontended), so a
  teacher served to several threads (a Ray actor, a DataLoader's main process) stays consistent.
"""

from __future__ import annotations

import inspect
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum._state import StateError, from_plain, to_plain
from autocurriculum._threads import Guarded
from autocurriculum.params import MAX_SIZE, check_int, check_seed
from autocurriculum.signals import Signals, validate_signals
from autocurriculum.spaces import Box, Discrete, Space, space_from_dict

if TYPE_CHECKING:
    from autocurriculum.teachers.registry import TeacherSpec

__all__ = ["Signals", "Teacher", "validate_scores"]

SpaceT = TypeVar("SpaceT", bound=Space, covariant=True)

#: The signals of an update that has none; read-only so that no teacher can mutate it.
NO_SIGNALS: Mapping[str, NDArray[Any]] = MappingProxyType({})


class Teacher(Guarded, ABC, Generic[SpaceT]):
    """Base class of all teachers.

    Subclasses implement :meth:`_sample` and :meth:`_update` on validated batches, take their
    hyperparameters as explicit keyword arguments stored unchanged, keep learned state in
    attributes ending in ``_`` (``rng_`` included) created in ``__init__``, and declare the
    signals they read in :attr:`reads` and :attr:`needs_one_of`.

    Parameters
    ----------
    space : Space
        The task space. Its kind must be in :attr:`supported_spaces`.
    seed : int or None
        Seed of the teacher's own generators. Global RNGs are never used.
    """

    #: Space kinds this teacher can serve ("box", "discrete").
    supported_spaces: ClassVar[tuple[str, ...]] = ("box", "discrete")
    #: Signal names ``update`` reads; other known signals are ignored.
    reads: ClassVar[frozenset[str]] = frozenset()
    #: ``update`` needs at least one of these signals (empty: needs none).
    needs_one_of: ClassVar[frozenset[str]] = frozenset()
    #: The registry spec, set by :func:`autocurriculum.teachers.registry.register`.
    spec: ClassVar[TeacherSpec | None] = None

    def __init__(self, space: SpaceT, *, seed: int | None = None):
        if not isinstance(space, Space):
            raise ValueError(f"space must be an autocurriculum Box or Discrete, got {space!r}")
        if space.kind not in self.supported_spaces:
            from autocurriculum.teachers.registry import list_teachers

            raise ValueError(
                f"{type(self).__name__} cannot serve a {space.kind} space ({space!r}); it supports "
                f"{', '.join(self.supported_spaces)}. Teachers for {space.kind} spaces: "
                f"{', '.join(list_teachers(space.kind))}"
            )
        check_seed(seed)
        self.space: SpaceT = space
        self.seed = seed
        self._init_lock()
        self.rng_ = np.random.default_rng(seed)
        self.n_updates_ = 0

    @classmethod
    def registered_spec(cls) -> TeacherSpec | None:
        """This class's own registry spec; ``None`` if it is not registered (a subclass of a
        registered teacher is not registered by inheritance)."""
        spec = cls.__dict__.get("spec")
        return spec if spec is not None and spec.builder is cls else None

    @property
    def name(self) -> str:
        """The registry name, or the class name of an unregistered teacher."""
        spec = type(self).registered_spec()
        return spec.name if spec is not None else type(self).__name__

    # ------------------------------------------------------------------ protocol
    @overload
    def sample(self: Teacher[Box], n: int) -> NDArray[np.float64]: ...
    @overload
    def sample(self: Teacher[Box], n: None = None) -> NDArray[np.float64]: ...
    @overload
    def sample(self: Teacher[Discrete], n: int) -> NDArray[np.int64]: ...
    @overload
    def sample(self: Teacher[Discrete], n: None = None) -> int: ...
    @overload
    def sample(self, n: int | None = None) -> Any: ...

    def sample(self, n: int | None = None) -> Any:
        """Propose tasks.

        Parameters
        ----------
        n : int or None
            Batch size, in [1, 1e8]. ``None`` returns a single task.

        Returns
        -------
        numpy.ndarray or int
            ``(n, ndim)`` floats for a Box, ``(n,)`` int64 arm indices for a Discrete; for
            ``n=None``, one ``(ndim,)`` float vector or one ``int``.
        """
        if n is not None:
            n = check_int("n", n, low=1, high=MAX_SIZE)
        with self._lock:
            if n is None:
                task = self._sample(1)[0]
                return int(task) if self.space.kind == "discrete" else task
            return self._sample(n)

    def update(self, tasks: ArrayLike, scores: ArrayLike, signals: Signals = None) -> None:
        """Learn from the outcomes of tasks.

        Everything is checked before anything changes: on an error the teacher is unchanged.

        Parameters
        ----------
        tasks : array_like
            A batch of tasks (or one task) from the space.
        scores : array_like of float
            Normalised performance in [0, 1], one per task.
        signals : mapping of str to array_like, optional
            Named trainer-side values, one per task (see :mod:`autocurriculum.signals`).
            Known names this teacher does not read are ignored; unknown names are errors.

        Raises
        ------
        ValueError
            A task outside the space, a score outside [0, 1], lengths that differ, an unknown
            signal, or a signal this teacher needs missing.
        """
        batch = self.space.validate_tasks(_as_batch(tasks, self.space))
        score_arr = validate_scores(scores, len(batch))
        reads, needs = self._signal_names()
        if signals is None and not needs:
            signal_map = NO_SIGNALS
        else:
            signal_map = validate_signals(
                signals, len(batch), reads=reads, needs_one_of=needs, owner=type(self).__name__
            )
        with self._lock:
            self._update(batch, score_arr, signal_map)
            self.n_updates_ += len(batch)

    def end_step(self) -> None:
        """Close the current training step (for teachers that learn once per step).

        A trainer that tags outcomes with a ``step`` signal never needs it; one that sends a
        step's outcomes in several updates without step ids calls it after each step.
        """
        with self._lock:
            self._end_step()

    def metrics(self) -> dict[str, float]:
        """Scalars for a logger, keyed ``teacher/<name>``."""
        with self._lock:
            out = {"teacher/n_updates": float(self.n_updates_)}
            out.update({f"teacher/{k}": float(v) for k, v in self._metrics().items()})
            return out

    # ----------------------------------------------------------- to implement
    @abstractmethod
    def _sample(self, n: int) -> NDArray[Any]:
        """Return a batch of ``n`` tasks, drawn with ``self.rng_``; learn nothing."""

    @abstractmethod
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        """Learn from a validated batch.

        ``signals`` holds the validated signals this teacher reads (possibly none). The result
        must equal ``len(tasks)`` updates of one task each, with the same signals.
        """

    def _end_step(self) -> None:
        """Close the current training step; teachers that learn per outcome do nothing."""

    def _metrics(self) -> dict[str, float]:
        return {}

    def _signal_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """``(reads, needs_one_of)`` of this instance; a wrapper forwards its inner teacher's."""
        return self.reads, self.needs_one_of

    def _spawn_rng(self, stream: int) -> np.random.Generator:
        """A generator independent of ``rng_``, for randomness used while learning.

        Seeded from ``(seed, stream)``, so it is reproducible, and it leaves the sampling stream
        untouched whatever the order of ``sample`` and ``update`` calls.
        """
        return np.random.default_rng(None if self.seed is None else [self.seed, stream])

    def model_snapshot(self) -> dict[str, Any]:
        """The teacher's current model in task-space coordinates, for pictures.

        JSON-serialisable. Teachers with a drawable model override it; keys they may use:

        - ``"gaussians"``: list of ``{"mean", "cov", "weight", "value"}`` (GMM components, the
          SPDL context distribution); ``value`` is what colours them (ALP, LP);
        - ``"boxes"``: list of ``{"low", "high", "value"}`` (RIAC regions, ADR bounds).
        """
        return {}

    # --------------------------------------------------------- params & state
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name not in ("self", "space") and p.kind is not p.VAR_KEYWORD
        ]

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, as given."""
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self) -> Teacher[SpaceT]:
        """A fresh, unfitted teacher with the same space and parameters."""
        # Parameters are stored unchanged and never mutated, so sharing them is safe, and it
        # keeps object parameters (an oracle's student) pointing at the live object.
        return type(self)(self.space, **self.get_params())

    def _learned_attributes(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def state_dict(self) -> dict[str, Any]:
        """Everything the teacher learned, its generators included, as plain data.

        Returns
        -------
        dict
            ``{"teacher": spec name, "space": ..., "params": ..., "state": ...}``: numbers,
            strings, lists, dicts and numpy arrays only. A parameter that is not plain data
            (an oracle's student) is recorded as ``{"__unsaved__": type name}``.
            ``load_state_dict`` on a teacher built with the same space and parameters continues
            exactly as this one would have; :func:`autocurriculum.load` rebuilds one from it.
        """
        with self._lock:
            learned = self._learned_attributes()
            state = {k: to_plain(v, f"{type(self).__name__}.{k}") for k, v in learned.items()}
            return {
                "teacher": self.name,
                "space": self.space.to_dict(),
                "params": _plain_params(self.get_params()),
                "state": state,
            }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned. On an error the teacher is unchanged.

        Raises
        ------
        ValueError
            If the state comes from another teacher, another space or other parameters, lacks a
            learned attribute or has one this teacher does not know, or holds a value of the
            wrong type.
        """
        if not isinstance(state_dict, Mapping) or not {"teacher", "space", "state"} <= set(
            state_dict
        ):
            raise ValueError(
                "state_dict must be a mapping with keys 'teacher', 'space', 'params' and 'state' "
                f"as returned by Teacher.state_dict(), got {type(state_dict).__name__} with keys "
                f"{sorted(state_dict) if isinstance(state_dict, Mapping) else '-'}"
            )
        if state_dict["teacher"] != self.name:
            raise ValueError(
                f"state_dict is from teacher {state_dict['teacher']!r}, cannot load it into "
                f"{self.name!r}"
            )
        try:
            saved_space = space_from_dict(state_dict["space"])
        except (TypeError, KeyError) as err:
            raise ValueError(f"state_dict has a malformed space: {err}") from err
        if saved_space != self.space:
            raise ValueError(
                f"state_dict is for space {saved_space!r}, this teacher's space is {self.space!r}"
            )
        self._check_params(state_dict.get("params", {}))
        saved = state_dict["state"]
        if not isinstance(saved, Mapping):
            raise ValueError(f"state_dict['state'] must be a mapping, got {type(saved).__name__}")
        with self._lock:
            current = self._learned_attributes()
            missing, extra = sorted(current.keys() - saved.keys()), sorted(saved.keys() - current)
            if missing or extra:
                raise ValueError(
                    f"state_dict['state'] does not fit {type(self).__name__}: missing "
                    f"{missing or 'nothing'}, unexpected {extra or 'nothing'}"
                )
            restored = {}
            for key, value in saved.items():
                try:
                    restored[key] = from_plain(value, f"state[{key!r}]")
                except StateError as err:
                    raise ValueError(f"state_dict['state'][{key!r}]: {err}") from err
                _check_same_kind(key, current[key], restored[key])
            for key, value in restored.items():
                setattr(self, key, value)

    def _check_params(self, saved_params: Any) -> None:
        if not isinstance(saved_params, Mapping):
            raise ValueError(f"state_dict['params'] must be a mapping, got {saved_params!r}")
        mine = self.get_params()
        unknown = sorted(saved_params.keys() - mine.keys())
        if unknown:
            raise ValueError(f"state_dict has parameters {unknown} that {self.name} does not take")
        diff = {}
        for key, value in mine.items():
            saved = saved_params.get(key)
            # The seed only initialises the generators, which the state overrides; an unsaved
            # parameter (an object) can only be checked by its type name.
            if key == "seed" or key not in saved_params:
                continue
            if isinstance(saved, dict) and "__unsaved__" in saved:
                if saved["__unsaved__"] != type(value).__qualname__:
                    diff[key] = (saved["__unsaved__"], type(value).__qualname__)
                continue
            try:
                decoded = from_plain(saved, f"params[{key!r}]")
            except StateError as err:
                raise ValueError(f"state_dict['params'][{key!r}]: {err}") from err
            if not _params_equal(decoded, value):
                diff[key] = (decoded, value)
        if diff:
            detail = ", ".join(f"{k}: saved {a!r} vs {b!r}" for k, (a, b) in diff.items())
            raise ValueError(f"state_dict was saved with other parameters: {detail}")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a checkpoint atomically; :func:`autocurriculum.load` rebuilds the teacher.

        See :func:`autocurriculum.checkpoint.save`.
        """
        from autocurriculum.checkpoint import save

        save(self, path)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({self.space!r}, {params})"


# ---------------------------------------------------------------- validation
def validate_scores(scores: ArrayLike, n: int, *, name: str = "scores") -> NDArray[np.float64]:
    """Scores as a float array of length ``n``, each finite and in [0, 1]."""
    if isinstance(scores, float | int) and n == 1 and 0.0 <= scores <= 1.0:
        # One plain number per episode is the hot path of a training loop; numpy's checks on a
        # one-element array cost ~4 µs, this ~0.3 µs. Anything else takes the full checks.
        return np.array([scores], dtype=np.float64)
    arr = np.asarray(scores)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numbers in [0, 1], got dtype {arr.dtype}: {scores!r}")
    arr = np.atleast_1d(arr.astype(np.float64, copy=False))
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape ({n},), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values for {n} tasks: one score per task")
    bad = ~((arr >= 0.0) & (arr <= 1.0))  # NaN fails both comparisons
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}[{i}] = {float(arr[i])!r}: scores must be finite and in [0, 1] (normalise "
            "returns before the teacher sees them)"
        )
    return arr


def _as_batch(tasks: ArrayLike, space: Space) -> ArrayLike:
    # A 1-D Box makes "(n,)" ambiguous between one task and n tasks; n tasks is the useful reading.
    if isinstance(space, Box) and space.ndim == 1:
        arr = np.asarray(tasks)
        if arr.ndim <= 1:
            return arr.reshape(-1, 1)
    return tasks


# ------------------------------------------------------------- state helpers
def _plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        try:
            out[key] = to_plain(value, f"parameter {key!r}")
        except StateError:
            out[key] = {"__unsaved__": type(value).__qualname__}
    return out


_NUMBER = (int, float, np.integer, np.floating)


def _check_same_kind(key: str, current: Any, restored: Any) -> None:
    """A restored attribute must be of the kind the teacher holds there (None is any kind)."""
    if current is None or restored is None:
        return
    if isinstance(current, _NUMBER) and not isinstance(current, bool | np.bool_):
        ok = isinstance(restored, _NUMBER) and not isinstance(restored, bool | np.bool_)
    elif isinstance(current, np.ndarray):
        ok = isinstance(restored, np.ndarray) and restored.dtype.kind == current.dtype.kind
    else:
        ok = type(restored) is type(current)
    if not ok:
        what = getattr(current, "dtype", type(current).__name__)
        got = getattr(restored, "dtype", type(restored).__name__)
        raise ValueError(f"state_dict['state'][{key!r}] holds {got}, expected {what}")


def _params_equal(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
        if isinstance(a, list | tuple) and isinstance(b, list | tuple):
            return len(a) == len(b) and all(_params_equal(x, y) for x, y in zip(a, b, strict=True))
        result = a == b
        return bool(result) if not isinstance(result, np.ndarray) else bool(result.all())
    except (TypeError, ValueError):
        return a is b
