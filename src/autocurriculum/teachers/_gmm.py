"""Batched expectation-maximisation for full-covariance Gaussian mixtures.

ALP-GMM and Covar-GMM refit one mixture per candidate number of components (typically
k = 2..10) every few hundred episodes and keep the best by AIC. Fitting each candidate with
:class:`sklearn.mixture.GaussianMixture` pays Python overhead per candidate and per EM
iteration, which dominates at these sizes (figures in ``benchmarks/RESULTS.md``). Here the
components of every candidate are stacked into one block of ``sum(ks)`` Gaussians and EM runs
on all of them at once: one matrix product gives every component's log-density at every point,
a 0/1 indicator product normalises the responsibilities of each candidate separately, and one
more product gives all the moments of the M-step. Candidates that converge leave the block, so
late iterations only pay for the slow ones.

The per-candidate semantics follow scikit-learn's defaults (k-means++ then k-means
initialisation, ``tol`` on the change of the mean per-sample log-likelihood, ``reg_covar`` added
to the diagonal, a ``10 * eps`` floor on soft counts), so the fits are interchangeable with
scikit-learn's up to the local optimum EM lands in; from the same starting parameters the
iterates agree to rounding.

It needs numpy, and threadpoolctl (a scikit-learn dependency) to keep the BLAS single-threaded
during a fit. Everything random is drawn from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from autocurriculum._state import state_class
from autocurriculum._threads import single_threaded_blas
from autocurriculum.params import check_int, check_real

__all__ = ["GaussianMixtureFit", "fit_gmms", "select_by_aic"]

_LOG_2PI = math.log(2.0 * math.pi)
# scikit-learn adds this to every component's soft count so that an empty component divides
# by a tiny positive number instead of zero; we do the same to stay comparable.
_COUNT_FLOOR = 10.0 * float(np.finfo(np.float64).eps)
# Below this soft count a component owns no data: its mean and covariance would be
# 0/floor noise, so the previous (or initial) parameters are kept and only its weight shrinks.
_DEAD_COUNT = 1e-10
# Responsibilities are normalised with one shift per point over all candidates, which is much
# cheaper than a per-candidate maximum. Shifted log-terms are clamped at _MIN_LOG_TERM before
# exponentiating; if a candidate's shifted sum falls below _UNDERFLOW_SUM = e^-560 (so its own
# largest term may be near the clamp), that E-step is redone with per-candidate maxima.
_MIN_LOG_TERM = -600.0
_UNDERFLOW_SUM = math.exp(-560.0)
# Above this estimated rounding error (in nats) of the expanded quadratic form, the E-step
# switches to the whitened form; see _e_step.
_QUADRATIC_MAX_ERROR = 1e-6
# Above this estimated relative rounding error of a variance, the M-step recomputes that
# component's covariance from centred products; see _m_step.
_MOMENT_REL_ERROR = 1e-8
_EPS = float(np.finfo(np.float64).eps)
# Lloyd iterations after seeding. EM refines the start anyway: on 18 windows x 9 candidates,
# capping at 10 instead of 30 or 100 changed the summed final log-likelihood by < 0.01%.
_MAX_LLOYD_ITER = 10


@state_class
@dataclass(eq=False)
class GaussianMixtureFit:
    """One fitted Gaussian mixture with full covariances.

    Plain numpy arrays and scalars only, so instances pickle, copy and go into a teacher's
    plain-data state (:func:`autocurriculum._state.state_class`) cheaply. Treat an instance as
    immutable: :meth:`sample` and :meth:`score_samples` cache the Cholesky factors of
    ``covariances``, a pure function of them.

    Attributes
    ----------
    weights : numpy.ndarray
        Mixing weights, shape ``(k,)``, summing to one. A component that lost all its data
        during EM keeps a weight of about ``1e-15 / n_samples``; callers that sample components
        by another criterion than the weights (ALP-GMM samples by learning progress) may want
        to skip such components.
    means : numpy.ndarray
        Component means, shape ``(k, d)``.
    covariances : numpy.ndarray
        Component covariance matrices, shape ``(k, d, d)``, symmetric positive definite.
    log_likelihood : float
        Total log-likelihood of the fitted data under the final parameters (sum over points).
    aic : float
        Akaike information criterion, ``-2 * log_likelihood + 2 * n_parameters`` (the
        scikit-learn convention).
    bic : float
        Bayesian information criterion, ``-2 * log_likelihood + n_parameters * log(n_samples)``.
    n_samples : int
        Number of points the mixture was fitted on.
    n_iter : int
        Number of EM iterations run.
    converged : bool
        Whether the change of the mean log-likelihood fell below ``tol`` within ``max_iter``.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float
    aic: float
    bic: float
    n_samples: int
    n_iter: int
    converged: bool
    # Cholesky factors of the covariances, computed on first use: teachers sample a few tasks
    # at a time, and refactoring every call would double the cost of a small sample.
    _chol: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def n_components(self) -> int:
        """Number of mixture components ``k``."""
        return int(self.weights.shape[0])

    @property
    def n_features(self) -> int:
        """Dimension ``d`` of the data."""
        return int(self.means.shape[1])

    @property
    def n_parameters(self) -> int:
        """Number of free parameters: means, covariance triangles and ``k - 1`` weights."""
        return _n_parameters(self.n_components, self.n_features)

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        """Log probability density of each point under the mixture.

        Parameters
        ----------
        x : array_like of shape (m, d)
            Points to evaluate.

        Returns
        -------
        numpy.ndarray
            Shape ``(m,)``.

        Raises
        ------
        ValueError
            If ``x`` is not a finite 2-D array with ``d`` columns.
        """
        x = _as_data(x, "x")
        if x.shape[1] != self.n_features:
            raise ValueError(
                f"x has {x.shape[1]} columns, but the mixture was fitted on "
                f"{self.n_features}-dimensional data"
            )
        log_prob = _component_log_prob(
            x.T, self.means, _inv_lower(self._cholesky()), np.log(self.weights)
        )
        top = log_prob.max(axis=0)
        return np.log(np.exp(log_prob - top).sum(axis=0)) + top

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        p: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw points from the mixture.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        n : int
            Number of points.
        p : array_like of shape (k,), optional
            Probabilities of choosing each component, replacing the mixing weights (ALP-GMM
            picks components by learning progress). Non-negative with a positive sum; they are
            normalised here.

        Returns
        -------
        points : numpy.ndarray
            Shape ``(n, d)``.
        components : numpy.ndarray
            Shape ``(n,)``, the index of the component each point was drawn from.

        Raises
        ------
        ValueError
            If ``n`` is negative or ``p`` is malformed.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        k, d = self.n_components, self.n_features
        if p is None:
            probs = self.weights
        else:
            probs = np.asarray(p, dtype=np.float64)
            if probs.shape != (k,):
                raise ValueError(f"p must have shape ({k},), got {probs.shape}")
            if not np.all(np.isfinite(probs)) or np.any(probs < 0) or probs.sum() <= 0:
                raise ValueError(f"p must be finite, non-negative, with a positive sum; got {p}")
        # Inverse-CDF draw: several times cheaper than Generator.choice(p=...) for small n, and
        # a component of probability zero can never be drawn.
        cdf = np.cumsum(probs)
        components = np.searchsorted(cdf, rng.random(int(n)) * cdf[-1], side="right")
        np.minimum(components, k - 1, out=components)
        noise = rng.standard_normal((int(n), d))
        chol = self._cholesky()[components]
        points = self.means[components] + np.einsum("nij,nj->ni", chol, noise)
        return points, components

    def _cholesky(self) -> np.ndarray:
        if self._chol is None:
            self._chol = _cholesky(self.covariances)
        return self._chol


