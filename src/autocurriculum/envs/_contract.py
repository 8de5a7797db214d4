"""The contextual-env contract, the :class:`TaskWrapper` adapter, and episode scoring.

A *contextual env* is a Gymnasium env that knows tasks:

- it exposes ``task_space``, an :class:`autocurriculum.Box` or :class:`autocurriculum.Discrete`;
- ``reset(options={"task": task})`` runs the next episode on ``task`` (a reset without a task
  keeps the current one);
- a task outside ``task_space`` raises ``ValueError`` naming the env id and the task.

It may also declare, as attributes, ``return_bounds = (low, high)`` (bounds of the episodic
return, used to turn returns into scores), ``mastery_threshold`` (an episodic return above it
means the task is mastered) and ``default_test_set`` (an array of tasks that
:func:`autocurriculum.envs.evaluate` uses when none is given).

Scores are the teacher's input, in [0, 1]. The ``score`` argument of every curriculum wrapper
turns an episode into one:

- ``None``: the env's declared ``return_bounds``;
- ``(low, high)``: ``(return - low) / (high - low)``; a return outside the bounds is an error,
  never silently clipped (pass ``ReturnBounds(low, high, clip=True)`` to ask for clipping);
- ``"success"``: 1.0 if the final step's info has a true ``is_success``, else 0.0;
- ``fn(episode_return, final_info) -> float``: any function returning a value in [0, 1].
"""

from __future__ import annotations

import copy
import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol, SupportsFloat, TypeAlias

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.spaces import Box, Discrete, Space

__all__ = [
    "ReturnBounds",
    "ScoreSpec",
    "Scorer",
    "SuccessScore",
    "TaskWrapper",
    "check_applies_task",
    "env_name",
    "make_scorer",
    "task_space_of",
    "validate_task",
]

#: What the ``score`` argument of the wrappers accepts.
ScoreSpec: TypeAlias = (
    "tuple[float, float] | str | Callable[[float, Mapping[str, Any]], SupportsFloat] | Scorer "
    "| None"
)

_HOW_TO_DECLARE = (
    "pass score=(low, high) with the bounds of the episodic return, score='success' to score "
    "the final info's 'is_success', or score=fn(episode_return, final_info) returning a value in "
    "[0, 1]; or declare `return_bounds = (low, high)` on the env (TaskWrapper takes "
    "return_bounds=...)"
)


# ------------------------------------------------------------------------------- naming
def env_name(env: gym.Env[Any, Any]) -> str:
    """The registered id of ``env``, or its class name when it has none."""
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return str(spec.id)
    return type(env.unwrapped).__name__


def _declared(env: gym.Env[Any, Any], name: str) -> Any:
    """An attribute declared anywhere in the wrapper stack, or ``None``."""
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None


def task_space_of(env: gym.Env[Any, Any]) -> Space:
    """The task space a contextual env declares.

    Raises
    ------
    ValueError
        If ``env`` declares none, with the way to adapt it.
    """
    space = _declared(env, "task_space")
    if space is None:
        raise ValueError(
            f"{env_name(env)} is not a contextual env: it has no `task_space`. Adapt it with "
            "ac.envs.TaskWrapper(env, task_space, apply_task), where apply_task(env, task) sets "
            "the env's parameters"
        )
    if not isinstance(space, Space):
        raise ValueError(
            f"{env_name(env)}.task_space must be an autocurriculum Box or Discrete, got {space!r}"
        )
    return space


def validate_task(space: Space, task: Any, env_id: str) -> Any:
    """One task as the env receives it: a float vector for a Box, an ``int`` for a Discrete.

    Raises
    ------
    ValueError
        If ``task`` is not a task of ``space``; the message names ``env_id`` and the task.
    """
    try:
        if isinstance(space, Discrete):
            arr = np.asarray(task)
            if arr.size != 1:
                raise ValueError(f"expected one arm index, got shape {arr.shape}")
            return int(space.validate_tasks(arr.reshape(1))[0])
        vec = np.array(task, dtype=np.float64).reshape(-1)
        return space.validate_tasks(vec[None, :], name="task")[0].copy()
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{env_id}: task {_show_given(task)} is not in its task space {space!r}: {err}"
        ) from None


def _show_given(task: Any) -> str:
    """A task as the caller wrote it: a list stays a list, an array prints with commas."""
    if isinstance(task, np.ndarray):
        return np.array2string(task, separator=", ")
    return repr(task)


