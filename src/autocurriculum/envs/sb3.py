"""Stable-Baselines3 integration: a curriculum ``VecEnv`` wrapper and a logging/checkpoint callback.

Importing this module imports ``stable_baselines3`` (and torch); nothing else in
:mod:`autocurriculum.envs` does until it is used.

Examples
--------
>>> import autocurriculum as ac
>>> import autocurriculum.envs as ace
>>> from stable_baselines3 import PPO
>>> from autocurriculum.envs.sb3 import CurriculumCallback
>>> teacher = ac.make("random", ace.PointMassGate.task_space, seed=0)
>>> envs = ace.make_vec("autocurriculum/PointMassGate-v0", 2, teacher, vectorization="sb3-dummy")
>>> model = PPO("MlpPolicy", envs, n_steps=64, batch_size=64, n_epochs=1, seed=0)
>>> _ = model.learn(256, callback=CurriculumCallback())
>>> teacher.metrics()["teacher/n_updates"] > 0
True
>>> envs.close()
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv, VecEnvWrapper

from autocurriculum.envs._contract import ScoreSpec, make_scorer
from autocurriculum.envs._curriculum import (
    CurriculumCore,
    _scorer_from_info,
    check_teacher_fits,
    describe_crash,
)
from autocurriculum.envs._link import SubEnvError, TaskLink
from autocurriculum.spaces import space_from_dict

__all__ = ["CurriculumCallback", "CurriculumSB3VecEnv", "find_curriculum"]


class CurriculumSB3VecEnv(VecEnvWrapper):
    """An SB3 ``VecEnv`` whose sub-envs practise the tasks a teacher chooses.

    Wrap a ``DummyVecEnv`` or ``SubprocVecEnv`` whose sub-envs each contain a
    :class:`~autocurriculum.envs.TaskInbox` (or build one with
    :func:`autocurriculum.envs.make_vec`). SB3 resets a finished sub-env inside ``step``, with
    no options; every sub-env already holds its next task by then. Outcomes are credited to the
    task each episode ran and reach the teacher in batches; for ``SubprocVecEnv`` the teacher
    works while the workers step.

    Parameters
    ----------
    venv : VecEnv
        The vector env. Put ``VecNormalize`` and other reward-changing wrappers outside.
    teacher : Teacher
        Chooses the tasks; it stays in this process.
    score : tuple, str, callable or None
        How an episode becomes a score in [0, 1] (see :mod:`autocurriculum.envs`).
    batch_size : int, optional
        Outcomes per ``teacher.update``; defaults to ``num_envs``.
    check_task : bool
        Check that the sub-envs apply their task.
    """

    def __init__(
        self,
        venv: VecEnv,
        teacher: Any,
        score: ScoreSpec = None,
        *,
        batch_size: int | None = None,
        check_task: bool = True,
    ):
        n = venv.num_envs
        try:
            infos = venv.env_method("curriculum_info", check_task)
        except AttributeError:
            infos = []
        if len(infos) != n or not all(isinstance(i, dict) for i in infos):
            raise ValueError(
                f"the sub-envs of {venv!r} are not wrapped in autocurriculum.envs.TaskInbox: "
                "build each with TaskInbox(env), or use autocurriculum.envs.make_vec"
            )
        for info in infos:
            if info["problem"]:
                raise ValueError(info["problem"])
        space = space_from_dict(infos[0]["task_space"])
        env_id = infos[0]["env_id"]
        check_teacher_fits(teacher, space, env_id)
        scorer = make_scorer(score) if score is not None else _scorer_from_info(infos[0], env_id)
        subproc = isinstance(venv, SubprocVecEnv)
        link = TaskLink(n, space, shared=subproc)
        for i in range(n):
            end = link.end(i, scorer, defer_errors=subproc)
            venv.env_method("curriculum_attach", end, indices=[i])
        super().__init__(venv)
        self._setup(teacher, link, env_id, batch_size)

    @classmethod
    def _from_link(
        cls, venv: VecEnv, teacher: Any, link: TaskLink, env_id: str, batch_size: int | None
    ) -> CurriculumSB3VecEnv:
        """Wrap sub-envs built already connected to ``link`` (``make_vec``)."""
        self = cls.__new__(cls)
        VecEnvWrapper.__init__(self, venv)
        self._setup(teacher, link, env_id, batch_size)
        return self

    def _setup(self, teacher: Any, link: TaskLink, env_id: str, batch_size: int | None) -> None:
        self._n = self.venv.num_envs
        self._core = CurriculumCore(
            teacher, link, env_id, batch_size=self._n if batch_size is None else batch_size
        )
        self._closed = False
        self._broken: str | None = None

    # ------------------------------------------------------------------- API
    @property
    def teacher(self) -> Any:
        """The teacher that chooses the tasks."""
        return self._core.teacher

    @property
    def curriculum(self) -> CurriculumCore:
        """The staging and crediting machinery."""
        return self._core

    def flush(self) -> None:
        """Send the outcomes collected so far to the teacher."""
        self._core.flush()

    def metrics(self) -> dict[str, float]:
        """The teacher's metrics and the curriculum's counters, for a logger."""
        return {**self._core.teacher.metrics(), **self._core.metrics()}

    def reset(self) -> Any:
        self._check_usable()
        self._core.harvest()
        self._core.stage()
        try:
            obs = self.venv.reset()
        except BaseException as err:
            self._crashed(err)
        self._raise_deferred()
        self._core.after_step()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._check_usable()
        try:
            self.venv.step_async(actions)
        except BaseException as err:
            self._crashed(err)
        # The workers are stepping: the teacher's turn.
        self._core.prepare()

    def step_wait(self) -> Any:
        try:
            result = self.venv.step_wait()
        except BaseException as err:
            self._crashed(err)
        if self._core.changed():  # a recorded error moves a counter too
            self._raise_deferred()
            self._core.after_step()
        return result

    def _raise_deferred(self) -> None:
        # Subprocess sub-envs record their errors instead of dying (see LinkEnd).
        link = self._core.link
        if link.shared and link.failed():
            messages = [link.error(i) for i in range(link.num_envs) if link.error(i)]
            self._crashed(SubEnvError("; ".join(messages)))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._broken is None:
                self._core.harvest()
            self._core.flush()
        finally:
            try:
                if self._broken is not None and isinstance(self.venv, SubprocVecEnv):
                    _close_broken_subproc(self.venv)
                else:
                    self.venv.close()
            finally:
                self._core.link.close()

    # --------------------------------------------------------------- helpers
    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError(f"this curriculum VecEnv ({self._core.env_id}) was closed")
        if self._broken is not None:
            raise RuntimeError(
                f"this curriculum VecEnv stopped after a sub-env failed ({self._broken}); close "
                "it and build a new one (the teacher kept every delivered outcome)"
            )
        if self.venv.num_envs != self._n:
            raise RuntimeError(
                f"the VecEnv inside the curriculum had {self._n} sub-envs and now has "
                f"{self.venv.num_envs}: build a new curriculum VecEnv for the new sub-envs"
            )

    def _crashed(self, err: BaseException) -> Any:
        self._broken = f"{type(err).__name__}: {err}"
        try:
            self._core.salvage()
        finally:
            better = describe_crash(err, self._core.link, getattr(self.venv, "processes", None))
            if better is not None:
                self._broken = str(better)
                raise better from err
            raise err


def _close_broken_subproc(venv: SubprocVecEnv) -> None:
    """Close a SubprocVecEnv with a dead worker, which ``close()`` would trip over."""
    for remote in venv.remotes:
        with contextlib.suppress(BrokenPipeError, EOFError, OSError):
            remote.send(("close", None))
    for process in venv.processes:
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
    venv.closed = True


def find_curriculum(env: Any) -> Any:
    """The curriculum wrapper inside an SB3 ``VecEnv`` stack (``VecNormalize``, ...).

    Raises
    ------
    ValueError
        If there is none.
    """
    current = env
    while current is not None:
        if isinstance(current, CurriculumSB3VecEnv):
            return current
        current = getattr(current, "venv", None)
    raise ValueError(
        f"no curriculum in {env!r}: train on autocurriculum.envs.make_vec(..., "
        "vectorization='sb3-dummy' or 'sb3-subproc') or a CurriculumSB3VecEnv"
    )


class CurriculumCallback(BaseCallback):
    """Log the teacher's metrics to SB3's logger, and checkpoint the teacher next to the model.

    At the end of every rollout it records ``teacher.metrics()`` and the curriculum's counters
    (episodes, teacher updates, stale tasks, recent mean return) with ``logger.record``, so
    they reach TensorBoard, CSV or stdout with SB3's own metrics. Every ``save_freq`` calls it
    sends the pending outcomes to the teacher, saves the model as SB3's
    ``CheckpointCallback`` names it (``{prefix}_{steps}_steps.zip``) and the teacher beside it
    (``{prefix}_teacher_{steps}_steps.ckpt``, read back with :func:`autocurriculum.load`).

    Parameters
    ----------
    save_freq : int, optional
        Checkpoint every this many calls (vector steps); ``None`` never checkpoints.
    save_path : str, optional
        Folder of the checkpoints; needed with ``save_freq``.
    name_prefix : str
        Prefix of the checkpoint files.
    save_model : bool
        Also save the model, so that model and teacher checkpoints come in matching pairs.
    verbose : int
        1 prints each checkpoint path.
    """

    def __init__(
        self,
        save_freq: int | None = None,
        save_path: str | os.PathLike[str] | None = None,
        name_prefix: str = "rl_model",
        save_model: bool = True,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        if save_freq is not None and (not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be a positive int or None, got {save_freq!r}")
        if save_freq is not None and save_path is None:
            raise ValueError("save_freq needs save_path, the folder of the checkpoints")
        self.save_freq = save_freq
        self.save_path = None if save_path is None else os.fspath(save_path)
        self.name_prefix = name_prefix
        self.save_model = save_model
        self.curriculum_env: Any = None

    def _init_callback(self) -> None:
        self.curriculum_env = find_curriculum(self.training_env)
        if self.save_path is not None:
            os.makedirs(self.save_path, exist_ok=True)

    def _on_step(self) -> bool:
        if self.save_freq is not None and self.n_calls % self.save_freq == 0:
            self.save_checkpoint()
        return True

    def _on_rollout_end(self) -> None:
        for key, value in self.curriculum_env.metrics().items():
            self.logger.record(key, value)

    def save_checkpoint(self) -> str:
        """Save the teacher (and the model) now; return the teacher checkpoint's path."""
        if self.save_path is None:
            raise ValueError("CurriculumCallback has no save_path")
        steps = self.num_timesteps
        self.curriculum_env.flush()
        teacher_path = os.path.join(
            self.save_path, f"{self.name_prefix}_teacher_{steps}_steps.ckpt"
        )
        self.curriculum_env.teacher.save(teacher_path)
        if self.save_model:
            model_path = os.path.join(self.save_path, f"{self.name_prefix}_{steps}_steps.zip")
            self.model.save(model_path)
        if self.verbose >= 1:
            print(f"Saving teacher checkpoint to {teacher_path}")
        return teacher_path
