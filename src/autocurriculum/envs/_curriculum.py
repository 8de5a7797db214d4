"""The teacher's side of a curriculum env: staging tasks and crediting outcomes, in batches.

:class:`CurriculumCore` holds the teacher in the main process. After every vector step it reads
the outcomes the sub-envs posted (:mod:`autocurriculum.envs._link`) and stages a task in every
slot whose task was taken. Teacher calls are batched: ``sample`` draws ``num_envs`` tasks at a
time into a buffer, ``update`` receives ``batch_size`` outcomes at a time. For subprocess
vector envs both run while the workers step (between sending the actions and reading the
results), so the teacher's cost hides behind the env's.

:class:`CurriculumVectorEnv` wraps a Gymnasium vector env and :class:`CurriculumEnv` a single
env; :mod:`autocurriculum.envs.sb3` has the SB3 ``VecEnv`` wrapper.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, VectorEnv, VectorWrapper
from numpy.typing import NDArray

from autocurriculum.envs._contract import (
    ScoreSpec,
    check_applies_task,
    env_name,
    make_scorer,
    task_space_of,
)
from autocurriculum.envs._link import (
    CONSUMED,
    DONE,
    RETURN,
    SCORE,
    STAGED,
    STALE,
    SubEnvError,
    TaskInbox,
    TaskLink,
)
from autocurriculum.params import check_size
from autocurriculum.spaces import Box, Discrete, Space, space_from_dict

__all__ = ["CurriculumCore", "CurriculumEnv", "CurriculumVectorEnv", "check_teacher_fits"]


def check_teacher_fits(teacher: Any, space: Space, env_id: str) -> None:
    """Raise ``ValueError`` unless every task ``teacher`` can sample is a task of the env."""
    for method in ("sample", "update"):
        if not callable(getattr(teacher, method, None)):
            raise ValueError(
                f"teacher must implement the teacher protocol (sample, update), got {teacher!r}"
            )
    tspace = getattr(teacher, "space", None)
    fits = False
    if isinstance(tspace, Box) and isinstance(space, Box) and tspace.ndim == space.ndim:
        fits = bool(np.all(tspace.low >= space.low) and np.all(tspace.high <= space.high))
    elif isinstance(tspace, Discrete) and isinstance(space, Discrete):
        fits = tspace.n <= space.n
    if not fits:
        raise ValueError(
            f"the teacher samples from {tspace!r}, which is not inside the task space of "
            f"{env_id}, {space!r}: build the teacher on the env's task space (or a sub-box of it)"
        )


class CurriculumCore:
    """Stages tasks into a :class:`TaskLink` and sends the outcomes to the teacher in batches.

    Parameters
    ----------
    teacher : Teacher
        Lives in this process; only this object calls it.
    link : TaskLink
        The slots of the sub-envs.
    env_id : str
        For error messages.
    batch_size : int
        Outcomes per ``teacher.update`` call.
    """

    def __init__(self, teacher: Any, link: TaskLink, env_id: str, *, batch_size: int):
        self.teacher = teacher
        self.link = link
        self.env_id = env_id
        self.batch_size = check_size("batch_size", batch_size)
        n = link.num_envs
        self._seen = np.zeros(n, dtype=np.int64)
        self._next_seq = 1
        self._buffer: NDArray[np.float64] = np.empty((0, link.task_dim))
        self._pos = 0
        self._tasks: list[NDArray[np.float64]] = []
        self._scores: list[float] = []
        self.episodes = 0
        self.updates = 0
        self.returns: deque[float] = deque(maxlen=100)
        self.scores: deque[float] = deque(maxlen=100)
        # The slots' counters as last seen. Sub-envs change them only when an episode ends, a
        # task is taken or an error is recorded, so most vector steps find them unchanged and
        # skip the numpy work of harvest and stage (about 20 µs a step, 5% of a cheap env's).
        self._snapshot = b""

    # ----------------------------------------------------------------- tasks
    def _refill(self, need: int) -> None:
        """Draw more tasks from the teacher, keeping the ones not yet staged."""
        n = max(need, self.link.num_envs)
        fresh = np.asarray(self.teacher.sample(n), dtype=np.float64).reshape(n, self.link.task_dim)
        self._buffer = np.concatenate([self._buffer[self._pos :], fresh])
        self._pos = 0

    def stage(self) -> None:
        """Put a fresh task into every slot whose task a sub-env has taken."""
        ints = self.link.ints
        need = np.flatnonzero(ints[:, CONSUMED] == ints[:, STAGED])
        if need.size == 0:
            return
        k = need.size
        if len(self._buffer) - self._pos < k:
            self._refill(k)
        self.link.staged_task[need] = self._buffer[self._pos : self._pos + k]
        self._pos += k
        ints[need, STAGED] = np.arange(self._next_seq, self._next_seq + k)
        self._next_seq += k

    # -------------------------------------------------------------- outcomes
    def harvest(self) -> None:
        """Collect the outcomes the sub-envs posted since the last call."""
        done = self.link.ints[:, DONE]
        new = np.flatnonzero(done != self._seen)
        for i in new:
            if done[i] - self._seen[i] != 1:
                raise RuntimeError(
                    f"sub-env {i} of {self.env_id} finished {done[i] - self._seen[i]} episodes "
                    "between two steps of the curriculum wrapper, so outcomes were lost: step "
                    "and reset the curriculum wrapper, not the vector env inside it"
                )
            out = self.link.done_out[i]
            self._tasks.append(self.link.done_task[i].copy())
            self._scores.append(float(out[SCORE]))
            self.returns.append(float(out[RETURN]))
            self.scores.append(float(out[SCORE]))
        self._seen[new] = done[new]
        self.episodes += new.size

    def flush(self) -> None:
        """Send every outcome collected so far to the teacher."""
        if not self._scores:
            return
        tasks = np.stack(self._tasks)
        if self.link.discrete:
            tasks = tasks[:, 0].astype(np.int64)
        scores = np.asarray(self._scores)
        self._tasks, self._scores = [], []
        self.teacher.update(tasks, scores)
        self.updates += 1

    @property
    def pending(self) -> int:
        """Outcomes collected and not yet sent to the teacher."""
        return len(self._scores)

    # ----------------------------------------------------------------- cycle
    def prepare(self) -> None:
        """The teacher's work, done while sub-envs step: update, and draw tasks ahead."""
        if len(self._scores) >= self.batch_size:
            self.flush()
        if len(self._buffer) - self._pos < self.link.num_envs:
            self._refill(self.link.num_envs)

    def changed(self) -> bool:
        """Whether a sub-env changed its slot since :meth:`after_step` last looked."""
        return self.link.ints.tobytes() != self._snapshot

    def after_step(self) -> None:
        """Collect outcomes and restage; memory operations only unless the buffer ran dry."""
        if not self.changed():
            return
        self.harvest()
        self.stage()
        self._snapshot = self.link.ints.tobytes()

    def salvage(self) -> None:
        """After a sub-env crashed: keep every outcome that was delivered."""
        try:
            self.harvest()
        finally:
            self.flush()

    def metrics(self) -> dict[str, float]:
        """Counters for loggers, keyed ``curriculum/<name>``."""
        out = {
            "curriculum/episodes": float(self.episodes),
            "curriculum/teacher_updates": float(self.updates),
            "curriculum/pending_outcomes": float(self.pending),
            "curriculum/stale_tasks": float(self.link.ints[:, STALE].sum()),
        }
        if self.returns:
            out["curriculum/mean_return_100"] = float(np.mean(self.returns))
            out["curriculum/mean_score_100"] = float(np.mean(self.scores))
        return out


