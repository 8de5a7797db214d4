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

Signals. Teachers receive a trainer-side signal through ``update(..., signals=...)``, either
one array (one value per task) or a mapping of named arrays; a teacher reads its keys and
ignores the others. Keys in use by the discrete teachers:

- ``"abs_advantage"`` / ``"advantage"`` / ``"group"`` (GRPO group ids): SEC, DUMP, through
  :func:`read_abs_advantage` (a plain array means |advantage|);
- ``"progress"``, ``"cost"``: Exp3.S (a plain array means progress);
- ``"value_loss"``: PLR (a plain array means value loss);
- TSCL and learnability read none: their signal is the score.
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
