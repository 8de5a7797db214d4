"""CPU cost of one GMM refit round: scikit-learn against the batched fitter of the teachers.

A refit round is what ALP-GMM and Covar-GMM do every ``fit_rate`` episodes: fit a
full-covariance mixture for every k in ``ks`` on the last ``fit_rate`` points and keep the best
by AIC. The baseline is ``sklearn.mixture.GaussianMixture`` with its defaults (k-means init,
``n_init=1``), one fit per k. Ours is :func:`autocurriculum.teachers._gmm.fit_gmms`, cold (k-means
init) and warm (started from the previous window's fits, as a teacher refitting on a slowly
changing window would).

Every figure is CPU time (``time.process_time``, all threads of the process) of a full round,
the median over several repeats, each repeat on a fresh data window. The main measurements run
single-threaded: the BLAS/OpenMP thread variables are set to 1 before numpy is imported. A
child process without those variables measures the default-thread case, where scikit-learn's
k-means and the BLAS may start threads that spin on these tiny problems.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_gmm.py [--repeats 7]

The exit status is 1 if ours (cold, single-threaded) misses 15 ms per round on the ALP-GMM
default configuration (d = 3, 250 points, k = 2..10).
"""

from __future__ import annotations

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if "--default-threads" not in sys.argv:
    # Must happen before numpy (and its BLAS) is loaded.
    for _var in _THREAD_VARS:
        os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

from autocurriculum.teachers._gmm import fit_gmms, select_by_aic  # noqa: E402

TARGET_MS = 15.0


@dataclass(frozen=True)
class Config:
    """One refit round: ``n`` points of dimension ``d``, candidates ``ks``."""

    name: str
    d: int
    n: int
    ks: tuple[int, ...]

    @property
    def fit_rate(self) -> int:
        return self.n


CONFIGS = (
    Config("ALP-GMM 2-D task + ALP", 3, 250, tuple(range(2, 11))),
    Config("ALP-GMM 3-D task + ALP", 4, 250, tuple(range(2, 11))),
    Config("Covar-GMM 10-D task", 12, 250, tuple(range(2, 11))),
    Config("ALP-GMM bench, fit_rate 150", 3, 150, tuple(range(2, 11))),
    Config("Covar-GMM bench, 10-D, k<=14", 12, 150, tuple(range(2, 15))),
)


