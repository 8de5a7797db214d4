"""Do ALP-GMM and Covar-GMM land where the published implementations land on grid-2d?

The protocol of the ALP-GMM paper's toy experiment: the 10x10 grid student, 20,000 episodes,
one episode at a time (sample one task, play it, update the teacher). The score is the % of
cells mastered at the end. Bands measured with the published code on this machine class:
ALP-GMM 30-42%, Covar-GMM 55-68%; the uniform random teacher is in the table as the baseline.

Each configuration runs over several seeds (the teacher and the student share the seed) and is
reported as mean and 95% bootstrap confidence interval of the mean (10,000 resamples).

Run (the benchmark runner will supersede this script)::

    PYTHONPATH=src nice -n 10 python benchmarks/faithful_bands.py --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import multiprocessing as mp  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import autocurriculum as ac  # noqa: E402
from autocurriculum.bench.scenarios import make_scenario  # noqa: E402


@dataclass(frozen=True)
class Config:
    label: str
    teacher: str
    params: dict[str, Any] = field(default_factory=dict)
    band: tuple[float, float] | None = None
    extra: bool = False  # run only with --extra (sensitivity checks)


CONFIGS = [
    Config("random", "random"),
    Config("alp-gmm (defaults)", "alp-gmm", {}, (30.0, 42.0)),
    Config("alp-gmm (benchmark: fit_rate 150, random 0.05)", "alp-gmm",
           {"fit_rate": 150, "random_task_ratio": 0.05}),
    Config("covar-gmm (defaults)", "covar-gmm", {}, (55.0, 68.0)),
    Config("covar-gmm (benchmark: fit_rate 150, random 0.1, k 2..14)", "covar-gmm",
           {"fit_rate": 150, "random_task_ratio": 0.1, "potential_ks": tuple(range(2, 15))}),
    # Sensitivity checks. An unbounded history (1e6 > 20k episodes) must give exactly the
    # default's results; a short one shows what bounding the history too tightly changes.
    Config("alp-gmm (max_history 1e6, i.e. unbounded)", "alp-gmm", {"max_history": 10**6},
           extra=True),
    Config("alp-gmm (max_history 2000)", "alp-gmm", {"max_history": 2000}, extra=True),
    Config("alp-gmm (warm_start)", "alp-gmm", {"warm_start": True}, extra=True),
    Config("covar-gmm (warm_start)", "covar-gmm", {"warm_start": True}, extra=True),
]


def run_one(job: tuple[str, dict[str, Any], int, int]) -> tuple[float, float]:
    """Final % mastered and teacher CPU seconds of one seeded run."""
    name, params, seed, episodes = job
    student = make_scenario("grid-2d").make_student(seed)
    teacher = ac.make(name, student.space, seed=seed, **params)
    cpu = 0.0
    for _ in range(episodes):
        t0 = time.process_time()
        task = teacher.sample()
        t1 = time.process_time()
        reward = student.episode(task)
        t2 = time.process_time()
        teacher.update(task, reward)
        cpu += (t1 - t0) + (time.process_time() - t2)
    return float(student.score()), cpu


def bootstrap_ci(values: np.ndarray, n: int = 10_000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(n, len(values)), replace=True).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None,
                        help="labels (prefixes) of the configurations to run")
    parser.add_argument("--extra", action="store_true",
                        help="also run the sensitivity checks (history bound, warm starts)")
    args = parser.parse_args()

    configs = [
        c for c in CONFIGS
        if (args.extra or not c.extra)
        and (not args.only or any(c.label.startswith(o) for o in args.only))
    ]
    jobs = [(c.teacher, c.params, s, args.episodes) for c in configs for s in range(args.seeds)]
    start = time.time()
    if args.workers > 1:
        with mp.get_context("spawn").Pool(args.workers) as pool:
            results = pool.map(run_one, jobs, chunksize=1)
    else:
        results = [run_one(j) for j in jobs]

    print(f"grid-2d, {args.episodes} episodes, seeds 0..{args.seeds - 1}, one episode at a time "
          f"({time.time() - start:.0f} s wall)")
    print(f"{'configuration':58s} {'mean %':>7s} {'95% CI':>15s} {'band':>11s}  "
          f"{'teacher µs/ep':>13s}  per-seed")
    for i, c in enumerate(configs):
        res = results[i * args.seeds : (i + 1) * args.seeds]
        scores = np.array([r[0] for r in res])
        us = 1e6 * np.mean([r[1] for r in res]) / args.episodes
        lo, hi = bootstrap_ci(scores)
        band = f"{c.band[0]:.0f}-{c.band[1]:.0f}" if c.band else "-"
        verdict = ""
        if c.band:
            verdict = " in band" if c.band[0] <= scores.mean() <= c.band[1] else " OUT OF BAND"
        print(f"{c.label:58s} {scores.mean():7.1f} [{lo:5.1f}, {hi:5.1f}] {band:>11s}  "
              f"{us:13.1f}  {' '.join(f'{s:.0f}' for s in scores)}{verdict}")


if __name__ == "__main__":
    main()
