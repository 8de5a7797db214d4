"""SEC: Self-Evolving Curriculum for LLM reasoning (Chen et al., 2025)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_bool, check_positive, check_rate
from autocurriculum.progress import boltzmann, entropy, mean_by_arm
from autocurriculum.spaces import Discrete
from autocurriculum.teachers._advantage_step import AdvantageStepTeacher
from autocurriculum.teachers.registry import register

__all__ = ["SEC"]


@register("sec")
class SEC(AdvantageStepTeacher):
    """Self-Evolving Curriculum: TD(0) on the mean |advantage| of each category, Boltzmann.

    One arm per category (a difficulty level, or difficulty x problem type). At the end of
    each training step, with ``r_j`` the mean |advantage| of arm ``j``'s rollouts in that step
    (``r_j = 0`` for an arm with no rollout in it), every arm moves:
    ``Q_j <- (1 - lr) Q_j + lr r_j``. Arms are drawn with ``p ∝ exp(Q / temperature)``.

    The training step. SEC updates once per step, from all of that step's rollouts; its
    decay of absent arms makes "one step" part of the rule. The trainer says which outcomes
    form a step, and ``sample`` never ends one, so any number of clients may sample:

    - ``signals={"step": ids, ...}``: each outcome belongs to the step it names; a step is
      applied when an update names a newer one, or at :meth:`end_step`. A step's rollouts may
      come in any number of updates, and a GRPO group may span them;
    - without ``"step"``: each ``update`` call is one whole step;
    - :meth:`end_step` applies the open step.

    A step id older than the open step, or that of a step already closed, raises
    ``ValueError`` and changes nothing.

    Signals (required), one of:

    - ``{"abs_advantage": ...}`` (or ``{"advantage": ...}``, its absolute value): the
      |advantage| of each rollout, as the trainer computed it;
    - ``{"group": ids}``: a group id per rollout (the rollouts of one prompt); advantages are
      then computed from the scores, as GRPO does (reward minus group mean, over the group std
      when ``normalize_advantage``), over all of the step's rollouts;

    and optionally ``{"step": ids}``, the training step of each rollout.

    The temperature acts on the scale of |advantage|: GRPO-normalised advantages of binary
    rewards average around 0.5 to 1 on uncertain prompts, so ``temperature=1`` is a mild
    preference and the paper's lower values (0.2 to 0.4) a sharp one.

    Parameters
    ----------
    space : Discrete
        The categories.
    lr : float
        TD step size, in (0, 1]. The paper used 0.5.
    temperature : float
        Boltzmann temperature, > 0. The paper used 0.2 to 1.0.
    normalize_advantage : bool
        Divide group advantages by the group std (only used with ``{"group": ...}``).
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("sec", ac.Discrete(3), seed=0)
    >>> teacher.update([0, 0, 2], scores=[1, 0, 1],
    ...                signals={"abs_advantage": [0.5, 0.3, 1.0]})  # one update, one step
    >>> teacher.q_.tolist()  # 0.5 * mean |A|: arm 0 (0.5 + 0.3) / 2, arm 1 absent, arm 2 1.0
    [0.2, 0.0, 0.5]
    >>> teacher.update([1, 1], [1, 0], signals={"group": [7, 7], "step": [5, 5]})
    >>> teacher.q_.tolist()  # step 5 stays open until a newer step or end_step()
    [0.2, 0.0, 0.5]
    >>> teacher.end_step()
    >>> teacher.q_.round(4).tolist()  # group (1, 0): |A| = 0.5 / std 0.7071 = 0.7071 each
    [0.1, 0.3536, 0.25]

    References
    ----------
    .. [1] Chen, Lu, Kim, Zhang, Tang, Piché, Gontier, Bengio and Kamalloo, "Self-Evolving
       Curriculum for LLM Reasoning", arXiv:2505.14970, 2025.
    """

    def __init__(
        self,
        space: Discrete,
        *,
        lr: float = 0.5,
        temperature: float = 1.0,
        normalize_advantage: bool = True,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_rate("lr", lr)
        check_positive("temperature", temperature)
        normalize = check_bool("normalize_advantage", normalize_advantage)
        self.lr = lr
        self.temperature = temperature
        self.normalize_advantage = normalize_advantage
        self.q_ = np.zeros(self.space.n)
        self.n_steps_ = 0
        self._init_steps(normalize)

    def _apply_step(self, arms: NDArray[np.int64], abs_adv: NDArray[np.float64]) -> None:
        reward = np.zeros(self.space.n)
        touched, means = mean_by_arm(arms, abs_adv)
        reward[touched] = means
        self.q_ = (1.0 - self.lr) * self.q_ + self.lr * reward
        self.n_steps_ += 1

    def probabilities(self) -> NDArray[np.float64]:
        """The current sampling distribution (the open step not yet included)."""
        return boltzmann(self.q_, self.temperature)

    def _metrics(self) -> dict[str, float]:
        p = self.probabilities()
        return {
            "entropy": entropy(p),
            "max_prob": float(p.max()),
            "max_q": float(self.q_.max()),
            "n_steps": float(self.n_steps_),
            "pending": float(len(self.step_)),
        }