def fit_gmms(
    x: np.ndarray,
    ks: Sequence[int],
    *,
    rng: np.random.Generator,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    warm_start: Sequence[GaussianMixtureFit] | None = None,
) -> list[GaussianMixtureFit]:
    """Fit one full-covariance Gaussian mixture per number of components, all at once.

    Each candidate runs its own EM exactly as if fitted alone; only the arithmetic is shared.
    A candidate stops when the mean per-sample log-likelihood changes by less than ``tol``
    between two iterations (scikit-learn's criterion) or after ``max_iter`` iterations.

    Cold candidates start like scikit-learn's default: greedy k-means++ seeds, Lloyd
    iterations (at most 10), then one M-step from the hard labels. One seeding sequence is
    drawn for the largest k and candidate k uses its first k seeds, which is a valid
    k-means++ seeding for k; the candidates' starts are therefore correlated, not independent.

    Parameters
    ----------
    x : array_like of shape (n, d)
        Data, finite.
    ks : sequence of int
        Numbers of components to fit, each in ``1..n``.
    rng : numpy.random.Generator
        Source of randomness for the k-means++ seeding.
    max_iter : int, default 100
        Maximum number of EM iterations per candidate.
    tol : float, default 1e-3
        Convergence threshold on the change of the mean log-likelihood per sample.
    reg_covar : float, default 1e-6
        Added to the diagonal of every covariance matrix, keeping them positive definite on
        degenerate data (a constant column, duplicated points).
    warm_start : sequence of GaussianMixtureFit, optional
        Previous fits. A candidate whose ``k`` matches one of them starts EM from its
        parameters instead of from k-means; the others are initialised as usual. It saves
        iterations when consecutive windows come from a slowly changing distribution, but can
        cost more than a cold start when they differ (many components on few points). A
        component that owns no
        point of the new data keeps its previous mean and covariance with a weight near zero
        (it is not re-seeded).

    Returns
    -------
    list of GaussianMixtureFit
        One fit per entry of ``ks``, in the same order.

    Raises
    ------
    ValueError
        If ``x`` is not a finite, non-empty 2-D array, if some ``k`` is not an integer in
        ``1..n``, if ``max_iter``, ``tol`` or ``reg_covar`` is out of range, if ``rng`` is not
        a Generator, or if a warm start has the wrong dimension or malformed parameters.
    """
    x = _as_data(x, "x")
    n, d = x.shape
    ks_arr = _check_ks(ks, n)
    max_iter = check_int("max_iter", max_iter, low=1, high=100_000)
    tol = check_real("tol", tol, low=0.0)
    reg_covar = check_real("reg_covar", reg_covar, low=0.0)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    warm = _index_warm_starts(warm_start, d)
    with single_threaded_blas():
        return _fit(x, ks_arr, rng, max_iter, tol, reg_covar, warm)


