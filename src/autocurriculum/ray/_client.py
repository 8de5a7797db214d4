"""The client of a served teacher: local buffers, one background thread, bounded waits.

The calling thread only touches in-memory buffers under a lock:

- ``sample`` takes tasks from a prefetch buffer that the background thread refills from the
  actor when it falls below half of ``prefetch``;
- ``update`` checks its input against the task space and signal vocabulary, then queues it.

The background thread makes every Ray call, one ``apply`` at a time per client: it seals the
queued outcomes into a numbered batch, sends every batch the actor has not yet confirmed, and
forgets a batch only once the actor reports a checkpoint holding it. One call in flight per
client keeps the protocol simple (the actor's reply is the truth about what it holds) and
batches adaptively: outcomes that arrive while a call is in flight go out together in the next.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.params import MAX_SIZE, check_int, check_real, check_size
from autocurriculum.ray._server import Op
from autocurriculum.signals import Signals, validate_signals
from autocurriculum.spaces import Box, Space, space_from_dict
from autocurriculum.teachers.base import validate_scores
from autocurriculum.teachers.registry import teacher_from_state_dict

__all__ = ["TeacherClient", "TeacherUnavailableError", "connect"]

#: How often a client with batches not yet checkpointed asks the actor what it holds, when it
#: has nothing else to send: this is how it notices a restart while its env loop is idle.
POLL_SECONDS = 1.0
#: The longest single Ray call the background thread waits for before it retries; the overall
#: bound is the client's ``timeout``.
CALL_SECONDS = 10.0


class TeacherUnavailableError(RuntimeError):
    """The served teacher could not be reached, or did not answer, within the time allowed."""


class TeacherClient:
    """A drop-in teacher for training loops, backed by a teacher in a named Ray actor.

    It duck-types the teacher protocol that loops and integrations call (``sample``,
    ``update``, ``end_step``, ``metrics``, ``state_dict``, ``save``, ``space``, ``name``) but is
    not a :class:`~autocurriculum.Teacher` subclass: it holds no learned state of its own, and
    its samples depend on the timing of other clients, so the conformance suite's exactness
    checks could not hold. Build one with :func:`autocurriculum.ray.serve` or
    :func:`connect`; a pickled client unpickles as a new client (a new client id) of the same
    actor, so it can be passed to Ray tasks, actors and env runners.

    Attributes
    ----------
    space : Space
        The served teacher's task space.
    name : str
        The served teacher's registry name.
    client_id : str
        The random id the actor deduplicates this client's batches by.
    actor : ray.actor.ActorHandle
        The actor (for ``ray.kill`` in tests, for example).
    """

    def __init__(
        self,
        actor: Any,
        *,
        actor_name: str,
        namespace: str | None,
        timeout: float = 60.0,
        prefetch: int = 256,
        batch_size: int = 256,
        linger: float = 0.05,
        max_pending: int = 1_000_000,
    ):
        self.actor = actor
        self.actor_name = actor_name
        self.namespace = namespace
        self.timeout = check_real("timeout", timeout, low=0.0, include_low=False)
        self.prefetch = check_size("prefetch", prefetch)
        self.batch_size = check_size("batch_size", batch_size)
        self.linger = check_real("linger", linger, low=0.0)
        self.max_pending = check_size("max_pending", max_pending)
        # The first prefetch comes with the connection, so a client is ready to hand out tasks
        # the moment it exists, even if the actor then stalls (its waits stay bounded anyway).
        info, first_tasks = self._call([actor.info.remote(), actor.sample.remote(self.prefetch)],
                                       "connect to")
        self.space: Space = space_from_dict(info["space"])
        self.name: str = info["teacher"]
        self._reads = frozenset(info["reads"])
        self._needs = frozenset(info["needs_one_of"])
        # Concatenating updates is exact for teachers that learn per outcome; teachers that read
        # `step` close a training step at the end of each update without one, so their
        # updates are sent one by one.
        self._merge = "step" not in self._reads
        self._durable_mode = info["checkpoint"] is not None
        self.client_id = uuid.uuid4().hex
        self._cond = threading.Condition(threading.Lock())
        self._ops: list[Op] = []
        self._n_pending = 0
        self._pending_since = 0.0
        self._unacked: deque[tuple[int, list[Op], int]] = deque()
        self._next_seq = 1
        self._applied = 0
        self._durable = 0
        self._incarnation: str = info["incarnation"]
        self._last_reply = time.monotonic()
        self._task_dtype = np.float64 if isinstance(self.space, Box) else np.int64
        self._tasks: NDArray[Any] = np.asarray(first_tasks, dtype=self._task_dtype)
        self._pos = 0
        self._want = 0
        self._flushers = 0
        self._failure: TeacherUnavailableError | None = None
        self._rejections: list[str] = []
        self._checkpoint_error: str | None = None
        self._stop = False
        self._closed = False
        self._clean = True  # no call of this client failed or timed out
        self.outcomes = 0  # outcomes queued by update()
        self._sent = 0
        self._max_sent = 0
        self._resent = 0
        self._sample_waits = 0
        self._restarts_seen = 0
        self._thread = threading.Thread(
            target=self._run, name=f"teacher-client-{self.client_id[:8]}", daemon=True
        )
        self._thread.start()
        _register_for_exit(self)

    # -------------------------------------------------------------- the protocol
    def sample(self, n: int | None = None) -> Any:
        """Tasks from the prefetch buffer; waits for the actor only when the buffer is empty.

        Parameters
        ----------
        n : int or None
            Batch size; ``None`` returns one task (an ``int`` for a Discrete space).

        Raises
        ------
        TeacherUnavailableError
            The buffer was empty and the actor did not answer within ``timeout`` seconds.
        """
        k = 1 if n is None else check_int("n", n, low=1, high=MAX_SIZE)
        with self._cond:
            available = len(self._tasks) - self._pos
            if available < k:
                self._sample_waits += 1
                self._wait_for_tasks(k)
                available = len(self._tasks) - self._pos
            out = self._tasks[self._pos : self._pos + k]
            self._pos += k
            if available - k < self.prefetch // 2 + 1:
                self._cond.notify_all()
        if n is None:
            return int(out[0]) if self.space.kind == "discrete" else out[0]
        return out

    def update(self, tasks: ArrayLike, scores: ArrayLike, signals: Signals = None) -> None:
        """Check the outcomes here, queue them, and return; they reach the actor in a batch.

        Raises
        ------
        ValueError
            A task outside the served teacher's space, a bad score or signal: nothing is
            queued. Also raised (once) when the served teacher rejected an earlier batch;
            then this call's outcomes are not queued either.
        TeacherUnavailableError
            The actor has been unreachable for ``timeout`` seconds.
        """
        batch = np.array(self.space.validate_tasks(_as_batch(tasks, self.space)))
        score_arr = np.array(validate_scores(scores, len(batch)))
        signal_map = None
        if signals is not None or self._needs:
            signal_map = validate_signals(
                signals, len(batch), reads=self._reads, needs_one_of=self._needs,
                owner=f"served teacher {self.name!r}",
            ) or None
        n = len(batch)
        with self._cond:
            self._check_usable()
            if self._n_pending + n > self.max_pending:
                self._wait(lambda: self._n_pending + n <= self.max_pending, self.timeout,
                           f"{self._n_pending} outcomes were waiting to be sent (max_pending="
                           f"{self.max_pending})")
            if not self._ops:
                self._pending_since = time.monotonic()
            self._ops.append((batch, score_arr, signal_map, False))
            first = self._n_pending == 0
            self._n_pending += n
            self.outcomes += n
            if first or self._n_pending >= self.batch_size:
                self._cond.notify_all()

    def end_step(self) -> None:
        """Close the teacher's training step after this client's outcomes queued so far."""
        with self._cond:
            self._check_usable()
            if self._ops and self._ops[-1][0] is not None and not self._ops[-1][3]:
                tasks, scores, signals, _ = self._ops[-1]
                self._ops[-1] = (tasks, scores, signals, True)
            else:
                if not self._ops:
                    self._pending_since = time.monotonic()
                self._ops.append((None, None, None, True))
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until the actor holds every outcome this client queued, in a checkpoint if the
        served teacher has a checkpoint directory (it is asked to write one).

        Raises
        ------
        TeacherUnavailableError
            Not done within ``timeout`` seconds (default: the client's timeout).
        ValueError
            The served teacher rejected a batch (see :meth:`update`).
        """
        limit = self.timeout if timeout is None else check_real("timeout", timeout, low=0.0)
        with self._cond:
            self._check_usable()
            target = self._next_seq if self._ops else self._next_seq - 1
            self._flushers += 1
            self._cond.notify_all()
            try:
                self._wait(lambda: self._durable >= target or bool(self._rejections), limit,
                           f"{self._n_pending + self._unacked_outcomes()} outcomes were not yet "
                           "confirmed" + (f" (last checkpoint attempt: {self._checkpoint_error})"
                                          if self._checkpoint_error else ""))
                self._check_usable()
            finally:
                self._flushers -= 1

    def metrics(self) -> dict[str, float]:
        """The served teacher's metrics (``teacher/...``, ``served/...``) and this client's
        counters (``client/...``). Outcomes still queued here are not yet counted by the
        teacher."""
        out: dict[str, float] = self._call(self.actor.metrics.remote(), "read metrics of")
        with self._cond:
            out.update({
                "client/pending_outcomes": float(self._n_pending),
                "client/unconfirmed_outcomes": float(self._unacked_outcomes()),
                "client/sent_batches": float(self._sent),
                "client/resent_batches": float(self._resent),
                "client/sample_waits": float(self._sample_waits),
                "client/restarts_seen": float(self._restarts_seen),
                "client/buffered_tasks": float(len(self._tasks) - self._pos),
            })
        return out

    def state_dict(self) -> dict[str, Any]:
        """The served teacher's state dict, after this client's outcomes were flushed."""
        self.flush()
        state: dict[str, Any] = self._call(self.actor.state_dict.remote(), "read the state of")
        return state

    def save(self, path: Any) -> None:
        """Write the served teacher's state as a checkpoint that :func:`autocurriculum.load`
        reads (an in-process teacher, without the served teacher's dedup table)."""
        teacher_from_state_dict(self.state_dict()).save(path)

    def close(self, timeout: float | None = None) -> None:
        """Flush (bounded by ``timeout``), then stop the background thread. Idempotent."""
        if self._closed:
            return
        try:
            if self._failure is None:
                self.flush(timeout)
        finally:
            with self._cond:
                self._stop = True
                self._closed = True
                forget = self._clean and self._failure is None and not self._unacked
                self._cond.notify_all()
            self._thread.join(timeout=CALL_SECONDS)
            if forget:
                # Every call returned, in order, so no retry of an old batch can still arrive:
                # the dedup entry may go. Otherwise it stays (a few bytes per client).
                with contextlib.suppress(Exception):
                    self.actor.forget.remote(self.client_id)

    def __enter__(self) -> TeacherClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _reconnect, (self.actor_name, self.namespace, self.timeout, self.prefetch,
                            self.batch_size, self.linger, self.max_pending)

    def __repr__(self) -> str:
        # getattr: a client whose connection failed is still printed in tracebacks.
        teacher = getattr(self, "name", "?")
        space = getattr(self, "space", "?")
        client_id = getattr(self, "client_id", "?")[:8]
        return (f"TeacherClient({teacher!r} on {space!r}, actor={self.actor_name!r}, "
                f"namespace={self.namespace!r}, client_id={client_id!r})")

    # ----------------------------------------------------------------- waiting
    def _check_usable(self) -> None:
        if self._failure is not None:
            raise TeacherUnavailableError(str(self._failure)) from self._failure.__cause__
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self._rejections:
            messages, self._rejections = self._rejections, []
            raise ValueError(
                f"the served teacher {self.name!r} rejected outcomes this client sent earlier "
                f"(nothing of this call was queued): {'; '.join(messages)}"
            )

    def _wait(self, done: Any, limit: float, what: str) -> None:
        """Wait on the condition (held) until ``done()``; raise after ``limit`` seconds."""
        deadline = time.monotonic() + limit
        while not done():
            if self._failure is not None:
                self._check_usable()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TeacherUnavailableError(
                    f"served teacher {self.actor_name!r} (namespace {self.namespace!r}) did not "
                    f"answer within {limit:g} s: {what}"
                )
            self._cond.wait(remaining)

    def _wait_for_tasks(self, k: int) -> None:
        self._check_usable()
        self._want = max(self._want, k)
        self._cond.notify_all()
        try:
            self._wait(lambda: len(self._tasks) - self._pos >= k, self.timeout,
                       f"sample({k}) found no prefetched tasks")
        finally:
            self._want = 0

    def _unacked_outcomes(self) -> int:
        return sum(n for _, _, n in self._unacked)

    # ------------------------------------------------------ background thread
    def _call(self, ref: Any, what: str) -> Any:
        """``ray.get`` bounded by the timeout, with Ray's errors translated."""
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError

        try:
            return ray.get(ref, timeout=self.timeout)
        except GetTimeoutError as err:
            raise TeacherUnavailableError(
                f"could not {what} served teacher {self.actor_name!r} (namespace "
                f"{self.namespace!r}): no answer within {self.timeout:g} s"
            ) from err
        except RayActorError as err:
            raise TeacherUnavailableError(_actor_error_message(self.actor_name, self.namespace,
                                                               err, what)) from err

    def _jobs(self, now: float) -> tuple[bool, bool, int]:
        """What the thread should do now: (send batches, ask for a checkpoint, tasks to get)."""
        seal = bool(self._ops) and (
            self._n_pending >= self.batch_size
            or now - self._pending_since >= self.linger
            or self._flushers > 0
            or self._stop
        )
        last = self._next_seq - (0 if seal else 1)
        resend = self._applied < self._next_seq - 1
        checkpoint = self._flushers > 0 and self._durable < last
        poll = bool(self._unacked) and now - self._last_reply >= POLL_SECONDS
        available = len(self._tasks) - self._pos
        tasks = 0
        if not self._stop and (self._want > available or available <= self.prefetch // 2):
            tasks = max(self.prefetch, self._want - available)
        return seal or resend or checkpoint or poll, checkpoint, tasks

    def _seal(self) -> None:
        ops = _merge(self._ops) if self._merge else self._ops
        self._unacked.append((self._next_seq, ops, self._n_pending))
        self._next_seq += 1
        self._ops = []
        self._n_pending = 0

    def _idle_seconds(self, now: float) -> float:
        wait = POLL_SECONDS
        if self._ops:
            wait = min(wait, self.linger - (now - self._pending_since))
        return max(wait, 0.001)

    def _run(self) -> None:
        import ray

        failing_since: float | None = None
        delay = 0.05
        while True:
            with self._cond:
                while True:
                    if self._failure is not None:
                        return
                    now = time.monotonic()
                    send, checkpoint, n_tasks = self._jobs(now)
                    if send or n_tasks:
                        break
                    if self._stop:
                        return
                    self._cond.wait(self._idle_seconds(now))
                if send and self._ops:
                    self._seal()
                batches = [(seq, ops) for seq, ops, _ in self._unacked if seq > self._applied]
                self._sent += len(batches)
                self._resent += sum(1 for seq, _ in batches if seq <= self._max_sent)
                if batches:
                    self._max_sent = max(self._max_sent, batches[-1][0])
            refs = []
            if send:
                refs.append(self.actor.apply.remote(self.client_id, batches, checkpoint))
            if n_tasks:
                refs.append(self.actor.sample.remote(n_tasks))
            try:
                # Never longer than the client's timeout, so that a stalled actor turns into
                # a failure after about `timeout` seconds, not after CALL_SECONDS.
                results = ray.get(refs, timeout=min(CALL_SECONDS, self.timeout))
            except Exception as err:
                now = time.monotonic()
                failing_since = now if failing_since is None else failing_since
                fatal = self._diagnose(err, now - failing_since)
                with self._cond:
                    self._clean = False
                    if fatal is not None:
                        self._failure = fatal
                        self._cond.notify_all()
                        return
                time.sleep(delay)
                delay = min(2 * delay, 1.0)
                continue
            failing_since = None
            with self._cond:
                if send:
                    self._receive(results[0])
                delay = 0.05
                if self._checkpoint_error is not None:
                    # Do not hammer a failing disk: back off before the next attempt.
                    self._cond.wait(delay)
                    delay = min(2 * delay, 1.0)
                if n_tasks:
                    fresh = np.asarray(results[-1], dtype=self._task_dtype)
                    self._tasks = np.concatenate([self._tasks[self._pos :], fresh])
                    self._pos = 0
                self._cond.notify_all()

    def _receive(self, reply: Mapping[str, Any]) -> None:
        self._last_reply = time.monotonic()
        if reply["incarnation"] != self._incarnation:
            self._incarnation = reply["incarnation"]
            self._restarts_seen += 1
        # The actor's reply is the truth: after a restart from a checkpoint, `last` may be
        # lower than what an earlier reply said, and the batches after it are sent again.
        self._applied = int(reply["last"])
        self._durable = int(reply["durable"])
        while self._unacked and self._unacked[0][0] <= self._durable:
            self._unacked.popleft()
        self._rejections.extend(reply["errors"])
        self._checkpoint_error = reply.get("checkpoint_error")

    def _diagnose(self, err: BaseException, failing_for: float) -> TeacherUnavailableError | None:
        """A fatal error for the callers, or ``None`` to retry."""
        import ray
        from ray.exceptions import ActorDiedError, GetTimeoutError, RayActorError

        if isinstance(err, GetTimeoutError | RayActorError):
            if isinstance(err, ActorDiedError):
                # A restarting actor keeps its name; a dead one loses it. A new actor served
                # under the same name (resumed from the same checkpoint) is taken over.
                try:
                    self.actor = ray.get_actor(self.actor_name, namespace=self.namespace)
                except ValueError:
                    return TeacherUnavailableError(_actor_error_message(
                        self.actor_name, self.namespace, err, "send outcomes to"))
            if failing_for < self.timeout:
                return None
        if isinstance(err, GetTimeoutError):
            message = f"no answer within {self.timeout:g} s"
        elif isinstance(err, RayActorError):
            message = _actor_error_message(self.actor_name, self.namespace, err, "reach")
        else:
            message = f"{type(err).__name__}: {err}"
        failure = TeacherUnavailableError(
            f"served teacher {self.actor_name!r} (namespace {self.namespace!r}) is unavailable "
            f"({message}); {self._n_pending + self._unacked_outcomes()} outcomes of this client "
            "are not confirmed"
        )
        failure.__cause__ = err
        return failure


# --------------------------------------------------------------------- helpers
def _reconnect(name: str, namespace: str | None, timeout: float, prefetch: int,
               batch_size: int, linger: float, max_pending: int) -> TeacherClient:
    """Unpickle a client as a new client of the same actor (positional, for ``__reduce__``)."""
    return connect(name, namespace=namespace, timeout=timeout, prefetch=prefetch,
                   batch_size=batch_size, linger=linger, max_pending=max_pending)


def connect(
    name: str = "autocurriculum-teacher",
    *,
    namespace: str | None = None,
    timeout: float = 60.0,
    prefetch: int = 256,
    batch_size: int = 256,
    linger: float = 0.05,
    max_pending: int = 1_000_000,
) -> TeacherClient:
    """A new client of the teacher served under ``name`` (see :func:`serve` for the options).

    Raises
    ------
    TeacherUnavailableError
        Ray is not initialised, no actor has that name in the namespace, the actor is dead,
        or it did not answer within ``timeout`` seconds.
    """
    import ray

    if not ray.is_initialized():
        raise TeacherUnavailableError(
            f"cannot connect to served teacher {name!r}: Ray is not initialised in this process "
            "(call ray.init(address=...) first)"
        )
    ns = namespace if namespace is not None else ray.get_runtime_context().namespace
    try:
        actor = ray.get_actor(name, namespace=ns)
    except ValueError as err:
        raise TeacherUnavailableError(
            f"no served teacher named {name!r} in Ray namespace {ns!r}: it was never served, "
            "it died, or it lives in another namespace (pass namespace=...)"
        ) from err
    return TeacherClient(actor, actor_name=name, namespace=ns, timeout=timeout,
                         prefetch=prefetch, batch_size=batch_size, linger=linger,
                         max_pending=max_pending)


def _actor_error_message(name: str, namespace: str | None, err: BaseException, what: str) -> str:
    text = str(err)
    if getattr(err, "actor_init_failed", False):
        # Ray's message holds the whole traceback of __init__; its last line is the error.
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        cause = lines[-1] if lines else text
        return f"served teacher {name!r} (namespace {namespace!r}) failed to start: {cause}"
    return (f"could not {what} served teacher {name!r} (namespace {namespace!r}): the actor "
            f"died and is not restarting ({text.splitlines()[0] if text else err!r})")


def _as_batch(tasks: ArrayLike, space: Space) -> ArrayLike:
    # As the base teacher reads it: for a 1-D Box, "(n,)" means n tasks.
    if isinstance(space, Box) and space.ndim == 1:
        arr = np.asarray(tasks)
        if arr.ndim <= 1:
            return arr.reshape(-1, 1)
    return tasks


def _merge(ops: list[Op]) -> list[Op]:
    """Concatenate runs of updates with the same signal names (an end_step ends a run)."""
    out: list[Op] = []
    run: list[Op] = []
    for op in ops:
        if run and (op[0] is None or _keys(op) != _keys(run[0]) or run[-1][3]):
            out.append(_concat(run))
            run = []
        if op[0] is None:
            out.append(op)
        else:
            run.append(op)
    if run:
        out.append(_concat(run))
    return out


def _keys(op: Op) -> frozenset[str]:
    return frozenset(op[2] or ())


def _concat(run: list[Op]) -> Op:
    if len(run) == 1:
        return run[0]
    tasks = np.concatenate([op[0] for op in run if op[0] is not None])
    scores = np.concatenate([op[1] for op in run if op[1] is not None])
    first = run[0][2]
    signals = None
    if first:
        signals = {k: np.concatenate([(op[2] or {})[k] for op in run]) for k in first}
    return tasks, scores, signals, run[-1][3]


_LIVE: weakref.WeakSet[TeacherClient] = weakref.WeakSet()
_EXIT_HOOK = False


def _register_for_exit(client: TeacherClient) -> None:
    """Flush live clients at interpreter exit, so that a script's last outcomes are sent."""
    global _EXIT_HOOK
    _LIVE.add(client)
    if not _EXIT_HOOK:
        # Registered after ray.init's own hook, so it runs first (atexit is last-in first-out).
        atexit.register(_close_all)
        _EXIT_HOOK = True


def _close_all() -> None:
    for client in list(_LIVE):
        try:
            client.close(timeout=5.0)
        except Exception as err:  # exiting: report, do not raise
            warnings.warn(f"{client!r}: outcomes may be lost at exit: {err}", stacklevel=1)
