"""Atomic teacher checkpoints: a process killed mid-save leaves the previous file readable."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from autocurriculum.teachers.base import Teacher

__all__ = ["atomic_write_bytes", "load_checkpoint", "save_checkpoint"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    A reader sees the old file or the new one, never a partial write. The new file gets the
    usual permissions of new files (the temporary file is created private).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_checkpoint(teacher: Teacher, path: str | os.PathLike[str]) -> None:
    """Save ``teacher.state_dict()`` atomically to ``path``."""
    atomic_write_bytes(path, pickle.dumps(teacher.state_dict(), protocol=pickle.HIGHEST_PROTOCOL))


def load_checkpoint(teacher: Teacher, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` into ``teacher``; return the state.

    Only load checkpoints you wrote: they are pickles.
    """
    with open(path, "rb") as f:
        state = pickle.load(f)
    teacher.load_state_dict(state)
    return state