def _fit(
    x: np.ndarray,
    ks_arr: np.ndarray,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
    reg_covar: float,
    warm: dict[int, GaussianMixtureFit],
) -> list[GaussianMixtureFit]:
    """:func:`fit_gmms` on validated arguments."""
    n, d = x.shape
    # Translation does not change a mixture's likelihood, and centring bounds the cancellation
    # in the one-pass moments of _e_step and _m_step by the data's spread, not its offset.
    offset = x.mean(axis=0)
    xc = x - offset
    data = _Data(xc, reg_covar)
    if warm:
        # Warm-start covariances may come from a smaller reg_covar, so the bound of _Data
        # does not cover the first E-step: check every iteration instead.
        data.quadratic_safe = False

    n_cand = ks_arr.size
    full_layout = _Layout(ks_arr)
    starts = full_layout.starts
    n_comp = int(ks_arr.sum())
    work = _Workspace(n_comp, n_cand, n)
    weights = np.empty(n_comp)
    means = np.empty((n_comp, d))
    covs = np.empty((n_comp, d, d))

    cold = np.array([int(kc) not in warm for kc in ks_arr], dtype=bool)
    if cold.any():
        cold_ks = ks_arr[cold]
        centers, labels = _kmeans(xc, cold_ks, rng)
        # Hard k-means labels as responsibilities, then one M-step, as scikit-learn does.
        kmax = int(cold_ks.max())
        valid = np.arange(kmax)[None, :] < cold_ks[:, None]
        onehot = labels.T[:, None, :] == np.arange(kmax)[None, :, None]
        resp = onehot[valid].astype(np.float64)
        # An empty k-means cluster (only possible with fewer distinct points than k) gets the
        # global spread, so it can still pick up points instead of sitting at reg_covar.
        spread = np.diag(xc.var(axis=0) + reg_covar)
        w0, m0, c0 = _m_step(
            data,
            resp,
            _Layout(cold_ks),
            reg_covar,
            centers[valid],
            np.broadcast_to(spread, (resp.shape[0], d, d)),
        )
        cold_comp = np.repeat(cold, ks_arr)
        weights[cold_comp], means[cold_comp], covs[cold_comp] = w0, m0, c0
    for c in np.flatnonzero(~cold).tolist():
        fit = warm[int(ks_arr[c])]
        sl = slice(starts[c], starts[c] + ks_arr[c])
        weights[sl] = fit.weights / fit.weights.sum()
        means[sl] = fit.means - offset
        covs[sl] = fit.covariances

    n_iter = np.zeros(n_cand, dtype=np.int64)
    converged = np.zeros(n_cand, dtype=bool)
    prev_ll = np.full(n_cand, -np.inf)
    # Working set: the candidates still iterating, compacted whenever some converge so that
    # late iterations only pay for the slow candidates.
    active = np.arange(n_cand)
    comp_idx = np.arange(n_comp)
    layout = full_layout
    w_a, m_a, c_a = weights.copy(), means.copy(), covs.copy()
    for it in range(1, max_iter + 1):
        ll, resp = _e_step(data, w_a, m_a, c_a, layout, work)
        w_a, m_a, c_a = _m_step(data, resp, layout, reg_covar, m_a, c_a)
        done = np.abs(ll - prev_ll[active]) < tol
        prev_ll[active] = ll
        n_iter[active] = it
        if done.any() or it == max_iter:
            weights[comp_idx], means[comp_idx], covs[comp_idx] = w_a, m_a, c_a
            converged[active[done]] = True
            keep = ~done
            if it == max_iter or not keep.any():
                break
            keep_comp = keep[layout.segment]
            active, comp_idx = active[keep], comp_idx[keep_comp]
            w_a, m_a, c_a = w_a[keep_comp], m_a[keep_comp], c_a[keep_comp]
            layout = _Layout(ks_arr[active])

    # The last M-step moved every candidate after its last likelihood evaluation; score the
    # final parameters so the reported likelihood and AIC describe the returned mixture,
    # which must then hold exactly the covariances the E-step used.
    covs = _positive_definite(covs)
    mean_ll, _ = _e_step(data, weights, means, covs, full_layout, work)
    total_ll = mean_ll * n

    means += offset
    fits = []
    for c in range(n_cand):
        sl = slice(starts[c], starts[c] + ks_arr[c])
        k = int(ks_arr[c])
        n_par = _n_parameters(k, d)
        ll_c = float(total_ll[c])
        fits.append(
            GaussianMixtureFit(
                weights=weights[sl].copy(),
                means=means[sl].copy(),
                covariances=covs[sl].copy(),
                log_likelihood=ll_c,
                aic=-2.0 * ll_c + 2.0 * n_par,
                bic=-2.0 * ll_c + n_par * math.log(n),
                n_samples=n,
                n_iter=int(n_iter[c]),
                converged=bool(converged[c]),
            )
        )
    return fits