# ------------------------------------------------------------------------------ scoring
class Scorer(Protocol):
    """Turns one finished episode into a score in [0, 1]."""

    def __call__(self, episode_return: float, final_info: Mapping[str, Any]) -> float: ...


class ReturnBounds:
    """Score an episode by where its return lies between two bounds.

    Parameters
    ----------
    low, high : float
        Finite bounds of the episodic return, ``low < high``.
    clip : bool
        What a return outside the bounds does: ``False`` (default) raises ``ValueError``
        naming the return and the bounds, ``True`` clips the score to [0, 1]. Returns within
        ``1e-9 * (high - low)`` of a bound are float rounding and always clipped.

    Examples
    --------
    >>> score = ReturnBounds(-100.0, 300.0)
    >>> score(100.0, {})
    0.5
    >>> score(400.0, {})
    Traceback (most recent call last):
    ...
    ValueError: episodic return 400.0 is outside the declared return bounds [-100.0, 300.0] ...
    >>> ReturnBounds(-100.0, 300.0, clip=True)(400.0, {})
    1.0
    """

    def __init__(self, low: float, high: float, *, clip: bool = False):
        lo, hi = float(low), float(high)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(
                f"return bounds must be finite with low < high, got ({low!r}, {high!r})"
            )
        if not isinstance(clip, bool):
            raise ValueError(f"clip must be a bool, got {clip!r}")
        self.low, self.high, self.clip = lo, hi, clip
        self._span = hi - lo
        self._tol = 1e-9 * self._span

    def __call__(self, episode_return: float, final_info: Mapping[str, Any]) -> float:
        r = float(episode_return)
        if not self.clip and not (self.low - self._tol <= r <= self.high + self._tol):
            raise ValueError(
                f"episodic return {r!r} is outside the declared return bounds "
                f"[{self.low!r}, {self.high!r}] (declare wider bounds, or pass "
                f"score=ReturnBounds({self.low!r}, {self.high!r}, clip=True) to clip on purpose)"
            )
        if r != r:  # NaN passes the clip branch above
            raise ValueError("episodic return is NaN")
        return min(1.0, max(0.0, (r - self.low) / self._span))

    def __repr__(self) -> str:
        clip = ", clip=True" if self.clip else ""
        return f"ReturnBounds({self.low!r}, {self.high!r}{clip})"


class SuccessScore:
    """Score 1.0 when the final step's info has a true ``is_success``, else 0.0.

    Examples
    --------
    >>> SuccessScore()(12.0, {"is_success": True})
    1.0
    """

    def __call__(self, episode_return: float, final_info: Mapping[str, Any]) -> float:
        if "is_success" not in final_info:
            raise ValueError(
                "score='success' needs the final step's info to hold 'is_success', got info keys "
                f"{sorted(map(str, final_info))}"
            )
        return 1.0 if bool(np.asarray(final_info["is_success"]).item()) else 0.0

    def __repr__(self) -> str:
        return "SuccessScore()"


class _FunctionScore:
    """A user's ``fn(episode_return, final_info)``, checked, that pickles with cloudpickle.

    Sub-envs in other processes need the function; lambdas and closures do not pickle with the
    standard library, so the function travels as cloudpickle bytes (cloudpickle ships with both
    Gymnasium and Stable-Baselines3).
    """

    def __init__(self, fn: Callable[[float, Mapping[str, Any]], SupportsFloat]):
        self.fn = fn

    def __call__(self, episode_return: float, final_info: Mapping[str, Any]) -> float:
        value = self.fn(episode_return, final_info)
        try:
            score = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"the score function returned {value!r}, expected a float") from None
        if not 0.0 <= score <= 1.0:  # NaN fails too
            raise ValueError(
                f"the score function returned {score!r} for episodic return {episode_return!r}; "
                "scores must be in [0, 1]"
            )
        return score

    def __reduce__(self) -> tuple[Any, ...]:
        return (_load_function_score, (_cloudpickle().dumps(self.fn),))

    def __repr__(self) -> str:
        return f"score={getattr(self.fn, '__qualname__', self.fn)!r}"


def _load_function_score(payload: bytes) -> _FunctionScore:
    return _FunctionScore(_cloudpickle().loads(payload))


def _cloudpickle() -> Any:
    # Untyped; imported by name so that type checkers need no stubs for it.
    return importlib.import_module("cloudpickle")


