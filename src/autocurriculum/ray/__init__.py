"""One curriculum for a whole Ray cluster: a teacher served by a named actor.

:func:`serve` puts any teacher in a named Ray actor and returns a :class:`TeacherClient`, a
drop-in teacher for training loops; :func:`connect` gives more clients of it, in any process of
the cluster (a pickled client also unpickles as a new client). Ray is imported only here, so
``import autocurriculum`` stays free of it. See ``docs/ray.md`` for the guide.

Delivery is exactly-once. Each client numbers its batches; the actor keeps the last number it
applied per client and skips anything at or below it, so Ray's retries (``max_task_retries``)
and the client's own resends never count an outcome twice.

Durability: with ``checkpoint_dir`` the actor writes a checkpoint (the core format, with the
dedup table in the same file) every ``checkpoint_every`` outcomes or ``checkpoint_seconds``
seconds, and Ray restarts it (``max_restarts``) from its last checkpoint. A client keeps every
batch until a checkpoint holds it, and after a restart sends again what the checkpoint lacks:
a killed teacher loses nothing and counts nothing twice.

Staleness: a client hands out tasks drawn up to ``prefetch`` samples earlier, and an outcome
reaches the teacher ``linger`` seconds plus one round trip after ``update`` at most (longer if
the actor is busy). Teachers refit every few hundred outcomes, so this lag rarely matters; lower
``prefetch`` and ``linger`` to shorten it.

Examples
--------
>>> import ray, autocurriculum as ac
>>> from autocurriculum.ray import serve
>>> _ = ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)  # doctest: +SKIP
>>> teacher = serve(ac.make("random", ac.Discrete(4), seed=0), name="doc")  # doctest: +SKIP
>>> arms = teacher.sample(8)  # doctest: +SKIP
>>> teacher.update(arms, [1.0] * 8)  # doctest: +SKIP
>>> teacher.flush()  # doctest: +SKIP
>>> teacher.metrics()["teacher/n_updates"]  # doctest: +SKIP
8.0
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from autocurriculum.params import check_bool, check_int, check_real, check_size
from autocurriculum.ray._client import TeacherClient, TeacherUnavailableError, connect
from autocurriculum.ray._server import CHECKPOINT_NAME, RayTeacherServer, pack_teacher
from autocurriculum.teachers.base import Teacher

__all__ = ["CHECKPOINT_NAME", "TeacherClient", "TeacherUnavailableError", "connect", "serve"]


def serve(
    teacher: Teacher[Any],
    *,
    name: str = "autocurriculum-teacher",
    namespace: str | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1000,
    checkpoint_seconds: float = 30.0,
    resume: bool = False,
    max_restarts: int | None = None,
    max_task_retries: int = 3,
    detached: bool = False,
    actor_options: Mapping[str, Any] | None = None,
    timeout: float = 60.0,
    prefetch: int = 256,
    batch_size: int = 256,
    linger: float = 0.05,
    max_pending: int = 1_000_000,
) -> TeacherClient:
    """Run ``teacher`` in a named Ray actor and return a client of it.

    If an actor of that name already exists in the namespace, it is reused (``get_if_exists``)
    and ``teacher`` and the actor options are ignored; it must serve a teacher of the same
    name and task space.

    Parameters
    ----------
    teacher : Teacher
        The teacher to serve; it is copied into the actor.
    name, namespace : str
        The actor's name, and its Ray namespace (default: the current job's namespace; give
        one explicitly for clients in other Ray jobs).
    checkpoint_dir : path-like or None
        Where the actor keeps its checkpoint (``teacher.ckpt``). It must be writable by the
        actor, on a filesystem that every node where the actor may restart can reach; a
        directory that is not writable fails ``serve``. ``None``: no checkpoints, and the actor
        is not restarted (a restart would lose every update).
    checkpoint_every : int
        Outcomes between two checkpoints.
    checkpoint_seconds : float
        The longest time an applied outcome stays out of a checkpoint (while the actor is up).
    resume : bool
        Continue from a checkpoint already in ``checkpoint_dir`` (a preempted job restarted).
        Without it an existing checkpoint is an error, so two runs never mix by accident.
    max_restarts : int or None
        Ray restarts of the actor; default -1 (unlimited) with a checkpoint dir, 0 without.
    max_task_retries : int
        Ray's retries of a call interrupted by a restart (at-least-once delivery; the dedup
        table makes it exactly-once). Ignored when the actor is not restarted.
    detached : bool
        Keep the actor alive after the process that served it exits.
    actor_options : mapping, optional
        More options for ``.options()`` (``num_cpus`` defaults to 0: the teacher uses little
        CPU and should not take a slot an env runner needs; ``scheduling_strategy`` to pin it
        to a node, for example).
    timeout : float
        The longest any call of the client waits for the actor, and the longest the client
        keeps retrying an unreachable actor before its calls raise
        :class:`TeacherUnavailableError`.
    prefetch : int
        Tasks each client keeps ready; a refill is asked for below half of it.
    batch_size, linger : int, float
        A client sends its queued outcomes when ``batch_size`` of them are waiting or the
        oldest has waited ``linger`` seconds (and no call of the client is in flight).
    max_pending : int
        Outcomes a client queues before ``update`` waits for the actor (bounded memory).

    Returns
    -------
    TeacherClient

    Raises
    ------
    TeacherUnavailableError
        The actor failed to start (unwritable checkpoint dir, an unexpected checkpoint, a
        teacher that cannot be checkpointed) or did not answer within ``timeout``.
    ValueError
        A bad parameter, or an existing actor of that name serves another teacher or space.
    """
    import ray

    if not isinstance(teacher, Teacher):
        raise ValueError(f"serve() needs an autocurriculum Teacher, got {teacher!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    check_size("checkpoint_every", checkpoint_every)
    check_real("checkpoint_seconds", checkpoint_seconds, low=0.0, include_low=False)
    check_bool("resume", resume)
    check_bool("detached", detached)
    check_int("max_task_retries", max_task_retries, low=-1)
    restarts = -1 if checkpoint_dir is not None else 0
    if max_restarts is not None:
        restarts = check_int("max_restarts", max_restarts, low=-1)
    if checkpoint_dir is None and restarts != 0:
        raise ValueError(
            f"max_restarts={max_restarts} needs checkpoint_dir: a restarted actor without a "
            "checkpoint would start the teacher over and lose every update"
        )
    if not ray.is_initialized():
        raise TeacherUnavailableError(
            "serve() needs a Ray cluster: call ray.init() (or ray.init(address=...)) first"
        )
    ns = namespace if namespace is not None else ray.get_runtime_context().namespace
    options: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "get_if_exists": True,
        "max_restarts": restarts,
        "max_task_retries": max_task_retries if restarts != 0 else 0,
        "num_cpus": 0,
    }
    if detached:
        options["lifetime"] = "detached"
    options.update(actor_options or {})
    config = {
        "checkpoint_dir": None if checkpoint_dir is None else os.path.abspath(checkpoint_dir),
        "checkpoint_every": checkpoint_every,
        "checkpoint_seconds": checkpoint_seconds,
        "resume": resume,
    }
    actor = ray.remote(RayTeacherServer).options(**options).remote(pack_teacher(teacher), config)
    client = TeacherClient(actor, actor_name=name, namespace=ns, timeout=timeout,
                           prefetch=prefetch, batch_size=batch_size, linger=linger,
                           max_pending=max_pending)
    if client.name != teacher.name or client.space != teacher.space:
        client.close(timeout=1.0)
        raise ValueError(
            f"the Ray actor {name!r} in namespace {ns!r} already serves teacher {client.name!r} "
            f"on {client.space!r}, not {teacher.name!r} on {teacher.space!r}: choose another name"
        )
    return client