def describe_crash(err: BaseException, link: TaskLink, processes: Any = None) -> SubEnvError | None:
    """A :class:`SubEnvError` naming the sub-env behind ``err``, or ``None`` if none is known.

    Used when the error that reached the main process lost the sub-env's message (a worker
    that died, whose pipe closed): the sub-env wrote it into the link before dying.
    """
    if isinstance(err, SubEnvError):
        return None
    messages = [link.error(i) for i in range(link.num_envs)]
    found = [m for m in messages if m]
    if found:
        return SubEnvError("; ".join(found))
    dead = [
        f"sub-env {i} (exit code {p.exitcode})"
        for i, p in enumerate(processes or [])
        if p is not None and not p.is_alive()
    ]
    if dead:
        return SubEnvError(f"{', '.join(dead)} died without a Python error: {err!r}")
    return None


# ----------------------------------------------------------------- gymnasium vector
class CurriculumVectorEnv(VectorWrapper):
    """A Gymnasium vector env whose sub-envs practise the tasks a teacher chooses.

    Wrap a vector env whose sub-envs are each wrapped in :class:`TaskInbox` (or build one with
    :func:`autocurriculum.envs.make_vec`). Every sub-env holds its next task before its episode
    ends, in every autoreset mode; each finished episode's score is credited to the task it ran
    and reaches the teacher in batches of ``batch_size``.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        ``SyncVectorEnv`` or ``AsyncVectorEnv`` (any autoreset mode) of ``TaskInbox`` sub-envs.
        Put wrappers that change rewards (normalisation) outside this one.
    teacher : Teacher
        Chooses the tasks; it stays in this process.
    score : tuple, str, callable or None
        How an episode becomes a score in [0, 1] (see :mod:`autocurriculum.envs`).
    batch_size : int, optional
        Outcomes per ``teacher.update``; defaults to ``num_envs``.
    check_task : bool
        Check that the sub-envs apply their task (:func:`check_applies_task`).

    Raises
    ------
    ValueError
        Sub-envs without a ``TaskInbox``, a teacher whose space is not inside the env's task
        space, a missing return scale, or an env that ignores its task.

    Examples
    --------
    >>> import gymnasium as gym
    >>> import autocurriculum as ac
    >>> from autocurriculum.envs import CurriculumVectorEnv, TaskInbox
    >>> from autocurriculum.envs.point_mass_gate import PointMassGate
    >>> envs = gym.vector.SyncVectorEnv([lambda: TaskInbox(PointMassGate())] * 2)
    >>> teacher = ac.make("random", PointMassGate.task_space, seed=0)
    >>> envs = CurriculumVectorEnv(envs, teacher)
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape
    (2, 4)
    >>> envs.close()
    """

    def __init__(
        self,
        env: VectorEnv[Any, Any, Any],
        teacher: Any,
        score: ScoreSpec = None,
        *,
        batch_size: int | None = None,
        check_task: bool = True,
    ):
        super().__init__(env)
        n = env.num_envs
        infos = _inbox_infos(env, n, check_task)
        space = space_from_dict(infos[0]["task_space"])
        env_id = infos[0]["env_id"]
        check_teacher_fits(teacher, space, env_id)
        scorer = make_scorer(score) if score is not None else _scorer_from_info(infos[0], env_id)
        link = TaskLink(n, space, shared=isinstance(env.unwrapped, AsyncVectorEnv))
        venv: Any = env  # SyncVectorEnv and AsyncVectorEnv have set_attr; VectorEnv does not
        venv.set_attr("curriculum_link", [link.end(i, scorer) for i in range(n)])
        self._setup(teacher, link, env_id, batch_size)

    @classmethod
    def _from_link(
        cls,
        env: VectorEnv[Any, Any, Any],
        teacher: Any,
        link: TaskLink,
        env_id: str,
        batch_size: int | None,
    ) -> CurriculumVectorEnv:
        """Wrap sub-envs that were built already connected to ``link`` (``make_vec``)."""
        self = cls.__new__(cls)
        VectorWrapper.__init__(self, env)
        self._setup(teacher, link, env_id, batch_size)
        return self

    def _setup(self, teacher: Any, link: TaskLink, env_id: str, batch_size: int | None) -> None:
        self._n = self.env.num_envs
        self._core = CurriculumCore(
            teacher, link, env_id, batch_size=self._n if batch_size is None else batch_size
        )
        # Only a bare AsyncVectorEnv lets the teacher work while the workers step.
        self._split = isinstance(self.env, AsyncVectorEnv)
        self._closed = False
        self._broken: str | None = None

    # ------------------------------------------------------------------- API
    @property
    def teacher(self) -> Any:
        """The teacher that chooses the tasks."""
        return self._core.teacher

    @property
    def curriculum(self) -> CurriculumCore:
        """The staging and crediting machinery (counters in :meth:`CurriculumCore.metrics`)."""
        return self._core

    def flush(self) -> None:
        """Send the outcomes collected so far to the teacher (before saving it, say)."""
        self._core.flush()

    def metrics(self) -> dict[str, float]:
        """The teacher's metrics and the curriculum's counters, for a logger."""
        return {**self._core.teacher.metrics(), **self._core.metrics()}

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self._check_usable()
        if options and "task" in options:
            raise ValueError(
                "a curriculum env takes its tasks from the teacher, not from reset options; to "
                "run given tasks use the env without the curriculum (or autocurriculum.envs."
                "evaluate)"
            )
        self._core.harvest()
        self._core.stage()
        env: Any = self.env  # VectorEnv.reset's annotation omits per-sub-env seed lists
        try:
            result = env.reset(seed=seed, options=options)
        except BaseException as err:
            self._crashed(err)
        self._core.after_step()
        return result

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        self._check_usable()
        core = self._core
        try:
            if self._split:
                self.env.step_async(actions)  # type: ignore[attr-defined]
                core.prepare()
                result = self.env.step_wait()  # type: ignore[attr-defined]
            else:
                result = self.env.step(actions)
                core.prepare()
        except BaseException as err:
            self._crashed(err)
        core.after_step()
        return result

    def close(self, **kwargs: Any) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._broken is None:
                self._core.harvest()
            self._core.flush()
        finally:
            try:
                self.env.close(**kwargs)
            finally:
                self._core.link.close()

    # --------------------------------------------------------------- helpers
    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError(f"this curriculum env ({self._core.env_id}) was closed")
        if self._broken is not None:
            raise RuntimeError(
                f"this curriculum env stopped after a sub-env failed ({self._broken}); close it "
                "and build a new one (the teacher kept every delivered outcome)"
            )
        if self.env.num_envs != self._n:
            raise RuntimeError(
                f"the vector env inside the curriculum had {self._n} sub-envs and now has "
                f"{self.env.num_envs}: build a new curriculum env for the new sub-envs"
            )

    def _crashed(self, err: BaseException) -> Any:
        self._broken = f"{type(err).__name__}: {err}"
        try:
            self._core.salvage()
        finally:
            better = describe_crash(err, self._core.link, getattr(self.env, "processes", None))
            if better is not None:
                raise better from err
            raise err


