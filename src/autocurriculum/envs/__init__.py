"""Curriculum RL with Gymnasium and Stable-Baselines3: contextual envs and curriculum vector envs.

Importing this package imports Gymnasium and registers the contextual envs under the
``autocurriculum/`` namespace (``autocurriculum/PointMassGate-v0``,
``autocurriculum/StumpTracks-v0``). ``import autocurriculum`` alone imports neither; the SB3
pieces (:mod:`autocurriculum.envs.sb3`) import Stable-Baselines3 only when used.

The contract (see :mod:`autocurriculum.envs._contract`): a contextual env has ``task_space``
and applies ``reset(options={"task": task})``; :class:`TaskWrapper` adapts any env. The
``score`` argument of the wrappers turns an episode into a score in [0, 1].

Examples
--------
>>> import autocurriculum as ac
>>> import autocurriculum.envs as ace
>>> teacher = ac.make("alp-gmm", ace.PointMassGate.task_space, seed=0)
>>> envs = ace.make_vec("autocurriculum/PointMassGate-v0", 4, teacher, vectorization="sync")
>>> obs, info = envs.reset(seed=0)
>>> obs, rewards, terminated, truncated, info = envs.step(envs.action_space.sample())
>>> envs.close()
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from autocurriculum.envs._contract import (
    ReturnBounds,
    ScoreSpec,
    SuccessScore,
    TaskWrapper,
    check_applies_task,
    make_scorer,
    task_space_of,
)
from autocurriculum.envs._curriculum import CurriculumEnv, CurriculumVectorEnv
from autocurriculum.envs._link import SubEnvError, SubEnvValueError, TaskInbox
from autocurriculum.envs._make import VECTORIZATIONS, make_vec
from autocurriculum.envs.evaluation import Evaluation, evaluate
from autocurriculum.envs.point_mass_gate import PointMassGate

__all__ = [
    "ENV_IDS",
    "VECTORIZATIONS",
    "CurriculumCallback",
    "CurriculumEnv",
    "CurriculumSB3VecEnv",
    "CurriculumVectorEnv",
    "Evaluation",
    "PointMassGate",
    "ReturnBounds",
    "ScoreSpec",
    "SubEnvError",
    "SubEnvValueError",
    "SuccessScore",
    "TaskInbox",
    "TaskWrapper",
    "check_applies_task",
    "evaluate",
    "make_scorer",
    "make_vec",
    "task_space_of",
]

#: The contextual envs this package registers with Gymnasium, and their step limits.
ENV_IDS = {
    "autocurriculum/PointMassGate-v0": (
        "autocurriculum.envs.point_mass_gate:PointMassGate",
        100,
    ),
    "autocurriculum/StumpTracks-v0": ("autocurriculum.envs.stump_tracks:StumpTracks", 2000),
}

for _id, (_entry_point, _steps) in ENV_IDS.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry_point, max_episode_steps=_steps)

_SB3 = {"CurriculumSB3VecEnv", "CurriculumCallback"}


def __getattr__(name: str) -> Any:
    # The SB3 wrappers import stable_baselines3 (and torch): only when asked for.
    if name in _SB3:
        from autocurriculum.envs import sb3

        return getattr(sb3, name)
    if name == "StumpTracks":
        from autocurriculum.envs.stump_tracks import StumpTracks

        return StumpTracks
    raise AttributeError(f"module 'autocurriculum.envs' has no attribute {name!r}")
