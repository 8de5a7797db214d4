"""PLR: Prioritized Level Replay (Jiang, Grefenstette and Rocktäschel, 2021)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_positive, check_probability, check_rate
from autocurriculum.progress import ArmEMA, Staleness, UnseenArms, split_levels
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["PLR"]


@register("plr")
class PLR(Teacher[Discrete]):
    """Prioritized Level Replay: replay levels by score rank and staleness, or try new ones.

    Each drawn task is, with probability ``replay_prob``, a *replay* of a level already played
    and otherwise a *fresh* draw from the level distribution ("new vs replay", for level sets
    too large to sweep first): uniform among the levels never played while any remain, then
    uniform among all levels. So the teacher never runs out of "new" levels, and keeps a
    ``1 - replay_prob`` share of exploration once every level has been played (the reference
    implementation instead replays only, once a finite level set is exhausted; that starves
    levels whose score is 0 until they first succeed, such as the next link of a prerequisite
    chain). Before any level has been played, every draw is fresh. A replay draws from
    ``P = (1 - ρ) P_score + ρ P_staleness`` over the played levels:

    - ``P_score(l) ∝ (1 / rank(l)) ** (1 / β)``, ranking levels by score, highest first
      (ties by arm index);
    - ``P_staleness(l) ∝`` episodes since level ``l`` was last played.

    The level score is that of its last episode (smoothed by ``score_alpha`` if < 1):

    - from the trainer, when the update has the signal ``"value_loss"``: the episode's mean
      positive value loss or L1 value loss (PLR's scores);
    - otherwise a performance-based score: the L1 "value loss" ``|x - v_l|`` of the episode's
      score ``x`` against a tabular value baseline ``v_l``, the moving average (rate
      ``value_lr``) of the level's past scores. With binary success its expectation is
      ``2 p (1 - p)`` once ``v_l`` has caught up, and it is larger while the level's success
      rate moves: it favours levels being learned or forgotten, not the impossible or the
      solved.

    "Played" means an outcome was reported through ``update``; staleness counts reported
    episodes, so ``sample(n)`` draws ``n`` independent tasks from one distribution.

    Cost: ranks are kept in a sorted array, re-merged at the next ``sample`` after an update
    (only the levels updated since are re-sorted; the merge is O(levels) numpy, no full
    argsort; ranks are always exact). The sorted array is a cache outside the learned state, a
    function of the level scores alone, so ``sample`` changes nothing an update depends on.
    Staleness draws and updates are O(log levels) through a Fenwick tree, new-level draws O(1).
    Memory is about 110 bytes per level.

    Parameters
    ----------
    space : Discrete
        The levels.
    temperature : float
        β of the rank prioritisation, > 0. The paper used 0.1.
    staleness_coef : float
        ρ, the weight of staleness, in [0, 1]. The paper used 0.1.
    replay_prob : float
        Probability that a draw replays a played level, in [0, 1]. The paper's setting for
        unbounded level sets is 0.5.
    score_alpha : float
        Weight of the latest episode in a level's score, in (0, 1]; 1 keeps the last score.
    value_lr : float
        Rate of the tabular value baseline of the performance-based score, in (0, 1].
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("plr", ac.Discrete(1000), seed=0)
    >>> teacher.update([3, 7, 3], [0.0, 1.0, 1.0], signals={"value_loss": [0.2, 0.9, 0.4]})
    >>> teacher.level_score_[[3, 7]].tolist()  # the last episode's value loss
    [0.4, 0.9]
    >>> p = teacher.replay_probabilities()
    >>> round(float(p[7]), 4)  # rank 1: 0.9 * 1 / (1 + 2**-10) + 0.1 * staleness 1 / 1
    0.9991

    References
    ----------
    .. [1] Jiang, Grefenstette and Rocktäschel, "Prioritized Level Replay", ICML 2021.
    """

    supported_spaces: ClassVar[tuple[str, ...]] = ("discrete",)
    reads: ClassVar[frozenset[str]] = frozenset({"value_loss"})

    def __init__(
        self,
        space: Discrete,
        *,
        temperature: float = 0.1,
        staleness_coef: float = 0.1,
        replay_prob: float = 0.5,
        score_alpha: float = 1.0,
        value_lr: float = 0.1,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_positive("temperature", temperature)
        check_probability("staleness_coef", staleness_coef)
        check_probability("replay_prob", replay_prob)
        check_rate("score_alpha", score_alpha)
        check_rate("value_lr", value_lr)
        self.temperature = temperature
        self.staleness_coef = staleness_coef
        self.replay_prob = replay_prob
        self.score_alpha = score_alpha
        self.value_lr = value_lr

        n = self.space.n
        self.unseen_ = UnseenArms(n)
        self.staleness_ = Staleness(n)
        self.value_ = ArmEMA(n, value_lr)
        self.level_score_ = np.zeros(n)
        self._ranks = _RankCache(n)

    # ---------------------------------------------------------------- protocol
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        given = signals.get("value_loss")

        alpha = self.score_alpha
        levels, tail = split_levels(tasks)
        for depth, level in enumerate(levels):
            arms = tasks[level]
            x = scores[level]
            if given is None:
                episode_score = np.abs(x - self.value_.values[arms])
                self.value_.update(arms, x)
            else:
                episode_score = given[level]
            smoothed = (1.0 - alpha) * self.level_score_[arms] + alpha * episode_score
            if depth == 0:
                smoothed = np.where(self.staleness_.seen[arms], smoothed, episode_score)
            self.level_score_[arms] = smoothed
        # Repeats of an arm beyond the first levels: a scalar loop in batch order, the same
        # arithmetic as the vectorised levels.
        values, level_score, lr = self.value_.values, self.level_score_, self.value_lr
        for i in tail.tolist():
            arm, x_i = int(tasks[i]), float(scores[i])
            if given is None:
                v = float(values[arm])
                episode = abs(x_i - v)
                values[arm] = v + lr * (x_i - v)
                self.value_.counts[arm] += 1
            else:
                episode = float(given[i])
            level_score[arm] = (1.0 - alpha) * float(level_score[arm]) + alpha * episode
        self.staleness_.play(tasks)
        self.unseen_.mark_seen(tasks)
        self._ranks.changed(tasks)

    def _sample(self, n: int) -> NDArray[np.int64]:
        if self.staleness_.n_seen == 0:
            return self.unseen_.draw(self.rng_, n)
        replay = self.rng_.random(n) < self.replay_prob
        out = np.empty(n, dtype=np.int64)
        k = int(replay.sum())
        if k:
            out[replay] = self._replay(k)
        if k < n:
            out[~replay] = self._fresh(n - k)
        return out

    def _fresh(self, k: int) -> NDArray[np.int64]:
        # A fresh draw from the level distribution: an unplayed level while any remain, then
        # any level (the generator of an exhausted finite set), never an error.
        if self.unseen_.n_unseen:
            return self.unseen_.draw(self.rng_, k)
        return self.rng_.integers(0, self.space.n, size=k, dtype=np.int64)

    def _metrics(self) -> dict[str, float]:
        n_seen = self.staleness_.n_seen
        seen = self.staleness_.seen
        return {
            "seen_fraction": n_seen / self.space.n,
            "max_level_score": float(self.level_score_[seen].max()) if n_seen else 0.0,
            "mean_staleness": self.staleness_.total() / n_seen if n_seen else 0.0,
        }

    # ----------------------------------------------------------------- replay
    def replay_probabilities(self) -> NDArray[np.float64]:
        """The replay distribution ``P`` over all levels (0 for unplayed ones). O(N log N).

        A diagnostic: it ranks from scratch and does not change the teacher.
        """
        n = self.space.n
        p = np.zeros(n)
        seen = np.flatnonzero(self.staleness_.seen)
        if len(seen) == 0:
            return p
        order = seen[np.lexsort((seen, -self.level_score_[seen]))]
        weights = self._rank_weights()[: len(seen)]
        p[order] = (1.0 - self.staleness_coef) * weights / weights.sum()
        stale = self.staleness_.staleness()[seen].astype(np.float64)
        if stale.sum() > 0:
            p[seen] += self.staleness_coef * stale / stale.sum()
        else:
            p[seen] += self.staleness_coef / len(seen)
        return p

    def _replay(self, k: int) -> NDArray[np.int64]:
        use_staleness = self.rng_.random(k) < self.staleness_coef
        out = np.empty(k, dtype=np.int64)
        m = int(use_staleness.sum())
        if m:
            out[use_staleness] = self.staleness_.draw(self.rng_, m)
        if m < k:
            order = self.ranked_levels()
            n_seen = len(order)
            cdf = self._rank_cdf()[:n_seen]
            u = self.rng_.random(k - m) * cdf[-1]
            rank = np.minimum(np.searchsorted(cdf, u, side="right"), n_seen - 1)
            out[~use_staleness] = order[rank]
        return out

    def ranked_levels(self) -> NDArray[np.int64]:
        """The played levels, highest score first (ties by index). Read-only; O(1) if cached.

        Refreshing the cache merges only the levels updated since the last call.
        """
        with self._lock:
            return self._ranks.order_for(self.level_score_, self.staleness_.seen)

    def _rank_weights(self) -> NDArray[np.float64]:
        ranks = np.arange(1, self.space.n + 1, dtype=np.float64)
        return ranks ** (-1.0 / self.temperature)

    def _rank_cdf(self) -> NDArray[np.float64]:
        # A function of (n, temperature) only, so it is cached outside the learned state.
        cdf = getattr(self, "_cdf_cache", None)
        if cdf is None:
            cdf = np.cumsum(self._rank_weights())
            self._cdf_cache = cdf
        return cdf


class _RankCache:
    """Played levels sorted by ``(-score, level)``: a cache of a function of the level scores.

    It is not learned state: it is rebuilt from the scores whenever it may be out of date, and
    it knows that by holding the very ``level_score`` array it was built from (a loaded state
    brings new arrays, so the cache starts over; an update marks the levels it changed, and
    only those are re-sorted and merged back).
    """

    def __init__(self, n: int):
        self.source: NDArray[np.float64] | None = None
        self.order: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.keys: NDArray[np.complex128] = np.zeros(0, dtype=np.complex128)
        self.dirty: NDArray[np.bool_] = np.zeros(n, dtype=bool)
        self.any_dirty = False

    def changed(self, levels: NDArray[np.int64]) -> None:
        if self.source is not None:
            self.dirty[levels] = True
            self.any_dirty = True

    def order_for(
        self, scores: NDArray[np.float64], seen: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        if self.source is not scores:
            self.source = scores
            self.order = np.zeros(0, dtype=np.int64)
            self.keys = np.zeros(0, dtype=np.complex128)
            self.dirty = seen.copy()
            self.any_dirty = True
        if self.any_dirty:
            self._merge(scores)
        return self.order

    def _merge(self, scores: NDArray[np.float64]) -> None:
        changed = np.flatnonzero(self.dirty)
        keep = ~self.dirty[self.order]
        kept_order = self.order[keep]
        kept_keys = self.keys[keep]
        # Complex keys sort lexicographically: by -score, then by level index.
        new_keys = -scores[changed] + 1j * changed
        by_key = np.argsort(new_keys)
        new_keys = new_keys[by_key]
        where = np.searchsorted(kept_keys, new_keys)
        self.order = np.insert(kept_order, where, changed[by_key])
        self.keys = np.insert(kept_keys, where, new_keys)
        self.dirty[changed] = False
        self.any_dirty = False
