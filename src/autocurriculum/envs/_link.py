"""The mailbox between the main process (teacher) and each sub-env: staged tasks and outcomes.

Why shared memory: Gymnasium and SB3 vector envs reset a finished sub-env themselves, with no
options (Gymnasium issue #787, SB3 issue #1790), so each sub-env must already hold its next task
when its episode ends; and asking the main process for one at that moment would make a worker
wait. Instead each sub-env has a slot in a small block of memory that both sides map:

- the main process writes the sub-env's *next* task into the slot, with a fresh sequence number,
  whenever the sub-env has taken the previous one (it checks after every vector step);
- the sub-env (:class:`TaskInbox`) takes the staged task at each reset, runs it, and when the
  episode ends writes the task it ran, the return, the score and the length, then bumps its
  episode counter;
- the main process reads the counters after every vector step and credits each new outcome to
  the task the sub-env reported, so credit is exact whatever the autoreset mode.

Both sides touch the memory only between a vector step's reply and the next command: a worker
writes before it answers a step, the main process reads and writes before it sends the next
one, and the pipe in between orders the accesses. Nothing ever blocks on the teacher.

For sub-envs in the main process (sync and DummyVecEnv vectorization) the block is ordinary
memory; for subprocesses it is a file in ``/dev/shm`` (RAM) that each worker maps by path, which
works with every start method (fork, forkserver, spawn).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import weakref
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from autocurriculum.envs._contract import Scorer, env_name, task_space_of
from autocurriculum.spaces import Discrete, Space

__all__ = ["LinkEnd", "SubEnvError", "SubEnvValueError", "TaskInbox", "TaskLink"]

# Integer fields of a slot.
STAGED, CONSUMED, DONE, STALE, FAILED = 0, 1, 2, 3, 4
_N_INTS = 5
# Float fields of an outcome.
RETURN, SCORE, LENGTH = 0, 1, 2
_N_OUT = 3
_ERROR_BYTES = 1024


class SubEnvError(RuntimeError):
    """A sub-env raised; the message names its index, its env id and the task it ran."""


class SubEnvValueError(SubEnvError, ValueError):
    """A sub-env raised ``ValueError`` (a task outside its space, a return outside its bounds)."""


class TaskLink:
    """Task and outcome slots for ``num_envs`` sub-envs.

    Parameters
    ----------
    num_envs : int
        Number of sub-envs.
    task_space : Space
        Their task space (a task is stored as ``task_dim`` float64 values).
    shared : bool
        Back the slots with a file in ``/dev/shm`` so that subprocesses can map them. An
        in-process link cannot be pickled.
    """

    def __init__(self, num_envs: int, task_space: Space, *, shared: bool):
        self.num_envs = int(num_envs)
        self.discrete = isinstance(task_space, Discrete)
        self.task_dim = 1 if self.discrete else int(np.prod(task_space.task_shape))
        self.shared = shared
        self.path: str | None = None
        size = self._size()
        if shared:
            folder = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
            fd, path = tempfile.mkstemp(prefix="autocurriculum-link-", dir=folder)
            try:
                os.ftruncate(fd, size)
                buffer: Any = mmap.mmap(fd, size)
            finally:
                os.close(fd)
            self.path = path
            # Removes the file when the link is collected or at exit; workers keep their
            # mapping, which outlives the name.
            self._finalizer = weakref.finalize(self, _unlink, path)
        else:
            buffer = bytearray(size)
        self._bind(buffer)

    def _size(self) -> int:
        n, d = self.num_envs, self.task_dim
        return 8 * n * (_N_INTS + 2 * d + _N_OUT) + n * _ERROR_BYTES

    def _bind(self, buffer: Any) -> None:
        n, d = self.num_envs, self.task_dim
        self._buffer = buffer
        offset = 0

        def view(dtype: Any, shape: tuple[int, ...]) -> NDArray[Any]:
            nonlocal offset
            count = int(np.prod(shape))
            arr = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).reshape(shape)
            offset += count * np.dtype(dtype).itemsize
            return arr

        self.ints = view(np.int64, (n, _N_INTS))
        self.staged_task = view(np.float64, (n, d))
        self.done_task = view(np.float64, (n, d))
        self.done_out = view(np.float64, (n, _N_OUT))
        self.errors = view(np.uint8, (n, _ERROR_BYTES))

    def end(self, index: int, scorer: Scorer, *, defer_errors: bool = False) -> LinkEnd:
        """What sub-env ``index`` needs: this link, its slot and how to score."""
        return LinkEnd(self, index, scorer, defer_errors=defer_errors)

    def failed(self) -> bool:
        """Whether any sub-env recorded an error."""
        return bool(self.ints[:, FAILED].any())

    def error(self, index: int) -> str:
        """The last error sub-env ``index`` recorded, or an empty string."""
        raw = bytes(self.errors[index])
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

    def close(self) -> None:
        """Remove the backing file (mappings stay valid until they are dropped)."""
        if self.path is not None:
            self._finalizer()

    def __getstate__(self) -> dict[str, Any]:
        if not self.shared or self.path is None:
            raise TypeError(
                "this TaskLink lives in the main process only (sync or DummyVecEnv sub-envs); "
                "use a shared link for sub-envs in other processes"
            )
        return {
            "num_envs": self.num_envs,
            "discrete": self.discrete,
            "task_dim": self.task_dim,
            "path": self.path,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.num_envs = state["num_envs"]
        self.discrete = state["discrete"]
        self.task_dim = state["task_dim"]
        self.path = state["path"]
        self.shared = True
        with open(self.path, "r+b") as f:
            buffer = mmap.mmap(f.fileno(), self._size())
        self._bind(buffer)
        # A worker's copy does not own the file: the main process removes it.
        self.path = None


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class LinkEnd:
    """A sub-env's end of a :class:`TaskLink`: the link, the slot index and the scorer.

    With ``defer_errors`` the sub-env does not raise: it records the error in the link and ends
    the episode, and the main process raises it after the step. SB3's ``SubprocVecEnv`` needs
    this: a worker that raises dies, and with the fork start method its pipe may never report
    the death (sibling workers hold copies of it), so the main process would wait forever.
    """

    def __init__(self, link: TaskLink, index: int, scorer: Scorer, *, defer_errors: bool = False):
        self.link = link
        self.index = int(index)
        self.scorer = scorer
        self.defer_errors = defer_errors


class TaskInbox(gym.Wrapper[Any, Any, Any, Any]):
    """The sub-env side of a curriculum: takes staged tasks, reports each episode's outcome.

    :func:`autocurriculum.envs.make_vec` adds it to every sub-env. Add it yourself when you build
    your own vector env, then wrap that vector env with :class:`CurriculumVectorEnv` or
    :class:`CurriculumSB3VecEnv`, which connect the inboxes to the teacher::

        envs = gym.vector.AsyncVectorEnv([lambda: TaskInbox(MyContextualEnv())] * 8)
        envs = CurriculumVectorEnv(envs, teacher, score=(0.0, 1.0))

    Until it is connected, or when ``reset`` gets ``options={"task": ...}``, it passes resets
    through unchanged. A reset with an explicit task is still reported, credited to that task.

    Parameters
    ----------
    env : gymnasium.Env
        A contextual env (it has ``task_space`` and applies ``reset(options={"task": ...})``).
    end : LinkEnd, optional
        The slot to serve; the curriculum wrappers set it.
    """

    def __init__(self, env: gym.Env[Any, Any], end: LinkEnd | None = None):
        super().__init__(env)
        self._task_space = task_space_of(env)
        self._name = env_name(env)
        self._end: LinkEnd | None = None
        self._task: Any = None
        self._task_vec: NDArray[np.float64] | None = None
        self._return = 0.0
        self._length = 0
        self._last_obs: Any = None
        if end is not None:
            self.curriculum_link = end

    # ------------------------------------------------------------ connection
    @property
    def curriculum_link(self) -> LinkEnd | None:
        """The slot this inbox serves; set by the curriculum wrappers."""
        return self._end

    @curriculum_link.setter
    def curriculum_link(self, end: LinkEnd | None) -> None:
        self._end = end

    def curriculum_attach(self, end: LinkEnd) -> None:
        """Serve ``end`` (the method form of setting :attr:`curriculum_link`, for SB3)."""
        self._end = end

    def curriculum_info(self, check: bool = False) -> dict[str, Any]:
        """What the main process needs to know about this sub-env.

        ``check=True`` also runs :func:`check_applies_task` and reports its error, if any.
        """
        from autocurriculum.envs._contract import _declared, check_applies_task

        problem = None
        if check:
            try:
                check_applies_task(self.env)
            except ValueError as err:
                problem = str(err)
        return {
            "env_id": self._name,
            "task_space": self._task_space.to_dict(),
            "return_bounds": _declared(self.env, "return_bounds"),
            "problem": problem,
        }

    # --------------------------------------------------------------- episode
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        end = self._end
        try:
            if options and "task" in options:
                task = options["task"]
                self._set_task(task)
            elif end is not None:
                self._take_staged(end)
                options = dict(options or {})
                options["task"] = self._task
            else:
                self._task = self._task_vec = None
            self._return, self._length = 0.0, 0
            obs, info = self.env.reset(seed=seed, options=options)
            self._last_obs = obs
            return obs, info
        except Exception as err:
            failure = self._failure("reset", err)
            if self._deferred():
                return self._fallback_obs(), {}
            raise failure from err

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
            self._return += float(reward)
            self._length += 1
            if (terminated or truncated) and self._end is not None and self._task_vec is not None:
                self._post(self._end, info)
            self._last_obs = obs
            return obs, reward, terminated, truncated, info
        except Exception as err:
            failure = self._failure("step", err)
            if self._deferred():
                # Recorded in the link; end the episode so that the worker answers the step.
                return self._fallback_obs(), 0.0, True, False, {}
            raise failure from err

    def _deferred(self) -> bool:
        return self._end is not None and self._end.defer_errors

    def _fallback_obs(self) -> Any:
        return self._last_obs if self._last_obs is not None else self.observation_space.sample()

    def _set_task(self, task: Any) -> None:
        vec = np.asarray(task, dtype=np.float64).reshape(-1)
        self._task, self._task_vec = task, vec

    def _take_staged(self, end: LinkEnd) -> None:
        link, i = end.link, end.index
        seq = int(link.ints[i, STAGED])
        if seq != link.ints[i, CONSUMED] and seq != 0:
            vec = link.staged_task[i].copy()
            self._task = int(vec[0]) if link.discrete else vec
            self._task_vec = vec
            link.ints[i, CONSUMED] = seq
        elif self._task_vec is not None:
            # Nothing new staged (the main process was bypassed): rerun the last task rather
            # than wait. The outcome is still credited to the task that ran; STALE counts it.
            link.ints[i, STALE] += 1
        else:
            raise RuntimeError(
                "no task was staged for this sub-env: reset the curriculum wrapper, not the "
                "vector env inside it"
            )

    def _post(self, end: LinkEnd, info: Mapping[str, Any]) -> None:
        link, i = end.link, end.index
        assert self._task_vec is not None
        score = end.scorer(self._return, info)
        link.done_task[i] = self._task_vec
        out = link.done_out[i]
        out[RETURN], out[SCORE], out[LENGTH] = self._return, score, self._length
        # The counter goes last: the main process reads an outcome only once it moved.
        link.ints[i, DONE] += 1

    def _failure(self, where: str, err: Exception) -> Exception:
        if isinstance(err, SubEnvError):
            return err
        index = self._end.index if self._end is not None else None
        who = f"sub-env {index}" if index is not None else "env"
        task = "" if self._task is None else f" on task {_show_task(self._task)}"
        message = f"{who} ({self._name}) raised {type(err).__name__} in {where}{task}: {err}"
        if self._end is not None:
            raw = message.encode("utf-8", "replace")[: _ERROR_BYTES - 1]
            row = self._end.link.errors[self._end.index]
            row[:] = 0
            row[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
            # After the message: the main process looks at the errors only when a counter moved.
            self._end.link.ints[self._end.index, FAILED] += 1
        return SubEnvValueError(message) if isinstance(err, ValueError) else SubEnvError(message)


def _show_task(task: Any) -> str:
    if isinstance(task, int | np.integer):
        return str(int(task))
    return np.array2string(np.asarray(task, dtype=np.float64), precision=6, separator=", ")
