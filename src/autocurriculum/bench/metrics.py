"""Benchmark metrics: pure functions on ``(runs x evals)`` or ``(runs x tasks)`` arrays.

In the spirit of rliable: nothing here reads files or keeps state, every resampling function
takes an explicit ``random_state``, and the aggregate across scenarios is the interquartile mean
(IQM) with a stratified bootstrap confidence interval.

Why a hand-written percentile bootstrap rather than :func:`scipy.stats.bootstrap`: scipy's default
BCa method returns NaN (with a ``DegenerateDataWarning``) when every run has the same value, which
is the normal case here (an oracle at 100%, a teacher stuck at 0%), and a learning curve needs one
interval per eval point. :func:`bootstrap_ci` draws one set of resampled run indices and reuses
it for every column, so a whole curve's bands cost one vectorised gather, and identical values
give the degenerate interval ``[v, v]`` instead of NaN.

With the usual 5 seeds, a percentile bootstrap interval is narrower than a t interval would be
(it cannot see variance the 5 runs did not show): read it as a lower bound on the uncertainty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import trim_mean

__all__ = [
    "auc",
    "bootstrap_ci",
    "episodes_to_threshold",
    "iqm",
    "iqm_ci",
    "mean_if_all_reached",
]

#: Resamples used by default: enough for stable 2.5/97.5 percentiles at negligible cost.
DEFAULT_RESAMPLES = 5000


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        raise ValueError(
            "random_state must be an int or a numpy Generator so results are reproducible, got None"
        )
    return np.random.default_rng(random_state)


def _check_level(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _check_resamples(n_resamples: int) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise ValueError(f"n_resamples must be a positive int, got {n_resamples!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive int, got {n_resamples!r}")


def bootstrap_ci(
    values: ArrayLike,
    *,
    random_state: int | np.random.Generator | None,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> tuple[Any, Any, Any]:
    """Mean and percentile-bootstrap confidence interval of the mean over runs (axis 0).

    Parameters
    ----------
    values : array_like, shape (runs,) or (runs, k)
        One value per run, or one row per run (for example a learning curve of ``k`` evals).
        Each column gets its own interval; all columns share the resampled run indices.
    random_state : int or numpy.random.Generator
        Seed of the resampling. Required: a CI that changes on every call is not a result.
    confidence : float
        Confidence level, 0.95 for a 95% interval.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    mean, low, high : float or numpy.ndarray
        Floats for 1-D input, arrays of shape ``(k,)`` for 2-D input. With a single run, the
        interval is undefined and ``low`` and ``high`` are NaN. ``low <= mean <= high`` always
        holds where defined.

    Examples
    --------
    >>> m, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0], random_state=0)
    >>> float(m), bool(1.0 <= lo <= m <= hi <= 4.0)
    (2.5, True)
    """
    _check_level(confidence)
    _check_resamples(n_resamples)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise ValueError(
            f"values must have shape (runs,) or (runs, k) with at least one run, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("values must be finite; got NaN or infinite entries")
    mean = arr.mean(axis=0)
    n = arr.shape[0]
    if n == 1:
        nan = np.full_like(mean, np.nan)
        return _scalar(mean), _scalar(nan), _scalar(nan.copy())
    rng = _rng(random_state)
    idx = rng.integers(0, n, size=(n_resamples, n))
    means = arr[idx].mean(axis=1)  # (n_resamples,) or (n_resamples, k)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=0)
    # Summing n equal floats can land an ulp away from the sample mean; an interval must
    # contain its own point estimate.
    low = np.minimum(low, mean)
    high = np.maximum(high, mean)
    return _scalar(mean), _scalar(low), _scalar(high)


def _scalar(x: NDArray[np.float64]) -> Any:
    return float(x) if np.ndim(x) == 0 else x


def iqm(values: ArrayLike, axis: int | None = None) -> Any:
    """Interquartile mean: the mean of the middle 50% of the values (25% trimmed each side).

    With ``axis=None`` the array is flattened, as rliable does for a ``(runs x tasks)`` array.

    Examples
    --------
    >>> float(iqm([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0]))
    3.5
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("iqm needs at least one value")
    if axis is None:
        arr = arr.reshape(-1)
        axis = 0
    return _scalar(np.asarray(trim_mean(arr, 0.25, axis=axis)))


