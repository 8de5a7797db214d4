"""Learning-progress estimators shared by teachers: one signal pipeline, composed, not copied.

Per-arm estimates (vectorised over a batch, equal to one-by-one updates, O(arms) memory):

- :class:`ArmWindow`: the last ``window`` values of each arm (success and score estimates);
- :class:`WindowSlope`: least-squares slope of each arm's last ``window`` (time, score) points;
- :class:`ArmEMA`, :class:`EMAProgress`: moving averages; learning progress as fast - slow;
- :class:`DeltaTracker`: score change since the arm's previous score;
- :func:`group_advantages`, :class:`AdvantageStep`: GRPO |advantage| from grouped rewards;
- :func:`learnability`: ``p (1 - p)``;
- :class:`QuantileReservoir`: reward rescaling by reservoir quantiles (Exp3.S);
- :class:`Staleness`, :class:`UnseenArms`: when arms were played; O(log arms) draws.

For continuous task spaces, :class:`NearestHistory` (ALP's nearest earlier task, bounded).

And the step from values to arms: :func:`boltzmann`, :func:`epsilon_greedy`, :func:`draw`,
:func:`entropy`.

Every estimator that is part of a teacher's learned state is a
:func:`~autocurriculum._state.state_class`: its attributes are plain data, so ``state_dict``
and checkpoints hold it without pickle.

Signals. Teachers receive trainer-side values through ``update(..., signals={...})``, a
mapping from names of the vocabulary :data:`autocurriculum.signals.SIGNALS` to one value per
task. Names in use by the discrete teachers:

- ``"abs_advantage"`` / ``"advantage"`` / ``"group"`` (GRPO group ids) and ``"step"``: SEC,
  DUMP, through :func:`read_abs_advantage` and :class:`AdvantageStep`;
- ``"progress"``, ``"cost"``: Exp3.S;
- ``"value_loss"``: PLR;
- TSCL, ZLP and learnability read none: their signal is the score.
"""

from autocurriculum.progress._batch import (
    BatchGroups,
    group_batch,
    occurrence_levels,
    split_levels,
)
from autocurriculum.progress.advantage import (
    ADVANTAGE_KEYS,
    AdvantageStep,
    group_advantages,
    mean_by_arm,
    read_abs_advantage,
)
from autocurriculum.progress.nearest import NearestHistory
from autocurriculum.progress.policy import (
    boltzmann,
    draw,
    draw_epsilon_greedy,
    entropy,
    epsilon_greedy,
    learnability,
    mix_uniform,
)
from autocurriculum.progress.reservoir import QuantileReservoir
from autocurriculum.progress.staleness import Staleness, UnseenArms
from autocurriculum.progress.trackers import ArmEMA, DeltaTracker, EMAProgress
from autocurriculum.progress.windows import ArmWindow, WindowSlope

__all__ = [
    "ADVANTAGE_KEYS",
    "AdvantageStep",
    "ArmEMA",
    "ArmWindow",
    "BatchGroups",
    "DeltaTracker",
    "EMAProgress",
    "NearestHistory",
    "QuantileReservoir",
    "Staleness",
    "UnseenArms",
    "WindowSlope",
    "boltzmann",
    "draw",
    "draw_epsilon_greedy",
    "entropy",
    "epsilon_greedy",
    "group_advantages",
    "group_batch",
    "learnability",
    "mean_by_arm",
    "mix_uniform",
    "occurrence_levels",
    "read_abs_advantage",
    "split_levels",
]