def select_by_aic(fits: Sequence[GaussianMixtureFit]) -> GaussianMixtureFit:
    """Return the fit with the lowest AIC; ties go to the earliest in ``fits``.

    Parameters
    ----------
    fits : sequence of GaussianMixtureFit
        Candidates, e.g. the output of :func:`fit_gmms`.

    Returns
    -------
    GaussianMixtureFit

    Raises
    ------
    ValueError
        If ``fits`` is empty.
    """
    if len(fits) == 0:
        raise ValueError("select_by_aic needs at least one fit, got none")
    return fits[int(np.argmin([f.aic for f in fits]))]


# --------------------------------------------------------------------------------------------
# internals


class _Data:
    """The centred data in the layouts the batched products want, computed once per fit.

    ``feats`` stacks, per point, the products ``x_i x_j`` (i <= j), the coordinates ``x_i``
    and a constant 1. A Gaussian log-density is linear in these features, so the E-step gets
    every component's log-density from a single matrix product, and the M-step gets every
    component's soft count, first and second moments from another.
    """

    __slots__ = (
        "cols",
        "diag_pairs",
        "feats",
        "feats_t",
        "max_sq_norm",
        "moments_safe",
        "n_pairs",
        "quad_scale",
        "quadratic_safe",
        "rows",
        "sym",
        "upper",
        "x",
        "xt",
    )

    def __init__(self, xc: np.ndarray, reg_covar: float) -> None:
        n, d = xc.shape
        self.rows, self.cols = np.triu_indices(d)
        self.n_pairs = self.rows.size
        feats_t = np.empty((n, self.n_pairs + d + 1))
        feats_t[:, : self.n_pairs] = xc[:, self.rows] * xc[:, self.cols]
        feats_t[:, self.n_pairs : self.n_pairs + d] = xc
        feats_t[:, -1] = 1.0
        self.x = xc
        self.xt = np.ascontiguousarray(xc.T)
        self.feats_t = feats_t
        self.feats = np.ascontiguousarray(feats_t.T)
        # For each entry (i, j) of a d x d matrix, the column of its pair in feats.
        pair_of = np.empty((d, d), dtype=np.int64)
        pair_of[self.rows, self.cols] = np.arange(self.n_pairs)
        pair_of[self.cols, self.rows] = np.arange(self.n_pairs)
        self.sym = pair_of.ravel()
        # Flat (i, j), i <= j, positions of a d x d matrix, and the weight of P_ij in
        # -x^T P x / 2 expanded over those pairs (off-diagonal pairs appear twice).
        self.upper = self.rows * d + self.cols
        self.quad_scale = np.where(self.rows == self.cols, -0.5, -1.0)
        self.max_sq_norm = float(np.einsum("nd,nd->n", xc, xc).max())
        # Every covariance EM produces has eigenvalues >= reg_covar, so trace(P) <= d / reg
        # bounds the expansion error of _e_step for the whole fit; when that bound is small
        # enough the per-iteration check is skipped.
        self.quadratic_safe = reg_covar > 0 and (
            _quadratic_error(self, d / reg_covar) <= _QUADRATIC_MAX_ERROR
        )
        # Likewise for the one-pass covariances of _m_step, whose variances are >= reg_covar.
        self.diag_pairs = np.flatnonzero(self.rows == self.cols)
        self.moments_safe = self.max_sq_norm * _EPS <= _MOMENT_REL_ERROR * reg_covar


