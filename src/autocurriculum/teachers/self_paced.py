"""Self-paced learning over arms: practise only what is easy enough, and raise the bar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import check_real, check_size
from autocurriculum.progress.windows import ArmWindow
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["SelfPaced"]


@register("self-paced")
class SelfPaced(Teacher[Discrete]):
    """Self-paced learning: train on the arms whose loss is below a threshold that grows.

    Kumar et al. train only on the examples whose loss is below ``1 / K`` and anneal ``K`` so that
    harder examples enter as the model improves. Over arms (data slices, difficulty buckets) the
    loss of an arm is ``1 - score`` averaged over its last ``window`` episodes, and:

    - every arm is played once before any is left out (a loss estimate needs an episode), in
      random order;
    - the threshold is ``initial_threshold * growth ** (n_updates // grow_every)``: it grows
      with the episodes seen, as ``K`` shrinks in the paper;
    - draws are uniform over the *active* arms, those whose loss is at or below the threshold
      (the arm with the lowest loss if none is);
    - a fraction ``probe`` of draws goes uniformly to the other arms, to keep their losses
      current. The paper recomputes every example's loss each epoch; a teacher only sees the
      losses of what it samples, so without probes an excluded arm's estimate would never fall.

    Parameters
    ----------
    space : Discrete
        The arms.
    initial_threshold : float
        Starting loss threshold, in (0, 1].
    growth : float
        Factor applied to the threshold every ``grow_every`` episodes, > 1 (the paper's
        annealing factor; 1.1 to 1.3 in its experiments).
    grow_every : int
        Episodes between two raises of the threshold.
    window : int
        Episodes per arm in its loss estimate.
    probe : float
        Share of draws spent on inactive arms, in [0, 1).
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("self-paced", ac.Discrete(3), initial_threshold=0.3, probe=0.0, seed=0)
    >>> teacher.update([0, 1, 2], [0.9, 0.2, 0.8])  # losses 0.1, 0.8, 0.2
    >>> sorted(set(teacher.sample(20).tolist()))     # arm 1 is above the threshold
    [0, 2]

    References
    ----------
    .. [1] Kumar, Packer and Koller, "Self-Paced Learning for Latent Variable Models",
       NeurIPS 2010.
    """

    supported_spaces = ("discrete",)

    def __init__(
        self,
        space: Discrete,
        *,
        initial_threshold: float = 0.3,
        growth: float = 1.1,
        grow_every: int = 1000,
        window: int = 20,
        probe: float = 0.1,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        check_real("initial_threshold", initial_threshold, low=0.0, high=1.0, include_low=False)
        check_real("growth", growth, low=1.0, include_low=False)
        check_size("grow_every", grow_every)
        check_real("probe", probe, low=0.0, high=1.0, include_high=False)
        self.initial_threshold = initial_threshold
        self.growth = growth
        self.grow_every = grow_every
        self.window = window
        self.probe = probe
        self.losses_ = ArmWindow(space.n, window, name="window")

    def threshold(self) -> float:
        """The current loss threshold (arms at or below it are active)."""
        raises = self.n_updates_ // self.grow_every
        # Past a threshold of 1 every arm is active; capping the exponent keeps it finite.
        return float(self.initial_threshold * self.growth ** min(raises, 10_000))

    def active(self) -> NDArray[np.bool_]:
        """Which arms are active now (all of them until every arm has been played once)."""
        seen = self.losses_.total > 0
        if not seen.all():
            return ~seen
        loss = self.losses_.means()
        active = loss <= self.threshold()
        if not active.any():
            active = loss == loss.min()
        return active

    def _sample(self, n: int) -> NDArray[np.int64]:
        active = self.active()
        warming_up = not (self.losses_.total > 0).all()
        inside = np.flatnonzero(active)
        outside = np.flatnonzero(~active)
        if warming_up or outside.size == 0 or self.probe == 0.0:
            return self.rng_.choice(inside, size=n).astype(np.int64)
        probing = self.rng_.random(n) < self.probe
        picks = self.rng_.choice(inside, size=n)
        picks[probing] = self.rng_.choice(outside, size=int(probing.sum()))
        return picks.astype(np.int64)

    def _update(
        self,
        tasks: NDArray[np.int64],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        self.losses_.push(tasks, 1.0 - scores)

    def _metrics(self) -> dict[str, float]:
        return {"threshold": self.threshold(), "active_arms": float(self.active().sum())}
