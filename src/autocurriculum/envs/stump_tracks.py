"""Stump Tracks: Gymnasium's BipedalWalker on flat ground with stumps of a given height and spacing.

The parametric walker benchmark of ALP-GMM (Portelas et al., 2019) and TeachMyAgent (Romac et
al., 2021), rebuilt on Gymnasium's ``BipedalWalker`` (the classic walker body):

- the task is ``(stump_height, stump_spacing)``: mean stump height in [0, 3] and spacing in
  [0, 6]; each stump's height is drawn from N(stump_height, 0.1) and floored at 0.05, in
  units of the terrain step (14/30 world units), as the stump's width is one terrain step;
- after a 20-step start pad, stumps alternate with flat stretches ``max(0.01, stump_spacing)``
  long, to the finish line;
- the reward is BipedalWalker's: forward progress (about 300 to the finish line), minus torque
  costs, and -100 on a fall (the hull touching the ground or a stump);
- episodes last at most 2,000 steps; a task is mastered when its return is above 230.

Stump heights come from the env's seeded generator, so a (task, seed) pair always builds the
same track. The observation is BipedalWalker's 24 values (its lidar sees the stumps).

Needs Box2D: ``pip install box2d==2.3.10 pygame-ce``.

References
----------
Portelas, R., Colas, C., Hofmann, K., & Oudeyer, P.-Y. (2019). Teacher algorithms for curriculum
learning of Deep RL in continuously parameterized environments. CoRL.
Romac, C., Portelas, R., Hofmann, K., & Oudeyer, P.-Y. (2021). TeachMyAgent: a Benchmark for
Automatic Curriculum Learning in Deep RL. ICML.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.envs.box2d import bipedal_walker as bw
from numpy.typing import NDArray

from autocurriculum.envs._contract import validate_task
from autocurriculum.envs.point_mass_gate import _grid
from autocurriculum.spaces import Box

__all__ = ["StumpTracks"]

_STEP = bw.TERRAIN_STEP
_FINISH_X = (bw.TERRAIN_LENGTH - bw.TERRAIN_GRASS) * _STEP
_START_X = _STEP * bw.TERRAIN_STARTPAD / 2

# Return bounds, from BipedalWalker's reward: the per-step rewards telescope to
# 130/SCALE * (x_end - x_start) - 5 * (|angle_end| - |angle_start|) - torque costs, and a fall
# replaces the last step's reward by -100. The hull starts near x = _START_X and ends left of
# the finish line plus one step (Box2D moves a body at most 2 units per step); torque costs at
# most 0.00035 * 80 * 4 per step over 2,000 steps; the hull angle stays within +-pi before the
# hull touches the ground (which is a fall). The bounds below add a margin to each term.
_PROGRESS = 130.0 / bw.SCALE
_MAX_TORQUE_COST = 0.00035 * bw.MOTORS_TORQUE * 4 * 2000
_LOW = -(100.0 + _MAX_TORQUE_COST + _PROGRESS * (_START_X + 2.0) + 10.0 * np.pi)
_HIGH = _PROGRESS * (_FINISH_X + 2.0 - (_START_X - 2.0)) + 10.0 * np.pi


class StumpTracks(bw.BipedalWalker):
    """BipedalWalker over stumps of a given mean height and spacing.

    Registered as ``autocurriculum/StumpTracks-v0`` (2,000-step limit). Reset with
    ``options={"task": [stump_height, stump_spacing]}``; a reset without a task keeps the
    current one (initially ``[0.0, 6.0]``, the easiest track).

    Attributes
    ----------
    task_space : Box
        ``stump_height`` in [0, 3], ``stump_spacing`` in [0, 6].
    return_bounds : (float, float)
        Bounds no episode can leave (about (-386, 413)), derived from the reward; TeachMyAgent
        instead clipped returns to (-150, 350) for its teachers:
        ``score=ReturnBounds(-150, 350, clip=True)`` does the same, on purpose.
    mastery_threshold : float
        230.
    default_test_set : ndarray
        The 10 x 10 grid of cell centres over the task space.

    Examples
    --------
    >>> env = StumpTracks()
    >>> obs, info = env.reset(seed=0, options={"task": [1.0, 2.0]})
    >>> obs.shape
    (24,)
    >>> heights = [round(h, 2) for h in env.stump_heights[:3]]
    >>> _ = env.reset(seed=0, options={"task": [1.0, 2.0]})
    >>> [round(h, 2) for h in env.stump_heights[:3]] == heights  # same task and seed, same track
    True
    >>> env.close()
    """

    task_space: ClassVar[Box] = Box(
        low=[0.0, 0.0], high=[3.0, 6.0], names=["stump_height", "stump_spacing"]
    )
    return_bounds: ClassVar[tuple[float, float]] = (float(_LOW), float(_HIGH))
    mastery_threshold: ClassVar[float] = 230.0

    def __init__(self, render_mode: str | None = None):
        super().__init__(render_mode=render_mode, hardcore=False)
        self.task: NDArray[np.float64] = np.array([0.0, 6.0])
        self.stump_height = 0.0
        self.stump_spacing = 6.0
        self.stump_heights: list[float] = []

    @property
    def default_test_set(self) -> NDArray[np.float64]:
        """The 10 x 10 grid of cell centres over the task space."""
        return _grid(self.task_space, 10)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        if options and "task" in options:
            name = self.spec.id if self.spec is not None else type(self).__name__
            self.task = validate_task(self.task_space, options["task"], name)
            self.stump_height, self.stump_spacing = (float(v) for v in self.task)
        obs, info = super().reset(seed=seed)
        return obs, info

    def _generate_terrain(self, hardcore: bool) -> None:
        """Flat ground, then a stump of one terrain step's width every ``spacing``."""
        y = bw.TERRAIN_HEIGHT
        self.terrain = []
        self.terrain_x = [i * _STEP for i in range(bw.TERRAIN_LENGTH)]
        self.terrain_y = [y] * bw.TERRAIN_LENGTH
        self.stump_heights = []

        gap = max(0.01, self.stump_spacing)
        x = bw.TERRAIN_STARTPAD * _STEP
        while x < _FINISH_X:
            # Heights are in terrain steps, as the stump's width is one step (TeachMyAgent).
            height = max(0.05, float(self.np_random.normal(self.stump_height, 0.1)))
            self.stump_heights.append(height)
            top = y + height * _STEP
            self.fd_polygon.shape.vertices = [(x, y), (x + _STEP, y), (x + _STEP, top), (x, top)]
            stump = self.world.CreateStaticBody(fixtures=self.fd_polygon)
            stump.color1, stump.color2 = (255, 255, 255), (153, 153, 153)
            self.terrain.append(stump)
            x += _STEP + gap

        self.terrain_poly = []
        for i in range(bw.TERRAIN_LENGTH - 1):
            edge = [(self.terrain_x[i], y), (self.terrain_x[i + 1], y)]
            self.fd_edge.shape.vertices = edge
            ground = self.world.CreateStaticBody(fixtures=self.fd_edge)
            color = (76, 255 if i % 2 == 0 else 204, 76)
            ground.color1, ground.color2 = color, color
            self.terrain.append(ground)
            self.terrain_poly.append(([*edge, (edge[1][0], 0), (edge[0][0], 0)], (102, 153, 76)))
        self.terrain.reverse()
