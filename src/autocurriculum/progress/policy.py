"""Turning per-arm values into a sampling distribution, and drawing arms from it.

All functions are O(arms) vectorised numpy and draw only from the generator they are given.
A teacher calls them once per ``sample(n)`` call, so their cost is shared by the ``n`` draws.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.params import check_positive, check_probability

__all__ = [
    "boltzmann",
    "draw",
    "draw_epsilon_greedy",
    "entropy",
    "epsilon_greedy",
    "learnability",
    "mix_uniform",
]


def learnability(p: ArrayLike) -> NDArray[np.float64]:
    """Learnability ``p (1 - p)`` of success rates ``p`` in [0, 1]; it peaks at 0.5.

    References: Rutherford et al., "No Regrets: Investigating and Improving Regret
    Approximations for Curriculum Discovery" (SFL), NeurIPS 2024; Foster and Foerster,
    "Learning to Reason at the Frontier of Learnability" (LILO), 2025.

    Examples
    --------
    >>> learnability([0.0, 0.5, 0.9]).round(2).tolist()
    [0.0, 0.25, 0.09]
    """
    arr = np.asarray(p, dtype=np.float64)
    if np.any(~((arr >= 0.0) & (arr <= 1.0))):
        bad = arr[~((arr >= 0.0) & (arr <= 1.0))].ravel()[0]
        raise ValueError(f"success rates must be in [0, 1], got {float(bad)!r}")
    return arr * (1.0 - arr)


def boltzmann(values: ArrayLike, temperature: float) -> NDArray[np.float64]:
    """Softmax ``p ∝ exp(values / temperature)``, computed stably (max subtracted).

    Examples
    --------
    >>> boltzmann([0.0, 0.0, np.log(2.0)], temperature=1.0).tolist()
    [0.25, 0.25, 0.5]
    """
    check_positive("temperature", temperature)
    v = np.asarray(values, dtype=np.float64)
    z = (v - v.max()) / temperature
    e = np.exp(z)
    return e / e.sum()


def epsilon_greedy(values: ArrayLike, epsilon: float) -> NDArray[np.float64]:
    """ε-greedy distribution: ``1 - ε`` shared by the arms tied at the max, ``ε`` uniform.

    Ties are shared rather than broken by index, so that arms with equal value (all of them at
    the start) are treated alike.

    Examples
    --------
    >>> epsilon_greedy([0.1, 0.3, 0.3, 0.0], epsilon=0.2).round(3).tolist()
    [0.05, 0.45, 0.45, 0.05]
    """
    eps = check_probability("epsilon", epsilon)
    v = np.asarray(values, dtype=np.float64)
    p = np.full(v.shape, eps / v.size)
    best = np.flatnonzero(v == v.max())
    p[best] += (1.0 - eps) / best.size
    return p


def draw_epsilon_greedy(
    rng: np.random.Generator, values: ArrayLike, epsilon: float, n: int
) -> NDArray[np.int64]:
    """``n`` arms from :func:`epsilon_greedy` ``(values, epsilon)`` without building it.

    Each draw is uniform over all arms with probability ``epsilon``, else uniform over the arms
    tied at the max: two O(arms) passes instead of the four of build-then-draw.

    Examples
    --------
    >>> draw_epsilon_greedy(np.random.default_rng(0), [0.0, 2.0, 1.0], 0.0, 3).tolist()
    [1, 1, 1]
    """
    eps = check_probability("epsilon", epsilon)
    v = np.asarray(values, dtype=np.float64)
    best = np.flatnonzero(v == v.max())
    out = best[rng.integers(0, best.size, size=n)]
    if eps > 0.0:
        explore = rng.random(n) < eps
        out[explore] = rng.integers(0, v.size, size=int(explore.sum()))
    return out.astype(np.int64)


def mix_uniform(p: NDArray[np.float64], epsilon: float) -> NDArray[np.float64]:
    """``(1 - ε) p + ε / n``: every arm keeps at least ``ε / n``."""
    return (1.0 - epsilon) * p + epsilon / p.size


def draw(rng: np.random.Generator, p: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    """``n`` independent arms from the distribution ``p`` (need not be exactly normalised).

    One ``rng.random(n)`` call and a binary search in the cumulative sum; arms of probability
    zero are never drawn.

    Examples
    --------
    >>> draw(np.random.default_rng(0), np.array([0.0, 1.0, 0.0]), 4).tolist()
    [1, 1, 1, 1]
    """
    cdf = np.cumsum(p)
    u = rng.random(n) * cdf[-1]
    idx = np.searchsorted(cdf, u, side="right")
    over = idx >= p.size
    if over.any():
        # u rounded up to the total: take the last arm of positive probability.
        idx[over] = np.searchsorted(cdf, cdf[-1], side="left")
    return idx.astype(np.int64)


def entropy(p: ArrayLike) -> float:
    """Shannon entropy (nats) of a distribution; 0 log 0 counts as 0.

    Examples
    --------
    >>> round(entropy([0.5, 0.5, 0.0]), 4)
    0.6931
    """
    arr = np.asarray(p, dtype=np.float64)
    arr = arr / arr.sum()
    nz = arr[arr > 0.0]
    return float(-(nz * np.log(nz)).sum())
