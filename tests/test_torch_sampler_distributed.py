"""Rank consistency: 2 real processes on the gloo backend draw the same curriculum stream."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

ARMS = ["a", "b", "c", "d"]
KEYS = [ARMS[i % 4] for i in range(48)]


def _score(index: int, rank: int) -> float:
    # Outcomes differ by rank: on rank 0 only arm "a" is half solved, on rank 1 only arm "b",
    # so teachers that only saw their own rank's outcomes prefer different arms.
    half = ARMS[rank]
    return float((index // 4) % 2) if KEYS[index] == half else 1.0


def _run(rank: int, gather: bool, seed: int, steps: int = 10) -> dict[str, list[int]]:
    import autocurriculum as ac
    from autocurriculum.torch import CurriculumSampler

    teacher = ac.make("learnability", ac.Discrete(ARMS), seed=0)
    sampler = CurriculumSampler(
        KEYS, teacher, num_samples=96, draw_size=6, seed=seed, num_replicas=2, rank=rank,
        gather_updates=gather,
    )
    loader = torch.utils.data.DataLoader(range(48), batch_size=4, sampler=sampler)
    local = []
    for k, batch in enumerate(loader):
        if k == steps:
            break
        local.extend(batch.tolist())
        sampler.update(batch, [_score(i, rank) for i in batch.tolist()])
    return {"local": local, "state": [int(sampler.n_draws_), int(sampler.checksum_)]}


def _worker(rank: int, tmp: str) -> None:
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=2
    )
    out: dict[str, object] = {}
    try:
        out["gathered"] = _run(rank, gather=True, seed=11)
        out["local_only"] = _run(rank, gather=False, seed=11)
        try:
            _run(rank, gather=True, seed=11 + rank)  # the ranks' seeds differ
            out["seed_error"] = ""
        except RuntimeError as err:
            out["seed_error"] = str(err)
    finally:
        dist.destroy_process_group()
    Path(tmp, f"rank{rank}.json").write_text(json.dumps(out))


def test_two_gloo_ranks_draw_one_stream_and_shard_it(tmp_path: Path) -> None:
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.spawn(_worker, args=(str(tmp_path),), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))

    g0, g1 = r0["gathered"], r1["gathered"]
    assert g0["state"] == g1["state"]  # same draws, same checksum
    assert len(g0["local"]) == len(g1["local"]) == 40
    # One stream, sharded: rank r yields positions r, r + 2, ... Without replacement inside
    # an arm, the interleaved stream repeats no item of an arm before the arm is exhausted.
    stream = [i for pair in zip(g0["local"], g1["local"], strict=True) for i in pair]
    for arm in ARMS:
        of_arm = [i for i in stream if KEYS[i] == arm][:12]
        assert len(set(of_arm)) == len(of_arm), arm
    # Without gathering, each rank learns from its own outcomes only and the streams split.
    l0, l1 = r0["local_only"], r1["local_only"]
    assert l0["state"] != l1["state"]
    # The first two chunks (6 local indices) are drawn before the first update.
    assert l0["local"][:6] == g0["local"][:6]
    assert l0["local"] != g0["local"]
    assert "drew different indices" in r0["seed_error"]
    assert r0["seed_error"] == r1["seed_error"]
