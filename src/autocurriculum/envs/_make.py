"""``make_vec``: a vector env with a curriculum attached, for Gymnasium or Stable-Baselines3."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym

from autocurriculum.envs._contract import (
    ScoreSpec,
    check_applies_task,
    env_name,
    make_scorer,
    task_space_of,
)
from autocurriculum.envs._curriculum import CurriculumVectorEnv, check_teacher_fits
from autocurriculum.envs._link import LinkEnd, TaskInbox, TaskLink
from autocurriculum.params import check_size

__all__ = ["VECTORIZATIONS", "make_vec"]

#: The values ``make_vec`` takes for ``vectorization``.
VECTORIZATIONS = ("sync", "async", "sb3-dummy", "sb3-subproc")

EnvFactory = Callable[[], gym.Env[Any, Any]]


def make_vec(
    env_id_or_factory: str | EnvFactory,
    num_envs: int,
    teacher: Any,
    *,
    score: ScoreSpec = None,
    vectorization: str = "sync",
    autoreset_mode: str | gym.vector.AutoresetMode | None = None,
    batch_size: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    vector_kwargs: Mapping[str, Any] | None = None,
    wrappers: Sequence[Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]] = (),
    check_task: bool = True,
) -> Any:
    """Build ``num_envs`` copies of a contextual env, vectorized, with a curriculum attached.

    Mirrors :func:`gymnasium.make_vec`. The teacher stays in this process. Every sub-env holds
    its next task before its episode ends (vector envs reset finished sub-envs with no options),
    each finished episode's score is credited to the task that episode ran, and outcomes reach
    the teacher in batches, without any worker waiting for it.

    Parameters
    ----------
    env_id_or_factory : str or callable
        A registered Gymnasium id (``"autocurriculum/PointMassGate-v0"``) or a function with no
        arguments returning a contextual env (``task_space`` plus ``reset(options={"task":
        ...})``; adapt others with :class:`TaskWrapper`).
    num_envs : int
        Number of sub-envs.
    teacher : Teacher
        Chooses the tasks; its space must lie inside the env's task space.
    score : tuple, str, callable or None
        How an episode becomes a score in [0, 1]: ``(low, high)`` return bounds, ``"success"``,
        ``fn(episode_return, final_info)``, or ``None`` for the env's declared
        ``return_bounds``.
    vectorization : {"sync", "async", "sb3-dummy", "sb3-subproc"}
        Gymnasium ``SyncVectorEnv`` / ``AsyncVectorEnv`` (returns a
        :class:`CurriculumVectorEnv`), or SB3 ``DummyVecEnv`` / ``SubprocVecEnv`` (returns a
        :class:`~autocurriculum.envs.sb3.CurriculumSB3VecEnv`, each sub-env inside SB3's
        ``Monitor``).
    autoreset_mode : str or gymnasium.vector.AutoresetMode, optional
        For the Gymnasium vectorizations: ``"NextStep"`` (Gymnasium's default), ``"SameStep"``
        or ``"Disabled"``.
    batch_size : int, optional
        Outcomes per ``teacher.update``; defaults to ``num_envs``.
    env_kwargs : mapping, optional
        Keyword arguments of ``gymnasium.make`` (with an env id only).
    vector_kwargs : mapping, optional
        Extra keyword arguments of the vector env's constructor (``context`` or
        ``shared_memory`` for ``AsyncVectorEnv``, ``start_method`` for ``SubprocVecEnv``).
    wrappers : sequence of callables
        Applied to each sub-env, innermost first, inside the curriculum's own wrapper; keep
        reward-changing wrappers out of here (the teacher should see the real return).
    check_task : bool
        Check that the env applies its task (:func:`check_applies_task`).

    Returns
    -------
    CurriculumVectorEnv or CurriculumSB3VecEnv

    Raises
    ------
    ValueError
        An unknown env id (listing the contextual ids), an env without ``task_space``, a
        teacher whose space is not inside it, a missing return scale, an env that ignores its
        task, or an unknown ``vectorization``.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> import autocurriculum.envs as ace
    >>> space = ace.PointMassGate.task_space
    >>> envs = ace.make_vec("autocurriculum/PointMassGate-v0", 4, ac.make("random", space, seed=0))
    >>> obs, info = envs.reset(seed=0)
    >>> for _ in range(200):
    ...     obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    >>> envs.curriculum.episodes > 0
    True
    >>> envs.close()
    """
    num_envs = check_size("num_envs", num_envs, high=100_000)
    if vectorization not in VECTORIZATIONS:
        close = difflib.get_close_matches(str(vectorization), VECTORIZATIONS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown vectorization {vectorization!r}.{hint} Known: {', '.join(VECTORIZATIONS)}"
        )
    sb3 = vectorization.startswith("sb3")
    if sb3 and autoreset_mode is not None:
        raise ValueError(
            "autoreset_mode applies to the Gymnasium vectorizations; SB3 vector envs always "
            "reset a finished sub-env in the same step"
        )
    factory = _factory(env_id_or_factory, env_kwargs)

    # One env built here, to read its contract and check it before starting any worker.
    probe = factory()
    try:
        space = task_space_of(probe)
        env_id = env_name(probe)
        check_teacher_fits(teacher, space, env_id)
        scorer = make_scorer(score, probe)
        if check_task:
            check_applies_task(probe)
    finally:
        probe.close()

    link = TaskLink(num_envs, space, shared=vectorization in ("async", "sb3-subproc"))
    env_fns: list[EnvFactory] = [
        functools.partial(
            _build_sub_env,
            factory,
            tuple(wrappers),
            link.end(i, scorer, defer_errors=vectorization == "sb3-subproc"),
            sb3,
        )
        for i in range(num_envs)
    ]
    extra: dict[str, Any] = dict(vector_kwargs or {})
    if autoreset_mode is not None:
        extra["autoreset_mode"] = autoreset_mode
    try:
        if vectorization == "sync":
            venv: Any = gym.vector.SyncVectorEnv(env_fns, **extra)
        elif vectorization == "async":
            venv = gym.vector.AsyncVectorEnv(env_fns, **extra)
        else:
            from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

            if vectorization == "sb3-dummy":
                venv = DummyVecEnv(env_fns, **extra)
            else:
                venv = SubprocVecEnv(env_fns, **extra)
    except BaseException:
        link.close()
        raise
    if sb3:
        from autocurriculum.envs.sb3 import CurriculumSB3VecEnv

        return CurriculumSB3VecEnv._from_link(venv, teacher, link, env_id, batch_size)
    return CurriculumVectorEnv._from_link(venv, teacher, link, env_id, batch_size)


def _factory(
    env_id_or_factory: str | EnvFactory, env_kwargs: Mapping[str, Any] | None
) -> EnvFactory:
    if isinstance(env_id_or_factory, str):
        env_id = env_id_or_factory
        try:
            gym.spec(env_id)
        except gym.error.Error as err:
            raise ValueError(_unknown_env_message(env_id, err)) from None
        return functools.partial(gym.make, env_id, **dict(env_kwargs or {}))
    if not callable(env_id_or_factory):
        raise ValueError(
            "env_id_or_factory must be a registered env id or a function returning a "
            f"contextual env, got {env_id_or_factory!r}"
        )
    if env_kwargs:
        raise ValueError("env_kwargs applies to an env id; put the arguments in your factory")
    return env_id_or_factory


def _unknown_env_message(env_id: str, err: Exception) -> str:
    contextual = sorted(k for k in gym.registry if k.startswith("autocurriculum/"))
    close = difflib.get_close_matches(env_id, contextual, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"unknown env id {env_id!r} ({err}).{hint} Contextual envs: {', '.join(contextual)}; "
        "any other Gymnasium env works through a factory returning "
        "TaskWrapper(gym.make(...), task_space, apply_task)"
    )


def _build_sub_env(
    factory: EnvFactory,
    wrappers: tuple[Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]], ...],
    end: LinkEnd,
    sb3: bool,
) -> gym.Env[Any, Any]:
    """One sub-env, built where it will run (this process or a worker)."""
    env = factory()
    for wrap in wrappers:
        env = wrap(env)
    env = TaskInbox(env, end)
    if sb3:
        # SB3's loggers read episode statistics from Monitor; it sees the same rewards.
        from stable_baselines3.common.monitor import Monitor

        env = Monitor(env)
    return env
