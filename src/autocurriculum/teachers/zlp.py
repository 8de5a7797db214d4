"""ZLP: greedy on learning progress beyond its noise, else explore where there is room to learn."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import (
    InvalidParameterError,
    check_positive,
    check_probability,
    check_rate,
    check_real,
)
from autocurriculum.progress import draw, group_batch, split_levels
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["ZLP"]


@register("zlp")
class ZLP(Teacher[Discrete]):
    """Z-scored learning progress (ZLP): progress beyond its noise, greedily; else explore.

    The name: an arm's learning progress counts only by how many noise deviations (its
    z-score) it stands above the progress that chance alone would show.

    Not a published algorithm: this library's teacher for discrete task sets, designed on the
    ``arms-chain`` and ``arms-mixed`` benchmarks (docs/discrete.md), where the published
    learning-progress teachers chase the noise of arms that succeed by chance.

    Per arm, over its own episodes, a fast and a slow moving average of the scores, ``f`` and
    ``s`` (rates ``fast`` and ``slow``; both start at the arm's first score). Their difference
    is the learning progress (positive while the arm improves, negative while it is
    forgotten). For an arm whose success rate does not move, ``f - s`` is pure noise with
    standard deviation ``sd = sqrt(p (1 - p) c)``, where ``p`` is the arm's success rate (from
    ``s``, shrunk toward 1/2 by one pseudo-episode) and ``c`` the variance factor of the
    difference of the two averages for independent scores (``p (1 - p)`` bounds the variance
    of any score in [0, 1] of mean ``p``, so it is conservative for non-binary scores). The
    arm's value is its progress beyond ``z`` noise deviations, times its room to learn::

        value = max(|f - s| - z sd, 0) * max(1 - f, room_floor)

    so an arm at 25% success by chance shows value only as often as noise exceeds ``z``
    deviations, while the first successes of an arm that always failed (``p`` near 0, tiny
    noise) show at once; a mastered arm (``f`` near 1) has no room left and stops drawing
    episodes as soon as it is learned. A fall beyond ``boredom_z`` deviations (an arm
    forgotten, or locked again) restarts both averages from the score just seen, so the arm
    looks as unknown as an unplayed one and is explored again at once.

    Each drawn task is, with probability ``epsilon + (1 - epsilon) E / (g + E)`` (``g`` the
    best value, ``E = explore_mass``; always if no arm has value), an exploration draw from

        P(arm) ∝ (1 - f) exp(-quiet / boredom) + rehearsal f^8 age / (stale_sweeps N)

    Otherwise the draw is greedy: the arm of highest value (ties shared).

    - The first term explores where there is room to learn, while the arm is still new:
      ``quiet`` counts the arm's episodes since its progress last exceeded ``boredom_z``
      deviations, so an arm tried many times without progress (unlearnable, or still locked)
      fades out exponentially. Every episode of confirmed progress on any arm forgives
      ``unlock`` quiet episodes of every arm (down to 0): learning elsewhere may have unlocked
      an arm, so stuck arms are tried again while the learner is learning, and are left
      alone once it has stopped.
    - The second term rehearses what the learner holds. ``age`` is the number of episodes
      since the arm was last played (``N`` arms): the weight of a held arm grows while it is
      left alone, so every held arm comes back, and a forgotten one is found by the fall its
      rehearsal shows. ``f^8``, the chance of eight successes in a row, keeps rehearsal for
      reliable arms: an arm at 25% chance success gets 1.5e-5 of a mastered arm's weight at
      the same age, and since weights grow with age, about f^4 = 0.4% of its visits.

    Once every learnable arm is mastered, the exploration draws are rehearsals of held arms,
    and the share spent on unlearnable arms falls toward zero (measured figures:
    benchmarks/RESULTS.md).

    Signals are not read; the scores are the learning curve.

    Cost: ``update`` is O(1) per item; ``sample`` is a few O(arms) passes per call, shared by
    the batch (measured costs: benchmarks/RESULTS.md). Memory: eleven numbers per arm.

    Parameters
    ----------
    space : Discrete
        The arms.
    fast, slow : float
        Rates of the two moving averages of each arm's scores, ``0 < slow < fast <= 1``.
    z : float
        Noise allowance, in standard deviations of ``f - s`` for an arm that does not learn;
        >= 0.
    explore_mass : float
        ``E``: how much value the best arm needs to be drawn greedily half of the time; > 0.
    room_floor : float
        Smallest room to learn in an arm's value (so progress on an arm near mastery still
        counts), in (0, 1].
    boredom : float
        Quiet episodes that divide an arm's exploration for learning by e, > 0.
    boredom_z : float
        Deviations of progress that reset an arm's quiet count, >= 0.
    epsilon : float
        Minimum probability of an exploration draw, in [0, 1].
    stale_sweeps : float
        Age, in episodes per arm, at which the rehearsal weight of a mastered arm reaches
        ``rehearsal``; > 0, or 0 to turn rehearsal off.
    unlock : float
        Quiet episodes of every arm forgiven per episode of confirmed progress on any arm;
        >= 0, 0 turns it off.
    rehearsal : float
        Rehearsal weight of a mastered arm (``f = 1``) left alone for ``stale_sweeps``
        sweeps, relative to exploring an unplayed arm (weight 1); >= 0.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("zlp", ac.Discrete(3), seed=0)
    >>> teacher.update([0] * 20 + [1] * 20, [0.0] * 20 + [0.0] * 19 + [1.0])
    >>> teacher.values().round(3).tolist()  # arm 1 just had its first success; 2 is unseen
    [0.0, 0.07, 0.0]
    >>> sorted(set(teacher.sample(8).tolist()))  # greedy on arm 1, or explore arm 2
    [1, 2]

    References
    ----------
    .. [1] Matiisen, Oliver, Cohen and Schulman, "Teacher-Student Curriculum Learning",
       IEEE TNNLS 2019 (arXiv:1707.00183): greedy on |learning progress|.
    .. [2] Kanitscheider et al., "Multi-task curriculum learning in a complex, visual,
       hard-exploration domain: Minecraft", arXiv:2106.14876, 2021: progress as a fast minus
       a slow moving average of success.
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        fast: float = 0.15,
        slow: float = 0.02,
        z: float = 1.0,
        explore_mass: float = 0.03,
        room_floor: float = 0.05,
        boredom: float = 20.0,
        boredom_z: float = 3.0,
        epsilon: float = 0.05,
        stale_sweeps: float = 25.0,
        unlock: float = 1.0,
        rehearsal: float = 0.3,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_rate("fast", fast)
        check_rate("slow", slow)
        if not slow < fast:
            raise InvalidParameterError(f"slow must be < fast, got slow={slow!r}, fast={fast!r}")
        check_real("z", z, low=0.0)
        check_positive("explore_mass", explore_mass)
        check_rate("room_floor", room_floor)
        check_positive("boredom", boredom)
        check_real("boredom_z", boredom_z, low=0.0)
        check_probability("epsilon", epsilon)
        check_real("stale_sweeps", stale_sweeps, low=0.0)
        check_real("unlock", unlock, low=0.0)
        check_real("rehearsal", rehearsal, low=0.0)
        self.fast = fast
        self.slow = slow
        self.z = z
        self.explore_mass = explore_mass
        self.room_floor = room_floor
        self.boredom = boredom
        self.boredom_z = boredom_z
        self.epsilon = epsilon
        self.stale_sweeps = stale_sweeps
        self.unlock = unlock
        self.rehearsal = rehearsal

        n = self.space.n
        self.f_ = np.zeros(n)
        self.s_ = np.zeros(n)
        self.count_ = np.zeros(n, dtype=np.int64)
        self.quiet_ = np.zeros(n)
        self.quiet_mark_ = np.zeros(n)
        self.events_ = 0.0
        self.last_ = np.zeros(n, dtype=np.int64)
        self._c = self._variance_factor()
        # Per-arm terms of the value and of the exploration weights, refreshed for the arms an
        # update touches, so that ``sample`` costs a few O(arms) passes instead of dozens.
        self.value_ = np.zeros(n)
        self.room_ = np.ones(n)
        self.novelty_log_ = np.zeros(n)
        self.hold_ = np.zeros(n)
        self.hold_since_ = np.zeros(n)

    # ---------------------------------------------------------------- protocol
    def _update(
        self, tasks: NDArray[Any], scores: NDArray[np.float64], signals: Mapping[str, Any]
    ) -> None:
        groups = group_batch(tasks)
        self.last_[groups.unique] = self.n_updates_ + groups.last + 1  # as one at a time
        levels, tail = split_levels(tasks, groups=groups)
        strong = np.empty(len(tasks), dtype=bool)
        gained = np.empty(len(tasks), dtype=bool)
        # Each arm at most once per level: one vectorised step. Repeats beyond the first
        # levels (a batch dominated by the greedy arm) go one at a time, in batch order, in
        # plain floats: a one-element numpy step costs ten times more.
        for idx in levels:
            strong[idx], gained[idx] = self._step(tasks[idx], scores[idx])
        tail_items = [(int(i), int(tasks[i]), float(scores[i])) for i in tail]
        for i, arm, x in tail_items:
            strong[i], gained[i] = self._step_one(arm, x)
        # Confirmed progress anywhere may have unlocked arms that were stuck: each episode of
        # it forgives ``unlock`` quiet episodes of every arm, lazily, through the event count
        # at which the arm's count was last written. The events before an item in batch order
        # are its exclusive prefix sum, as one update at a time would see them.
        seen = self.events_ + np.cumsum(gained) - gained
        for idx in levels:
            arms = tasks[idx]
            quiet = np.maximum(
                self.quiet_[arms] - self.unlock * (seen[idx] - self.quiet_mark_[arms]), 0.0
            )
            self.quiet_[arms] = np.where(strong[idx], 0.0, quiet + 1.0)
            self.quiet_mark_[arms] = seen[idx]
        for i, arm, _ in tail_items:
            mark = float(seen[i])
            quiet = max(float(self.quiet_[arm]) - self.unlock * (mark - self.quiet_mark_[arm]), 0.0)
            self.quiet_[arm] = 0.0 if strong[i] else quiet + 1.0
            self.quiet_mark_[arm] = mark
        self.events_ += float(np.count_nonzero(gained))
        self._refresh(groups.unique)

    def _refresh(self, arms: NDArray[np.int64]) -> None:
        """Recompute the cached per-arm terms of ``arms`` from their state."""
        f, s, count = self.f_[arms], self.s_[arms], self.count_[arms]
        sd = self._noise_sd(s, count)
        excess = np.maximum(np.abs(f - s) - self.z * sd, 0.0)
        self.value_[arms] = excess * np.maximum(1.0 - f, self.room_floor)
        room = 1.0 - f
        self.room_[arms] = room
        # exp(-max(q - unlock (E - mark), 0) / boredom) (1 - f) is min(exp(novelty_log +
        # unlock E / boredom), 1 - f): the global event count E enters as one scalar.
        with np.errstate(divide="ignore"):  # log(0) = -inf: a held arm has no room
            self.novelty_log_[arms] = (
                np.log(room) - (self.quiet_[arms] + self.unlock * self.quiet_mark_[arms])
                / self.boredom
            )
            if self.stale_sweeps > 0:
                # rehearsal f^8 (t - last) / H is hold t / H - hold_since.
                hold = self.rehearsal * f**8
                self.hold_[arms] = hold
                self.hold_since_[arms] = hold * self.last_[arms] / self._horizon()

    def _horizon(self) -> float:
        return self.stale_sweeps * self.space.n

    def _step(
        self, arms: NDArray[np.int64], x: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Moving averages of one level; returns which items moved beyond ``boredom_z`` sd, and
        which of them moved up."""
        first = self.count_[arms] == 0
        f_old, s_old = self.f_[arms], self.s_[arms]
        f = np.where(first, x, f_old + self.fast * (x - f_old))
        s = np.where(first, x, s_old + self.slow * (x - s_old))
        count = self.count_[arms] + 1
        threshold = self.boredom_z * self._noise_sd(s, count)
        diff = f - s
        # A confirmed fall (forgotten, or locked again) restarts both averages from the score
        # just seen: the arm looks as unknown as an unplayed one and is explored again, instead
        # of looking held for the ~1 / slow episodes the slow average takes to follow.
        fell = diff < -threshold
        self.f_[arms] = np.where(fell, x, f)
        self.s_[arms] = np.where(fell, x, s)
        self.count_[arms] = count
        return np.abs(diff) > threshold, diff > threshold

    def _step_one(self, arm: int, x: float) -> tuple[bool, bool]:
        """:meth:`_step` for one item, with the same floating-point operations."""
        count = int(self.count_[arm]) + 1
        if count == 1:
            f = s = x
        else:
            f_old, s_old = float(self.f_[arm]), float(self.s_[arm])
            f = f_old + self.fast * (x - f_old)
            s = s_old + self.slow * (x - s_old)
        n_eff = min(float(count), 1.0 / self.slow)
        p = (s * n_eff + 0.5) / (n_eff + 1.0)
        threshold = self.boredom_z * math.sqrt(p * (1.0 - p) * self._c)
        diff = f - s
        if diff < -threshold:
            f = s = x
        self.f_[arm] = f
        self.s_[arm] = s
        self.count_[arm] = count
        return abs(diff) > threshold, diff > threshold

    def _sample(self, n: int) -> NDArray[np.int64]:
        value = self.value_
        best = float(value.max())
        if best > 0.0:
            p_explore = self.epsilon + (1.0 - self.epsilon) * self.explore_mass / (
                best + self.explore_mass
            )
        else:
            p_explore = 1.0
        explore = self.rng_.random(n) < p_explore
        out = np.empty(n, dtype=np.int64)
        k = int(explore.sum())
        if k:
            weights = self.exploration_weights()
            if not weights.sum() > 0.0:  # everything held and rehearsal off: no preference
                weights = np.ones_like(weights)
            out[explore] = draw(self.rng_, weights, k)
        if k < n:
            top = np.flatnonzero(value == best)
            out[~explore] = top[self.rng_.integers(0, len(top), size=n - k)]
        return out

    def _metrics(self) -> dict[str, float]:
        value = self.value_
        best = float(value.max())
        p_explore = (
            self.epsilon + (1.0 - self.epsilon) * self.explore_mass / (best + self.explore_mass)
            if best > 0.0
            else 1.0
        )
        return {
            "arms_with_value": float(np.count_nonzero(value > 0.0)),
            "max_value": best,
            "explore_prob": float(p_explore),
            "mean_quiet": float(self.quiet_.mean()),
        }

    # ----------------------------------------------------------------- helpers
    def progress(self) -> NDArray[np.float64]:
        """Signed learning progress ``f - s`` per arm (0 for arms never played)."""
        return self.f_ - self.s_

    def values(self) -> NDArray[np.float64]:
        """``max(|f - s| - z sd, 0) * max(1 - f, room_floor)`` per arm (a copy)."""
        return self.value_.copy()

    def exploration_weights(self) -> NDArray[np.float64]:
        """Unnormalised exploration distribution (see the class docstring). O(arms)."""
        # Overflow of the exponential is the intended +inf: its minimum with 1 - f clamps it.
        with np.errstate(over="ignore"):
            weight = np.exp(self.novelty_log_ + self.unlock * self.events_ / self.boredom)
        np.minimum(weight, self.room_, out=weight)
        if self.stale_sweeps > 0:
            rehearse = self.hold_ * (self.n_updates_ / self._horizon())
            rehearse -= self.hold_since_
            weight += rehearse
        return weight

    def _noise_sd(self, s: NDArray[np.float64], count: NDArray[np.int64]) -> NDArray[np.float64]:
        # The slow average weighs about 1 / slow recent episodes; one pseudo-episode at 1/2
        # keeps p (1 - p) away from 0 after a run of identical scores.
        n_eff = np.minimum(count, 1.0 / self.slow)
        p = (s * n_eff + 0.5) / (n_eff + 1.0)
        return np.sqrt(p * (1.0 - p) * self._c)

    def _variance_factor(self) -> float:
        a, b = self.fast, self.slow
        return a / (2.0 - a) + b / (2.0 - b) - 2.0 * a * b / (1.0 - (1.0 - a) * (1.0 - b))

