"""TSCL: Teacher-Student Curriculum Learning (Matiisen et al., 2017)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import (
    check_choice,
    check_positive,
    check_probability,
    check_rate,
    check_size,
)
from autocurriculum.progress import (
    ArmEMA,
    ArmWindow,
    DeltaTracker,
    WindowSlope,
    boltzmann,
    draw,
    draw_epsilon_greedy,
    entropy,
    epsilon_greedy,
)
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["TSCL"]

_VARIANTS = ("online", "window", "sampling")
_POLICIES = ("epsilon_greedy", "boltzmann")


@register("tscl")
class TSCL(Teacher[Discrete]):
    """Teacher-Student Curriculum Learning: a bandit on the absolute slope of learning curves.

    Each arm has an estimate ``Q`` of the slope of its learning curve (score against time).
    The teacher picks arms where ``|Q|`` is largest, so it practises what improves fastest and
    returns to what is being forgotten (a negative slope).

    Variants of the slope estimate:

    - ``"online"``: ``Q <- Q + lr * ((x_t - x_{t-1}) - Q)`` on the played arm, where
      ``x_{t-1}`` is the arm's previous score (0 before its first one);
    - ``"window"``: the least-squares slope of the arm's last ``window`` (episode, score)
      points, the episode being the global episode index; an arm with fewer than two points
      gets ``Q = 1``, so every arm is tried before exploitation starts;
    - ``"sampling"``: a buffer of the arm's last ``window`` score deltas; each ``sample`` call
      draws one delta per arm (an arm with none draws 1) and uses those as ``Q``.

    Policy on ``|Q|``: ``"epsilon_greedy"`` (uniform with probability ``epsilon``, else the
    best arm, ties shared) or ``"boltzmann"`` (``p ∝ exp(|Q| / temperature)``). One
    ``sample(n)`` call draws ``n`` arms from one policy distribution, as one TSCL step trains on
    a batch drawn from the policy (the "sampling" variant makes one draw of its deltas per
    call).

    Signals are not read; the scores are the learning curve.

    Parameters
    ----------
    space : Discrete
        The arms.
    variant : {"online", "window", "sampling"}
        Slope estimate. "window" is the default: with 0/1 scores the online estimate under an
        ε-greedy policy keeps exploiting an arm whose |Q| decays slowly after it is learned,
        while the window variant's optimism (``Q = 1`` under two points) tries every arm.
    policy : {"epsilon_greedy", "boltzmann"}
        How ``|Q|`` becomes a distribution.
    lr : float
        Step size of the online estimate, in (0, 1].
    window : int
        Points (window variant) or deltas (sampling variant) kept per arm, >= 2; ``window``
        times the number of arms is at most 1e8.
    epsilon : float
        Exploration rate of the ε-greedy policy, in [0, 1].
    temperature : float
        Temperature of the Boltzmann policy, > 0.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("tscl", ac.Discrete(3), variant="online", seed=0)
    >>> teacher.update([0, 0, 1], [0.2, 0.6, 0.0])
    >>> teacher.q_values().round(3).tolist()  # arm 0: 0.1 * 0.2, then += 0.1 * (0.4 - 0.02)
    [0.058, 0.0, 0.0]
    >>> teacher.sample(4).tolist()  # greedy on arm 0, ε = 0.1 explores
    [0, 0, 0, 2]

    References
    ----------
    .. [1] Matiisen, Oliver, Cohen and Schulman, "Teacher-Student Curriculum Learning",
       IEEE Transactions on Neural Networks and Learning Systems, 2019 (arXiv:1707.00183).
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        variant: str = "window",
        policy: str = "epsilon_greedy",
        lr: float = 0.1,
        window: int = 10,
        epsilon: float = 0.1,
        temperature: float = 0.0004,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_choice("variant", variant, _VARIANTS)
        check_choice("policy", policy, _POLICIES)
        check_rate("lr", lr)
        check_size("window", window, low=2)
        check_probability("epsilon", epsilon)
        check_positive("temperature", temperature)
        self.variant = variant
        self.policy = policy
        self.lr = lr
        self.window = window
        self.epsilon = epsilon
        self.temperature = temperature

        n = self.space.n
        # The estimators of the chosen variant; the others are None, so that every learned
        # attribute exists from the start.
        self.deltas_ = DeltaTracker(n) if variant != "window" else None
        self.q_ = ArmEMA(n, lr) if variant == "online" else None
        self.slope_ = WindowSlope(n, window, default=1.0) if variant == "window" else None
        self.recent_ = ArmWindow(n, window) if variant == "sampling" else None

    # ---------------------------------------------------------------- protocol
    def _update(
        self, tasks: NDArray[Any], scores: NDArray[np.float64], signals: Mapping[str, Any]
    ) -> None:
        if self.slope_ is not None:
            times = self.n_updates_ + np.arange(len(tasks), dtype=np.float64)
            self.slope_.push(tasks, times, scores)
            return
        assert self.deltas_ is not None
        deltas = self.deltas_.push(tasks, scores)
        if self.q_ is not None:
            self.q_.update(tasks, deltas)
        else:
            assert self.recent_ is not None
            self.recent_.push(tasks, deltas)

    def _sample(self, n: int) -> NDArray[np.int64]:
        q = self._thompson_draw() if self.variant == "sampling" else self.q_values()
        if self.policy == "epsilon_greedy":
            return draw_epsilon_greedy(self.rng_, np.abs(q), self.epsilon, n)
        return draw(self.rng_, boltzmann(np.abs(q), self.temperature), n)

    def _metrics(self) -> dict[str, float]:
        # The sampling variant's policy depends on a random draw; metrics must not consume the
        # generator, so they describe the policy on the mean recent delta instead.
        p = self._policy(np.abs(self.q_values()))
        return {
            "entropy": entropy(p),
            "max_prob": float(p.max()),
            "max_abs_q": float(np.abs(self.q_values()).max()),
        }

    # ----------------------------------------------------------------- helpers
    def q_values(self) -> NDArray[np.float64]:
        """The current slope estimate per arm (sampling variant: mean of recent deltas)."""
        if self.q_ is not None:
            return self.q_.values.copy()
        if self.slope_ is not None:
            return self.slope_.slopes.copy()
        assert self.recent_ is not None
        return self.recent_.means(default=1.0)

    def _thompson_draw(self) -> NDArray[np.float64]:
        assert self.recent_ is not None
        count = self.recent_.count
        n = self.space.n
        # A slot in [0, count) is always a filled one: the ring fills slots 0.. in order.
        slot = np.floor(self.rng_.random(n) * count).astype(np.int64)
        values = self.recent_.values[np.arange(n), np.minimum(slot, self.window - 1)]
        return np.where(count > 0, values, 1.0)

    def _policy(self, abs_q: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.policy == "boltzmann":
            return boltzmann(abs_q, self.temperature)
        return epsilon_greedy(abs_q, self.epsilon)
