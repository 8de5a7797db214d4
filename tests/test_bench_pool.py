"""The pool: results handed over as they finish, failures named, order kept by parallel_map."""

from __future__ import annotations

import os
import time

import pytest

from autocurriculum.bench.pool import BenchmarkError, execute, parallel_map


def _square(x: int) -> int:
    if x == 13:
        time.sleep(0.3)  # after the others have finished
        raise RuntimeError("unlucky")
    time.sleep(0.05 * (x % 3))
    return x * x


def _pid(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_map_keeps_the_order(workers: int):
    assert parallel_map(_square, [5, 4, 3, 2, 1], workers=workers) == [25, 16, 9, 4, 1]


def test_workers_are_other_processes():
    assert os.getpid() not in set(parallel_map(_pid, [0, 1, 2, 3], workers=2))


@pytest.mark.parametrize("workers", [1, 2])
def test_each_result_is_handed_over_and_a_failure_is_named(workers: int):
    got: list[tuple[int, int]] = []
    with pytest.raises(BenchmarkError, match=r"job item 13 failed: RuntimeError: unlucky") as info:
        execute(
            _square,
            [1, 2, 13, 4],
            on_result=lambda item, result: got.append((item, result)),
            workers=workers,
            describe=lambda x: f"item {x}",
        )
    assert isinstance(info.value.__cause__, RuntimeError)
    # Results that finished before the failure were handed over (in this process).
    assert (1, 1) in got
    assert (2, 4) in got
    assert all(item != 13 for item, _ in got)
