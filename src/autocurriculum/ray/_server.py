"""The actor's side of a served teacher: exactly-once batches and checkpoints.

:class:`TeacherServer` is plain Python (it imports no Ray, so its logic is tested without a
cluster); :class:`RayTeacherServer` is the class Ray runs as the actor. The protocol between a
client and the server:

- a client numbers its batches 1, 2, 3, ... (its *sequence numbers*) under a random client id;
- the server keeps, per client id, the last sequence number it applied (the *dedup table*);
- :meth:`TeacherServer.apply` receives batches in order, skips those already applied
  (duplicates from Ray's retries or the client's resends), applies the next one, and stops at a
  gap (a batch whose predecessor it has not seen, which happens only after a restart from a
  checkpoint older than what the client believed applied);
- every reply carries the last applied and the last *durable* (checkpointed) sequence number of
  that client, so the client knows what it must resend and what it may forget.

The dedup table is saved in the same checkpoint file as the teacher state, under the extra
top-level key ``"served"`` of the core checkpoint format, so one atomic rename moves both: a
crash can never leave a teacher state with another state's table.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.checkpoint import CheckpointError, atomic_write_bytes, encode, read_state
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import teacher_from_state_dict

__all__ = ["CHECKPOINT_NAME", "SERVED_FORMAT", "Batch", "Op", "RayTeacherServer", "TeacherServer"]

#: File name of the served teacher's checkpoint inside ``checkpoint_dir``.
CHECKPOINT_NAME = "teacher.ckpt"
#: Version of the ``"served"`` section of the checkpoint.
SERVED_FORMAT = 1

#: One operation of a batch: ``(tasks, scores, signals, end_step)``. ``tasks`` is ``None`` for
#: an ``end_step()`` alone; ``end_step`` closes a training step after the update.
Op = tuple[NDArray[Any] | None, NDArray[np.float64] | None, dict[str, NDArray[Any]] | None, bool]
#: A client batch: ``(sequence number, operations)``.
Batch = tuple[int, list[Op]]


class TeacherServer:
    """Holds a teacher, applies client batches exactly once, and checkpoints.

    Parameters
    ----------
    teacher : Teacher
        The teacher to serve (used as is when no checkpoint is loaded).
    checkpoint_dir : str or None
        Directory of the checkpoint file; ``None`` keeps everything in memory.
    checkpoint_every : int
        Write a checkpoint once this many outcomes were applied since the last one.
    checkpoint_seconds : float
        Write a checkpoint when something was applied and this many seconds have passed.
    resume : bool
        Load an existing checkpoint at first start; without it an existing checkpoint is an
        error (a restart after a crash always loads it).
    restarted : bool
        Whether this process is a restart of the server (Ray's actor reconstruction).
    """

    def __init__(
        self,
        teacher: Teacher[Any],
        *,
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 30.0,
        resume: bool = False,
        restarted: bool = False,
    ):
        self._lock = threading.Lock()  # teacher + dedup table, taken by apply and snapshots
        self._write_lock = threading.Lock()  # one checkpoint write at a time, in order
        self._wake = threading.Condition(threading.Lock())
        self.teacher = teacher
        self.incarnation = uuid.uuid4().hex
        self.last_seq: dict[str, int] = {}
        self.durable_seq: dict[str, int] = {}
        self.outcomes = 0  # outcomes applied since the served teacher was created
        self.duplicates = 0  # batches received again and skipped
        self.refused = 0  # batches refused because an earlier one was missing
        self.errors = 0  # batches the teacher rejected
        self.checkpoints = 0  # checkpoint files written by this process
        self.restarts = 0  # restarts so far (kept across restarts by the checkpoint)
        self.loaded_outcomes: int | None = None  # outcomes held by the checkpoint loaded
        self._version = 0  # batches applied by this process
        self._saved_version = 0
        self._since_save = 0  # outcomes applied since the last snapshot
        self._last_save = time.monotonic()
        self._stop = False
        self.every = checkpoint_every
        self.seconds = checkpoint_seconds
        self.path: Path | None = None
        if restarted:
            self.restarts = 1
        if checkpoint_dir is None:
            return
        self.path = Path(checkpoint_dir) / CHECKPOINT_NAME
        self._prepare_dir(Path(checkpoint_dir))
        if self.path.exists():
            if not (resume or restarted):
                raise FileExistsError(
                    f"checkpoint_dir {checkpoint_dir!r} already holds a served teacher's "
                    f"checkpoint ({self.path.name}): pass resume=True to continue from it, or "
                    "use an empty directory"
                )
            self._load(self.path, restarted=restarted)
        _check_checkpointable(self.teacher)
        # Writing at once proves the directory writable and the teacher checkpointable, so a
        # bad directory fails serve() instead of the first autosave hours later.
        self.checkpoint()
        thread = threading.Thread(target=self._autosave, name="teacher-checkpoints", daemon=True)
        thread.start()

    # ------------------------------------------------------------------ batches
    def apply(self, client: str, batches: Sequence[Batch], checkpoint: bool = False
              ) -> dict[str, Any]:
        """Apply the batches of ``client`` that are new, in order; return the client's status.

        Returns
        -------
        dict
            ``last`` (last applied sequence number), ``durable`` (last one a checkpoint holds),
            ``incarnation`` (changes when the server restarts), ``errors`` (messages of batches
            the teacher rejected; those batches count as applied and are not retried).
        """
        errors: list[str] = []
        with self._lock:
            last = self.last_seq.get(client, 0)
            for seq, ops in batches:
                if seq <= last:
                    self.duplicates += 1
                    continue
                if seq != last + 1:
                    # A gap: the server restarted from a checkpoint older than what the client
                    # saw applied. The client resends from last + 1 when it reads the reply.
                    self.refused += 1
                    break
                error = self._apply_ops(ops)
                if error is not None:
                    self.errors += 1
                    errors.append(f"batch {seq}: {error}")
                last = seq
                self.last_seq[client] = seq
                self._version += 1
            due = self.path is not None and self._since_save >= self.every
        reply_error = None
        if checkpoint and self.path is not None:
            try:
                self.checkpoint()
            except OSError as err:
                # Reported, not raised: the client keeps its batches and asks again later.
                reply_error = f"{type(err).__name__}: {err}"
        elif due:
            with self._wake:
                self._wake.notify()
        reply = self.status(client, errors)
        reply["checkpoint_error"] = reply_error
        return reply

    def _apply_ops(self, ops: Sequence[Op]) -> str | None:
        for i, (tasks, scores, signals, end_step) in enumerate(ops):
            if tasks is not None and scores is not None:
                try:
                    self.teacher.update(tasks, scores, signals)
                except Exception as err:
                    # A teacher checks its input before it changes anything, so this operation
                    # is not applied and the ones before it are. Retrying would apply those
                    # twice and fail again, so the batch counts as applied and the client
                    # raises the message. (Client-side checks leave only teacher-specific
                    # rules here, such as a `step` id older than the open step.)
                    return f"operation {i} ({len(tasks)} outcomes) was rejected: {err!r}"
                self.outcomes += len(tasks)
                self._since_save += len(tasks)
            if end_step:
                self.teacher.end_step()
        return None

    def status(self, client: str, errors: list[str] | None = None) -> dict[str, Any]:
        """What :meth:`apply` returns, without applying anything."""
        with self._lock:
            last = self.last_seq.get(client, 0)
            durable = self.durable_seq.get(client, 0) if self.path is not None else last
        return {"last": last, "durable": durable, "incarnation": self.incarnation,
                "errors": errors or []}

    def forget(self, client: str) -> None:
        """Drop a closed client from the dedup table (it will send nothing more)."""
        with self._lock:
            self.last_seq.pop(client, None)

    # -------------------------------------------------------------- teacher API
    def sample(self, n: int) -> NDArray[Any]:
        """``n`` tasks from the teacher (its own lock orders this with updates)."""
        return np.asarray(self.teacher.sample(n))

    def end_step(self) -> None:
        self.teacher.end_step()

    def state_dict(self) -> dict[str, Any]:
        return self.teacher.state_dict()

    def metrics(self) -> dict[str, float]:
        """The teacher's metrics and the server's counters (``served/...``)."""
        out = self.teacher.metrics()
        with self._lock:
            out.update({
                "served/outcomes": float(self.outcomes),
                "served/clients": float(len(self.last_seq)),
                "served/duplicate_batches": float(self.duplicates),
                "served/refused_batches": float(self.refused),
                "served/rejected_batches": float(self.errors),
                "served/checkpoints": float(self.checkpoints),
                "served/restarts": float(self.restarts),
            })
        return out

    def info(self) -> dict[str, Any]:
        """What a client needs to validate its input locally."""
        reads, needs = self.teacher._signal_names()
        return {
            "teacher": self.teacher.name,
            "space": self.teacher.space.to_dict(),
            "reads": sorted(reads),
            "needs_one_of": sorted(needs),
            "checkpoint": None if self.path is None else str(self.path),
            "incarnation": self.incarnation,
            "loaded_outcomes": self.loaded_outcomes,
            "pid": os.getpid(),
        }

    # ------------------------------------------------------------- checkpoints
    def checkpoint(self) -> bool:
        """Write a checkpoint now if anything changed since the last one; return whether."""
        if self.path is None:
            return False
        with self._write_lock:
            with self._lock:
                if self._saved_version == self._version and self.checkpoints > 0:
                    return False
                # state_dict() copies every array, so the snapshot stays consistent after
                # the lock is released while it is encoded and written.
                state = self.teacher.state_dict()
                table = dict(self.last_seq)
                state["served"] = {
                    "format": SERVED_FORMAT,
                    "clients": table,
                    "outcomes": self.outcomes,
                    "restarts": self.restarts,
                }
                version = self._version
                self._since_save = 0
                self._last_save = time.monotonic()
            atomic_write_bytes(self.path, encode(state))
            with self._lock:
                # Only now may clients forget these batches: the file holds them.
                self.durable_seq = table
                self._saved_version = version
                self.checkpoints += 1
        return True

    def _autosave(self) -> None:
        while not self._stop:
            with self._wake:
                self._wake.wait(timeout=min(self.seconds, 1.0))
            with self._lock:
                dirty = self._version != self._saved_version
                due = self._since_save >= self.every or (
                    time.monotonic() - self._last_save >= self.seconds
                )
            if dirty and due:
                try:
                    self.checkpoint()
                except OSError:
                    # A full disk must not kill the actor: clients keep their batches until a
                    # later checkpoint holds them, and the next attempt may succeed.
                    time.sleep(1.0)

    def close(self) -> None:
        """Stop the autosave thread after a last checkpoint."""
        self.checkpoint()
        self._stop = True
        with self._wake:
            self._wake.notify()

    def _prepare_dir(self, directory: Path) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PermissionError(
                f"checkpoint_dir {str(directory)!r} cannot be created: {err.strerror or err}"
            ) from err
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(f"checkpoint_dir {str(directory)!r} is not writable")

    def _load(self, path: Path, *, restarted: bool) -> None:
        try:
            state = read_state(path)
        except CheckpointError:
            raise
        served = state.get("served")
        if not isinstance(served, Mapping) or served.get("format") != SERVED_FORMAT:
            raise CheckpointError(
                f"checkpoint {str(path)!r} is a teacher checkpoint without the served teacher's "
                "dedup table; serve() continues only from checkpoints it wrote itself"
            )
        if state["teacher"] != self.teacher.name or state["space"] != self.teacher.space.to_dict():
            raise CheckpointError(
                f"checkpoint {str(path)!r} holds teacher {state['teacher']!r} on space "
                f"{state['space']!r}, but the served teacher is {self.teacher.name!r} on "
                f"{self.teacher.space!r}"
            )
        try:
            self.teacher = teacher_from_state_dict(state)
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"checkpoint {str(path)!r}: {err}") from err
        self.last_seq = {str(k): int(v) for k, v in served["clients"].items()}
        self.durable_seq = dict(self.last_seq)
        self.outcomes = int(served["outcomes"])
        self.loaded_outcomes = self.outcomes
        self.restarts = int(served["restarts"]) + (1 if restarted else 0)


def pack_teacher(teacher: Teacher[Any]) -> bytes:
    """The teacher as compressed bytes, for the actor's constructor.

    Why not the teacher itself: Ray hands large arguments to the actor as read-only zero-copy
    arrays (a teacher's preallocated history would then fail its first update), and keeps
    arguments above 100 KB in the object store, where an actor restart cannot find them once
    their owner is gone. A fresh teacher compresses to a few kilobytes, which Ray sends inline.
    The bytes come from the process that calls :func:`serve`, the same trust as Ray's own
    pickled arguments.
    """
    return zlib.compress(pickle.dumps(teacher, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_teacher(blob: bytes) -> Teacher[Any]:
    """Inverse of :func:`pack_teacher`."""
    teacher = pickle.loads(zlib.decompress(blob))
    if not isinstance(teacher, Teacher):
        raise TypeError(f"expected a packed Teacher, got {type(teacher).__name__}")
    return teacher


def _check_checkpointable(teacher: Teacher[Any]) -> None:
    """The checks of :func:`autocurriculum.checkpoint.save`, made before serving."""
    if type(teacher).registered_spec() is None:
        raise ValueError(
            f"{type(teacher).__name__} is not a registered teacher, so a checkpoint could not "
            "rebuild it: register it, or serve it without checkpoint_dir"
        )
    params = teacher.state_dict()["params"]
    unsaved = sorted(k for k, v in params.items() if isinstance(v, dict) and "__unsaved__" in v)
    if unsaved:
        raise ValueError(
            f"cannot checkpoint {teacher.name!r}: parameter(s) {unsaved} are not plain data; "
            "serve it without checkpoint_dir"
        )


class RayTeacherServer(TeacherServer):
    """The actor class: a :class:`TeacherServer` that knows whether Ray restarted it."""

    def __init__(self, teacher_blob: bytes, config: Mapping[str, Any]):
        import ray

        restarted = bool(ray.get_runtime_context().was_current_actor_reconstructed)
        super().__init__(unpack_teacher(teacher_blob), restarted=restarted, **config)

    def ping(self) -> str:
        return self.incarnation
