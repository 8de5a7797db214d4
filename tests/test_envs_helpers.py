"""Small contextual envs and a recording teacher for the env-integration tests.

They live in a module of their own so that subprocess workers can import them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from autocurriculum.spaces import Box
from autocurriculum.teachers.base import Teacher

ECHO_SPACE = Box([0.0], [1.0], names=["value"])


class EchoEnv(gym.Env):
    """Its episode's return *is* its task, and its observation shows the task.

    An episode lasts 1 to 5 steps depending on the task (so sub-envs finish out of step, and
    some episodes last a single step); the reward is 0 until the last step, which pays the
    task's value. A task in [crash_above, 1] makes ``step`` raise.
    """

    task_space = ECHO_SPACE
    return_bounds = (0.0, 1.0)
    mastery_threshold = 0.5

    def __init__(self, crash_above: float = 2.0, ignore_task: bool = False):
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float64)
        self.action_space = spaces.Discrete(2)
        self.crash_above = crash_above
        self.ignore_task = ignore_task
        self.value = 0.5
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options and not self.ignore_task:
            task = np.asarray(options["task"], dtype=np.float64)
            if not ECHO_SPACE.contains(task):
                raise ValueError(f"EchoEnv: task {task!r} is outside {ECHO_SPACE!r}")
            self.value = float(task[0])
        self.t = 0
        return self._obs(), {}

    def _length(self) -> int:
        return 1 + int(self.value * 4.999)

    def step(self, action: Any):
        if self.value >= self.crash_above:
            raise RuntimeError(f"boom at value {self.value}")
        self.t += 1
        done = self.t >= self._length()
        reward = self.value if done else 0.0
        return self._obs(), reward, done, False, {"is_success": self.value > 0.5}

    def _obs(self) -> np.ndarray:
        return np.array([self.value, self.t], dtype=np.float64)


def make_echo() -> EchoEnv:
    return EchoEnv()


def make_crashing_echo() -> EchoEnv:
    return EchoEnv(crash_above=0.97)


def make_ignoring_echo() -> EchoEnv:
    return EchoEnv(ignore_task=True)


class RecordingTeacher(Teacher[Box]):
    """Samples uniformly and keeps every update it receives (a real teacher, not a mock)."""

    def __init__(self, space: Box, *, seed: int | None = None):
        super().__init__(space, seed=seed)
        self.sampled: list[np.ndarray] = []
        self.updates: list[tuple[np.ndarray, np.ndarray]] = []

    def _sample(self, n: int) -> np.ndarray:
        tasks = self.space.sample(self.rng_, n)
        self.sampled.append(tasks.copy())
        return tasks

    def _update(
        self, tasks: np.ndarray, scores: np.ndarray, signals: Mapping[str, np.ndarray]
    ) -> None:
        self.updates.append((tasks.copy(), scores.copy()))

    def credited(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.updates:
            return np.empty((0, self.space.ndim)), np.empty(0)
        return (
            np.concatenate([t for t, _ in self.updates]),
            np.concatenate([s for _, s in self.updates]),
        )