class _Layout:
    """Where each candidate's components sit in the stacked component block."""

    __slots__ = ("indicator", "ks", "segment", "starts")

    def __init__(self, ks: np.ndarray) -> None:
        self.ks = ks
        self.starts = np.concatenate(([0], np.cumsum(ks)[:-1]))
        self.segment = np.repeat(np.arange(ks.size), ks)
        # Summing rows per candidate is one small matrix product with a 0/1 indicator, which
        # is several times faster than np.add.reduceat on these shapes.
        self.indicator = np.zeros((ks.size, self.segment.size))
        self.indicator[self.segment, np.arange(self.segment.size)] = 1.0


class _Workspace:
    """Buffers for the (components x points)-sized arrays, reused by every EM iteration.

    Such arrays weigh a few hundred kB. glibc serves blocks that size from mmap or from a heap
    top that it trims again on free, so a fresh temporary per operation pays page faults that
    can cost more than the arithmetic (on the benchmark VM, reusing buffers made a refit round
    several times faster).
    """

    __slots__ = ("log_prob", "resp", "sums", "unnorm")

    def __init__(self, n_comp: int, n_cand: int, n: int) -> None:
        self.log_prob = np.empty(n_comp * n)
        self.unnorm = np.empty(n_comp * n)
        self.resp = np.empty(n_comp * n)
        self.sums = np.empty(n_cand * n)

    def view(self, name: str, *shape: int) -> np.ndarray:
        """A C-contiguous view of the leading part of buffer ``name``."""
        return getattr(self, name)[: math.prod(shape)].reshape(shape)


def _n_parameters(k: int, d: int) -> int:
    return k * d + k * d * (d + 1) // 2 + k - 1


