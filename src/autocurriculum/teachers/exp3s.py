"""Exp3.S with learning-progress rewards (Graves et al., 2017)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import (
    InvalidParameterError,
    check_choice,
    check_positive,
    check_probability,
    check_rate,
    check_real,
    check_size,
)
from autocurriculum.progress import DeltaTracker, EMAProgress, QuantileReservoir, draw, entropy
from autocurriculum.progress.reservoir import MAX_RESERVOIR
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["Exp3S"]

_TINY = 1e-300


@register("exp3s")
class Exp3S(Teacher[Discrete]):
    """Exp3.S, a non-stationary adversarial bandit, rewarded by learning progress.

    Policy: ``π = (1 - ε) softmax(w) + ε / N``. After each episode on arm ``a``:

    1. raw reward ``g / c``: the progress ``g`` over the cost ``c`` (default 1). By default
       (``progress="delta"``) ``g`` is the arm's score minus its previous score (0 before its
       first one), the analogue of Graves et al.'s prediction gain; ``progress="ema"`` uses the
       arm's learning progress after the episode, a fast minus a slow moving average of its
       scores (rates ``ema_fast`` and ``ema_slow``), far less noisy when scores are 0/1
       successes;
    2. rescaled to [-1, 1] by the ``low_quantile`` and ``high_quantile`` (20th and 80th
       percentiles) of a reservoir of past raw rewards (the reward itself included);
    3. importance weighted: ``r̃_i = (r 1[a = i] + β) / π_i``;
    4. ``w_i <- log[(1 - α_t) e^{w_i + η r̃_i} + α_t / (N - 1) Σ_{j≠i} e^{w_j + η r̃_j}]`` with
       ``α_t = 1 / t``, ``t`` counting episodes from 1.

    Cost. Step 4 touches every weight, O(N) per episode. With ``β = 0`` (the default) only
    arm ``a``'s exponent changes, and the mixing is the same affine map ``v -> c1 v + c2`` on
    every normalised weight ``v = softmax(w)``, so the teacher keeps all weights *lazily*: one
    global scale (in log space) and offset, and per arm the value, scale and offset at its last
    touch. An update then costs O(1) and equals the O(N) rule up to rounding (tested to 1e-9
    relative). An O(N) rebuild runs at ``t = 1``, where ``α_1 = 1`` makes the map
    non-invertible, and if the shared offset outgrows the weights (a dominant arm losing most
    of its weight), which keeps the precision; in practice it is rare. With ``β > 0`` every
    arm's exponent changes and each update costs O(N). ``sample`` is O(N) per call, shared by
    the batch.

    Signals (optional): ``"progress"``, the progress ``g`` of each task (for example the loss
    drop of the training step on it), and ``"cost"`` (> 0, for example the episode's wall time
    or tokens). Without ``"progress"`` the score delta (or moving-average progress) is used.

    The reservoir's replacement draws come from a generator of their own, so ``sample`` calls
    never change what the teacher learns.

    With 0/1 scores the per-episode score delta is mostly noise, and the published constants
    (η = 1e-3 with ``progress="delta"``) learn too slowly to beat uniform sampling on the
    synthetic ``arms-chain`` benchmark; ``progress="ema"`` with a larger ``eta`` (0.1) does.

    Parameters
    ----------
    space : Discrete
        The arms, at least 2.
    eta : float
        Step size η of the weights, > 0.
    beta : float
        Bias β added to every arm's importance-weighted reward, >= 0.
    epsilon : float
        Uniform exploration ε, in [0, 1].
    reservoir_size : int
        Past raw rewards kept for the quantile rescaling, in [1, 1e6].
    low_quantile, high_quantile : float
        Quantiles of the reservoir mapped to -1 and +1,
        ``0 <= low_quantile < high_quantile <= 1``.
    progress : {"delta", "ema"}
        Progress measure used when the signals give none.
    ema_fast, ema_slow : float
        Rates of the moving averages of ``progress="ema"``, ``0 < ema_slow < ema_fast <= 1``.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("exp3s", ac.Discrete(4), seed=0)
    >>> teacher.update([2, 2, 2], [0.0, 0.5, 1.0])
    >>> probs = teacher.probabilities()
    >>> round(float(probs.sum()), 6), bool(probs[2] > probs[0])
    (1.0, True)

    References
    ----------
    .. [1] Graves, Bellemare, Menick, Munos and Kavukcuoglu, "Automated Curriculum Learning
       for Neural Networks", ICML 2017.
    .. [2] Auer, Cesa-Bianchi, Freund and Schapire, "The Nonstochastic Multiarmed Bandit
       Problem", SIAM Journal on Computing, 2002 (Exp3.S).
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)
    reads: ClassVar[frozenset[str]] = frozenset({"progress", "cost"})

    def __init__(
        self,
        space: Discrete,
        *,
        eta: float = 1e-3,
        beta: float = 0.0,
        epsilon: float = 0.05,
        reservoir_size: int = 1000,
        low_quantile: float = 0.2,
        high_quantile: float = 0.8,
        progress: str = "delta",
        ema_fast: float = 0.2,
        ema_slow: float = 0.05,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        if self.space.n < 2:
            raise ValueError(f"Exp3S needs at least 2 arms, got {self.space!r}")
        check_positive("eta", eta)
        check_real("beta", beta, low=0.0)
        check_probability("epsilon", epsilon)
        check_size("reservoir_size", reservoir_size, high=MAX_RESERVOIR)
        check_probability("low_quantile", low_quantile)
        check_probability("high_quantile", high_quantile)
        if not low_quantile < high_quantile:
            raise InvalidParameterError(
                f"low_quantile must be < high_quantile, got low_quantile={low_quantile!r}, "
                f"high_quantile={high_quantile!r}"
            )
        check_choice("progress", progress, ("delta", "ema"))
        check_rate("ema_fast", ema_fast)
        check_rate("ema_slow", ema_slow)
        if not ema_slow < ema_fast:
            raise InvalidParameterError(
                f"ema_slow must be < ema_fast, got ema_slow={ema_slow!r}, ema_fast={ema_fast!r}"
            )
        self.eta = eta
        self.beta = beta
        self.epsilon = epsilon
        self.reservoir_size = reservoir_size
        self.low_quantile = low_quantile
        self.high_quantile = high_quantile
        self.progress = progress
        self.ema_fast = ema_fast
        self.ema_slow = ema_slow

        n = self.space.n
        self.reservoir_ = QuantileReservoir(
            reservoir_size, low_quantile=low_quantile, high_quantile=high_quantile
        )
        self.reservoir_rng_ = self._spawn_rng(1)
        # One progress measure, the other None: every learned attribute exists from the start.
        self.deltas_: DeltaTracker | None = DeltaTracker(n) if progress == "delta" else None
        self.lp_: EMAProgress | None = (
            EMAProgress(n, fast=ema_fast, slow=ema_slow) if progress == "ema" else None
        )
        # Normalised weights p_i = softmax(w)_i, stored lazily:
        #   p_i = exp(log_scale_ - touch_log_scale_[i]) * (touch_value_[i] - touch_offset_[i])
        #         + offset_
        # where touch_* are the global scale/offset and the arm's value at its last touch.
        self.touch_value_ = np.full(n, 1.0 / n)
        self.touch_log_scale_ = np.zeros(n)
        self.touch_offset_ = np.zeros(n)
        self.log_scale_ = 0.0
        self.offset_ = 0.0

    # ---------------------------------------------------------------- protocol
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        given, cost = self._read_signals(signals)
        if self.deltas_ is not None:
            measured = self.deltas_.push(tasks, scores)
        else:
            assert self.lp_ is not None
            measured = self.lp_.push(tasks, scores)
        raw = (measured if given is None else given) / cost
        # One uniform per item for the reservoir, drawn at once: the same stream as one
        # draw per single-item update.
        uniforms = self.reservoir_rng_.random(len(tasks)).tolist()
        reservoir = self.reservoir_
        t = self.n_updates_
        for arm, value, u in zip(tasks.tolist(), raw.tolist(), uniforms, strict=True):
            t += 1
            reservoir.offer(value, u)
            self._step(arm, reservoir.rescale(value), t)

    def _sample(self, n: int) -> NDArray[np.int64]:
        return draw(self.rng_, self.probabilities(), n)

    def _metrics(self) -> dict[str, float]:
        p = self.probabilities()
        out = {"entropy": entropy(p), "max_prob": float(p.max())}
        if len(self.reservoir_):
            out["reward_low"] = self.reservoir_.quantile(self.low_quantile)
            out["reward_high"] = self.reservoir_.quantile(self.high_quantile)
        return out

    # ----------------------------------------------------------------- weights
    def weights(self) -> NDArray[np.float64]:
        """``softmax(w)``, the normalised exponential weights (before ε mixing). O(N)."""
        p = self._lazy_weights()
        return p / p.sum()

    def _lazy_weights(self) -> NDArray[np.float64]:
        p = (
            np.exp(self.log_scale_ - self.touch_log_scale_)
            * (self.touch_value_ - self.touch_offset_)
            + self.offset_
        )
        return np.maximum(p, 0.0, out=p)

    def probabilities(self) -> NDArray[np.float64]:
        """The policy ``π = (1 - ε) softmax(w) + ε / N``. O(N)."""
        return (1.0 - self.epsilon) * self.weights() + self.epsilon / self.space.n

    def _weight_of(self, arm: int) -> float:
        value = (
            math.exp(self.log_scale_ - self.touch_log_scale_[arm])
            * (self.touch_value_[arm] - self.touch_offset_[arm])
            + self.offset_
        )
        return min(max(value, 0.0), 1.0)

    def _step(self, arm: int, reward: float, t: int) -> None:
        n = self.space.n
        alpha = 1.0 / t
        if self.beta > 0.0:
            self._dense_step(arm, reward, alpha)
            return
        p_a = self._weight_of(arm)
        if p_a > 0.0:
            pi_a = (1.0 - self.epsilon) * p_a + self.epsilon / n
            x = self.eta * reward / pi_a
            # Z = sum of the weights after arm a's gain e^x: 1 - p_a + p_a e^x, in log space.
            if x > 0.0:
                log_z = x + math.log(p_a + (1.0 - p_a) * math.exp(-x))
            else:
                log_z = math.log1p(p_a * math.expm1(x))
            q_a = math.exp(math.log(p_a) + x - log_z)
        else:
            # A weight that underflowed to 0 stays 0 under any finite gain.
            log_z, q_a = 0.0, 0.0
        # Every other weight is divided by Z: a change of the global scale.
        self.log_scale_ -= log_z
        self.offset_ *= math.exp(-log_z)
        # Mixing: v <- (1 - α) v + α / (N - 1) (1 - v) = c1 v + c2 for every arm.
        c1 = 1.0 - alpha * n / (n - 1)
        c2 = alpha / (n - 1)
        if c1 <= 0.0:
            self._materialise(arm, q_a, c1, c2)
            return
        self.log_scale_ += math.log(c1)
        self.offset_ = c1 * self.offset_ + c2
        self.touch_value_[arm] = c1 * q_a + c2
        self.touch_log_scale_[arm] = self.log_scale_
        self.touch_offset_[arm] = self.offset_
        if self.offset_ > 1.0:
            # Weights pushed below the shared offset carry negative deviations; once the offset
            # exceeds any weight (a dominant arm lost most of its weight, Z << 1), they cancel
            # against it and lose precision. Rebuilding the explicit weights resets it to 0.
            self._reset_lazy(self._lazy_weights())

    def _materialise(self, arm: int, q_a: float, c1: float, c2: float) -> None:
        # c1 <= 0 (α_t >= (N-1)/N: only t = 1, or t = 2 with 2 arms) is not a scale change;
        # apply it to the explicit weights once and restart the lazy form from them.
        p = self._lazy_weights()
        p[arm] = q_a
        self._reset_lazy(np.maximum(c1 * p + c2, 0.0))

    def _dense_step(self, arm: int, reward: float, alpha: float) -> None:
        n = self.space.n
        p = self.weights()
        pi = (1.0 - self.epsilon) * p + self.epsilon / n
        gain = self.eta * self.beta / pi
        gain[arm] += self.eta * reward / pi[arm]
        log_v = np.log(np.maximum(p, _TINY)) + gain
        log_v -= log_v.max()
        v = np.exp(log_v)
        v /= v.sum()
        self._reset_lazy(np.maximum((1.0 - alpha) * v + alpha / (n - 1) * (1.0 - v), 0.0))

    def _reset_lazy(self, p: NDArray[np.float64]) -> None:
        self.touch_value_ = p / p.sum()
        self.touch_log_scale_ = np.zeros(self.space.n)
        self.touch_offset_ = np.zeros(self.space.n)
        self.log_scale_ = 0.0
        self.offset_ = 0.0

    def _read_signals(
        self, signals: Mapping[str, NDArray[Any]]
    ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | float]:
        progress = signals.get("progress")
        cost: NDArray[np.float64] | float = 1.0
        if "cost" in signals:
            cost = np.asarray(signals["cost"], dtype=np.float64)
            bad = ~(cost > 0.0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"signals['cost'][{i}] = {float(cost[i])!r}: costs must be > 0")
        return (None if progress is None else np.asarray(progress, dtype=np.float64)), cost
