"""ALP-GMM: sample tasks from Gaussian mixtures fitted on absolute learning progress.

The module also holds the machinery ALP-GMM shares with Covar-GMM
(:mod:`autocurriculum.teachers.covar_gmm`): the refit schedule, the AIC selection over a range
of component counts, and sampling from the chosen mixture by a per-component progress value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.params import (
    MAX_SIZE,
    InvalidParameterError,
    check_bool,
    check_int,
    check_probability,
    check_size,
)
from autocurriculum.progress.nearest import NearestHistory
from autocurriculum.spaces import Box
from autocurriculum.teachers._gmm import GaussianMixtureFit, fit_gmms, select_by_aic
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["ALPGMM"]

# A component whose soft count fell below this owns no data: the batched EM keeps its old mean
# (scikit-learn would leave it near zero), so its progress value means nothing and it is
# never sampled by progress.
_DEAD_COUNT = 1e-8
# ALP-GMM's rule: the ALP of a pair is 0 until more than this many pairs are stored.
_ALP_MIN_HISTORY = 5
# The largest refit window: a refit's batched EM holds sum(potential_ks) x fit_rate
# responsibilities, and a window of more than 1e5 episodes is a typo, not a schedule.
_MAX_FIT_RATE = 100_000
# Stream of the generator used while learning (the k-means++ seeds of each refit), distinct
# from the sampling generator rng_: a refit never depends on how many tasks were sampled.
_FIT_STREAM = 1
# At most this many candidate numbers of components per refit.
_MAX_CANDIDATES = 1_000


class _GMMTeacher(Teacher[Box]):
    """Shared by ALP-GMM and Covar-GMM: refit every ``fit_rate`` episodes, sample by progress.

    Subclasses define :meth:`_fit_data` (the points a mixture is fitted on, from the window of
    the last ``fit_rate`` tasks in the unit cube and their scores) and :meth:`_progress` (the
    value of each component of the chosen mixture that sampling is proportional to).

    Refits happen in ``update`` only, every ``fit_rate`` outcomes, and draw their k-means++
    seeds from ``fit_rng_``, a generator of their own: the sampling generator ``rng_`` is used
    by ``sample`` only, so the fitted mixtures depend on the outcomes received, never on how
    many tasks were sampled in between.
    """

    supported_spaces = ("box",)

    def __init__(
        self,
        space: Box,
        *,
        fit_rate: int,
        potential_ks: Sequence[int],
        random_task_ratio: float,
        warm_start: bool,
        seed: int | None,
    ):
        super().__init__(space, seed=seed)
        check_size("fit_rate", fit_rate, low=2, high=_MAX_FIT_RATE)
        ks = _check_ks(potential_ks, int(fit_rate))
        check_probability("random_task_ratio", random_task_ratio)
        check_bool("warm_start", warm_start)
        self.fit_rate = fit_rate
        self.potential_ks = potential_ks
        self.random_task_ratio = random_task_ratio
        self.warm_start = warm_start
        self._ks = ks

        d = space.ndim
        # The window: tasks (unit cube) and scores since the last refit. A refit happens
        # exactly every fit_rate episodes, so at a refit the window is the last fit_rate.
        self.window_tasks_ = np.zeros((int(fit_rate), d))
        self.window_scores_ = np.zeros(int(fit_rate))
        self.n_window_ = 0
        self.gmm_: GaussianMixtureFit | None = None
        self.fits_: list[GaussianMixtureFit] = []
        # Sampling view of the chosen mixture: task-dims marginals and component weights.
        self.progress_ = np.zeros(0)
        self.cumulative_ = np.zeros(0)
        self.task_means_ = np.zeros((0, d))
        self.task_chol_ = np.zeros((0, d, d))
        self.n_refits_ = 0
        # The last refit's wall time, for metrics(): a measurement, not learned state (it is
        # not in state_dict(), which depends only on the outcomes received).
        self._refit_us = 0.0
        self.fit_rng_ = self._spawn_rng(_FIT_STREAM)

    # ----------------------------------------------------------------- sample
    def _sample(self, n: int) -> NDArray[np.float64]:
        rng = self.rng_
        if self.gmm_ is None:  # bootstrap: the first fit_rate episodes are uniform
            return self.space.sample(rng, n)
        if n == 1:
            return self._sample_one()
        uniform = rng.random(n) < self.random_task_ratio
        n_uniform = int(uniform.sum())
        out = np.empty((n, self.space.ndim))
        if n_uniform:
            out[uniform] = self.space.sample(rng, n_uniform)
        if n_uniform < n:
            out[~uniform] = self._sample_mixture(n - n_uniform)
        return out

    def _sample_one(self) -> NDArray[np.float64]:
        # The common one-episode-at-a-time case with scalar bookkeeping; it draws the very
        # same numbers, in the same order, as the batch path does for n = 1.
        rng = self.rng_
        space = self.space
        if rng.random() < self.random_task_ratio:
            return space.sample(rng, 1)
        cumulative = self.cumulative_
        comp = int(cumulative.searchsorted(rng.random() * cumulative[-1], side="right"))
        comp = min(comp, len(cumulative) - 1)
        z = rng.standard_normal(space.ndim)
        u = self.task_means_[comp] + self.task_chol_[comp] @ z
        x = space.low + np.minimum(np.maximum(u, 0.0), 1.0) * space.range
        return np.minimum(np.maximum(x, space.low), space.high)[None, :]

    def _sample_mixture(self, n: int) -> NDArray[np.float64]:
        rng = self.rng_
        cumulative = self.cumulative_
        # A component of zero progress has zero width here: never chosen (side="right").
        comp = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
        comp = np.minimum(comp, len(cumulative) - 1)
        z = rng.standard_normal((n, self.space.ndim))
        u = self.task_means_[comp] + np.einsum("nij,nj->ni", self.task_chol_[comp], z)
        # Clipping to the box is part of the algorithm: a Gaussian near the boundary puts
        # the mass beyond it on the boundary (the reference clips the same way).
        x = self.space.from_unit(np.clip(u, 0.0, 1.0))
        return np.clip(x, self.space.low, self.space.high)

    # ----------------------------------------------------------------- update
    def _update(
        self,
        tasks: NDArray[Any],
        scores: NDArray[np.float64],
        signals: Mapping[str, NDArray[Any]],
    ) -> None:
        u = self.space.to_unit(tasks)
        fit_rate = int(self.fit_rate)
        i = 0
        while i < len(u):
            take = min(fit_rate - self.n_window_, len(u) - i)
            a = self.n_window_
            self.window_tasks_[a : a + take] = u[i : i + take]
            self.window_scores_[a : a + take] = scores[i : i + take]
            self.n_window_ += take
            i += take
            if self.n_window_ == fit_rate:
                self._refit()
                self.n_window_ = 0

    def _refit(self) -> None:
        start = time.perf_counter()
        data = self._fit_data(self.window_tasks_, self.window_scores_)
        warm = self.fits_ if self.warm_start else None
        # fit_gmms pins BLAS to one thread while it runs: its products are tiny.
        fits = fit_gmms(data, self._ks, rng=self.fit_rng_, warm_start=warm)
        best = select_by_aic(fits)
        if self.warm_start:
            self.fits_ = fits
        self._set_model(best)
        self.n_refits_ += 1
        self._refit_us = (time.perf_counter() - start) * 1e6

    def _set_model(self, gmm: GaussianMixtureFit) -> None:
        d = self.space.ndim
        progress = np.maximum(self._progress(gmm), 0.0)
        progress[gmm.weights * gmm.n_samples < _DEAD_COUNT] = 0.0
        total = progress.sum()
        if not total > 0:
            # No component shows progress: choose among them uniformly (the reference's rule).
            progress = np.ones_like(progress)
        self.gmm_ = gmm
        self.progress_ = progress
        self.cumulative_ = np.cumsum(progress)
        self.task_means_ = gmm.means[:, :d].copy()
        self.task_chol_ = _cholesky(gmm.covariances[:, :d, :d])

    # ----------------------------------------------------------- to implement
    def _fit_data(
        self, tasks: NDArray[np.float64], scores: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        raise NotImplementedError

    def _progress(self, gmm: GaussianMixtureFit) -> NDArray[np.float64]:
        raise NotImplementedError

    # ------------------------------------------------------------- reporting
    def _component_values(self) -> NDArray[np.float64]:
        """The progress value of each component that :meth:`model_snapshot` reports."""
        assert self.gmm_ is not None
        return self._progress(self.gmm_)

    def model_snapshot(self) -> dict[str, Any]:
        """The chosen mixture's components in task-space coordinates (task dimensions only).

        ``value`` is the component's progress (mean ALP for ALP-GMM, time-score covariance
        for Covar-GMM). Before the first refit the list is empty.
        """
        with self._lock:  # a consistent view while another thread updates
            if self.gmm_ is None:
                return {"gaussians": []}
            d = self.space.ndim
            scale = self.space.range
            gmm = self.gmm_
            values = self._component_values()
            return {
                "gaussians": [
                    {
                        "mean": (self.space.low + gmm.means[k, :d] * scale).tolist(),
                        "cov": (gmm.covariances[k, :d, :d] * np.outer(scale, scale)).tolist(),
                        "weight": float(gmm.weights[k]),
                        "value": float(values[k]),
                    }
                    for k in range(gmm.n_components)
                ]
            }

    def _metrics(self) -> dict[str, float]:
        gmm = self.gmm_
        return {
            "n_components": float(gmm.n_components if gmm is not None else 0),
            "n_refits": float(self.n_refits_),
            "refit_us": float(self._refit_us),
            "max_progress": float(self._component_values().max()) if gmm is not None else 0.0,
        }


@register("alp-gmm")
class ALPGMM(_GMMTeacher):
    """ALP-GMM: Gaussian mixtures over (task, absolute learning progress), sampled by ALP.

    The absolute learning progress (ALP) of a new (task, score) pair is
    ``|score - score of the nearest earlier task|``, the nearest neighbour being taken in the
    task space (unit cube) among the last ``max_history`` tasks; it is 0 until more than 5
    pairs are stored. Every ``fit_rate`` episodes, Gaussian mixtures with full covariances are
    fitted on the last ``fit_rate`` points (task ⊕ ALP), one for each number of components in
    ``potential_ks``, and the one with the lowest AIC is kept.

    Sampling, per task: with probability ``random_task_ratio`` a uniform task; otherwise a
    component is picked with probability proportional to its mean ALP (the ALP coordinate of
    its mean; uniformly if every component's is 0), a point is drawn from it, its ALP
    coordinate is dropped and it is clipped to the box. The clipping is part of the algorithm,
    as in the reference. The first ``fit_rate`` episodes are uniform.

    Work is done in the unit cube, so the box's scales do not matter (the reference works on
    tasks normalised to [0, 1] the same way). The mixtures are fitted by a batched EM across
    all component counts (k-means++ starts, scikit-learn's convergence rule and AIC). Refits
    run inside :meth:`update` and draw their k-means++ seeds from a generator of their own, so
    the curriculum depends on the outcomes received, not on how many tasks were sampled.

    Parameters
    ----------
    space : Box
        The task space.
    fit_rate : int
        Episodes between two refits, and the size of the window fitted (250; 150 in the
        published benchmark), in [2, 100,000].
    potential_ks : sequence of int
        Numbers of components tried at each refit (2..10), each in [1, fit_rate]; at most
        1,000 of them, and ``len(potential_ks) * max(potential_ks) * fit_rate <= 1e8`` (the
        size of a refit's batched EM).
    random_task_ratio : float
        Probability of a uniform task once the mixture exists (0.2; 0.05 in the benchmark).
    max_history : int
        Tasks kept for the nearest-neighbour search of ALP (20,000), at most
        ``1e8 / (ndim + 1)``. The reference keeps all of them; 20,000 gives the same results on
        the 20k-episode protocol and bounds memory and time after it. See
        :class:`~autocurriculum.progress.nearest.NearestHistory`.
    warm_start : bool
        Start each refit's EM from the previous fit with the same number of components instead
        of k-means (False, as the reference's default). Refits get cheaper, but it is not the
        published algorithm and it changes the curriculum (see ``benchmarks/RESULTS.md``).
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import numpy as np
    >>> import autocurriculum as ac
    >>> space = ac.Box([0.0, 0.0], [3.0, 6.0])
    >>> teacher = ac.make("alp-gmm", space, fit_rate=100, seed=0)
    >>> for _ in range(20):
    ...     tasks = teacher.sample(16)
    ...     teacher.update(tasks, np.clip(1.0 - tasks[:, 0] / 3.0, 0.0, 1.0))
    >>> teacher.metrics()["teacher/n_refits"]
    3.0
    >>> space.contains(teacher.sample(5))
    True

    References
    ----------
    .. [1] Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning
       of Deep RL in continuously parameterized environments", CoRL 2019.
    """

    def __init__(
        self,
        space: Box,
        *,
        fit_rate: int = 250,
        potential_ks: Sequence[int] = tuple(range(2, 11)),
        random_task_ratio: float = 0.2,
        max_history: int = 20_000,
        warm_start: bool = False,
        seed: int | None = None,
    ):
        super().__init__(
            space,
            fit_rate=fit_rate,
            potential_ks=potential_ks,
            random_task_ratio=random_task_ratio,
            warm_start=warm_start,
            seed=seed,
        )
        # The history holds max_history x (ndim + 1) floats.
        check_size("max_history", max_history, high=MAX_SIZE // (self.space.ndim + 1))
        self.max_history = max_history
        self.history_ = NearestHistory(self.space.ndim, int(max_history))
        self.window_alp_ = np.zeros(int(self.fit_rate))

    def _fit_data(
        self, tasks: NDArray[np.float64], scores: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        # ALP needs only each pair's nearest earlier neighbour, and is used only at refits: the
        # whole window is queried here in one batch, which gives exactly the one-at-a-time
        # answers at a fraction of the cost.
        nn_scores, _, stored = self.history_.query_add(tasks, scores)
        alp = np.where(stored > _ALP_MIN_HISTORY, np.abs(scores - nn_scores), 0.0)
        self.window_alp_ = alp
        return np.hstack([tasks, alp[:, None]])

    def _progress(self, gmm: GaussianMixtureFit) -> NDArray[np.float64]:
        return gmm.means[:, -1].copy()

    def _metrics(self) -> dict[str, float]:
        out = super()._metrics()
        out["mean_alp"] = float(self.window_alp_.mean()) if self.n_refits_ else 0.0
        out["history"] = float(len(self.history_))
        return out


# ------------------------------------------------------------------ helpers
def _cholesky(covs: NDArray[np.float64]) -> NDArray[np.float64]:
    try:
        return np.linalg.cholesky(covs).astype(np.float64, copy=False)
    except np.linalg.LinAlgError:
        # A marginal of a positive-definite matrix is positive definite; only round-off on a
        # degenerate fit gets here. Floor the spectrum so that sampling stays defined.
        vals, vecs = np.linalg.eigh(covs)
        vals = np.maximum(vals, 1e-12 * np.maximum(vals.max(axis=-1, keepdims=True), 1.0))
        return np.linalg.cholesky((vecs * vals[..., None, :]) @ np.swapaxes(vecs, -1, -2))


def _check_ks(potential_ks: Sequence[int], fit_rate: int) -> list[int]:
    is_array = isinstance(potential_ks, np.ndarray) and potential_ks.ndim == 1
    if isinstance(potential_ks, str | bytes) or not (
        is_array or isinstance(potential_ks, Sequence)
    ):
        raise InvalidParameterError(
            f"potential_ks must be a sequence of component counts, got {potential_ks!r}"
        )
    if len(potential_ks) == 0:
        raise InvalidParameterError(
            "potential_ks must hold at least one number of components, got none"
        )
    if len(potential_ks) > _MAX_CANDIDATES:
        raise InvalidParameterError(
            f"potential_ks must hold at most {_MAX_CANDIDATES} numbers of components, got "
            f"{len(potential_ks)}"
        )
    ks = []
    for k in potential_ks:
        try:
            ks.append(check_int("potential_ks", k, low=1))
        except InvalidParameterError:
            raise InvalidParameterError(
                f"potential_ks must hold ints >= 1, got {k!r} in {potential_ks!r}"
            ) from None
        if k > fit_rate:
            raise InvalidParameterError(
                f"potential_ks holds k={k}, more components than the {fit_rate} points of a "
                f"refit window (fit_rate={fit_rate})"
            )
    size = len(ks) * max(ks) * fit_rate
    if size > MAX_SIZE:
        raise InvalidParameterError(
            f"potential_ks={potential_ks!r} with fit_rate={fit_rate}: a refit would hold "
            f"{len(ks)} candidates x {max(ks)} components x {fit_rate} points = {size:,} "
            f"responsibilities, more than {MAX_SIZE:,}; try fewer or smaller k, or a smaller "
            "fit_rate"
        )
    return ks