def _as_data(x: np.ndarray, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from exc
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_points, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one point and one feature, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = tuple(np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite, but {name}[{bad[0]}, {bad[1]}] = {arr[bad]}")
    return arr


def _check_ks(ks: Sequence[int], n: int) -> np.ndarray:
    ks_list = list(ks)
    if not ks_list:
        raise ValueError("ks must contain at least one number of components, got none")
    for k in ks_list:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"every k must be an integer, got {k!r}")
        if k < 1:
            raise ValueError(f"every k must be >= 1, got {k}")
        if k > n:
            raise ValueError(f"k = {k} components need at least {k} points, got {n}")
    return np.asarray(ks_list, dtype=np.int64)


def _index_warm_starts(
    warm_start: Sequence[GaussianMixtureFit] | None, d: int
) -> dict[int, GaussianMixtureFit]:
    warm: dict[int, GaussianMixtureFit] = {}
    for fit in warm_start or ():
        if not isinstance(fit, GaussianMixtureFit):
            raise ValueError(
                f"warm_start entries must be GaussianMixtureFit, got {type(fit).__name__}"
            )
        k = len(fit.weights)
        if fit.means.ndim == 2 and fit.means.shape[1] != d:
            raise ValueError(
                f"warm start with k = {k} has dimension {fit.means.shape[1]}, but x has {d} columns"
            )
        if (
            fit.weights.shape != (k,)
            or fit.means.shape != (k, d)
            or (fit.covariances.shape != (k, d, d))
        ):
            raise ValueError(
                f"warm start with k = {k} has inconsistent shapes: weights "
                f"{fit.weights.shape}, means {fit.means.shape}, covariances "
                f"{fit.covariances.shape}"
            )
        finite = all(np.all(np.isfinite(a)) for a in (fit.weights, fit.means, fit.covariances))
        if not finite or np.any(fit.weights < 0) or fit.weights.sum() <= 0:
            raise ValueError(
                f"warm start with k = {k} needs finite parameters and non-negative weights "
                "with a positive sum"
            )
        # The first fit for a given k wins, so a caller can pass a preferred fit first.
        warm.setdefault(k, fit)
    return warm


def _cholesky(covs: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of a stack of covariances, repairing round-off failures."""
    try:
        return np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(_clip_spectrum(covs))


def _positive_definite(covs: np.ndarray) -> np.ndarray:
    """``covs`` itself if every matrix has a Cholesky factor, else its repaired version."""
    try:
        np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        return _clip_spectrum(covs)
    return covs


def _clip_spectrum(covs: np.ndarray) -> np.ndarray:
    # Only needed when round-off, or reg_covar = 0 on degenerate data, leaves a matrix not
    # numerically positive definite: raise its eigenvalues to a small positive floor.
    vals, vecs = np.linalg.eigh(covs)
    floor = np.maximum(vals.max(axis=-1, keepdims=True), 1.0) * 1e-12
    vals = np.maximum(vals, floor)
    return (vecs * vals[..., None, :]) @ np.swapaxes(vecs, -1, -2)


def _inv_lower(chol: np.ndarray) -> np.ndarray:
    """Inverse of a stack of lower-triangular matrices by forward substitution.

    One vectorised row per step over the whole stack: for the small d of task spaces this is
    cheaper than ``np.linalg.inv`` (a general LU per matrix).
    """
    d = chol.shape[-1]
    inv = np.zeros(chol.shape)
    recip = 1.0 / np.diagonal(chol, axis1=1, axis2=2)
    inv[:, 0, 0] = recip[:, 0]
    for i in range(1, d):
        inv[:, i, :i] = -(chol[:, i : i + 1, :i] @ inv[:, :i, :i])[:, 0, :] * recip[:, i, None]
        inv[:, i, i] = recip[:, i]
    return inv


def _quadratic_error(data: _Data, prec_trace: float) -> float:
    """Rounding-error estimate (nats) of the expanded log-density, see :func:`_e_step`."""
    return 4.0 * data.feats.shape[0] * _EPS * data.max_sq_norm * prec_trace


def _component_log_prob(
    xt: np.ndarray, means: np.ndarray, prec: np.ndarray, log_weights: np.ndarray
) -> np.ndarray:
    """``log w_k + log N(x_n | mu_k, Sigma_k)`` for every component k and point n: (K, n).

    ``xt`` is the data transposed, shape ``(d, n)``, and ``prec`` the inverse Cholesky factors.
    This whitened form is exact up to rounding whatever the data scale; :func:`_e_step` uses a
    cheaper quadratic expansion when that is accurate enough.
    """
    d = means.shape[1]
    # Differences first, then whitening: no cancellation between large terms.
    white = prec @ (xt[None, :, :] - means[:, :, None])
    out = np.einsum("kdn,kdn->kn", white, white)
    log_det = np.log(np.diagonal(prec, axis1=1, axis2=2)).sum(axis=1)
    out *= -0.5
    out += (log_weights + log_det - 0.5 * d * _LOG_2PI)[:, None]
    return out


def _e_step(
    data: _Data,
    weights: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    layout: _Layout,
    work: _Workspace,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-candidate mean log-likelihood, shape (C,), and responsibilities, shape (K, n).

    The responsibilities live in ``work`` and are overwritten by the next call.
    """
    n_comp, d = means.shape
    n = data.xt.shape[1]
    prec = _inv_lower(_cholesky(covs))
    log_det = np.log(np.diagonal(prec, axis1=1, axis2=2)).sum(axis=1)
    log_prob = work.view("log_prob", n_comp, n)
    # Expanding -(x - mu)^T P (x - mu) / 2 into terms of x x^T, x and 1 turns the whole
    # log-density table into one (K, p) @ (p, n) product. The expansion cancels terms of size
    # |x|^2 * |P|, so its rounding error is about that times p * eps; only when that could
    # exceed ~1e-6 nats (tight components on data far from its centre) is the whitened form,
    # about 2-3x slower, used instead.
    if not data.quadratic_safe and (
        _quadratic_error(data, float(np.einsum("kij,kij->k", prec, prec).max()))
        > _QUADRATIC_MAX_ERROR
    ):
        log_prob[...] = _component_log_prob(data.xt, means, prec, np.log(weights))
    else:
        m = data.n_pairs
        precision = np.swapaxes(prec, 1, 2) @ prec
        coef = np.empty((n_comp, data.feats.shape[0]))
        np.multiply(
            precision.reshape(n_comp, d * d)[:, data.upper], data.quad_scale, out=coef[:, :m]
        )
        prec_mean = np.einsum("kij,kj->ki", precision, means)
        coef[:, m : m + d] = prec_mean
        coef[:, -1] = (
            np.log(weights)
            + log_det
            - 0.5 * (np.einsum("kd,kd->k", prec_mean, means) + d * _LOG_2PI)
        )
        np.matmul(coef, data.feats, out=log_prob)
    unnorm = work.view("unnorm", n_comp, n)
    sums = work.view("sums", layout.ks.size, n)
    shift = log_prob.max(axis=0)
    np.subtract(log_prob, shift, out=unnorm)
    # Exponentials that underflow take numpy's slow path (4-7x slower) and leave subnormal
    # responsibilities that slow the M-step products too. Clamping at exp(-600) costs one
    # cheap pass; the clamped terms are < e^-37 relative to their candidate's largest term
    # whenever the check below passes, so they change nothing at double precision.
    np.maximum(unnorm, _MIN_LOG_TERM, out=unnorm)
    np.exp(unnorm, out=unnorm)
    np.matmul(layout.indicator, unnorm, out=sums)
    if sums.min() < _UNDERFLOW_SUM:
        # Some candidate sits far below another one's best component at some point; give
        # every candidate its own shift so nothing underflows.
        cand_shift = np.maximum.reduceat(log_prob, layout.starts, axis=0)
        np.subtract(log_prob, cand_shift[layout.segment], out=unnorm)
        np.maximum(unnorm, _MIN_LOG_TERM, out=unnorm)
        np.exp(unnorm, out=unnorm)
        np.matmul(layout.indicator, unnorm, out=sums)
        mean_ll = (np.log(sums) + cand_shift).mean(axis=1)
    else:
        mean_ll = np.log(sums).mean(axis=1) + shift.mean()
    resp = work.view("resp", n_comp, n)
    np.reciprocal(sums, out=sums)
    np.take(sums, layout.segment, axis=0, out=resp)
    resp *= unnorm
    return mean_ll, resp


def _m_step(
    data: _Data,
    resp: np.ndarray,
    layout: _Layout,
    reg_covar: float,
    prev_means: np.ndarray,
    prev_covs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and covariances maximising the expected log-likelihood."""
    n_comp, d = prev_means.shape
    # Soft counts, first and second moments of every component in one product.
    moments = resp @ data.feats_t
    raw = moments[:, -1]
    counts = raw + _COUNT_FLOOR
    moments /= counts[:, None]
    means = moments[:, data.n_pairs : data.n_pairs + d].copy()
    covs = np.take(moments, data.sym, axis=1).reshape(n_comp, d, d)
    covs -= means[:, :, None] * means[:, None, :]
    covs.reshape(n_comp, d * d)[:, :: d + 1] += reg_covar
    dead = raw < _DEAD_COUNT
    if not data.moments_safe:
        # E[x x^T] - mu mu^T loses about eps * E|x|^2 to cancellation, which matters for a
        # component much tighter than the data's spread: redo those with centred products.
        second = moments[:, data.diag_pairs].sum(axis=1)
        min_var = np.diagonal(covs, axis1=1, axis2=2).min(axis=1)
        redo = (second * _EPS > _MOMENT_REL_ERROR * min_var) & ~dead
        if redo.any():
            diff = data.x[None, :, :] - means[redo][:, None, :]
            weighted = resp[redo][:, :, None] * diff
            exact = np.swapaxes(weighted, 1, 2) @ diff / counts[redo][:, None, None]
            exact.reshape(-1, d * d)[:, :: d + 1] += reg_covar
            covs[redo] = exact
    if dead.any():
        means[dead] = prev_means[dead]
        covs[dead] = prev_covs[dead]
    weights = counts / (layout.indicator.T @ (layout.indicator @ counts))
    return weights, means, covs


def _kmeans(
    xc: np.ndarray, ks: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeding then Lloyd iterations, for every candidate k at once.

    Returns
    -------
    centers : numpy.ndarray
        Shape ``(C, kmax, d)``; slots ``j >= ks[c]`` are padding.
    labels : numpy.ndarray
        Shape ``(n, C)``, the nearest-centre index of each point per candidate.
    """
    n, d = xc.shape
    n_cand = ks.size
    kmax = int(ks.max())
    xt = np.ascontiguousarray(xc.T)
    sq_norms = np.einsum("nd,nd->n", xc, xc)

    # One seeding sequence of kmax centres serves every candidate: k-means++ picks each centre
    # given only the earlier ones, so the first k centres of the sequence are exactly a
    # k-means++ seeding for k. Candidates then share their first seeds (they are not
    # independent restarts), which costs nothing in quality and saves a factor C here.
    seeds = np.empty(kmax, dtype=np.int64)
    seeds[0] = rng.integers(n)
    closest = sq_norms - 2.0 * (xc @ xc[seeds[0]]) + sq_norms[seeds[0]]
    np.maximum(closest, 0.0, out=closest)
    # Several trial seeds per step, keeping the one that lowers the potential most (greedy
    # k-means++), which gives noticeably better starts than plain k-means++.
    n_trials = 2 + int(math.log(kmax))
    for j in range(1, kmax):
        total = float(closest.sum())
        if total > 0.0:
            targets = rng.random(n_trials) * total
            trial = np.minimum(np.searchsorted(np.cumsum(closest), targets, side="right"), n - 1)
        else:
            # All points coincide with a centre (fewer distinct points than k): any point is
            # as good as another.
            trial = rng.integers(n, size=n_trials)
        dist = xc[trial] @ xt
        dist *= -2.0
        dist += sq_norms[None, :] + sq_norms[trial][:, None]
        np.maximum(dist, 0.0, out=dist)
        np.minimum(dist, closest[None, :], out=dist)
        best = int(np.argmin(dist.sum(axis=1)))
        seeds[j] = trial[best]
        closest = dist[best]
    centers = np.broadcast_to(xc[seeds], (n_cand, kmax, d)).copy()

    # Lloyd iterations in (points, candidates, slots) order so the arg-min runs over the
    # contiguous last axis; padding slots cost +inf so no point ever joins them.
    pad_cost = np.where(np.arange(kmax)[None, :] < ks[:, None], 0.0, np.inf).ravel()
    slot_base = (np.arange(n_cand) * kmax)[None, :]
    scatter_base = (np.arange(n * n_cand) * kmax).reshape(n, n_cand)
    dist_buf = np.empty((n, n_cand * kmax))
    onehot = np.empty((n, n_cand * kmax))
    flat_centers = centers.reshape(n_cand * kmax, d)
    labels = np.zeros((n, n_cand), dtype=np.int64)
    for it in range(_MAX_LLOYD_ITER + 1):
        np.matmul(xc, flat_centers.T, out=dist_buf)
        dist_buf *= -2.0
        dist_buf += np.einsum("kd,kd->k", flat_centers, flat_centers) + pad_cost
        new_labels = dist_buf.reshape(n, n_cand, kmax).argmin(axis=2)
        if it == _MAX_LLOYD_ITER or (it > 0 and np.array_equal(new_labels, labels)):
            labels = new_labels
            break
        labels = new_labels
        # One-hot membership by scattering ones, then all cluster sums in one product.
        onehot.fill(0.0)
        onehot.ravel()[(scatter_base + labels).ravel()] = 1.0
        counts = np.bincount((slot_base + labels).ravel(), minlength=n_cand * kmax)
        sums = onehot.T @ xc
        # An emptied cluster keeps its centre rather than jumping to an arbitrary point.
        filled = counts > 0
        flat_centers[filled] = sums[filled] / counts[filled][:, None]
    return centers, labels
