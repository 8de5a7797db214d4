"""The teacher protocol every curriculum algorithm implements.

A teacher proposes tasks (``sample``) and learns from their outcomes (``update``). It never sees
the learner's internals, only tasks, scores in [0, 1] and, where the trainer has one, a learning
signal. Everything it learns lives in attributes whose names end in ``_``; that convention is
what makes ``state_dict``, ``clone`` and pickling exact without per-teacher code.
"""

from __future__ import annotations

import copy
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.spaces import Box, Space, space_from_dict

__all__ = ["Signals", "Teacher", "validate_scores", "validate_signals"]

#: What ``update(..., signals=...)`` accepts: one value per task, or several named ones
#: (for example ``{"abs_advantage": ..., "group": ...}``).
Signals = ArrayLike | Mapping[str, ArrayLike] | None

_GENERATOR_KEY = "__numpy_generator_state__"


class Teacher(ABC):
    """Base class of all teachers.

    Subclasses implement :meth:`_sample` and :meth:`_update` on validated batches, take their
    hyperparameters as explicit keyword arguments stored unchanged, and keep learned state in
    attributes ending in ``_`` (``rng_`` included).

    Parameters
    ----------
    space : Space
        The task space. Its kind must be in :attr:`supported_spaces`.
    seed : int or None
        Seed of the teacher's own ``numpy.random.Generator``. Global RNGs are never used.
    """

    #: Space kinds this teacher can serve ("box", "discrete").
    supported_spaces: ClassVar[tuple[str, ...]] = ("box", "discrete")
    #: Whether ``update`` needs ``signals`` (a trainer-side learning signal).
    requires_signals: ClassVar[bool] = False
    #: Registry name, set by :func:`autocurriculum.teachers.registry.register`.
    name: ClassVar[str] = ""

    def __init__(self, space: Space, *, seed: int | None = None):
        if not isinstance(space, Space):
            raise ValueError(f"space must be an autocurriculum Box or Discrete, got {space!r}")
        if space.kind not in self.supported_spaces:
            from autocurriculum.teachers.registry import list_teachers

            raise ValueError(
                f"{type(self).__name__} cannot serve a {space.kind} space ({space!r}); it supports "
                f"{', '.join(self.supported_spaces)}. Teachers for {space.kind} spaces: "
                f"{', '.join(list_teachers(space.kind))}"
            )
        if seed is not None and not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.space = space
        self.seed = seed
        self.rng_ = np.random.default_rng(seed)
        self.n_updates_ = 0

    # ------------------------------------------------------------------ protocol
    def sample(self, n: int | None = None) -> Any:
        """Propose tasks.

        Parameters
        ----------
        n : int or None
            Batch size. ``None`` returns a single task: a float vector for a Box, an int arm
            index for a Discrete.

        Returns
        -------
        numpy.ndarray or int
            ``(n, ndim)`` floats for a Box, ``(n,)`` ints for a Discrete, or one task.
        """
        if n is None:
            task = self._sample(1)[0]
            return int(task) if self.space.kind == "discrete" else task
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be a positive int or None, got {n!r}")
        return self._sample(int(n))

    def update(self, tasks: ArrayLike, scores: ArrayLike, signals: Signals = None) -> None:
        """Learn from the outcomes of tasks.

        Parameters
        ----------
        tasks : array_like
            A batch of tasks (or one task) from the space.
        scores : array_like of float
            Normalised performance in [0, 1], one per task.
        signals : array_like or mapping of str to array_like, optional
            A trainer-side learning signal per task (for example |advantage| or value loss), or
            several named ones.
        """
        batch = self.space.validate_tasks(_as_batch(tasks, self.space))
        score_arr = validate_scores(scores, len(batch))
        signal_arr = validate_signals(signals, len(batch))
        if signal_arr is None and self.requires_signals:
            raise ValueError(f"{type(self).__name__}.update needs signals, got signals=None")
        self._update(batch, score_arr, signal_arr)
        self.n_updates_ += len(batch)

    def metrics(self) -> dict[str, float]:
        """Scalars for a logger, keyed ``teacher/<name>``."""
        out = {"teacher/n_updates": float(self.n_updates_)}
        out.update({f"teacher/{k}": float(v) for k, v in self._metrics().items()})
        return out

    # ----------------------------------------------------------- to implement
    @abstractmethod
    def _sample(self, n: int) -> NDArray[Any]:
        """Return a batch of ``n`` tasks, drawn with ``self.rng_``."""

    @abstractmethod
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: NDArray[np.float64] | dict[str, NDArray[Any]] | None,
    ) -> None:
        """Learn from a validated batch. Must equal ``len(tasks)`` updates of one task each."""

    def _metrics(self) -> dict[str, float]:
        return {}

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

    def clone(self) -> Teacher:
        """A fresh, unfitted teacher with the same space and parameters."""
        # Parameters are stored unchanged and never mutated, so sharing them is safe, and it
        # keeps object parameters (an oracle's student) pointing at the live object.
        return type(self)(self.space, **self.get_params())

    def _learned_attributes(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def state_dict(self) -> dict[str, Any]:
        """Everything the teacher learned, its RNG included, as plain Python and numpy objects.

        ``load_state_dict`` on a teacher built with the same class, space and parameters
        continues exactly as this one would have.
        """
        state = {k: _export(copy.deepcopy(v)) for k, v in self._learned_attributes().items()}
        return {
            "teacher": _class_path(type(self)),
            "space": self.space.to_dict(),
            "params": copy.deepcopy(self.get_params()),
            "state": state,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Raises
        ------
        ValueError
            If the state comes from another teacher class, another space or other parameters.
        """
        if not isinstance(state_dict, Mapping) or not {"teacher", "space", "state"} <= set(
            state_dict
        ):
            raise ValueError(
                "state_dict must be a mapping with keys 'teacher', 'space', 'params' and 'state' "
                f"as returned by Teacher.state_dict(), got {type(state_dict).__name__}"
            )
        mine = _class_path(type(self))
        if state_dict["teacher"] != mine:
            raise ValueError(
                f"state_dict is from teacher {state_dict['teacher']!r}, cannot load it into "
                f"{mine!r}"
            )
        saved_space = space_from_dict(state_dict["space"])
        if saved_space != self.space:
            raise ValueError(
                f"state_dict is for space {saved_space!r}, this teacher's space is {self.space!r}"
            )
        saved_params = state_dict.get("params", {})
        diff = {
            k: (saved_params.get(k), v)
            for k, v in self.get_params().items()
            # The seed only initialises rng_, which the state overrides.
            if k != "seed" and not _params_equal(saved_params.get(k), v)
        }
        if diff:
            detail = ", ".join(f"{k}: saved {a!r} vs {b!r}" for k, (a, b) in diff.items())
            raise ValueError(f"state_dict was saved with other parameters: {detail}")
        for key in list(self._learned_attributes()):
            delattr(self, key)
        for key, value in state_dict["state"].items():
            setattr(self, key, _import(copy.deepcopy(value)))

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


def validate_signals(
    signals: Signals, n: int
) -> NDArray[np.float64] | dict[str, NDArray[Any]] | None:
    """Signals as a finite float array of length ``n``, a dict of such arrays, or None."""
    if signals is None:
        return None
    if isinstance(signals, Mapping):
        if not signals:
            raise ValueError("signals mapping is empty; pass None for no signals")
        return {str(k): _signal_array(v, n, f"signals[{k!r}]") for k, v in signals.items()}
    return _signal_array(signals, n, "signals").astype(np.float64, copy=False)


def _signal_array(value: ArrayLike, n: int, name: str) -> NDArray[Any]:
    arr = np.atleast_1d(np.asarray(value))
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} has shape {arr.shape} for {n} tasks: expected shape ({n},)")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name}[{i}] = {float(arr[i])!r}: signals must be finite")
    return arr


def _as_batch(tasks: ArrayLike, space: Space) -> ArrayLike:
    # A 1-D Box makes "(n,)" ambiguous between one task and n tasks; n tasks is the useful reading.
    if isinstance(space, Box) and space.ndim == 1:
        arr = np.asarray(tasks)
        if arr.ndim <= 1:
            return arr.reshape(-1, 1)
    return tasks


# ------------------------------------------------------------- state helpers
def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _export(value: Any) -> Any:
    if isinstance(value, np.random.Generator):
        return {_GENERATOR_KEY: value.bit_generator.state}
    return value


def _import(value: Any) -> Any:
    if isinstance(value, dict) and _GENERATOR_KEY in value:
        state = value[_GENERATOR_KEY]
        bit_generator = getattr(np.random, state["bit_generator"])()
        bit_generator.state = state
        return np.random.Generator(bit_generator)
    return value


def _params_equal(a: Any, b: Any) -> bool:
    if type(a) is type(b) and type(a).__eq__ is object.__eq__:
        # Objects without value equality (a student handed to an oracle) survive a state round
        # trip only as copies; their type is what can be checked.
        return True
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
        result = a == b
        return bool(result) if not isinstance(result, np.ndarray) else bool(result.all())
    except (TypeError, ValueError):
        return a is b
