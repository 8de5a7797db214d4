"""A point mass that must pass a gate in a wall to reach a goal: a cheap task space where a
curriculum matters.

The task is the gate's centre and width. This is the "point mass through a gate" benchmark of
self-paced deep RL (Klink et al., 2020), in a sparse-reward, velocity-controlled form that
costs a few microseconds per step:

- the arena is ``x`` in [-4, 4], ``y`` in [-2, 2]; a wall lies along ``y = 0``, open only at the
  gate; the point (radius 0.2) starts near ``(0, 1)`` and the goal is ``(0, -1)``;
- an action is a velocity in [-1, 1]^2, scaled to at most 0.3 per step;
- crossing the wall outside the gate ends the episode with return 0; reaching the goal (within
  0.5) ends it with reward 1; otherwise the episode is cut after 100 steps with return 0.

Why a curriculum matters here: a gate narrower than the point (width < 0.4), or one against
the arena's side narrower than twice that, cannot be passed, about 15% of the space. Wide
central gates are found by random exploration (a uniformly random policy succeeds in about
19% of episodes with a 3-wide central gate, 13% with a 2-wide one); narrow or off-centre ones
almost never are (under 2%), until
the policy has learnt, on wider gates, to aim for the gate it observes. Uniform sampling
spends its episodes evenly over the three kinds; a teacher that follows learning progress
moves from wide to narrow gates.

References
----------
Klink, P., Abdulsamad, H., Belousov, B., & Peters, J. (2020). Self-Paced Deep Reinforcement
Learning. NeurIPS.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from autocurriculum.envs._contract import validate_task
from autocurriculum.spaces import Box

__all__ = ["PointMassGate"]

_HALF_WIDTH = 4.0  # arena x in [-4, 4]
_HALF_HEIGHT = 2.0  # arena y in [-2, 2]
_RADIUS = 0.2
_SPEED = 0.3
_START = (0.0, 1.0)
_GOAL = (0.0, -1.0)
_GOAL_RADIUS = 0.5


class PointMassGate(gym.Env[NDArray[np.float32], NDArray[np.float32]]):
    """Pass a gate of given centre and width, then reach the goal; reward 1 on success.

    Task space: ``gate_position`` in [-4, 4] and ``gate_width`` in [0, 3]. Observation:
    ``(x / 4, y / 2, gate_position / 4, gate_width / 3)``. Registered as
    ``autocurriculum/PointMassGate-v0`` with a 100-step limit.

    Attributes
    ----------
    task_space : Box
        ``gate_position`` in [-4, 4], ``gate_width`` in [0, 3].
    return_bounds : (float, float)
        ``(0.0, 1.0)``: the return is 1 on success, else 0.
    mastery_threshold : float
        0.5: a task is mastered when its mean return is above it (success more often than not).
    default_test_set : ndarray
        The 10 x 10 grid of cell centres over the task space.

    Examples
    --------
    >>> env = PointMassGate()
    >>> obs, info = env.reset(seed=0, options={"task": [0.0, 3.0]})
    >>> for _ in range(100):  # straight down through a wide central gate
    ...     obs, reward, terminated, truncated, info = env.step([0.0, -1.0])
    ...     if terminated:
    ...         break
    >>> reward, info["is_success"]
    (1.0, True)
    >>> env.reset(options={"task": [0.0, 5.0]})
    Traceback (most recent call last):
    ...
    ValueError: PointMassGate: task [0.0, 5.0] is not in its task space ...
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}  # noqa: RUF012 (Env's field)
    task_space: ClassVar[Box] = Box(
        low=[-_HALF_WIDTH, 0.0], high=[_HALF_WIDTH, 3.0], names=["gate_position", "gate_width"]
    )
    return_bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)
    mastery_threshold: ClassVar[float] = 0.5

    def __init__(self, render_mode: str | None = None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.task: NDArray[np.float64] = np.array([0.0, 3.0])
        self.gate_position = 0.0
        self.gate_width = 3.0
        self.x, self.y = _START

    @property
    def default_test_set(self) -> NDArray[np.float64]:
        """The 10 x 10 grid of cell centres over the task space."""
        return _grid(self.task_space, 10)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        if options and "task" in options:
            name = self.spec.id if self.spec is not None else type(self).__name__
            self.task = validate_task(self.task_space, options["task"], name)
            self.gate_position, self.gate_width = (float(v) for v in self.task)
        self.x = _START[0] + float(self.np_random.uniform(-0.1, 0.1))
        self.y = _START[1]
        return self._obs(), {}

    def step(
        self, action: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        ax = min(1.0, max(-1.0, float(action[0])))
        ay = min(1.0, max(-1.0, float(action[1])))
        limit_x = _HALF_WIDTH - _RADIUS
        nx = min(limit_x, max(-limit_x, self.x + _SPEED * ax))
        ny = min(_HALF_HEIGHT, max(-_HALF_HEIGHT, self.y + _SPEED * ay))
        crashed = False
        if (self.y > 0.0) != (ny > 0.0):
            # The wall is crossed between y and ny: where, and is the point inside the gate?
            t = self.y / (self.y - ny)
            cx = self.x + t * (nx - self.x)
            half = self.gate_width / 2.0
            crashed = not (
                cx - _RADIUS >= self.gate_position - half
                and cx + _RADIUS <= self.gate_position + half
            )
        self.x, self.y = nx, ny
        success = not crashed and math.hypot(nx - _GOAL[0], ny - _GOAL[1]) <= _GOAL_RADIUS
        reward = 1.0 if success else 0.0
        terminated = crashed or success
        return self._obs(), reward, terminated, False, {"is_success": success}

    def _obs(self) -> NDArray[np.float32]:
        return np.array(
            [
                self.x / _HALF_WIDTH,
                self.y / _HALF_HEIGHT,
                self.gate_position / _HALF_WIDTH,
                self.gate_width / 3.0,
            ],
            dtype=np.float32,
        )

    def render(self) -> NDArray[np.uint8] | None:
        """An RGB picture of the arena: wall (grey), gate (gap), goal (green), point (blue)."""
        if self.render_mode != "rgb_array":
            return None
        scale = 40
        h, w = int(2 * _HALF_HEIGHT * scale), int(2 * _HALF_WIDTH * scale)
        img = np.full((h, w, 3), 245, dtype=np.uint8)
        cols = (np.arange(w) + 0.5) / scale - _HALF_WIDTH
        rows = _HALF_HEIGHT - (np.arange(h) + 0.5) / scale
        yy, xx = np.meshgrid(rows, cols, indexing="ij")
        wall = (np.abs(yy) < 0.05) & (np.abs(xx - self.gate_position) > self.gate_width / 2.0)
        img[wall] = (90, 90, 90)
        img[np.hypot(xx - _GOAL[0], yy - _GOAL[1]) <= _GOAL_RADIUS] = (60, 180, 75)
        img[np.hypot(xx - self.x, yy - self.y) <= _RADIUS] = (40, 90, 220)
        return img


def _grid(space: Box, per_dim: int) -> NDArray[np.float64]:
    """Cell centres of a regular grid over a Box, ``per_dim`` cells per dimension."""
    axes = [
        lo + (np.arange(per_dim) + 0.5) * (hi - lo) / per_dim
        for lo, hi in zip(space.low, space.high, strict=True)
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)
