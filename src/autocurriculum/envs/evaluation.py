"""``evaluate``: % of a test set of tasks a policy masters, with the return on every task."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.envs._contract import _declared, env_name, task_space_of, validate_task
from autocurriculum.params import check_int, check_seed, check_size
from autocurriculum.spaces import Discrete

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes
    ----------
    tasks : ndarray
        The test set, ``(n_tasks, ndim)`` for a Box, ``(n_tasks,)`` for a Discrete.
    returns : ndarray
        ``(n_tasks, episodes_per_task)`` episodic returns.
    threshold : float
        A task is mastered when its mean return is above it.
    """

    tasks: NDArray[Any]
    returns: NDArray[np.float64]
    threshold: float

    @property
    def mean_returns(self) -> NDArray[np.float64]:
        """Mean return per task."""
        return self.returns.mean(axis=1)

    @property
    def mastered(self) -> NDArray[np.bool_]:
        """Whether each task is mastered (mean return above the threshold)."""
        return self.mean_returns > self.threshold

    @property
    def percent_mastered(self) -> float:
        """% of the test set mastered."""
        return float(100.0 * self.mastered.mean())


def evaluate(
    policy: Any,
    env_id: str | Callable[[], gym.Env[Any, Any]],
    test_set: ArrayLike | None = None,
    episodes_per_task: int = 1,
    *,
    threshold: float | None = None,
    num_envs: int = 8,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    max_episode_steps: int | None = None,
) -> Evaluation:
    """Run a policy on every task of a test set; return % mastered and the returns.

    Episode ``k`` of task ``i`` is reset with a seed derived from ``(seed, i, k)``, so the
    result does not depend on ``num_envs`` or on the order in which episodes finish.
    ``num_envs`` envs run side by side in this process, and the policy acts on all of them in
    one batched call per step.

    Parameters
    ----------
    policy : callable or SB3 model
        ``policy(observations) -> actions`` on a batch, or an object with SB3's
        ``predict(observations, deterministic=...)``.
    env_id : str or callable
        A registered contextual env id, or a function returning a contextual env.
    test_set : array_like, optional
        The tasks; defaults to the env's ``default_test_set``.
    episodes_per_task : int
        Episodes on each task; mastery is judged on their mean return.
    threshold : float, optional
        Mastery threshold on the mean return; defaults to the env's ``mastery_threshold``.
    num_envs : int
        Envs run side by side.
    seed : int
        Base of the per-episode seeds.
    env_kwargs : mapping, optional
        Keyword arguments of ``gymnasium.make`` (with an env id only).
    deterministic : bool
        Passed to an SB3 model's ``predict``.
    max_episode_steps : int, optional
        Cut episodes after this many steps (for envs built without a time limit).

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        A task outside the env's task space (naming the env and the task), no test set or no
        threshold given or declared.

    Examples
    --------
    >>> import numpy as np
    >>> import autocurriculum.envs as ace
    >>> def straight_down(obs):
    ...     return np.tile([0.0, -1.0], (len(obs), 1))
    >>> result = ace.evaluate(straight_down, "autocurriculum/PointMassGate-v0",
    ...                       test_set=[[0.0, 3.0], [3.0, 1.0]])
    >>> result.mean_returns.tolist(), result.percent_mastered
    ([1.0, 0.0], 50.0)
    """
    episodes_per_task = check_size("episodes_per_task", episodes_per_task, high=1_000_000)
    num_envs = check_int("num_envs", num_envs, low=1, high=10_000)
    seed = check_seed(seed) or 0
    limit = (
        None if max_episode_steps is None else check_size("max_episode_steps", max_episode_steps)
    )
    if isinstance(env_id, str):
        factory: Callable[[], gym.Env[Any, Any]] = functools.partial(
            gym.make, env_id, **dict(env_kwargs or {})
        )
    else:
        factory = env_id
    envs = [factory()]
    try:
        first = envs[0]
        name = env_name(first)
        space = task_space_of(first)
        if test_set is None:
            test_set = _declared(first, "default_test_set")
            if test_set is None:
                raise ValueError(f"{name} declares no default_test_set: pass test_set=...")
        tasks = [validate_task(space, t, name) for t in _rows(test_set, space)]
        if threshold is None:
            threshold = _declared(first, "mastery_threshold")
            if threshold is None:
                raise ValueError(f"{name} declares no mastery_threshold: pass threshold=...")
        jobs = [(i, k) for i in range(len(tasks)) for k in range(episodes_per_task)]
        envs += [factory() for _ in range(min(num_envs, len(jobs)) - 1)]
        act = _as_batch_policy(policy, deterministic)
        returns = np.zeros((len(tasks), episodes_per_task))

        running: dict[int, tuple[int, int, Any]] = {}  # env slot -> (task, episode, obs)
        steps = [0] * len(envs)
        next_job = 0
        while next_job < len(jobs) or running:
            for slot in range(len(envs)):
                if slot not in running and next_job < len(jobs):
                    i, k = jobs[next_job]
                    next_job += 1
                    episode_seed = int(np.random.SeedSequence([seed, i, k]).generate_state(1)[0])
                    obs, _ = envs[slot].reset(seed=episode_seed, options={"task": tasks[i]})
                    running[slot] = (i, k, obs)
                    steps[slot] = 0
            slots = sorted(running)
            actions = act(np.stack([running[s][2] for s in slots]))
            for slot, action in zip(slots, actions, strict=True):
                i, k, _ = running[slot]
                obs, reward, terminated, truncated, _ = envs[slot].step(action)
                returns[i, k] += float(reward)
                steps[slot] += 1
                if terminated or truncated or (limit is not None and steps[slot] >= limit):
                    del running[slot]
                else:
                    running[slot] = (i, k, obs)
    finally:
        for env in envs:
            env.close()
    task_array = np.asarray(tasks)
    return Evaluation(tasks=task_array, returns=returns, threshold=float(threshold))


def _rows(test_set: ArrayLike, space: Any) -> list[Any]:
    arr = np.asarray(test_set)
    if isinstance(space, Discrete):
        return list(arr.reshape(-1))
    if arr.ndim == 1:
        arr = arr.reshape(-1, space.ndim) if space.ndim == 1 else arr[None, :]
    return list(arr)


def _as_batch_policy(policy: Any, deterministic: bool) -> Callable[[Any], Any]:
    predict = getattr(policy, "predict", None)
    if callable(predict):
        return lambda obs: predict(obs, deterministic=deterministic)[0]
    if callable(policy):
        return policy
    raise ValueError(
        "policy must be a function of a batch of observations or have SB3's predict, got "
        f"{policy!r}"
    )
