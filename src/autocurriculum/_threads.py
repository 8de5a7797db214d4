"""Threads: one BLAS thread around teacher refits, and objects guarded by a picklable lock."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["Guarded", "single_threaded_blas"]

_CONTROLLER: ThreadpoolController | None = None


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Limit the BLAS to one thread for the duration of a ``with`` block.

    Teacher refits (GMM EM, SPDL's optimisation) multiply tiny matrices. A multi-threaded
    OpenBLAS splits the larger ones anyway and its threads then spin-wait between calls:
    measured here, a d = 12 GMM refit round took 110-330 ms of CPU with the default 2 threads
    against 20 ms with one, and a 10-D SPDL update 14.8 ms per episode against 0.27 ms. The
    limit is process-wide while it lasts (milliseconds), so a BLAS call made concurrently by
    another thread also runs single-threaded meanwhile.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        # Scanning the loaded libraries costs about a millisecond, so it is done once; each
        # limit() afterwards costs about 15 µs.
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


class Guarded:
    """A base for objects whose public methods hold ``self._lock``, a re-entrant lock.

    A lock cannot be pickled, and a copy must not share its original's: pickling drops it and
    unpickling gives the copy a fresh one.
    """

    _lock: Any

    def _init_lock(self) -> None:
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_lock()
