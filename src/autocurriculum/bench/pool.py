"""The pool: run independent jobs in worker processes, with a progress bar.

:func:`execute` runs ``fn(item)`` for each item, in this process (``workers=1``) or in a pool of
worker processes, and hands each result to ``on_result`` in the calling process as soon as it
arrives (the runner writes it to the run directory then, so an interrupted run keeps every
finished job). The first failure cancels the jobs not yet started and raises
:class:`BenchmarkError` naming the item, once the running ones end. :func:`parallel_map` is the
same, returning the results in order, for scripts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["BenchmarkError", "execute", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")


class BenchmarkError(RuntimeError):
    """A benchmark job failed; the message names the job, the cause is chained."""


def execute(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    on_result: Callable[[T, R], None],
    workers: int = 1,
    describe: Callable[[T], str] = str,
    progress: bool = False,
    total: int | None = None,
    done: int = 0,
) -> None:
    """Run ``fn`` on every item; call ``on_result(item, result)`` in this process for each.

    Parameters
    ----------
    fn : callable
        A picklable module-level function when ``workers > 1``.
    items : sequence
        The jobs, in the order to start them.
    on_result : callable
        Called in this process with each item and its result, in the order they finish.
    workers : int
        Worker processes; 1 runs in this process.
    describe : callable
        Names an item in error messages and the progress bar.
    progress : bool
        Show a progress bar (tqdm, if installed and stderr is a terminal).
    total, done : int
        For the progress bar of a resumed run: all jobs, and those already finished.

    Raises
    ------
    BenchmarkError
        An item failed; the message names it and the worker's exception is chained.
    """
    bar = _progress_bar(len(items) + done if total is None else total, done, enabled=progress)
    try:
        if workers == 1 or len(items) <= 1:
            for item in items:
                try:
                    result = fn(item)
                except Exception as exc:
                    raise _error(item, exc, describe) from exc
                on_result(item, result)
                _advance(bar, describe(item))
            return
        with ProcessPoolExecutor(max_workers=min(workers, len(items))) as pool:
            futures: dict[Future[R], T] = {pool.submit(fn, item): item for item in items}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        item = futures[fut]
                        failure = fut.exception()
                        if failure is not None:
                            raise _error(item, failure, describe) from failure
                        on_result(item, fut.result())
                        _advance(bar, describe(item))
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()


def parallel_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = 1,
    describe: Callable[[T], str] = str,
    progress: bool = False,
) -> list[R]:
    """``[fn(item) for item in items]``, run as :func:`execute` does; results in item order."""
    results: dict[int, R] = {}
    indexed = list(enumerate(items))
    execute(
        _Indexed(fn),
        indexed,
        on_result=lambda pair, result: results.__setitem__(pair[0], result),
        workers=workers,
        describe=lambda pair: describe(pair[1]),
        progress=progress,
    )
    return [results[i] for i in range(len(indexed))]


class _Indexed:
    """``fn`` applied to the item of an ``(index, item)`` pair; picklable if ``fn`` is."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def __call__(self, pair: tuple[int, Any]) -> Any:
        return self.fn(pair[1])


def _error(item: Any, exc: BaseException, describe: Callable[[Any], str]) -> BenchmarkError:
    return BenchmarkError(f"job {describe(item)} failed: {type(exc).__name__}: {exc}")


def _progress_bar(total: int, done: int, *, enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is in the bench extra; without it, run without a bar
        return None
    return tqdm(total=total, initial=done, unit="job", desc="benchmark", dynamic_ncols=True)


def _advance(bar: Any, text: str) -> None:
    if bar is not None:
        bar.set_postfix_str(text, refresh=False)
        bar.update(1)
