"""Per-episode cost of the benchmark students, against the floor of any Python loop.

Each student plays pre-generated uniform tasks one ``episode()`` call at a time, the way a
teacher loop drives it. The baseline is a loop that only indexes the same task array, so the
ratio shows what the student itself adds. Every figure is the median over several repeats,
each on a fresh student. The target is <= 30 µs per episode.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_students.py [--episodes 20000] [--repeats 7]

The exit status is 1 if any student misses the target.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.students import Student

TARGET_US = 30.0
SCENARIOS = ("grid-2d", "grid-distractors", "grid-forgetting", "arms-chain")


@dataclass
class Args:
    episodes: int = 20_000
    repeats: int = 7
    seed: int = 0


@dataclass
class Row:
    scenario: str
    student_us: float
    batch_us: float
    baseline_us: float

    @property
    def ratio(self) -> float:
        return self.student_us / self.baseline_us


def time_baseline(tasks: NDArray[np.generic]) -> float:
    """Seconds for a loop that only indexes ``tasks``: the floor of any per-episode loop."""
    start = time.perf_counter()
    for i in range(len(tasks)):
        tasks[i]
    return time.perf_counter() - start


def time_student(student: Student, tasks: NDArray[np.generic]) -> float:
    episode = student.episode
    start = time.perf_counter()
    for i in range(len(tasks)):
        episode(tasks[i])
    return time.perf_counter() - start


def time_batch(student: Student, tasks: NDArray[np.generic]) -> float:
    start = time.perf_counter()
    student.episodes(tasks)
    return time.perf_counter() - start


def measure(name: str, args: Args) -> Row:
    scenario = make_scenario(name)
    probe = scenario.make_student(args.seed)
    tasks = probe.space.sample(np.random.default_rng(args.seed), args.episodes)
    per_episode = 1e6 / args.episodes
    student, batch, baseline = [], [], []
    for _ in range(args.repeats):
        # Fresh students every repeat, so each one replays the same run (resets included).
        student.append(time_student(scenario.make_student(args.seed), tasks) * per_episode)
        batch.append(time_batch(scenario.make_student(args.seed), tasks) * per_episode)
        baseline.append(time_baseline(tasks) * per_episode)
    return Row(
        scenario=name,
        student_us=statistics.median(student),
        batch_us=statistics.median(batch),
        baseline_us=statistics.median(baseline),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=Args.episodes)
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--seed", type=int, default=Args.seed)
    args = Args(**vars(parser.parse_args(argv)))

    print(
        f"median of {args.repeats} repeats x {args.episodes:,} uniform episodes; "
        f"target <= {TARGET_US:g} µs per episode() call"
    )
    header = (
        f"{'scenario':<18} {'episode() µs':>12} {'baseline µs':>12} {'ratio':>7} "
        f"{'episodes() µs':>14}  result"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name in SCENARIOS:
        row = measure(name, args)
        ok = row.student_us <= TARGET_US
        failed |= not ok
        print(
            f"{row.scenario:<18} {row.student_us:>12.2f} {row.baseline_us:>12.3f} "
            f"{row.ratio:>6.1f}x {row.batch_us:>14.2f}  {'PASS' if ok else 'FAIL'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