def make_scorer(score: ScoreSpec, env: gym.Env[Any, Any] | None = None) -> Scorer:
    """Resolve a ``score`` argument against an env's declared bounds.

    Parameters
    ----------
    score : tuple, str, callable or None
        See the module docstring.
    env : gymnasium.Env, optional
        Whose ``return_bounds`` serve when ``score`` is ``None``.

    Raises
    ------
    ValueError
        For a malformed ``score``, or ``None`` with no bounds declared by ``env``; the message
        says how to declare a scale.
    """
    if score is None:
        bounds = _declared(env, "return_bounds") if env is not None else None
        if bounds is None:
            name = env_name(env) if env is not None else "the env"
            raise ValueError(f"no return scale for {name}: {_HOW_TO_DECLARE}")
        return _bounds_scorer(bounds, f"{env_name(env)}.return_bounds" if env else "bounds")
    if isinstance(score, ReturnBounds | SuccessScore | _FunctionScore):
        return score
    if isinstance(score, str):
        if score != "success":
            raise ValueError(f"score={score!r} is not known: {_HOW_TO_DECLARE}")
        return SuccessScore()
    if isinstance(score, tuple | list):
        return _bounds_scorer(score, "score")
    if callable(score):
        return _FunctionScore(score)
    raise ValueError(f"score={score!r} is not a score: {_HOW_TO_DECLARE}")


def _bounds_scorer(bounds: Any, what: str) -> ReturnBounds:
    try:
        low, high = bounds
        return ReturnBounds(low, high)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{what} must be (low, high) return bounds, got {bounds!r}: {err}"
        ) from None


# ------------------------------------------------------------------- task-applied check
def _probe_tasks(space: Space) -> tuple[Any, Any] | None:
    """Two tasks as far apart as the space allows, or None for a one-arm space."""
    if isinstance(space, Box):
        return space.low.copy(), space.high.copy()
    if isinstance(space, Discrete):
        return (0, space.n - 1) if space.n > 1 else None
    raise ValueError(f"unsupported task space {space!r}")


def _fingerprint(env: gym.Env[Any, Any], task: Any, actions: list[Any]) -> list[bytes]:
    obs, _ = env.reset(seed=12345, options={"task": task})
    prints = [_to_bytes(obs), _state_bytes(env.unwrapped)]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        prints += [_to_bytes(obs), np.float64(reward).tobytes()]
        if terminated or truncated:
            break
    prints.append(_state_bytes(env.unwrapped))
    return prints


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, Mapping):
        return b"|".join(_to_bytes(value[k]) for k in sorted(value))
    if isinstance(value, tuple | list):
        return b"|".join(_to_bytes(v) for v in value)
    try:
        return np.asarray(value).tobytes()
    except (TypeError, ValueError):
        return repr(value).encode()


def _state_bytes(env: Any) -> bytes:
    """The env's own numeric attributes (not its RNG), where a task usually lands."""
    parts = []
    for key, value in sorted(vars(env).items()):
        if key.startswith("_np_random") or key == "np_random":
            continue
        if isinstance(value, bool | int | float | np.number):
            parts.append(f"{key}={value!r}".encode())
        elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size < 10_000:
            parts.append(key.encode() + value.tobytes())
        elif isinstance(value, tuple | list) and all(
            isinstance(v, int | float | np.number) for v in value
        ):
            parts.append(f"{key}={value!r}".encode())
    return b";".join(parts)


def check_applies_task(env: gym.Env[Any, Any], *, steps: int = 5) -> None:
    """Raise ``ValueError`` if ``env`` behaves the same whatever the task.

    ``env`` is reset with the same seed on two tasks as far apart as the task space allows
    (the corners of a Box, the first and last arms of a Discrete), and takes the same few
    actions. If the observations, the rewards and the env's numeric attributes are identical,
    the task is not applied. The env's random generator is restored afterwards, so the check
    leaves the episodes that follow as they would have been.

    A task that only matters later in an episode, and changes no attribute of the env, escapes
    this check (it can only err towards accepting an env).
    """
    space = task_space_of(env)
    probes = _probe_tasks(space)
    if probes is None:
        return
    base = env.unwrapped
    saved_rng = copy.deepcopy(getattr(base, "_np_random", None))
    saved_seed = getattr(base, "_np_random_seed", None)
    try:
        sampler = copy.deepcopy(env.action_space)
        sampler.seed(0)
        actions = [sampler.sample() for _ in range(steps)]
        first = _fingerprint(env, probes[0], actions)
        second = _fingerprint(env, probes[1], actions)
    finally:
        # Seeded probe resets replaced the env's generator; restore it so that later unseeded
        # resets draw what they would have drawn without the check.
        if hasattr(base, "_np_random"):
            base._np_random = saved_rng
            base._np_random_seed = saved_seed
    if first == second:
        raise ValueError(
            f"{env_name(env)} ignores its task: reset with task {_show(probes[0])} and task "
            f"{_show(probes[1])} (same seed) and the same {steps} actions, it gave the same "
            "observations, rewards and attributes. Its reset must apply options['task'] (for "
            "TaskWrapper: apply_task(env, task) must change the env); pass check=False only if "
            "the task acts later in the episode than this check looks"
        )


