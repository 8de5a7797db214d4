"""Scale of the discrete teachers: sample(256) + update(256) with 100,000 arms.

Target (issue 4): at most 20 µs per item for every teacher, and memory O(arms).

For each teacher the script builds it on ``Discrete(arms)``, warms it up, then times rounds of
``tasks = sample(batch); update(tasks, scores, signals)``. A repeat times ``rounds`` rounds;
the figure is the median over ``repeats`` repeats, in µs per item (one item = one task
sampled and one outcome reported). CPU time (``time.process_time``) is the primary figure,
since the benchmark machine may be shared; wall time is reported next to it. The random
teacher is measured in the same run, as the reference. Peak memory is measured in a separate
pass under ``tracemalloc`` (construction plus a few rounds), since tracing slows the code.

Feedback is synthetic and cheap: each arm has a fixed success probability and the score is a
0/1 success. SEC and DUMP, which need an |advantage| signal, get GRPO group ids (groups of 4
rollouts), so the advantage computation is part of their cost; the other teachers get no
signal (PLR then uses its performance-based score).

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import autocurriculum as ac

TARGET_US = 20.0

#: (label, registry name, parameters). Defaults first; then the non-default variants.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("random", "random", {}),
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


def _feedback(arms: int, batch: int, seed: int) -> Callable[[np.ndarray], tuple[np.ndarray, Any]]:
    rng = np.random.default_rng(seed)
    p_success = rng.random(arms)
    groups = np.arange(batch) // 4

    def feedback(tasks: np.ndarray) -> tuple[np.ndarray, Any]:
        scores = (rng.random(len(tasks)) < p_success[tasks]).astype(np.float64)
        return scores, {"group": groups[: len(tasks)]}

    return feedback


def _round(teacher: ac.Teacher, feedback: Callable, batch: int, with_signals: bool) -> None:
    tasks = teacher.sample(batch)
    scores, signals = feedback(tasks)
    teacher.update(tasks, scores, signals if with_signals else None)


def _time_case(name: str, params: dict[str, Any], args: argparse.Namespace, rounds: int,
               repeats: int, warmup: int) -> tuple[float, float]:
    space = ac.Discrete(args.arms)
    teacher = ac.make(name, space, seed=0, **params)
    with_signals = type(teacher).requires_signals
    feedback = _feedback(args.arms, args.batch, seed=1)
    for _ in range(warmup):
        _round(teacher, feedback, args.batch, with_signals)
    cpu, wall = [], []
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            _round(teacher, feedback, args.batch, with_signals)
        cpu.append((time.process_time() - c0) / (rounds * args.batch) * 1e6)
        wall.append((time.perf_counter() - w0) / (rounds * args.batch) * 1e6)
    return float(np.median(cpu)), float(np.median(wall))


def _peak_memory(name: str, params: dict[str, Any], args: argparse.Namespace) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        space = ac.Discrete(args.arms)
        teacher = ac.make(name, space, seed=0, **params)
        with_signals = type(teacher).requires_signals
        feedback = _feedback(args.arms, args.batch, seed=1)
        for _ in range(3):
            _round(teacher, feedback, args.batch, with_signals)
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
        if args.only and label not in args.only and label != "random":
            continue
        slow = label in SLOW
        cpu, wall = _time_case(name, params, args, rounds=1 if slow else args.rounds,
                               repeats=3 if slow else args.repeats,
                               warmup=2 if slow else args.warmup)
        if label == "random":
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
