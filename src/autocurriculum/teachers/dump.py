"""DUMP: distribution-level curriculum for RL post-training of LLMs (Wang et al., 2025)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_bool, check_positive, check_size
from autocurriculum.progress import ArmWindow, boltzmann, entropy
from autocurriculum.spaces import Discrete
from autocurriculum.teachers._advantage_step import AdvantageStepTeacher
from autocurriculum.teachers.registry import register

__all__ = ["DUMP"]


@register("dump")
class DUMP(AdvantageStepTeacher):
    """UCB on each distribution's sliding-window mean |advantage|, then a softmax.

    Per arm (a data distribution) it keeps the last ``window`` per-rollout |advantages|; with
    ``μ_j`` their mean (0 before any), ``n_j`` the rollouts ever reported for arm ``j`` and
    ``n_total`` their sum, the score is ``UCB_j = μ_j + sqrt(2 ln(n_total + 1) / (n_j + 1))``
    and arms are drawn with ``p = softmax(UCB / temperature)``. Arms never tried carry the
    largest bonus, so each is explored early.

    The training step. DUMP updates once per step from that step's rollouts; this matters
    only for group ids, whose advantages need the whole group. Steps are explicit, as for
    :class:`~autocurriculum.teachers.sec.SEC`: an update with ``{"step": ids}`` adds to the
    step it names (applied when a newer step arrives or at :meth:`end_step`), an update without
    is one whole step, and ``sample`` never ends a step. See SEC for the signal forms
    (``{"abs_advantage": ...}``, or ``{"group": ids}`` to compute GRPO advantages from the
    scores).

    Memory: the windows take ``window`` float32 values per arm (1.2 kB per arm with the
    published 300), allocated up front; ``window`` times the number of arms is at most 1e8.

    Parameters
    ----------
    space : Discrete
        The distributions.
    window : int
        |advantages| kept per arm. The paper used 300.
    temperature : float
        Softmax temperature, > 0. The paper used 0.1.
    normalize_advantage : bool
        Divide group advantages by the group std (only used with ``{"group": ...}``).
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("dump", ac.Discrete(3), seed=0)
    >>> teacher.update([0, 0, 1], scores=[1, 0, 1],
    ...                signals={"abs_advantage": [0.5, 0.25, 0.0]})  # one update, one step
    >>> teacher.ucb().round(4).tolist()  # mu + sqrt(2 ln 4 / (n_j + 1))
    [1.3364, 1.1774, 1.6651]

    References
    ----------
    .. [1] Wang, Cui, Wang, et al., "DUMP: Automated Distribution-Level Curriculum Learning
       for RL-based LLM Post-training", arXiv:2504.09710, 2025.
    """

    def __init__(
        self,
        space: Discrete,
        *,
        window: int = 300,
        temperature: float = 0.1,
        normalize_advantage: bool = True,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_size("window", window)
        check_positive("temperature", temperature)
        normalize = check_bool("normalize_advantage", normalize_advantage)
        self.window = window
        self.temperature = temperature
        self.normalize_advantage = normalize_advantage
        self.abs_adv_ = ArmWindow(self.space.n, window, dtype=np.float32)
        self.n_total_ = 0
        self.n_steps_ = 0
        self._init_steps(normalize)

    def _apply_step(self, arms: NDArray[np.int64], abs_adv: NDArray[np.float64]) -> None:
        self.abs_adv_.push(arms, abs_adv)
        self.n_total_ += len(arms)
        self.n_steps_ += 1

    def ucb(self) -> NDArray[np.float64]:
        """``μ_j + sqrt(2 ln(n_total + 1) / (n_j + 1))`` for every arm. O(N)."""
        bonus = np.sqrt(2.0 * np.log(self.n_total_ + 1.0) / (self.abs_adv_.total + 1.0))
        return self.abs_adv_.means(default=0.0) + bonus

    def probabilities(self) -> NDArray[np.float64]:
        """The current sampling distribution (the open step not yet included)."""
        return boltzmann(self.ucb(), self.temperature)

    def _metrics(self) -> dict[str, float]:
        p = self.probabilities()
        seen = self.abs_adv_.total > 0
        mean_adv = float(self.abs_adv_.means()[seen].mean()) if seen.any() else 0.0
        return {
            "entropy": entropy(p),
            "max_prob": float(p.max()),
            "mean_abs_advantage": mean_adv,
            "n_steps": float(self.n_steps_),
            "pending": float(len(self.step_)),
        }