def _inbox_infos(env: Any, n: int, check: bool) -> list[dict[str, Any]]:
    """Ask every sub-env's inbox about itself; a clear error when there is none."""
    try:
        infos = list(env.call("curriculum_info", check))
    except AttributeError:
        infos = []
    if len(infos) != n or not all(isinstance(i, dict) for i in infos):
        raise ValueError(
            f"the sub-envs of {env!r} are not wrapped in autocurriculum.envs.TaskInbox: build "
            "each with TaskInbox(env) (the env must be contextual: task_space plus "
            "reset(options={'task': ...})), or use autocurriculum.envs.make_vec"
        )
    for info in infos:
        if info["problem"]:
            raise ValueError(info["problem"])
    if any(info["task_space"] != infos[0]["task_space"] for info in infos):
        raise ValueError(
            "the sub-envs declare different task spaces: "
            f"{sorted({str(i['task_space']) for i in infos})}"
        )
    return infos


def _scorer_from_info(info: dict[str, Any], env_id: str) -> Any:
    bounds = info["return_bounds"]
    if bounds is None:
        from autocurriculum.envs._contract import _HOW_TO_DECLARE

        raise ValueError(f"no return scale for {env_id}: {_HOW_TO_DECLARE}")
    return make_scorer(tuple(bounds))