def window(cfg: Config, seed: int, drift: float = 0.0) -> np.ndarray:
    """Teacher-like data: tasks in the unit cube, then progress coordinates.

    A few regions of the task space carry learning progress (a bump in the last coordinate),
    as they do mid-run; ``drift`` moves them a little, as between two consecutive windows.
    """
    rng = np.random.default_rng(seed)
    n_task = cfg.d - 1 if cfg.d <= 4 else cfg.d - 2
    tasks = rng.random((cfg.n, n_task))
    centres = np.random.default_rng(seed // 2).random((3, n_task)) + drift
    near = np.exp(-((tasks[:, None, :] - centres[None]) ** 2).sum(-1) / 0.02).max(axis=1)
    progress = np.clip(near * 0.5 + rng.normal(0, 0.03, cfg.n), 0.0, None)
    if cfg.d <= 4:
        return np.c_[tasks, progress]
    rel_time = np.linspace(0.0, 1.0, cfg.n)
    return np.c_[tasks, rel_time, progress * rel_time]


def cpu_ms(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1e3


def sklearn_round(x: np.ndarray, ks: tuple[int, ...], seed: int) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [GaussianMixture(k, covariance_type="full", random_state=seed).fit(x) for k in ks]
    return ks[int(np.argmin([f.aic(x) for f in fits]))]


def measure(cfg: Config, repeats: int, warm: bool = True) -> dict[str, float]:
    """Median CPU ms per round of each method for one configuration.

    Each method runs all its repeats in a row, ours first: OpenMP workers that scikit-learn's
    k-means leaves spin-waiting after a fit keep burning CPU of this process for a while, and
    would otherwise be billed to whatever runs next.
    """
    seeds = [1000 * cfg.d + r for r in range(repeats + 1)]
    windows = [window(cfg, seed + 1, 0.03) for seed in seeds]
    runs: dict[str, list[Callable[[], object]]] = {
        "cold": [
            partial(fit_gmms, x, cfg.ks, rng=np.random.default_rng(seed + 7))
            for seed, x in zip(seeds, windows, strict=True)
        ],
        "sklearn": [
            partial(sklearn_round, x, cfg.ks, seed + 7)
            for seed, x in zip(seeds, windows, strict=True)
        ],
    }
    if warm:
        # The previous window, slightly shifted, fitted as the teacher did last round.
        prevs = [
            fit_gmms(window(cfg, seed, 0.0), cfg.ks, rng=np.random.default_rng(seed))
            for seed in seeds
        ]
        runs["warm"] = [
            partial(fit_gmms, x, cfg.ks, rng=np.random.default_rng(seed + 7), warm_start=prev)
            for seed, x, prev in zip(seeds, windows, prevs, strict=True)
        ]
    medians = {}
    for key in ("cold", "warm", "sklearn"):
        if key not in runs:
            continue
        cpu_ms(runs[key][0])  # warm-up: imports, caches, first touch of allocations
        medians[key] = statistics.median(cpu_ms(fn) for fn in runs[key][1:])
    return medians


def selection_agreement(cfg: Config, repeats: int) -> tuple[int, int]:
    """How often our AIC choice equals scikit-learn's on the benchmark windows (for context)."""
    same = 0
    for r in range(1, repeats + 1):
        seed = 1000 * cfg.d + r
        x = window(cfg, seed + 1, 0.03)
        ours = select_by_aic(fit_gmms(x, cfg.ks, rng=np.random.default_rng(seed + 7)))
        same += int(ours.n_components == sklearn_round(x, cfg.ks, seed + 7))
    return same, repeats


def run_default_threads(repeats: int) -> dict[str, dict[str, float]]:
    """Re-run the measurements in a child process that keeps the default thread settings."""
    env = {k: v for k, v in os.environ.items() if k not in _THREAD_VARS}
    out = subprocess.run(
        [sys.executable, __file__, "--default-threads", "--repeats", str(repeats)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--default-threads", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.default_threads:
        # Spinning threads make this case slow to measure; the first and the largest
        # configurations tell the story.
        cfgs = (CONFIGS[0], CONFIGS[2])
        print(json.dumps({cfg.name: measure(cfg, args.repeats, warm=False) for cfg in cfgs}))
        return 0

    single = {cfg.name: measure(cfg, args.repeats) for cfg in CONFIGS}
    default = run_default_threads(max(3, args.repeats // 2))

    print(
        f"GMM refit round, CPU ms (median of {args.repeats}); ratio = ours / scikit-learn "
        "single-threaded (the baseline)\n"
    )
    header = (
        f"{'configuration':32} {'d':>3} {'n':>4} {'ks':>6} | {'sklearn 1T':>10} "
        f"{'sklearn nT':>16} | {'ours cold':>16} {'ours warm':>16} {'ours cold nT':>16}"
    )
    print(header)
    print("-" * len(header))
    for cfg in CONFIGS:
        s, dflt = single[cfg.name], default.get(cfg.name)
        base = s["sklearn"]

        def cell(ms: float | None, base: float = base) -> str:
            return f"{'-':>16}" if ms is None else f"{ms:8.2f} ({ms / base:5.3f}x)"

        ks = f"{cfg.ks[0]}..{cfg.ks[-1]}"
        print(
            f"{cfg.name:32} {cfg.d:3d} {cfg.n:4d} {ks:>6} | {base:10.2f} "
            f"{cell(dflt and dflt['sklearn'])} | {cell(s['cold'])} {cell(s['warm'])} "
            f"{cell(dflt and dflt['cold'])}"
        )
    print("\n1T: BLAS/OpenMP threads = 1; nT: default threads (CPU time of all threads).")

    print("\nImplied teacher cost per episode (round cost / fit_rate, fit_rate = window size):")
    print(
        f"{'configuration':32} {'fit_rate':>8} | {'sklearn 1T':>10} {'sklearn nT':>10} "
        f"{'ours cold':>10} {'ours warm':>10}   (µs / episode)"
    )
    for cfg in CONFIGS:
        s, dflt = single[cfg.name], default.get(cfg.name)
        per = [
            None if v is None else 1e3 * v / cfg.fit_rate
            for v in (s["sklearn"], dflt and dflt["sklearn"], s["cold"], s["warm"])
        ]
        print(
            f"{cfg.name:32} {cfg.fit_rate:8d} | "
            + " ".join(f"{'-':>10}" if v is None else f"{v:10.1f}" for v in per)
        )

    same, total = selection_agreement(CONFIGS[0], args.repeats)
    print(
        f"\nAIC-selected k equal to scikit-learn's on {same}/{total} windows of "
        f"'{CONFIGS[0].name}' (both are single-init EM; the rest differ by local optima)."
    )

    main_cold = single[CONFIGS[0].name]["cold"]
    ok = main_cold <= TARGET_MS
    print(
        f"\nTarget: ours cold <= {TARGET_MS:.0f} ms per round on '{CONFIGS[0].name}': "
        f"{main_cold:.2f} ms -> {'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