def iqm_ci(
    scores: ArrayLike,
    *,
    random_state: int | np.random.Generator | None,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> tuple[float, float, float]:
    """IQM over a ``(runs x tasks)`` array with a stratified percentile-bootstrap CI.

    Stratified as in rliable (Agarwal et al., NeurIPS 2021): each resample draws runs with
    replacement independently within every task (column), then takes the IQM of the whole
    resampled array, so every task keeps its weight.

    Parameters
    ----------
    scores : array_like, shape (runs, tasks)
        Normalised scores (for example % of the best possible), one row per run (seed).
    random_state : int or numpy.random.Generator
        Seed of the resampling.

    Returns
    -------
    iqm, low, high : float
        With a single run per task the interval is NaN.
    """
    _check_level(confidence)
    _check_resamples(n_resamples)
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"scores must have shape (runs, tasks), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("scores must be finite; got NaN or infinite entries")
    point = float(iqm(arr))
    runs, tasks = arr.shape
    if runs == 1:
        return point, float("nan"), float("nan")
    rng = _rng(random_state)
    idx = rng.integers(0, runs, size=(n_resamples, runs, tasks))
    resampled = np.take_along_axis(arr[None, :, :], idx, axis=1).reshape(n_resamples, -1)
    stats = trim_mean(resampled, 0.25, axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return point, float(min(low, point)), float(max(high, point))


def auc(scores: ArrayLike, episodes: ArrayLike) -> Any:
    """Normalised area under learning curves: the curve's time-average over the run.

    The trapezoid area over the eval points divided by the episode span, so it is in the units of
    the scores (a curve flat at 40% has AUC 40) and comparable across run lengths.

    Parameters
    ----------
    scores : array_like, shape (evals,) or (runs, evals)
    episodes : array_like, shape (evals,)
        Episode count at each eval point, strictly increasing.

    Returns
    -------
    float or numpy.ndarray of shape (runs,)

    Examples
    --------
    >>> float(auc([0.0, 50.0, 100.0], [0, 1000, 2000]))
    50.0
    """
    y = np.asarray(scores, dtype=np.float64)
    x = _check_episodes(episodes, y.shape[-1] if y.ndim else 0)
    if x.size < 2:
        raise ValueError(f"auc needs at least 2 eval points, got {x.size}")
    # Hand-written trapezoid: np.trapezoid is numpy>=2 only, and we support 1.26.
    area = (0.5 * (y[..., 1:] + y[..., :-1]) * np.diff(x)).sum(axis=-1)
    return _scalar(np.asarray(area / (x[-1] - x[0])))


def episodes_to_threshold(scores: ArrayLike, episodes: ArrayLike, threshold: ArrayLike) -> Any:
    """Episode count of the first eval point whose score reaches ``threshold`` (``>=``).

    Parameters
    ----------
    scores : array_like, shape (evals,) or (runs, evals)
    episodes : array_like, shape (evals,)
    threshold : float or array_like of shape (runs,)
        One threshold for all runs, or one per run (for example 90% of each run's best possible).

    Returns
    -------
    float or numpy.ndarray of shape (runs,)
        NaN for a run that never reaches its threshold.

    Examples
    --------
    >>> episodes_to_threshold([[0, 40, 95, 99], [0, 10, 20, 30]], [0, 1000, 2000, 3000], 90)
    array([2000.,   nan])
    """
    y = np.asarray(scores, dtype=np.float64)
    one = y.ndim == 1
    y2 = np.atleast_2d(y)
    if y2.ndim != 2:
        raise ValueError(f"scores must have shape (evals,) or (runs, evals), got {y.shape}")
    x = _check_episodes(episodes, y2.shape[1])
    thr = np.asarray(threshold, dtype=np.float64)
    if thr.ndim == 0:
        thr = np.full(y2.shape[0], float(thr))
    if thr.shape != (y2.shape[0],):
        raise ValueError(
            f"threshold must be a number or have shape ({y2.shape[0]},), got shape {thr.shape}"
        )
    hit = y2 >= thr[:, None]
    reached = hit.any(axis=1)
    first = np.argmax(hit, axis=1)
    out = np.where(reached, x[first].astype(np.float64), np.nan)
    return float(out[0]) if one else out


def mean_if_all_reached(values: ArrayLike) -> float:
    """Mean of per-run values, or NaN when any run has NaN (never reached the threshold).

    Averaging only the runs that got there would reward a teacher that rarely succeeds.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.isnan(arr).any():
        return float("nan")
    return float(arr.mean())


def _check_episodes(episodes: ArrayLike, n: int) -> NDArray[np.float64]:
    x = np.asarray(episodes, dtype=np.float64)
    if x.ndim != 1 or x.size != n:
        raise ValueError(f"episodes must have shape ({n},) to match the scores, got {x.shape}")
    if x.size > 1 and not np.all(np.diff(x) > 0):
        raise ValueError(f"episodes must be strictly increasing, got {x.tolist()}")
    return x