def _show(task: Any) -> str:
    return np.array2string(np.asarray(task), precision=4) if np.ndim(task) else repr(task)


# ------------------------------------------------------------------------ TaskWrapper
class TaskWrapper(gym.Wrapper[Any, Any, Any, Any]):
    """Make any Gymnasium env contextual with a function that applies a task.

    Parameters
    ----------
    env : gymnasium.Env
        The env to adapt.
    task_space : Box or Discrete
        The tasks it accepts.
    apply_task : callable
        ``apply_task(env, task)`` sets ``env``'s parameters for ``task`` (a float vector for a
        Box, an ``int`` for a Discrete). It is called on the wrapped env just before its
        ``reset``, so parameters that ``reset`` reads take effect in that episode.
    return_bounds : (float, float), optional
        Bounds of the episodic return, declared for scoring.
    mastery_threshold : float, optional
        An episodic return above it means the task is mastered (for ``evaluate``).
    default_test_set : array_like, optional
        Tasks ``evaluate`` uses when given none.
    check : bool
        Check at construction that the task changes the env (see :func:`check_applies_task`);
        an env that ignores it is a ``ValueError``.

    Examples
    --------
    >>> import gymnasium as gym
    >>> import autocurriculum as ac
    >>> from autocurriculum.envs import TaskWrapper
    >>> def set_pole(env, task):
    ...     env.unwrapped.length = float(task[0])
    >>> env = TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0], names=["pole"]), set_pole,
    ...                   return_bounds=(0.0, 500.0))
    >>> _ = env.reset(seed=0, options={"task": [1.5]})
    >>> env.unwrapped.length
    1.5
    >>> TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), lambda env, task: None)
    Traceback (most recent call last):
    ...
    ValueError: CartPole-v1 ignores its task: ...
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        task_space: Space,
        apply_task: Callable[[gym.Env[Any, Any], Any], None],
        *,
        return_bounds: tuple[float, float] | None = None,
        mastery_threshold: float | None = None,
        default_test_set: ArrayLike | None = None,
        check: bool = True,
    ):
        super().__init__(env)
        if not isinstance(task_space, Space):
            raise ValueError(
                f"task_space must be an autocurriculum Box or Discrete, got {task_space!r}"
            )
        if not callable(apply_task):
            raise ValueError(
                f"apply_task must be a function (env, task) -> None, got {apply_task!r}"
            )
        self.task_space = task_space
        self.apply_task = apply_task
        self._bounds = (
            None if return_bounds is None else _bounds_scorer(return_bounds, "return_bounds")
        )
        self._threshold = None if mastery_threshold is None else float(mastery_threshold)
        self._test_set = None
        if default_test_set is not None:
            self._test_set = task_space.validate_tasks(default_test_set, name="default_test_set")
        self.task: Any = None
        if check:
            check_applies_task(self)

    @property
    def return_bounds(self) -> tuple[float, float] | None:
        """The declared return bounds, or the wrapped env's."""
        if self._bounds is not None:
            return (self._bounds.low, self._bounds.high)
        return getattr(self.env.unwrapped, "return_bounds", None)

    @property
    def mastery_threshold(self) -> float | None:
        """The declared mastery threshold, or the wrapped env's."""
        if self._threshold is not None:
            return self._threshold
        return getattr(self.env.unwrapped, "mastery_threshold", None)

    @property
    def default_test_set(self) -> NDArray[Any] | None:
        """The declared default test set, or the wrapped env's."""
        if self._test_set is not None:
            return self._test_set
        return getattr(self.env.unwrapped, "default_test_set", None)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if options and "task" in options:
            options = dict(options)
            task = validate_task(self.task_space, options.pop("task"), env_name(self))
            self.apply_task(self.env, task)
            self.task = task
        return self.env.reset(seed=seed, options=options or None)
