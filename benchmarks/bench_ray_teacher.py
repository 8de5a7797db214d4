"""Throughput of a served teacher, and the cost of its client in a training loop.

Two measurements, on one local Ray cluster this script starts:

1. **Outcome updates per second** through the served teacher with 1, 4 and 16 client
   processes (Ray actors), next to the same teacher's ``update`` called in this process on the
   same stream (the teacher's own cost, which bounds the served rate). Each client sends
   ``--outcomes / clients`` outcomes in ``update`` calls of ``--update-size``, as fast as it
   can, then flushes; the figure is the
   number of outcomes the actor applied divided by the wall time from the start signal to the
   last flush. Producers and the actor share the machine's cores, as they would on a node.
2. **Per-episode cost in the loop**: ``task = teacher.sample(); teacher.update(task, score)``
   with an in-process teacher and with a client of the same teacher, in the same run, for a
   cheap teacher (``random``: the client's own overhead) and ALP-GMM (whose refits run in the
   loop for the in-process teacher and in the actor for the client).

Each figure is the median of ``--repeats`` runs (with min and max). Example::

    .venv/bin/python benchmarks/bench_ray_teacher.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import ray

import autocurriculum as ac
from autocurriculum.ray import serve

SPACE = ac.Box([0.0, 0.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])


@dataclass
class Args:
    clients: tuple[int, ...] = (1, 4, 16)
    outcomes: int = 100_000
    update_size: int = 64
    batch_size: int = 1024
    episodes: int = 5_000
    repeats: int = 3
    teacher: str = "random"
    json: str | None = None


class _Producer:
    """A client process that sends outcomes as fast as it can."""

    def __init__(self, client: Any, seed: int):
        self.client = client
        self.rng = np.random.default_rng(seed)

    def ready(self) -> bool:
        return True

    def produce(self, outcomes: int, size: int) -> int:
        tasks = SPACE.sample(self.rng, size)
        scores = self.rng.random(size)
        sent = 0
        while sent < outcomes:
            k = min(size, outcomes - sent)
            self.client.update(tasks[:k], scores[:k])
            sent += k
        self.client.flush()
        return sent


Producer: Any = ray.remote(num_cpus=0)(_Producer)


def throughput(args: Args, n_clients: int, repeat: int) -> dict[str, float]:
    name = f"bench-{n_clients}-{repeat}"
    client = serve(ac.make(args.teacher, SPACE, seed=repeat), name=name, timeout=120.0,
                   batch_size=args.batch_size)
    producers = [Producer.remote(client, seed) for seed in range(n_clients)]
    ray.get([p.ready.remote() for p in producers])  # processes up before the clock starts
    share = args.outcomes // n_clients
    before = client.metrics()["served/outcomes"]
    start = time.perf_counter()
    sent = sum(ray.get([p.produce.remote(share, args.update_size) for p in producers]))
    elapsed = time.perf_counter() - start
    metrics = client.metrics()
    applied = metrics["served/outcomes"] - before
    assert applied == sent == share * n_clients, (applied, sent)
    for p in producers:
        ray.kill(p)
    client.close()
    ray.kill(client.actor)
    return {"updates_per_s": applied / elapsed, "seconds": elapsed, "outcomes": applied}


def in_process_rate(args: Args, repeat: int) -> float:
    """Outcome updates/s of the same teacher and stream, called in this process."""
    teacher = ac.make(args.teacher, SPACE, seed=repeat)
    rng = np.random.default_rng(repeat)
    tasks = SPACE.sample(rng, args.update_size)
    scores = rng.random(args.update_size)
    start = time.perf_counter()
    for sent in range(0, args.outcomes, args.update_size):
        k = min(args.update_size, args.outcomes - sent)
        teacher.update(tasks[:k], scores[:k])
    return args.outcomes / (time.perf_counter() - start)


def loop_cost(teacher: Any, episodes: int, seed: int) -> float:
    """Microseconds per episode of ``sample() -> score -> update()``."""
    rng = np.random.default_rng(seed)
    scores = rng.random(episodes)
    start = time.perf_counter()
    for i in range(episodes):
        task = teacher.sample()
        teacher.update(task, float(scores[i]))
    return (time.perf_counter() - start) / episodes * 1e6


def loop_costs(args: Args, teacher_name: str, repeat: int) -> dict[str, float]:
    local = ac.make(teacher_name, SPACE, seed=repeat)
    client = serve(ac.make(teacher_name, SPACE, seed=repeat), name=f"loop-{teacher_name}-{repeat}",
                   timeout=120.0, prefetch=1024)
    # The client's first prefetch comes with the connection, inside serve(): a connection
    # cost, not a per-episode one, so the clock below starts with a full buffer.
    in_process = loop_cost(local, args.episodes, repeat)
    served = loop_cost(client, args.episodes, repeat)
    waits = client.metrics()["client/sample_waits"]  # episodes that waited for the actor
    client.close()
    ray.kill(client.actor)
    return {"in_process_us": in_process, "client_us": served, "ratio": served / in_process,
            "sample_waits": waits}


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} (min {min(values):,.1f}, max {max(values):,.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=list(Args.clients))
    parser.add_argument("--outcomes", type=int, default=Args.outcomes)
    parser.add_argument("--update-size", type=int, default=Args.update_size)
    parser.add_argument("--batch-size", type=int, default=Args.batch_size)
    parser.add_argument("--episodes", type=int, default=Args.episodes)
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--teacher", default=Args.teacher)
    parser.add_argument("--json", default=None, help="write the raw figures to this file")
    ns = parser.parse_args()
    args = Args(clients=tuple(ns.clients), outcomes=ns.outcomes, update_size=ns.update_size,
                batch_size=ns.batch_size, episodes=ns.episodes, repeats=ns.repeats,
                teacher=ns.teacher, json=ns.json)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024**2)
    results: dict[str, Any] = {"args": args.__dict__, "throughput": {}, "loop": {}}
    try:
        print(f"served {args.teacher!r}: {args.outcomes:,} outcomes in update() calls of "
              f"{args.update_size}, client batch_size {args.batch_size}, {args.repeats} repeats")
        local = [in_process_rate(args, r) for r in range(args.repeats)]
        results["throughput"]["in_process"] = local
        print(f"  in-process teacher.update (the teacher's own cost): {_summary(local)} "
              "outcome updates/s")
        for n in args.clients:
            runs = [throughput(args, n, r) for r in range(args.repeats)]
            rates = [run["updates_per_s"] for run in runs]
            results["throughput"][n] = runs
            ratio = statistics.median(rates) / statistics.median(local)
            print(f"  {n:>2} client process(es): {_summary(rates)} outcome updates/s "
                  f"({ratio:.2f}x in-process)")
        print(f"per-episode cost, sample() + update() of one task, {args.episodes:,} episodes:")
        for name in ("random", "alp-gmm"):
            runs = [loop_costs(args, name, r) for r in range(args.repeats)]
            results["loop"][name] = runs
            print(f"  {name:<8} in-process {_summary([r['in_process_us'] for r in runs])} µs,"
                  f" client {_summary([r['client_us'] for r in runs])} µs, ratio client/"
                  f"in-process {_summary([r['ratio'] for r in runs])}, sample waits "
                  f"{_summary([r['sample_waits'] for r in runs])}")
    finally:
        ray.shutdown()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
