"""SPDL: Self-Paced Deep RL, a Gaussian over tasks moved toward a target as performance allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dtrtri
from scipy.optimize import minimize

from autocurriculum._threads import single_threaded_blas
from autocurriculum.params import (
    MAX_SIZE,
    InvalidParameterError,
    check_int,
    check_real,
    check_size,
)
from autocurriculum.spaces import Box
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["MAX_KL", "SPDL"]

_LOG_2PI = float(np.log(2.0 * np.pi))
# The reference clamps alpha and the KL it divides by to these values.
_MAX_ALPHA = 1e5
_MIN_KL = 1e-10
# SLSQP budget of one update: the problem has ndim + ndim (ndim + 1) / 2 variables.
_MAX_ITER = 30
_FTOL = 1e-6
#: The largest trust region ``max_kl`` accepted (1 nat). An update maximises performance
#: estimated by importance sampling from the last ``update_every`` episodes; a step of KL ``k``
#: reweights them by factors of order ``e^k``, so beyond about one nat the estimate rests on a
#: handful of lucky tasks and one update can collapse the distribution onto them.
MAX_KL = 1.0
# Safety rails in unit coordinates (box ranges), far outside any useful distribution: the
# mean stays within _MEAN_MARGIN ranges of the box, the Cholesky factor's diagonal in
# [_MIN_SD, _MAX_SD] and its other entries in [-_MAX_SD, _MAX_SD]. They keep the factor
# invertible (a distribution that keeps contracting would otherwise reach a singular factor)
# and every number finite (one that keeps widening would overflow).
_MEAN_MARGIN = 10.0
_MIN_SD = 1e-6
_MAX_SD = 10.0
_MAX_RESAMPLE_TRIES = 1_000


@register("spdl", expert_params=("init_mean", "init_cov", "target_mean", "target_cov"))
class SPDL(Teacher[Box]):
    """Self-Paced Deep RL: a Gaussian context distribution pulled toward a target distribution.

    Tasks are drawn from a Gaussian ``N(mean, cov)``. Every ``update_every`` episodes the
    buffered (task, performance) pairs update it by solving

    .. math::

        \\max_{\\nu}\\; \\frac{1}{n}\\sum_i \\frac{p_\\nu(c_i)}{p_{\\nu_{old}}(c_i)} v_i
        - \\alpha\\, KL(p_\\nu \\,\\|\\, \\mu)
        \\quad \\text{s.t.}\\quad KL(p_\\nu \\,\\|\\, p_{\\nu_{old}}) \\le \\text{max\\_kl}

    where ``v_i`` is the performance of task ``c_i`` (its score, or, when the trainer passes
    one, its ``"value"`` signal, for example a value-function estimate:
    ``update(tasks, scores, signals={"value": v})``) and ``mu`` the target. The first term is
    the importance-sampled expected performance, as in the paper; the KL terms are exact for
    Gaussians. The trust region is KL(new || old), as the paper writes it (the reference code
    bounds KL(old || new); both agree to second order).

    ``alpha = zeta * mean(v) / KL(p_old || mu)``, clamped to 1e5 with the KL floored at 1e-10
    as the reference does, and at 0 from below so that negative value estimates never push
    away from the target; it is 0 for the first ``alpha_offset`` updates.

    The problem is solved with SciPy's SLSQP over the mean and the Cholesky factor of the
    covariance (log-diagonal, so it stays positive definite), with exact gradients and box
    bounds twice the size of the trust region's quadratic approximation (at the old
    distribution the KL constraint is flat, and SLSQP's first step would otherwise be
    unbounded). A result that breaks the trust region by rounding is pulled back along the
    segment to the old distribution until it holds, and a result that does not improve the
    objective is discarded, so every update satisfies ``KL(new || old) <= max_kl``.

    Safety rails, far outside any useful distribution, keep every update valid however long
    the run: in units of the box's ranges, the mean stays within 10 ranges of the box, the
    diagonal of the covariance's Cholesky factor in [1e-6, 10] and its other entries in
    [-10, 10]. A distribution that keeps contracting stops at the floor instead of reaching a
    singular factor, and one that keeps widening stops before any number overflows.

    Work is done in the unit cube (both KL terms and the importance weights are invariant to
    that affine change), so the box's scale does not matter, from 1e-200 to 1e200. Samples
    outside the box are clipped onto it, as the reference does (``resample_tries=0``); with
    ``resample_tries > 0`` they are redrawn up to that many times first, and only the
    remaining ones are clipped.

    Parameters
    ----------
    space : Box
        The task space.
    target_mean, target_cov : array_like or None
        The target distribution, in task coordinates. ``None`` is the box centre with sd
        ``range / 4`` per dimension (no expert knowledge: about 95% of its mass in the box).
    init_mean, init_cov : array_like or None
        The initial distribution, in task coordinates. ``None`` for the mean is a uniform
        random point of the box (drawn with the teacher's seed), and for the covariance an sd
        of 10% of each range: the reference's defaults. ``init_cov`` must lie within the
        safety rails (standard deviations at most 10 ranges, Cholesky diagonal at least 1e-6
        of the range).
    max_kl : float
        Trust region of one update, KL(new || old) (0.1), in (0, 1] (:data:`MAX_KL`): an
        update maximises performance estimated by importance sampling from ``update_every``
        episodes, and a step of more than about one nat reweights them so much that the
        estimate rests on a handful of tasks.
    zeta : float
        Weight of the pull toward the target, relative to the mean performance (0.25).
    alpha_offset : int
        Updates before the pull toward the target starts (0).
    update_every : int
        Episodes between two updates (at most ``1e8 / ndim``); each update uses exactly those
        episodes and the buffer is then emptied, as the reference does. The reference updates
        once per RL iteration (2,048 to 5,000 environment steps in its experiments, 100,000 in
        TeachMyAgent), which has no fixed episode count; 100 episodes is of that order for
        those environments.
    resample_tries : int
        Redraws of an out-of-box sample before clipping it (0: clip, as the reference), at
        most 1,000.
    seed : int or None
        Seed of the teacher's generator.

    Raises
    ------
    ValueError
        A mean outside the box, a covariance of the wrong shape, not symmetric, not positive
        definite or (``init_cov``) outside the safety rails, or a hyperparameter out of range
        (:class:`~autocurriculum.params.InvalidParameterError`).

    Examples
    --------
    >>> import numpy as np
    >>> import autocurriculum as ac
    >>> space = ac.Box([0.0, 0.0], [1.0, 1.0])
    >>> teacher = ac.make("spdl", space, init_mean=[0.3, 0.3], init_cov=np.eye(2) * 0.05**2,
    ...                   zeta=1.0, update_every=200, seed=0)
    >>> before = teacher.metrics()["teacher/spdl_kl_to_target"]
    >>> for _ in range(8):  # success everywhere: the pull toward the target wins
    ...     tasks = teacher.sample(200)
    ...     teacher.update(tasks, np.ones(200))
    >>> bool(teacher.metrics()["teacher/spdl_kl_to_target"] < 0.3 * before)
    True

    References
    ----------
    .. [1] Klink, Abdulsamad, Belousov and Peters, "Self-Paced Contextual Reinforcement
       Learning", CoRL 2019.
    .. [2] Klink, Abdulsamad, Belousov, D'Eramo, Peters and Pajarinen, "Self-Paced Deep
       Reinforcement Learning", NeurIPS 2020.
    """

    supported_spaces = ("box",)
    reads = frozenset({"value"})

    def __init__(
        self,
        space: Box,
        *,
        target_mean: ArrayLike | None = None,
        target_cov: ArrayLike | None = None,
        init_mean: ArrayLike | None = None,
        init_cov: ArrayLike | None = None,
        max_kl: float = 0.1,
        zeta: float = 0.25,
        alpha_offset: int = 0,
        update_every: int = 100,
        resample_tries: int = 0,
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        box = self.space
        check_real("max_kl", max_kl, low=0.0, high=MAX_KL, include_low=False)
        check_real("zeta", zeta, low=0.0)
        # A count, not a size: any value a checkpoint can hold (a 64-bit int) is meaningful.
        check_int("alpha_offset", alpha_offset, low=0, high=2**63 - 1)
        # The buffer holds update_every x ndim floats.
        check_size("update_every", update_every, high=MAX_SIZE // box.ndim)
        check_int("resample_tries", resample_tries, low=0, high=_MAX_RESAMPLE_TRIES)
        # Everything is kept in the unit cube: both KL terms and the importance weights are
        # invariant to the affine map, and unit coordinates neither overflow nor underflow
        # whatever the box's scale. Covariances given in task units are divided by the ranges
        # one factor at a time, never by their product, which could overflow.
        if target_mean is None:
            target_mu = np.full(box.ndim, 0.5)
        else:
            target_mu = box.to_unit(_mean(target_mean, "target_mean", box))
        if target_cov is None:
            target_chol = np.diag(np.full(box.ndim, 0.25))
        else:
            target_chol = _unit_cholesky(target_cov, "target_cov", box)
        if init_mean is None:
            # The reference draws a random start when none is given.
            mu = box.to_unit(box.sample(self.rng_, 1)[0])
        else:
            mu = box.to_unit(_mean(init_mean, "init_mean", box))
        if init_cov is None:
            chol = np.diag(np.full(box.ndim, 0.1))
        else:
            chol = _unit_cholesky(init_cov, "init_cov", box, bounded=True)
        self.target_mean = target_mean
        self.target_cov = target_cov
        self.init_mean = init_mean
        self.init_cov = init_cov
        self.max_kl = max_kl
        self.zeta = zeta
        self.alpha_offset = alpha_offset
        self.update_every = update_every
        self.resample_tries = resample_tries

        d = box.ndim
        self.target_mu_: NDArray[np.float64] = target_mu
        self.target_chol_: NDArray[np.float64] = target_chol
        self.mu_: NDArray[np.float64] = mu
        self.chol_: NDArray[np.float64] = chol
        self.buf_x_: NDArray[np.float64] = np.zeros((int(update_every), d))
        self.buf_v_: NDArray[np.float64] = np.zeros(int(update_every))
        self.buf_n_ = 0
        self.n_dist_updates_ = 0
        self.last_alpha_ = 0.0
        self.last_performance_ = 0.0
        self.last_step_kl_ = 0.0

    # --------------------------------------------------------------- sampling
    def _sample(self, n: int) -> NDArray[np.float64]:
        rng = self.rng_
        d = self.space.ndim
        u = self.mu_ + rng.standard_normal((n, d)) @ self.chol_.T
        for _ in range(self.resample_tries):
            out = np.flatnonzero(((u < 0.0) | (u > 1.0)).any(axis=1))
            if out.size == 0:
                break
            u[out] = self.mu_ + rng.standard_normal((out.size, d)) @ self.chol_.T
        space = self.space
        return np.clip(space.low + np.clip(u, 0.0, 1.0) * space.range, space.low, space.high)

    # ---------------------------------------------------------------- updates
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        values = _values(signals, scores)
        unit = self.space.to_unit(tasks)
        size = self.update_every
        i = 0
        while i < len(unit):
            take = min(size - self.buf_n_, len(unit) - i)
            self.buf_x_[self.buf_n_ : self.buf_n_ + take] = unit[i : i + take]
            self.buf_v_[self.buf_n_ : self.buf_n_ + take] = values[i : i + take]
            self.buf_n_ += take
            i += take
            if self.buf_n_ == size:
                with single_threaded_blas():
                    self._update_distribution(self.buf_x_, self.buf_v_)
                self.buf_n_ = 0

    def _update_distribution(
        self, contexts: NDArray[np.float64], values: NDArray[np.float64]
    ) -> None:
        old_mu, old_chol = self.mu_.copy(), self.chol_.copy()
        performance = float(values.mean())
        if self.n_dist_updates_ < self.alpha_offset:
            alpha = 0.0
        else:
            kl_target = max(_kl(old_mu, old_chol, self.target_mu_, self.target_chol_), _MIN_KL)
            # A negative mean value estimate must not push the distribution away from the target.
            alpha = min(max(self.zeta * performance / kl_target, 0.0), _MAX_ALPHA)
        problem = _Problem(contexts, values, old_mu, old_chol, self.target_mu_,
                           self.target_chol_, alpha, self.max_kl)
        x0 = problem.x0
        start_value = problem.objective(x0)[0]
        # At x0 the trust-region constraint is flat (KL and its gradient are 0), so SLSQP's first
        # linearised step would be unconstrained. Box bounds twice the size of the trust region's
        # quadratic approximation keep it local; the exact KL constraint still decides.
        radius = 2.0 * np.sqrt(2.0 * self.max_kl * problem.fisher_inverse_diag())
        # SLSQP works on y = (x - x0) / radius: every variable then has the same scale, which
        # it needs to converge in few iterations. The safety rails cut into that box.
        rail_low, rail_high = _rails(len(old_mu))
        # (The old distribution, y = 0, stays feasible even if rounding left it a hair past a
        # rail.)
        low = np.minimum(np.maximum(-1.0, (rail_low - x0) / radius), 0.0)
        high = np.maximum(np.minimum(1.0, (rail_high - x0) / radius), 0.0)

        def objective(y: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            value, grad = problem.objective(x0 + radius * y)
            return value, grad * radius

        accepted = False
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = minimize(
                objective,
                np.zeros_like(x0),
                jac=True,
                method="SLSQP",
                bounds=list(zip(low, high, strict=True)),
                constraints=[{
                    "type": "ineq",
                    "fun": lambda y: problem.trust(x0 + radius * y),
                    "jac": lambda y: problem.trust_grad(x0 + radius * y) * radius,
                }],
                options={"maxiter": _MAX_ITER, "ftol": _FTOL},
            )
            x = x0 + radius * np.clip(np.asarray(result.x, dtype=np.float64), low, high)
            if np.all(np.isfinite(x)):
                x = problem.pull_back(x)
                accepted = bool(problem.objective(x)[0] < start_value)
        if accepted:
            self.mu_, self.chol_ = problem.unpack(x)
            self.last_step_kl_ = _kl(self.mu_, self.chol_, old_mu, old_chol)
        else:
            self.last_step_kl_ = 0.0
        self.n_dist_updates_ += 1
        self.last_alpha_ = float(alpha)
        self.last_performance_ = performance

    # ------------------------------------------------------------ reporting
    def _metrics(self) -> dict[str, float]:
        std = np.sqrt(np.sum(self.chol_**2, axis=1))
        return {
            "spdl_kl_to_target": _kl(self.mu_, self.chol_, self.target_mu_, self.target_chol_),
            "spdl_alpha": self.last_alpha_,
            "spdl_performance": self.last_performance_,
            "spdl_step_kl": self.last_step_kl_,
            "spdl_mean_std": float(std.mean()),
            "spdl_updates": float(self.n_dist_updates_),
        }

    def model_snapshot(self) -> dict[str, Any]:
        """The context distribution in task space, valued by the last mean performance.

        On a box whose ranges are near the float limit, covariance entries too large for a
        float are ``inf`` (never NaN).
        """
        space = self.space
        with self._lock:  # a consistent view while another thread updates
            mu, chol, value = self.mu_.copy(), self.chol_.copy(), self.last_performance_
        mean = space.low + mu * space.range
        scaled = chol * space.range[:, None]  # the Cholesky factor in task units
        with np.errstate(over="ignore"):
            cov = scaled @ scaled.T
        return {
            "gaussians": [
                {"mean": mean.tolist(), "cov": cov.tolist(), "weight": 1.0, "value": value}
            ]
        }


# ---------------------------------------------------------------- Gaussians
class _Problem:
    """One SPDL update as a smooth problem over x = [mean, log diag(L), tril(L)], in the unit
    cube, with exact values and gradients. Written with few, small numpy calls and a one-entry
    cache, because call overhead, not arithmetic, is the cost at these sizes."""

    def __init__(
        self,
        contexts: NDArray[np.float64],
        values: NDArray[np.float64],
        old_mu: NDArray[np.float64],
        old_chol: NDArray[np.float64],
        target_mu: NDArray[np.float64],
        target_chol: NDArray[np.float64],
        alpha: float,
        max_kl: float,
    ):
        d = len(old_mu)
        self.d = d
        self.tril = np.tril_indices(d, -1)
        self.diag = np.diag_indices(d)
        self.lower = np.tril(np.ones((d, d)))
        # Positions in a raveled (d, d) matrix: diagonal, then strictly lower triangle.
        self.diag_flat = np.arange(d) * (d + 1)
        self.tril_flat = self.tril[0] * d + self.tril[1]
        self.contexts_t = np.ascontiguousarray(contexts.T)
        self.scaled_values = values / len(values)
        self.alpha = alpha
        # SLSQP meets its constraints only to a tolerance; aiming a hair inside the trust
        # region means the exact check afterwards almost never has to pull back.
        self.max_kl = max_kl
        self.aim_kl = max_kl * (1.0 - 1e-6)
        self.old = (old_mu, *_precision(old_chol))
        self.target = (target_mu, *_precision(target_chol))
        self.old_logp = self._log_pdf(old_mu, old_chol)[0]
        self.x0 = np.concatenate([old_mu, np.log(np.diag(old_chol)), old_chol[self.tril]])
        self._key: bytes = b""
        self._trust: tuple[float, NDArray[np.float64]] = (0.0, self.x0)

    def unpack(self, x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        d = self.d
        chol = np.zeros((d, d))
        flat = chol.ravel()
        flat[self.diag_flat] = np.exp(x[d : 2 * d])
        flat[self.tril_flat] = x[2 * d :]
        return x[:d].copy(), chol

    def _flat(self, g_mu: NDArray[np.float64], g_chol: NDArray[np.float64],
              chol: NDArray[np.float64]) -> NDArray[np.float64]:
        d = self.d
        out = np.empty(len(self.x0))
        out[:d] = g_mu
        g = g_chol.ravel()
        # Chain rule through the log-diagonal parameterisation.
        out[d : 2 * d] = g[self.diag_flat] * chol.ravel()[self.diag_flat]
        out[2 * d :] = g[self.tril_flat]
        return out

    def _log_pdf(self, mu: NDArray[np.float64], chol: NDArray[np.float64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        inv = _tri_inv(chol)
        z = inv @ (self.contexts_t - mu[:, None])  # (d, n)
        logp = -0.5 * np.einsum("ij,ij->j", z, z) - np.log(chol.diagonal()).sum()
        return logp - 0.5 * self.d * _LOG_2PI, z, inv

    def _kl(self, mu0: NDArray[np.float64], chol0: NDArray[np.float64],
            other: tuple[NDArray[np.float64], NDArray[np.float64], float]
            ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
        """KL(N(mu0, L0 L0^T) || other) and its gradients in mu0 and in L0."""
        mu1, prec1, logdet1 = other
        diag0 = chol0.diagonal()
        delta = mu0 - mu1
        p_delta = prec1 @ delta
        p_chol = prec1 @ chol0
        trace = float(np.einsum("ij,ij->", p_chol, chol0))
        kl = 0.5 * (trace + float(delta @ p_delta) - self.d + logdet1) - float(np.log(diag0).sum())
        g_chol = p_chol * self.lower
        g_chol.ravel()[self.diag_flat] -= 1.0 / diag0
        return kl, p_delta, g_chol

    def objective(self, x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        """Minus (importance-sampled performance - alpha * KL(p || target)), and gradient."""
        mu, chol = self.unpack(x)
        logp, z, inv = self._log_pdf(mu, chol)
        w = np.exp(logp - self.old_logp) * self.scaled_values
        a = inv.T @ z  # Sigma^-1 (c - mu), (d, n)
        g_mu = a @ w
        g_chol = ((a * w) @ z.T) * self.lower
        total = float(w.sum())
        g_chol.ravel()[self.diag_flat] -= total / chol.diagonal()
        if self.alpha:
            kl, k_mu, k_chol = self._kl(mu, chol, self.target)
            total -= self.alpha * kl
            g_mu = g_mu - self.alpha * k_mu
            g_chol = g_chol - self.alpha * k_chol
        return -total, -self._flat(g_mu, g_chol, chol)

    def _trust_at(self, x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        key = x.tobytes()
        if key != self._key:
            mu, chol = self.unpack(x)
            kl, k_mu, k_chol = self._kl(mu, chol, self.old)
            self._key, self._trust = key, (kl, self._flat(k_mu, k_chol, chol))
        return self._trust

    def trust(self, x: NDArray[np.float64]) -> float:
        """aim_kl - KL(p || p_old): the trust region holds where this is >= 0."""
        return self.aim_kl - self._trust_at(x)[0]

    def trust_grad(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return -self._trust_at(x)[1]

    def step_kl(self, x: NDArray[np.float64]) -> float:
        return self._trust_at(x)[0]

    def pull_back(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``x`` if it is in the trust region, else the farthest point of the segment from x0
        to ``x`` that is (x0 always is)."""
        if self.step_kl(x) <= self.max_kl:
            return x
        step = x - self.x0
        # KL grows about quadratically along the segment: start from that guess, then bisect.
        lo, hi = 0.0, 1.0
        guess = float(np.sqrt(self.max_kl / self.step_kl(x)))
        if self.step_kl(self.x0 + guess * step) <= self.max_kl:
            lo = guess
        else:
            hi = guess
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            if self.step_kl(self.x0 + mid * step) <= self.max_kl:
                lo = mid
            else:
                hi = mid
        return self.x0 + lo * step

    def fisher_inverse_diag(self) -> NDArray[np.float64]:
        """Diagonal of the inverse Fisher information at p_old (the Hessian of KL(p || p_old)
        there), in closed form.

        The mean block is Sigma_old^-1. For the factor, with A = L_old^-1 dL (lower
        triangular), KL = 1/2 ||A||_F^2 + 1/2 sum_i A_ii^2 to second order, so the block is
        J^T W J, with J the linear map from the (log-diagonal, off-diagonal) parameters to
        A's entries and W = 2 on A's diagonal, 1 below it. The blocks do not interact.
        """
        d = self.d
        _, old_prec, _ = self.old
        old_chol = self.unpack(self.x0)[1]
        inv = _tri_inv(old_chol)
        rows, cols = np.tril_indices(d)  # entries of A
        # Parameters: log-diagonal s_i (dL_ii = L_ii ds_i), then off-diagonal l_ij.
        p_rows = np.concatenate([np.arange(d), self.tril[0]])
        p_cols = np.concatenate([np.arange(d), self.tril[1]])
        p_scale = np.concatenate([old_chol.diagonal(), np.ones(len(self.tril[0]))])
        # dL = scale * e_i e_j^T gives A = scale * inv[:, i] e_j^T: column j of A.
        jac = np.where(cols[:, None] == p_cols[None, :], inv[rows][:, p_rows], 0.0) * p_scale
        weight = np.where(rows == cols, 2.0, 1.0)
        fisher_chol = jac.T @ (weight[:, None] * jac)
        chol_part = np.diag(np.linalg.pinv(fisher_chol))
        return np.concatenate([np.diag(np.linalg.inv(old_prec)), chol_part])


def _tri_inv(chol: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse of a lower-triangular matrix with a positive diagonal (LAPACK trtri: a fifth of
    ``numpy.linalg.inv``'s call overhead at these sizes)."""
    inv, info = dtrtri(chol, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular Cholesky factor (LAPACK trtri info={info})")
    return inv


def _precision(chol: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    inv = _tri_inv(chol)
    return inv.T @ inv, 2.0 * float(np.log(np.diag(chol)).sum())


def _kl(mu0: NDArray[np.float64], chol0: NDArray[np.float64], mu1: NDArray[np.float64],
        chol1: NDArray[np.float64]) -> float:
    """KL(N(mu0, L0 L0^T) || N(mu1, L1 L1^T)), closed form."""
    prec1, logdet1 = _precision(chol1)
    delta = mu0 - mu1
    return float(
        0.5 * (np.sum((prec1 @ chol0) * chol0) + delta @ prec1 @ delta - len(mu0) + logdet1)
        - np.log(np.diag(chol0)).sum()
    )


# --------------------------------------------------------------- validation
def _values(signals: Mapping[str, NDArray[Any]], scores: NDArray[np.float64]
            ) -> NDArray[np.float64]:
    """The performance estimate of each task: the ``value`` signal if given, else the score."""
    value = signals.get("value")
    return scores if value is None else np.asarray(value, dtype=np.float64)


def _rails(d: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper safety rails of x = [mean, log diag(L), tril(L)] in unit coordinates."""
    m = d * (d - 1) // 2
    low = np.concatenate([np.full(d, -_MEAN_MARGIN), np.full(d, np.log(_MIN_SD)),
                          np.full(m, -_MAX_SD)])
    high = np.concatenate([np.full(d, 1.0 + _MEAN_MARGIN), np.full(d, np.log(_MAX_SD)),
                           np.full(m, _MAX_SD)])
    return low, high


def _mean(value: ArrayLike, name: str, box: Box) -> NDArray[np.float64]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise InvalidParameterError(f"{name} must be real numbers, got {value!r}")
    arr = arr.astype(np.float64).reshape(-1) if arr.ndim == 0 else arr.astype(np.float64)
    if arr.shape != (box.ndim,):
        raise InvalidParameterError(
            f"{name} must have shape ({box.ndim},) for {box!r}, got shape {arr.shape}"
        )
    outside = ~((arr >= box.low) & (arr <= box.high))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InvalidParameterError(
            f"{name} = {arr.tolist()!r} is outside {box!r}: dimension {box.names[i]!r} is "
            f"{float(arr[i])!r}, expected a value in [{float(box.low[i])!r}, "
            f"{float(box.high[i])!r}]"
        )
    return arr


def _unit_cholesky(value: ArrayLike, name: str, box: Box, *, bounded: bool = False
                   ) -> NDArray[np.float64]:
    """The Cholesky factor, in unit coordinates, of a covariance given in task units.

    ``bounded`` checks it against the safety rails (the initial distribution must start on
    them); the target only enters a KL term and may be anything positive definite.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise InvalidParameterError(f"{name} must be a real matrix, got {value!r}")
    arr = arr.astype(np.float64)
    d = box.ndim
    if arr.shape != (d, d):
        raise InvalidParameterError(
            f"{name} must have shape ({d}, {d}) for {box!r}, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite, got {arr.tolist()!r}")
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-14):
        raise InvalidParameterError(f"{name} must be symmetric, got {arr.tolist()!r}")
    # One range at a time: the product of two ranges may overflow (or underflow) where the
    # covariance divided by it is a perfectly ordinary number.
    scale = box.range
    unit = arr / scale[:, None] / scale[None, :]
    try:
        chol: NDArray[np.float64] = np.linalg.cholesky(unit).astype(np.float64, copy=False)
        ok = bool(np.all(np.isfinite(chol)) and np.all(np.diag(chol) > 0.0))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        eig = np.linalg.eigvalsh(arr) if np.all(np.isfinite(unit)) else np.full(d, np.nan)
        raise InvalidParameterError(
            f"{name} must be positive definite, got {arr.tolist()!r} with eigenvalues "
            f"{eig.tolist()!r}"
        )
    if bounded:
        sd = np.sqrt(np.sum(chol**2, axis=1))
        diag = np.diag(chol)
        if diag.min() < _MIN_SD or sd.max() > _MAX_SD:
            raise InvalidParameterError(
                f"{name} = {arr.tolist()!r} is out of SPDL's range for {box!r}: in units of "
                f"the box's ranges its standard deviations are {sd.tolist()!r} and its "
                f"Cholesky factor's diagonal {diag.tolist()!r}; SPDL keeps the diagonal >= "
                f"{_MIN_SD:g} and the standard deviations <= {_MAX_SD:g}"
            )
    return chol