# ----------------------------------------------------------------------- single env
class CurriculumEnv(gym.Wrapper[Any, Any, Any, Any]):
    """One env whose every episode runs a task the teacher chose.

    For the loops that step a single env; vector envs should use
    :func:`autocurriculum.envs.make_vec` instead. By default the teacher samples one task per
    episode and learns from every outcome as it arrives (``batch_size=1``).

    Parameters
    ----------
    env : gymnasium.Env
        A contextual env.
    teacher : Teacher
        Chooses the tasks.
    score : tuple, str, callable or None
        How an episode becomes a score in [0, 1].
    batch_size : int
        Outcomes per ``teacher.update``.
    check_task : bool
        Check at construction that ``env`` applies its task.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> from autocurriculum.envs import CurriculumEnv
    >>> from autocurriculum.envs.point_mass_gate import PointMassGate
    >>> teacher = ac.make("random", PointMassGate.task_space, seed=0)
    >>> env = CurriculumEnv(PointMassGate(), teacher)
    >>> obs, info = env.reset(seed=0)
    >>> bool(PointMassGate.task_space.contains(env.get_wrapper_attr("task")))
    True
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        teacher: Any,
        score: ScoreSpec = None,
        *,
        batch_size: int = 1,
        check_task: bool = True,
    ):
        space = task_space_of(env)
        env_id = env_name(env)
        check_teacher_fits(teacher, space, env_id)
        scorer = make_scorer(score, env)
        if check_task:
            check_applies_task(env)
        link = TaskLink(1, space, shared=False)
        super().__init__(TaskInbox(env, link.end(0, scorer)))
        self._core = CurriculumCore(teacher, link, env_id, batch_size=batch_size)

    @property
    def teacher(self) -> Any:
        """The teacher that chooses the tasks."""
        return self._core.teacher

    def flush(self) -> None:
        """Send the outcomes collected so far to the teacher."""
        self._core.flush()

    def metrics(self) -> dict[str, float]:
        """The teacher's metrics and the curriculum's counters, for a logger."""
        return {**self._core.teacher.metrics(), **self._core.metrics()}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if options and "task" in options:
            raise ValueError(
                "a curriculum env takes its tasks from the teacher, not from reset options"
            )
        self._core.harvest()
        self._core.stage()
        result = self.env.reset(seed=seed, options=options)
        self._core.after_step()
        return result

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        core = self._core
        if core.changed():
            # Flush before staging: with batch_size=1 an outcome reaches the teacher as soon
            # as its episode ends, and the next task comes from the updated teacher.
            core.harvest()
            core.prepare()
            core.after_step()
        return result

    def close(self) -> None:
        self._core.harvest()
        self._core.flush()
        super().close()
