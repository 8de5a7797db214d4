"""|advantage| signals from grouped rewards, as GRPO computes them, and per-step accumulation.

In GRPO-style training every prompt is rolled out several times; the rollouts of one prompt
form a *group*, and a rollout's advantage is its reward minus its group's mean reward,
optionally divided by the group's standard deviation. The mean |advantage| of a task category
is then a cheap learning signal: it is zero where every rollout agrees (all solved, or all
failed) and largest where the outcome is uncertain. With binary rewards and no std division,
``E|A| = 2 p (1 - p)``, twice the learnability.

Teachers that use it (SEC, DUMP) read it from ``update(..., signals=...)``:

- ``signals={"abs_advantage": array}`` (or ``{"advantage": array}``, whose absolute value is
  taken): the |advantage| of each rollout, computed by the trainer;
- ``signals={"group": ids}``: a group id per rollout; the advantages are computed here from
  the scores (the rollouts' rewards). A group may span several ``update`` calls of one step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum._state import state_class
from autocurriculum.params import check_bool

__all__ = [
    "ADVANTAGE_KEYS",
    "AdvantageStep",
    "group_advantages",
    "mean_by_arm",
    "read_abs_advantage",
]

#: Signal keys an |advantage| reader accepts, in order of preference.
ADVANTAGE_KEYS = ("abs_advantage", "advantage", "group")


def group_advantages(
    rewards: ArrayLike, groups: ArrayLike, *, normalize: bool = True, eps: float = 1e-6
) -> NDArray[np.float64]:
    """GRPO advantages: reward minus its group's mean, optionally over the group's std.

    Parameters
    ----------
    rewards : array_like of float
        One reward per rollout.
    groups : array_like
        One group id per rollout (any hashable numbers; rollouts with equal ids form a group).
    normalize : bool
        Divide by the group's sample standard deviation (``ddof=1``) plus ``eps``, as GRPO
        does. A group of identical rewards gets advantage 0 either way.
    eps : float
        Added to the std to avoid dividing by zero.

    Returns
    -------
    ndarray of float64
        One advantage per rollout. A group of a single rollout has no baseline and gets 0.

    Examples
    --------
    >>> group_advantages([1, 0, 1, 1], groups=[7, 7, 9, 9], normalize=False).tolist()
    [0.5, -0.5, 0.0, 0.0]
    """
    r = np.asarray(rewards, dtype=np.float64)
    g = np.asarray(groups)
    if r.ndim != 1 or g.shape != r.shape:
        raise ValueError(
            f"rewards and groups must be 1-D of the same length, got shapes {r.shape} and "
            f"{g.shape}"
        )
    if r.size == 0:
        return np.zeros(0)
    _, inverse, counts = np.unique(g, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.bincount(inverse, weights=r)
    means = sums / counts
    adv = r - means[inverse]
    if normalize:
        sq = np.bincount(inverse, weights=adv * adv)
        std = np.sqrt(sq / np.maximum(counts - 1, 1))[inverse]
        # A group of equal rewards has advantage 0, whatever eps (even 0).
        adv = np.divide(adv, std + eps, out=np.zeros_like(adv), where=std > 0.0)
    adv[counts[inverse] == 1] = 0.0
    return adv


def mean_by_arm(
    arms: ArrayLike, values: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Mean of ``values`` per distinct arm: ``(arms, means)``, arms sorted.

    Examples
    --------
    >>> a, m = mean_by_arm([2, 0, 2], [0.5, 1.0, 0.25])
    >>> a.tolist(), m.tolist()
    ([0, 2], [1.0, 0.375])
    """
    arm_arr = np.asarray(arms, dtype=np.int64)
    val = np.asarray(values, dtype=np.float64)
    unique, inverse, counts = np.unique(arm_arr, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse.reshape(-1), weights=val, minlength=len(unique))
    return unique, sums / counts


def read_abs_advantage(
    signals: Mapping[str, NDArray[Any]], *, owner: str
) -> tuple[NDArray[np.float64] | None, NDArray[np.int64] | None]:
    """Find the |advantage| (or the group ids to compute it) in validated ``signals``.

    ``"abs_advantage"`` is preferred, then ``"advantage"`` (its absolute value), then
    ``"group"``.

    Returns
    -------
    (abs_advantage, groups)
        Exactly one of the two is not None.

    Raises
    ------
    ValueError
        If ``signals`` holds none of :data:`ADVANTAGE_KEYS`.

    Examples
    --------
    >>> read_abs_advantage({"advantage": np.array([-0.5, 0.25])}, owner="demo")
    (array([0.5 , 0.25]), None)
    """
    for key in ("abs_advantage", "advantage"):
        if key in signals:
            return np.abs(np.asarray(signals[key], dtype=np.float64)), None
    if "group" in signals:
        return None, np.asarray(signals["group"], dtype=np.int64)
    raise ValueError(
        f"{owner} needs an |advantage| signal: signals has keys {sorted(signals)}, expected "
        "'abs_advantage' (or 'advantage'), or 'group' (a group id per rollout) to compute GRPO "
        "advantages from the scores"
    )


@state_class
class AdvantageStep:
    """Collects one training step's rollouts and turns them into per-rollout |advantage|.

    A step's outcomes may arrive in several ``update`` calls (one rollout at a time, or one
    batch per worker), and a GRPO group may span calls; the advantages are therefore computed
    only when the step ends (:meth:`flush`), over all of the step's rollouts. Memory is bounded
    by one step's rollouts.

    Parameters
    ----------
    normalize : bool
        Divide group advantages by the group std (GRPO); see :func:`group_advantages`.

    Examples
    --------
    >>> step = AdvantageStep(normalize=False)
    >>> arms, scores = np.array([0, 0, 1]), np.array([1.0, 0.0, 0.5])
    >>> step.add(arms[:2], scores[:2], {"group": np.array([3, 3])}, owner="demo")
    >>> step.add(arms[2:], scores[2:], {"abs_advantage": np.array([0.2])}, owner="demo")
    >>> arms, abs_adv = step.flush()
    >>> arms.tolist(), abs_adv.tolist()
    ([0, 0, 1], [0.5, 0.5, 0.2])
    """

    def __init__(self, *, normalize: bool = True):
        self.normalize = check_bool("normalize", normalize)
        self.chunks: list[
            tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64] | None]
        ] = []

    def __len__(self) -> int:
        return sum(len(c[0]) for c in self.chunks)

    def add(
        self,
        arms: NDArray[np.int64],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
        *,
        owner: str,
    ) -> None:
        """Queue validated rollouts; raises (changing nothing) if the signal is unusable."""
        abs_adv, groups = read_abs_advantage(signals, owner=owner)
        arm_arr = np.array(arms, dtype=np.int64)
        if groups is None:
            self.chunks.append((arm_arr, np.array(abs_adv, dtype=np.float64), None))
        else:
            self.chunks.append((arm_arr, np.array(scores, dtype=np.float64), groups.copy()))

    def flush(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """End the step: return ``(arms, abs_advantage)`` of its rollouts and forget them."""
        if not self.chunks:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        arms = np.concatenate([c[0] for c in self.chunks])
        values = np.concatenate([c[1] for c in self.chunks])
        grouped = np.concatenate([np.full(len(c[0]), c[2] is not None) for c in self.chunks])
        if grouped.any():
            ids = np.concatenate([c[2] for c in self.chunks if c[2] is not None])
            values[grouped] = np.abs(
                group_advantages(values[grouped], ids, normalize=self.normalize)
            )
        self.chunks = []
        return arms, values
