"""Cost of the curriculum sampler: a DataLoader epoch, and one update of 1,024 items.

Targets (issue 10):

- a DataLoader epoch over an in-memory dataset of 1M small items with 4 workers takes at most
  5% longer with :class:`~autocurriculum.torch.CurriculumSampler` than with a plain
  ``RandomSampler``;
- ``sampler.update`` for a batch of 1,024 items costs at most 1 ms.

Both samplers are measured in the same run, alternating (random, curriculum, random, ...) so
that drifts of a shared machine hit both; each loader keeps persistent workers, and one warm-up
epoch each is discarded. The epoch figure is the median wall time over the repeats, and the
ratio is the ratio of medians. The item is a row of 4 int64s; the batch is 256 items; the keys
put item ``i`` in arm ``i % arms``; the sampler draws ``draw_size`` arms per teacher call (its
default, 1,024; ``--draw-size 256`` measures one call per batch).

The update figure is the median over repeats of one ``sampler.update(indices, scores,
signals)`` call on 1,024 items just drawn (so they are pending), GRPO-style: 256 prompts x 4
rollouts with ``group`` and ``abs_advantage`` signals; the teacher's own ``update`` on the same
batch is timed next to it, so the sampler's share is visible.

Run::

    PYTHONPATH=src python benchmarks/bench_sampler.py
    PYTHONPATH=src python benchmarks/bench_sampler.py --items 100000 --repeats 3  # quick
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler

import autocurriculum as ac
from autocurriculum.torch import CurriculumSampler


@dataclass
class Args:
    items: int = 1_000_000
    arms: int = 8
    workers: int = 4
    batch: int = 256
    draw_size: int = 1024  # the sampler's default
    repeats: int = 5
    teacher: str = "sec"
    update_items: int = 1024
    update_repeats: int = 200
    seed: int = 0


class SmallItems(Dataset[Any]):
    """An in-memory dataset of small items: row ``i`` of an ``(n, 4)`` int64 array."""

    def __init__(self, n: int):
        self.data = np.arange(4 * n, dtype=np.int64).reshape(n, 4)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> Any:
        return self.data[i]


def epoch_seconds(loader: DataLoader[Any]) -> float:
    start = time.perf_counter()
    n = 0
    for batch in loader:
        n += len(batch)
    elapsed = time.perf_counter() - start
    assert n == len(loader.dataset), n  # type: ignore[arg-type]
    return elapsed


def make_curriculum(args: Args, keys: np.ndarray) -> CurriculumSampler:
    teacher = ac.make(args.teacher, ac.Discrete(args.arms), seed=args.seed)
    return CurriculumSampler(keys, teacher, draw_size=args.draw_size, seed=args.seed)


def bench_epoch(args: Args) -> dict[str, float]:
    data = SmallItems(args.items)
    keys = np.arange(args.items) % args.arms
    generator = torch.Generator().manual_seed(args.seed)
    samplers: dict[str, Sampler[int]] = {
        "random": RandomSampler(data, generator=generator),
        "curriculum": make_curriculum(args, keys),
    }
    loaders = {
        name: DataLoader(data, sampler=sampler, batch_size=args.batch,
                         num_workers=args.workers, persistent_workers=args.workers > 0)
        for name, sampler in samplers.items()
    }
    times: dict[str, list[float]] = {name: [] for name in loaders}
    for loader in loaders.values():
        epoch_seconds(loader)  # warm-up: workers start, pages fault in
    for _ in range(args.repeats):
        for name, loader in loaders.items():
            times[name].append(epoch_seconds(loader))
    out = {f"{name}_s": statistics.median(t) for name, t in times.items()}
    out["ratio"] = out["curriculum_s"] / out["random_s"]
    for name, t in times.items():
        print(f"  {name:>10} epochs (s): " + ", ".join(f"{x:.3f}" for x in t))
    return out


def bench_iteration(args: Args) -> dict[str, float]:
    """The samplers alone, in the main process: what the curriculum adds per item, without the
    workers' noise (the DataLoader pulls indices in the main process)."""
    keys = np.arange(args.items) % args.arms
    n = args.items
    generator = torch.Generator().manual_seed(args.seed)
    samplers = {"random": RandomSampler(range(n), generator=generator),
                "curriculum": make_curriculum(args, keys)}
    times: dict[str, list[float]] = {name: [] for name in samplers}
    for _ in range(args.repeats):
        for name, sampler in samplers.items():
            start = time.perf_counter()
            for _ in sampler:
                pass
            times[name].append(time.perf_counter() - start)
    return {f"iter_{name}_us_per_item": 1e6 * statistics.median(t) / n
            for name, t in times.items()}


def bench_update(args: Args) -> dict[str, float]:
    keys = np.arange(args.items) % args.arms
    sampler = make_curriculum(args, keys)
    mirror = ac.make(args.teacher, ac.Discrete(args.arms), seed=args.seed)
    rng = np.random.default_rng(args.seed)
    group_size = 4
    prompts = args.update_items // group_size
    sampler_times, teacher_times = [], []
    for step in range(args.update_repeats + 10):
        drawn = sampler.draw(prompts, outcomes=group_size)
        indices = np.repeat(drawn, group_size)
        scores = rng.integers(0, 2, size=len(indices)).astype(np.float64)
        signals = {"group": np.repeat(np.arange(prompts), group_size) + step * prompts,
                   "abs_advantage": rng.random(len(indices))}
        t0 = time.perf_counter()
        sampler.update(indices, scores, signals)
        t1 = time.perf_counter()
        mirror.update(sampler.arm_of[indices], scores, signals)
        t2 = time.perf_counter()
        if step >= 10:  # warm-up
            sampler_times.append(t1 - t0)
            teacher_times.append(t2 - t1)
    return {"update_ms": 1e3 * statistics.median(sampler_times),
            "teacher_update_ms": 1e3 * statistics.median(teacher_times)}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args(argv)))
    # torch warns when workers outnumber cores; the target is defined with 4 workers.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    print(f"DataLoader epoch: {args.items:,} items, {args.workers} workers, batch {args.batch}, "
          f"{args.arms} arms, teacher {args.teacher!r}, draw_size {args.draw_size}, "
          f"{args.repeats} repeats")
    results = bench_epoch(args)
    print(f"  median epoch: RandomSampler {results['random_s']:.3f} s, CurriculumSampler "
          f"{results['curriculum_s']:.3f} s, ratio {results['ratio']:.3f} "
          f"(overhead {100 * (results['ratio'] - 1):+.1f}%, target <= +5%)")
    results.update(bench_iteration(args))
    print(f"sampler alone (main process): RandomSampler "
          f"{results['iter_random_us_per_item']:.3f} µs/item, CurriculumSampler "
          f"{results['iter_curriculum_us_per_item']:.3f} µs/item")
    results.update(bench_update(args))
    print(f"update of {args.update_items} items: median {results['update_ms']:.3f} ms "
          f"(teacher's own update {results['teacher_update_ms']:.3f} ms; target <= 1 ms)")
    return results


if __name__ == "__main__":
    main()
