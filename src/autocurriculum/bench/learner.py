"""The learner protocol: what a benchmark trains.

A learner is anything the runner can teach: a synthetic student
(:mod:`autocurriculum.bench.students`), an RL agent, a neural network in supervised training. The
runner only ever does four things with it:

- ``tasks = teacher.sample(n); scores = learner.train(tasks); teacher.update(tasks, scores)``:
  one training step, whose scores (one per task, in [0, 1]) are what the teacher learns from;
- ``learner.evaluate()`` at the eval points: the % of its test set mastered, in [0, 100];
- ``learner.best_possible()`` once: the most :meth:`~Learner.evaluate` can ever return;
- ``learner.consumed()``: how much training it has used so far, in its own :attr:`~Learner.unit`
  (episodes, environment steps, examples), for the run's cost and, optionally, its x-axis.

The teacher never sees the learner; only the runner does. How the kinds of learner fit:

**Synthetic students** play one episode per task: ``train(tasks)`` plays the tasks in order and
returns each episode's reward, ``unit`` is ``"episodes"`` and ``consumed()`` counts them. They also
implement :class:`SingleTaskLearner` (``train_one(task) -> float``), the runner's fast path for the
published one-task-at-a-time protocol, where validating a batch of one would cost more than the
student itself.

**An RL agent** (Stable-Baselines3 PPO on a Gymnasium environment wrapped by the env
integration, whose ``task_space`` is the learner's ``space``) has ``unit = "env_steps"``.
``train(tasks)`` queues the tasks for the vector env, whose sub-envs take the next queued task
each time they reset; it then calls ``model.learn(n_steps * n_envs, reset_num_timesteps=False)``,
one rollout and one PPO update at a time, until every queued task has finished one episode, and
returns each task's episodic return normalised to [0, 1] by the env's known return bounds (the
Stump Tracks threshold of 230 gives "mastered"), in the order of ``tasks``. A sub-env that resets
while the queue is empty replays a task of the same call, drawn with the learner's own generator;
that episode trains the agent but is not scored. ``consumed()`` is ``model.num_timesteps``.
``evaluate()`` runs the deterministic policy once on each task of a fixed test set (TeachMyAgent's
10 x 10 grid over stump height and spacing) and returns the % whose return exceeds the mastery
threshold; ``best_possible()`` is 100 (or the share of test tasks known to be feasible). Run it
with the plain protocol and ``batch_size`` a multiple of ``n_envs``, eval points in env steps
(``axis="units"``), and the mastery check at the eval points only, since an evaluation costs
episodes.

**A supervised learner** (a small transformer learning multi-digit addition, a task being a digit
length, ``space = Discrete(max_digits)``) has ``unit = "examples"``. ``train(tasks)`` builds one
minibatch with ``examples_per_task`` fresh examples of each task's digit length (drawn with the
learner's own generator), takes one optimiser step on it, and returns per task its accuracy on
its own examples, measured in the same forward pass before the step (teachers then see the
accuracy the learner had when it practised, as the TSCL paper does). ``consumed()`` counts the
examples seen. ``evaluate()`` measures accuracy on a fixed held-out set per digit length and
returns the % of lengths above the mastery threshold (for example 90% exact answers);
``best_possible()`` is 100.

Pictures: a learner that also implements :class:`CompetenceMap` (Box spaces) or
:class:`ArmCompetence` (Discrete spaces) gets its competence drawn in the report. Benchmark-only
teachers (the oracle) read more of it (a ``frontier()``); the runner passes the learner to the
teachers whose registry spec lists ``student`` among its expert parameters.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from autocurriculum.spaces import Space

__all__ = ["ArmCompetence", "CompetenceMap", "Learner", "SingleTaskLearner"]


@runtime_checkable
class Learner(Protocol):
    """What a benchmark trains: trained on tasks, scored per task, evaluated on a test set.

    Attributes
    ----------
    space : Space
        The task space the learner trains on; teachers are built for it.
    unit : str
        What :meth:`consumed` counts: ``"episodes"``, ``"env_steps"``, ``"examples"``.
    """

    @property
    def space(self) -> Space:
        """The task space."""
        ...

    @property
    def unit(self) -> str:
        """The unit of :meth:`consumed`."""
        ...

    def train(self, tasks: NDArray[Any]) -> NDArray[np.float64]:
        """Train on a batch of tasks (one step); return one score in [0, 1] per task, in order.

        ``tasks`` is a valid batch of :attr:`space` (``(n, ndim)`` floats or ``(n,)`` ints), as a
        teacher samples it; the same task may appear several times (a GRPO group).
        """
        ...

    def evaluate(self) -> float:
        """The % of the test set mastered now, in [0, 100]. Must not change the learner."""
        ...

    def best_possible(self) -> float:
        """The most :meth:`evaluate` can return (100 unless part of the test set is unlearnable)."""
        ...

    def consumed(self) -> int:
        """Training used so far, in :attr:`unit`, cumulative since the learner was built."""
        ...


@runtime_checkable
class SingleTaskLearner(Learner, Protocol):
    """A learner with a cheap one-task step, for the published one-task-at-a-time protocol."""

    def train_one(self, task: Any) -> float:
        """``train`` on one task (a ``(ndim,)`` vector or an arm id); return its score."""
        ...


@runtime_checkable
class CompetenceMap(Protocol):
    """A learner over a Box that can draw its competence (for the report's pictures)."""

    def competence_image(self, resolution: int = 100) -> NDArray[np.float64]:
        """Competence in [0, 1] on a ``resolution x resolution`` grid of the first two dims."""
        ...


@runtime_checkable
class ArmCompetence(Protocol):
    """A learner over a Discrete space that can report each arm's competence."""

    def competence(self) -> NDArray[np.float64]:
        """Each arm's competence in [0, 1], indexed by arm id."""
        ...
