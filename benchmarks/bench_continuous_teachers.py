"""Teacher CPU per episode for continuous teachers, from 20k to 1M episodes.

Each teacher named with ``--teachers`` is built from the registry on a benchmark student's task
space (``grid-2d`` by default: the ALP-GMM toy grid) and driven for each budget in
``--episodes``, in two modes:

- ``single``: ``sample()`` then ``update(task, reward)``, one episode at a time (the hardest
  case: every per-call overhead is paid per episode);
- ``batch64``: ``sample(64)`` then ``update(tasks, rewards)`` for 64 episodes at a time.

Each run is the runner's training loop (:func:`autocurriculum.bench.loop.run_loop`), which
times the teacher's calls alone with the process CPU clock, so the student's own cost and other
processes on the machine are left out, and subtracts the cost of its clock reads (about 0.6 µs
each, two per step). BLAS and OpenMP are pinned to one thread before numpy is imported. Besides
the mean over the whole run, the mean over its last ``--tail`` episodes (read at an eval point
by a callback) shows whether the cost stays flat as the run grows.

Ratios are given against two baselines:

- the published cost of the reference ALP-GMM implementation on the 2-D toy grid, about
  3.6 ms of CPU per episode. That figure is quoted from the literature (see DESIGN.md), it is
  NOT measured in this run;
- the uniform ``random`` teacher, measured in this run under the same conditions (its cost is
  the protocol's floor: input validation and one draw).

Teachers that need expert knowledge (ADR's start point and thresholds, SPDL's initial
distribution) get the scenario's, for the parameters their registry spec lists, as in the
runner; ``--params`` overrides them.

Run::

    PYTHONPATH=src nice -n 10 python benchmarks/bench_continuous_teachers.py \\
        --teachers random alp-gmm covar-gmm --episodes 20000 1000000
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from autocurriculum.bench.loop import Callback, LoopState, run_loop  # noqa: E402
from autocurriculum.bench.protocols import Plain  # noqa: E402
from autocurriculum.bench.scenarios import make_scenario  # noqa: E402
from autocurriculum.bench.suites import BASELINE, build_teacher  # noqa: E402

#: The reference ALP-GMM's CPU per episode on the 2-D toy grid, a published figure (not
#: measured here).
PUBLISHED_ALP_GMM_US = 3600.0


class TeacherClock(Callback):
    """The teacher's CPU ns (clock reads subtracted) at every eval point."""

    def __init__(self) -> None:
        self.at: list[float] = []

    def on_eval(self, state: LoopState) -> None:
        self.at.append(state.teacher_cpu_ns())


def run(
    teacher_name: str,
    scenario: str,
    episodes: int,
    batch: int,
    seed: int,
    tail: int,
    extra_params: dict[str, Any] | None = None,
) -> tuple[float, float, float, dict[str, float]]:
    """Mean teacher CPU µs per episode (whole run, last ``tail`` episodes), final score, metrics."""
    sc = make_scenario(scenario)
    student = sc.make_student(seed)
    teacher, _ = build_teacher(
        teacher_name, student, seed=seed, params=extra_params, expert=sc.expert_values(student)
    )
    clock = TeacherClock()
    points = sorted({0, episodes - tail, episodes})
    result = run_loop(teacher, student, Plain(batch), eval_at=points, callbacks=[clock])
    tail_ns = clock.at[-1] - clock.at[-2]
    return (
        result.teacher_ns / 1e3 / episodes,
        tail_ns / 1e3 / tail,
        float(result.evaluations[-1]),
        teacher.metrics(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", nargs="+", default=["random", "alp-gmm", "covar-gmm"])
    parser.add_argument("--scenario", default="grid-2d")
    parser.add_argument("--episodes", nargs="+", type=int, default=[20_000, 1_000_000])
    parser.add_argument("--modes", nargs="+", choices=["single", "batch64"],
                        default=["single", "batch64"])
    parser.add_argument("--tail", type=int, default=20_000,
                        help="episodes at the end of each run averaged separately")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", type=json.loads, default={},
                        help='JSON parameters per teacher, e.g. \'{"alp-gmm": {"fit_rate": 150}}\'')
    args = parser.parse_args()

    names = list(dict.fromkeys([BASELINE, *args.teachers]))  # the in-run baseline
    print(f"scenario {args.scenario}, seed {args.seed}, single-threaded BLAS; teacher CPU per "
          "episode (process clock, teacher calls only)")
    if args.params:
        print(f"parameters: {json.dumps(args.params)}")
    print(f"published reference ALP-GMM: {PUBLISHED_ALP_GMM_US:.0f} µs/episode (a published "
          "figure, not measured in this run)")
    header = (f"{'teacher':12s} {'mode':8s} {'episodes':>9s} {'µs/ep':>8s} {'tail µs/ep':>10s} "
              f"{'x faster than ref':>17s} {'x random':>9s} {'score %':>8s}  refit µs")
    print(header)
    for episodes in args.episodes:
        tail = min(args.tail, episodes)
        for mode in args.modes:
            batch = 1 if mode == "single" else 64
            random_us = None
            for name in names:
                us, tail_us, score, metrics = run(name, args.scenario, episodes, batch,
                                                  args.seed, tail, args.params.get(name))
                if name == BASELINE:
                    random_us = us
                ratio_ref = PUBLISHED_ALP_GMM_US / us
                ratio_random = us / random_us if random_us else float("nan")
                refit = metrics.get("teacher/refit_us")
                refit_txt = f"{refit:.0f}" if refit is not None else "-"
                print(f"{name:12s} {mode:8s} {episodes:9d} {us:8.1f} {tail_us:10.1f} "
                      f"{ratio_ref:17.0f} {ratio_random:9.1f} {score:8.1f}  {refit_txt}",
                      flush=True)


if __name__ == "__main__":
    main()
