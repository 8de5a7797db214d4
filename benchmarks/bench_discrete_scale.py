"""Scale of the discrete teachers: sample(256) + update(256) with 100,000 arms.

Target (issue 4): at most 20 µs per item for every teacher, and memory O(arms).

For each teacher the script builds it on ``Discrete(arms)`` and drives it with the runner's
training loop (:func:`autocurriculum.bench.loop.run_loop`): warm-up rounds, then ``repeats``
timed stretches of ``rounds`` rounds of ``tasks = sample(batch); update(tasks, scores)``, read
at eval points by a callback. The figure is the median over the repeats, in µs per item (one
item = one task sampled and one outcome reported). CPU time is the loop's own measure of the
teacher's calls (process clock, the cost of its clock reads subtracted), the primary figure
since the benchmark machine may be shared; wall time of the whole stretch (feedback included)
is reported next to it. The random teacher is measured in the same run, as the reference.
Peak memory is measured in a separate pass under ``tracemalloc`` (construction plus a few
rounds), since tracing slows the code.

Feedback is synthetic and cheap: a learner that never learns, where each arm has a fixed
success probability and the score is a 0/1 success. Teachers whose registry spec needs a
trainer signal (SEC and DUMP: group ids) run under the grpo protocol, ``batch / 4`` prompts
rolled out 4 times (so they sample ``batch / 4`` arms and update ``batch`` outcomes per round),
with the advantage computation in their cost; the others run under plain batches of ``batch``
and get no signal (PLR then uses its performance-based score).

Run::

    PYTHONPATH=src python benchmarks/bench_discrete_scale.py
    PYTHONPATH=src python benchmarks/bench_discrete_scale.py --arms 10000 --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.bench.loop import Callback, LoopState, run_loop
from autocurriculum.bench.protocols import GRPO, Plain, StepProtocol
from autocurriculum.bench.suites import BASELINE, build_teacher, missing_signals
from autocurriculum.spaces import Discrete
from autocurriculum.teachers.registry import teacher_spec

TARGET_US = 20.0
#: Rollouts per prompt for the teachers that need GRPO group ids.
GROUP = 4

#: (label, registry name, parameters). Defaults first; then the non-default variants.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (BASELINE, BASELINE, {}),
    ("tscl", "tscl", {}),
    ("tscl online", "tscl", {"variant": "online"}),
    ("tscl sampling", "tscl", {"variant": "sampling"}),
    ("tscl boltzmann", "tscl", {"policy": "boltzmann"}),
    ("exp3s", "exp3s", {}),
    ("exp3s ema", "exp3s", {"progress": "ema"}),
    ("exp3s beta>0", "exp3s", {"beta": 0.1}),
    ("sec", "sec", {}),
    ("dump", "dump", {}),
    ("learnability", "learnability", {}),
    ("plr", "plr", {}),
    ("zlp", "zlp", {}),
]

#: Cases whose cost is known to be O(arms) per item; timed with fewer rounds.
SLOW = {"exp3s beta>0"}


@dataclass
class Result:
    label: str
    cpu_us_per_item: float
    wall_us_per_item: float
    cpu_ratio_vs_random: float
    peak_mib: float
    peak_bytes_per_arm: float
    within_target: bool


class FixedArms:
    """A learner that never learns: arm ``a`` succeeds with a fixed probability."""

    unit = "episodes"

    def __init__(self, arms: int, seed: int):
        self.space = Discrete(arms)
        self._rng = np.random.default_rng(seed)
        self._p = self._rng.random(arms)
        self._n = 0

    def train(self, tasks: NDArray[Any]) -> NDArray[np.float64]:
        self._n += len(tasks)
        return (self._rng.random(len(tasks)) < self._p[tasks]).astype(np.float64)

    def evaluate(self) -> float:
        return 0.0

    def best_possible(self) -> float:
        return 0.0

    def consumed(self) -> int:
        return self._n


class Stretches(Callback):
    """Teacher CPU ns and wall seconds at every eval point; collects garbage there (untimed)."""

    def __init__(self) -> None:
        self.cpu_ns: list[float] = []
        self.wall: list[float] = []

    def on_eval(self, state: LoopState) -> None:
        gc.collect()
        self.cpu_ns.append(state.teacher_cpu_ns())
        self.wall.append(time.perf_counter())


def _setup(name: str, params: dict[str, Any], args: argparse.Namespace) -> tuple[Any, Any, Any]:
    learner = FixedArms(args.arms, seed=1)
    teacher, _ = build_teacher(name, learner, seed=0, params=params)
    protocol: StepProtocol = Plain(args.batch)
    if missing_signals(teacher_spec(name), "plain"):
        protocol = GRPO(prompts=args.batch // GROUP, group=GROUP)
    return teacher, learner, protocol


def _time_case(name: str, params: dict[str, Any], args: argparse.Namespace, rounds: int,
               repeats: int, warmup: int) -> tuple[float, float]:
    teacher, learner, protocol = _setup(name, params, args)
    items = rounds * args.batch
    points = [0, warmup * args.batch] + [(warmup + rounds * (r + 1)) * args.batch
                                         for r in range(repeats)]
    stretches = Stretches()
    run_loop(teacher, learner, protocol, eval_at=points, callbacks=[stretches])
    cpu = np.diff(stretches.cpu_ns[1:]) / items / 1e3
    wall = np.diff(stretches.wall[1:]) / items * 1e6
    return float(np.median(cpu)), float(np.median(wall))


def _peak_memory(name: str, params: dict[str, Any], args: argparse.Namespace) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        teacher, learner, protocol = _setup(name, params, args)
        run_loop(teacher, learner, protocol, eval_at=[0, 3 * args.batch])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per timed repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=20, help="rounds before timing")
    parser.add_argument("--only", nargs="*", help="labels to run (default: all)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()

    results: list[Result] = []
    random_cpu = None
    for label, name, params in CASES:
        if args.only and label not in args.only and label != BASELINE:
            continue
        slow = label in SLOW
        cpu, wall = _time_case(name, params, args, rounds=1 if slow else args.rounds,
                               repeats=3 if slow else args.repeats,
                               warmup=2 if slow else args.warmup)
        if label == BASELINE:
            random_cpu = cpu
        peak = _peak_memory(name, params, args)
        results.append(Result(
            label=label,
            cpu_us_per_item=cpu,
            wall_us_per_item=wall,
            cpu_ratio_vs_random=cpu / random_cpu if random_cpu else float("nan"),
            peak_mib=peak / 2**20,
            peak_bytes_per_arm=peak / args.arms,
            within_target=cpu <= TARGET_US,
        ))
        r = results[-1]
        print(f"{r.label:16s} cpu {r.cpu_us_per_item:9.2f} µs/item  wall {r.wall_us_per_item:9.2f}"
              f"  x{r.cpu_ratio_vs_random:8.1f} random  peak {r.peak_mib:8.1f} MiB"
              f" ({r.peak_bytes_per_arm:7.0f} B/arm)  {'ok' if r.within_target else 'OVER'}",
              flush=True)

    print()
    print(f"{args.arms:,} arms, sample({args.batch}) + update({args.batch}); median of "
          f"{args.repeats} repeats x {args.rounds} rounds after {args.warmup} warm-up rounds; "
          f"target <= {TARGET_US:g} µs/item")
    print()
    print("| teacher | CPU µs/item | wall µs/item | x random (CPU) | peak MiB | bytes/arm |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.label} | {r.cpu_us_per_item:.2f} | {r.wall_us_per_item:.2f} | "
              f"{r.cpu_ratio_vs_random:.1f} | {r.peak_mib:.1f} | {r.peak_bytes_per_arm:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"arms": args.arms, "batch": args.batch, "target_us": TARGET_US,
                       "results": [asdict(r) for r in results]}, f, indent=2)


if __name__ == "__main__":
    main()
