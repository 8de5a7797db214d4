"""The benchmark runner: teachers x scenarios x seeds, in parallel worker processes.

Each job is one (teacher, scenario, seed). It plays the episode loop of one of two protocols.

*plain* (the default)::

    tasks = teacher.sample(b); rewards = student.episodes(tasks); teacher.update(tasks, rewards)

``b = 1`` (the default) is the faithful published protocol, one task at a time; it goes through
the single-task calls (``sample()``, ``episode(task)``, ``update(task, reward)``), which are the
same operations without the batch validation that would cost more than the grid student itself.
With ``b > 1`` a batch never straddles an eval point.

*grpo* (a GRPO-style trainer, for teachers that learn from |advantages|, SEC and DUMP)::

    tasks = teacher.sample(prompts)                  # one task per prompt
    batch = np.repeat(tasks, group, axis=0)          # each rolled out `group` times
    rewards = student.episodes(batch)
    teacher.update(batch, rewards, signals={"group": np.repeat(np.arange(prompts), group)})

so a teacher computes each rollout's advantage within its prompt's group; teachers that read no
signal ignore it. A step of ``prompts * group`` episodes cannot be split, so each eval point
``p`` is read at the end of the step that reaches or crosses it, and the curve records that
step's actual episode count, ``ceil(p / (prompts * group)) * (prompts * group)`` (two points
that land on the same step become one; see :func:`eval_points`). The run therefore plays up to
``prompts * group - 1`` episodes beyond the budget, and ``eval_episodes`` (and every per-episode
figure) count the episodes actually played.

Both protocols record the student's % mastered at episode 0 and at every eval point, the
first episode count at which the student is fully mastered (``episodes_to_best``, below), the
teacher's CPU time apart from the student's, and, for pictures, a bounded subsample of the
sampled tasks, the teacher's model at each eval point and the student's final competence.

First full mastery: ``episodes_to_best`` is the first episode count at which
``student.score() >= student.best_possible()`` (``None`` in the job's .json if never within the
run). A ``score()`` read costs 2-7 µs on an arms student and 3-19 µs on a grid student; read
after every episode it would add 4.8 µs (+33%) to the runner's 14.5 µs per episode of the
random teacher on grid-2d. So it is read after every step only on a Discrete student (exact;
measured cost, random teacher, one episode per step: +2.4 µs or +18% per episode on
arms-chain, +8.9 µs or +63% on arms-mixed, whose student decays, until the first mastery) or
when a step plays at least :data:`MASTERY_STEP_EPISODES` episodes (grpo steps, large batches:
at most ~1 µs per episode). Otherwise (a Box student, fewer episodes per step) it is read at
the eval points only, where the score is read anyway, so the figure is the first eval point at
full mastery, a resolution of ``eval_every`` episodes. The job's .json says which
(``mastery_check``: ``"step"`` or ``"eval"``). ``best_possible()`` is read once: it is a
constant of the student.

A run directory holds::

    config.json                               the exact configuration, version, machine
    raw/<teacher>__<scenario>__seed<k>.npz    arrays of one job (curve, tasks, competence)
    raw/<teacher>__<scenario>__seed<k>.json   metadata of one job (seeds, timings, snapshots)
    summary.csv                               one row per (teacher, scenario)

Every file is written atomically (temporary file, then rename). A failed job stops the run with
:class:`BenchmarkError` naming it (after the jobs already running finish); ``resume=True``
completes an interrupted run directory. The protocol and its parameters are part of each job's
description in ``config.json`` (plain jobs are described as before the protocol existed, so
older runs still resume), so a run cannot be resumed under another protocol.

Seeds: job seed ``k`` is spawned (``numpy.random.SeedSequence(k).spawn(2)``) into a teacher seed
and a student seed, so a run is reproducible, and every teacher meets the same students (same
rugged permutation, same reward noise stream) for a given ``k``, under either protocol.

Timing: CPU time from ``time.process_time_ns`` (all threads of the worker, so a teacher that
calls multithreaded BLAS is charged in full; BLAS is limited to one thread per worker anyway so
that workers do not oversubscribe the cores). Three clock reads per step attribute the time to
the teacher (``sample`` and ``update``) and the student (the episodes; under grpo also the
``np.repeat`` of the prompts); each read costs about 0.6 µs of CPU on Linux, which is measured
per job and subtracted from each timed interval. A mastery check between steps is timed out of
both (one more clock read after it, so each interval still carries one read).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.bench import metrics
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.suites import (
    EXPERT_DOCS,
    EXPERT_RULES,
    PROTOCOLS,
    TeacherSpec,
    expert_params,
    plan,
    teacher_constructor_params,
)
from autocurriculum.checkpoint import atomic_write_bytes
from autocurriculum.spaces import Box, Discrete

__all__ = [
    "PROTOCOLS",
    "SUMMARY_COLUMNS",
    "BenchmarkError",
    "Job",
    "JobResult",
    "Run",
    "RunDirError",
    "check_protocol",
    "derive_seeds",
    "eval_points",
    "load_run",
    "run_benchmark",
    "run_job",
    "summarise",
    "write_summary",
]

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.csv"
RAW_DIR = "raw"
FORMAT_VERSION = 1

#: summary.csv columns, in order.
SUMMARY_COLUMNS = (
    "teacher",
    "scenario",
    "seeds",
    "episodes",
    "protocol",
    "best_possible_mean",
    "final_mean",
    "final_ci_low",
    "final_ci_high",
    "auc_mean",
    "auc_ci_low",
    "auc_ci_high",
    "episodes_to_90_mean",
    "reached_90",
    "episodes_to_best_mean",
    "episodes_to_best_ci_low",
    "episodes_to_best_ci_high",
    "reached_best",
    "teacher_us_per_episode",
    "student_us_per_episode",
)

#: Bound on the tasks kept per job for pictures (a subsample of every k-th episode).
MAX_TASK_POINTS = 4000
#: Bound on the model snapshots kept per job.
MAX_SNAPSHOTS = 101
#: Time bins of the per-arm sampling counts kept per job (Discrete scenarios).
ARM_COUNT_BINS = 100
#: Resolution of the final competence image.
IMAGE_RESOLUTION = 100
#: Resolution of the competence maps kept at each snapshot (animation backgrounds).
FRAME_RESOLUTION = 50
#: Random state of the bootstrap CIs in summary.csv, so the summary is reproducible.
CI_RANDOM_STATE = 0
#: Defaults of the grpo protocol: tasks sampled per step, rollouts per task.
DEFAULT_PROMPTS = 8
DEFAULT_GROUP = 4
#: Steps of at least this many episodes read the score after every step for first mastery
#: (at most ~0.6 µs per episode even on grid-4d); shorter steps on a Box student read it at
#: the eval points only.
MASTERY_STEP_EPISODES = 16


class BenchmarkError(RuntimeError):
    """A benchmark job failed; the message names the job, the cause is chained."""


class RunDirError(ValueError):
    """A run directory that cannot be read; the message names the missing or corrupt file."""


# --------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    """One (teacher, scenario, seed) run.

    ``protocol`` is ``"plain"`` (``batch_size`` tasks per step) or ``"grpo"`` (``prompts``
    tasks per step, each played ``group`` times, ``batch_size`` must be 1); ``prompts`` and
    ``group`` are ignored under plain. Bad values raise ``ValueError`` naming them.
    """

    teacher: str
    label: str
    params: dict[str, Any]
    scenario: str
    seed: int
    episodes: int
    eval_every: int
    batch_size: int = 1
    protocol: str = "plain"
    prompts: int = DEFAULT_PROMPTS
    group: int = DEFAULT_GROUP

    def __post_init__(self) -> None:
        check_protocol(self.protocol, self.prompts, self.group, self.batch_size)

    @property
    def key(self) -> str:
        return f"{self.label}__{self.scenario}__seed{self.seed}"

    @property
    def step_episodes(self) -> int:
        """Episodes per step: ``prompts * group`` under grpo, at most ``batch_size`` under plain."""
        return self.prompts * self.group if self.protocol == "grpo" else self.batch_size

    def protocol_text(self) -> str:
        """The protocol in one token, for tables: ``plain``, ``plain(batch=16)``, ``grpo(8x4)``."""
        if self.protocol == "grpo":
            return f"grpo({self.prompts}x{self.group})"
        return "plain" if self.batch_size == 1 else f"plain(batch={self.batch_size})"

    def describe(self) -> str:
        return f"{self.label} on {self.scenario}, seed {self.seed}"


def check_protocol(protocol: Any, prompts: Any, group: Any, batch_size: Any = 1) -> None:
    """Raise ``ValueError`` naming the bad value of a protocol and its parameters."""
    if not isinstance(protocol, str) or protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, got {protocol!r}")
    _check_positive(prompts, "prompts")
    _check_positive(group, "group")
    _check_positive(batch_size, "batch_size")
    if protocol == "grpo" and batch_size != 1:
        raise ValueError(
            f"batch_size applies to the plain protocol only, got batch_size={batch_size!r} with "
            "protocol 'grpo' (a grpo step is prompts x group episodes)"
        )


@dataclass
class JobResult:
    """What one job recorded. ``arrays`` go to the .npz file, ``meta`` to the .json file."""

    job: Job
    arrays: dict[str, NDArray[Any]]
    meta: dict[str, Any]

    @property
    def eval_episodes(self) -> NDArray[np.int64]:
        return self.arrays["eval_episodes"]

    @property
    def scores(self) -> NDArray[np.float64]:
        return self.arrays["scores"]


def derive_seeds(seed: int) -> tuple[int, int]:
    """``(teacher_seed, student_seed)`` of job seed ``seed``, spawned from a SeedSequence."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    teacher_ss, student_ss = np.random.SeedSequence(int(seed)).spawn(2)
    return (
        int(teacher_ss.generate_state(1, np.uint32)[0]),
        int(student_ss.generate_state(1, np.uint32)[0]),
    )


def eval_points(episodes: int, eval_every: int, step: int = 1) -> NDArray[np.int64]:
    """Episode counts at which the score is read: 0, every ``eval_every``, and the last one.

    With ``step > 1`` (a grpo step of ``step`` episodes, which cannot be split) each point is
    moved up to the end of the step that reaches or crosses it, the next multiple of ``step``,
    and points that land on the same step are kept once.

    Examples
    --------
    >>> eval_points(250, 100).tolist()
    [0, 100, 200, 250]
    >>> eval_points(250, 100, step=32).tolist()
    [0, 128, 224, 256]
    """
    if episodes < 1 or eval_every < 1 or step < 1:
        raise ValueError(
            f"episodes, eval_every and step must be >= 1, got {episodes}, {eval_every}, {step}"
        )
    points = list(range(0, episodes + 1, eval_every))
    if points[-1] != episodes:
        points.append(episodes)
    out = np.asarray(points, dtype=np.int64)
    if step > 1:
        out = np.unique(-(-out // step) * step)
    return out


def _timer_cost_ns(clock: Callable[[], int], n: int = 2000) -> float:
    deltas = np.empty(n, dtype=np.int64)
    for i in range(n):
        a = clock()
        b = clock()
        deltas[i] = b - a
    return float(np.median(deltas))


def _limit_blas_threads() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl ships with scikit-learn; without it, run unlimited
        return None
    return threadpool_limits(limits=1)


def _build(job: Job) -> tuple[Any, Any, dict[str, Any]]:
    scenario = make_scenario(job.scenario)
    teacher_seed, student_seed = derive_seeds(job.seed)
    student = scenario.make_student(student_seed)
    params = {**expert_params(job.teacher, scenario, student), **job.params}
    # Teachers that read the student (the oracle) say so by taking a ``student`` parameter.
    accepted, _, _ = teacher_constructor_params(job.teacher)
    if "student" in accepted:
        params["student"] = student
    from autocurriculum.teachers import make

    teacher = make(job.teacher, student.space, seed=teacher_seed, **params)
    params.pop("student", None)
    return teacher, student, params


def run_job(job: Job) -> JobResult:
    """Run one job in this process and return what it recorded."""
    limiter = _limit_blas_threads()
    try:
        return _run_job(job)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _run_job(job: Job) -> JobResult:
    wall0 = time.perf_counter()
    teacher, student, teacher_params = _build(job)
    space = student.space
    teacher_seed, student_seed = derive_seeds(job.seed)
    grpo = job.protocol == "grpo"
    step_episodes = job.step_episodes
    points = eval_points(job.episodes, job.eval_every, step_episodes if grpo else 1)
    pictures = isinstance(space, Box) and space.ndim >= 2
    log_tasks = pictures or isinstance(space, Discrete)
    snap_every = max(1, math.ceil((len(points) - 1) / (MAX_SNAPSHOTS - 1)))

    clock = time.process_time_ns
    timer_ns = _timer_cost_ns(clock)
    scores = np.empty(len(points), dtype=np.float64)
    scores[0] = student.score()
    best = float(student.best_possible())
    per_step = isinstance(space, Discrete) or step_episodes >= MASTERY_STEP_EPISODES
    first_best: int | None = 0 if scores[0] >= best else None
    check = _mastery_check(student, best) if per_step and first_best is None else None
    snapshots: list[dict[str, Any]] = []
    frames: list[NDArray[np.uint8]] = []
    if pictures:
        snapshots.append({"episode": 0, "model": _snapshot(teacher)})
        frames.append(_competence_frame(student))
    log: list[Any] = []
    log_fn = log.append if log_tasks else None
    teacher_ns = 0
    student_ns = 0
    steps = 0
    for i in range(1, len(points)):
        n = int(points[i] - points[i - 1])
        if grpo:
            t_ns, s_ns, k, at = _steps_grpo(
                teacher, student, n // step_episodes, job.prompts, job.group, clock, log_fn, check
            )
        elif job.batch_size == 1:
            t_ns, s_ns, at = _steps_single(teacher, student, n, clock, log_fn, check)
            if at is not None and at < n:
                more_t, more_s, _ = _steps_single(teacher, student, n - at, clock, log_fn)
                t_ns += more_t
                s_ns += more_s
            k = n
        else:
            t_ns, s_ns, k, at = _steps_batch(
                teacher, student, n, job.batch_size, clock, log_fn, check
            )
        steps += k
        teacher_ns += t_ns
        student_ns += s_ns
        if at is not None:
            first_best = int(points[i - 1]) + at
            check = None
        scores[i] = student.score()
        if first_best is None and scores[i] >= best:
            first_best = int(points[i])
            check = None
        if pictures and (i % snap_every == 0 or i == len(points) - 1):
            model = _snapshot(teacher)
            snapshots.append({"episode": int(points[i]), "model": model})
            frames.append(_competence_frame(student))

    # Each step has two teacher intervals and one student interval, each carrying one clock read.
    teacher_cpu = max(0.0, teacher_ns - 2 * steps * timer_ns)
    student_cpu = max(0.0, student_ns - steps * timer_ns)
    arrays: dict[str, NDArray[Any]] = {"eval_episodes": points, "scores": scores}
    if log_tasks:
        tasks = _stack_log(log, grpo or job.batch_size > 1, space)
        if isinstance(space, Box):
            stride = max(1, math.ceil(len(tasks) / MAX_TASK_POINTS))
            arrays["task_episodes"] = np.arange(0, len(tasks), stride, dtype=np.int64)
            # Pictures show the first two dimensions; the others are not kept.
            arrays["tasks"] = tasks[::stride, :2].astype(np.float32)
        else:
            n_bins = min(ARM_COUNT_BINS, len(tasks))
            edges = np.linspace(0, len(tasks), n_bins + 1).round().astype(np.int64)
            interval = np.searchsorted(edges[1:], np.arange(len(tasks)), side="right")
            counts = np.zeros((n_bins, space.n), dtype=np.int32)
            np.add.at(counts, (interval, tasks.astype(np.int64)), 1)
            arrays["arm_counts"] = counts
            arrays["arm_count_edges"] = edges
    if pictures:
        arrays["competence_image"] = student.competence_image(IMAGE_RESOLUTION).astype(np.float32)
        # One coarse competence map per snapshot, for the animation's background.
        arrays["competence_frames"] = np.stack(frames)
        arrays["competence_frame_episodes"] = np.array(
            [snap["episode"] for snap in snapshots], dtype=np.int64
        )
    competence = getattr(student, "competence", None)
    if isinstance(space, Discrete) and callable(competence):
        arrays["arm_competence"] = np.asarray(competence(), dtype=np.float64)
    if isinstance(space, Discrete):
        # Pictures list the arms in prerequisite order when the student has one.
        chain = [int(a) for a in getattr(student, "chain_order", ())]
        rest = [a for a in range(space.n) if a not in set(chain)]
        arrays["arm_order"] = np.asarray(chain + rest, dtype=np.int64)

    meta = {
        "format": FORMAT_VERSION,
        "job": _job_dict(job),
        "teacher_params": _jsonable(teacher_params),
        "teacher_seed": teacher_seed,
        "student_seed": student_seed,
        "space": space.to_dict(),
        "best_possible": best,
        "final_score": float(scores[-1]),
        "episodes_run": int(points[-1]),
        "episodes_to_best": first_best,
        "mastery_check": "step" if per_step else "eval",
        "teacher_cpu_ns": float(teacher_cpu),
        "student_cpu_ns": float(student_cpu),
        "teacher_cpu_ns_raw": int(teacher_ns),
        "student_cpu_ns_raw": int(student_ns),
        "timer_ns": timer_ns,
        "steps": int(steps),
        "wall_s": time.perf_counter() - wall0,
        "teacher_metrics": _jsonable(teacher.metrics()),
        "snapshots": snapshots,
    }
    return JobResult(job=job, arrays=arrays, meta=meta)


def _competence_frame(student: Any) -> NDArray[np.uint8]:
    image = np.asarray(student.competence_image(FRAME_RESOLUTION), dtype=np.float64)
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def _snapshot(teacher: Any) -> dict[str, Any]:
    """The teacher's model, projected on the first two task dimensions (all pictures show)."""
    model = _jsonable(teacher.model_snapshot())
    if not isinstance(model, dict):
        raise ValueError(f"{type(teacher).__name__}.model_snapshot() must return a dict")
    out: dict[str, Any] = {}
    for key, items in model.items():
        if key in ("gaussians", "boxes"):
            out[key] = [_project(teacher, key, item) for item in items]
        else:
            out[key] = items
    return out


_SNAPSHOT_FIELDS = {"gaussians": ("mean", "cov", "weight", "value"), "boxes": ("low", "high")}


def _project(teacher: Any, key: str, item: Any) -> Any:
    # A malformed snapshot is a teacher bug: fail the job here rather than draw nonsense later.
    missing = [f for f in _SNAPSHOT_FIELDS[key] if not isinstance(item, dict) or f not in item]
    if missing:
        raise ValueError(
            f"{type(teacher).__name__}.model_snapshot(): each of {key!r} needs "
            f"{list(_SNAPSHOT_FIELDS[key])}, got {item!r}"
        )
    out = dict(item)
    for key in ("mean", "low", "high"):
        if isinstance(out.get(key), list):
            out[key] = out[key][:2]
    cov = out.get("cov")
    if isinstance(cov, list) and cov and isinstance(cov[0], list):
        out["cov"] = [row[:2] for row in cov[:2]]
    return out


def _steps_single(
    teacher: Any,
    student: Any,
    n: int,
    clock: Callable[[], int],
    log: Callable[[Any], None] | None,
    mastered: Callable[[], bool] | None = None,
) -> tuple[int, int, int | None]:
    """The faithful protocol, one task at a time, through the single-task API.

    The batch API's validation costs more than the grid student itself, so this loop is kept
    free of attribute lookups. Returns the teacher and student CPU ns, and the steps played if
    ``mastered`` held after one of them (it stops there), else ``None``. The check runs
    between a clock read and a fresh one, so neither side is charged for it.
    """
    sample = teacher.sample
    update = teacher.update
    play = student.episode
    record = log if log is not None else _ignore
    t_ns = 0
    s_ns = 0
    t0 = clock()
    for j in range(n):
        task = sample()
        t1 = clock()
        record(task)
        reward = play(task)
        t2 = clock()
        update(task, reward)
        t3 = clock()
        t_ns += (t1 - t0) + (t3 - t2)
        s_ns += t2 - t1
        if mastered is not None and mastered():
            return t_ns, s_ns, j + 1
        t0 = t3 if mastered is None else clock()
    return t_ns, s_ns, None


def _ignore(task: Any) -> None:
    return None


def _mastery_check(student: Any, best: float) -> Callable[[], bool]:
    score = student.score

    def mastered() -> bool:
        return score() >= best

    return mastered


def _steps_batch(
    teacher: Any,
    student: Any,
    n: int,
    batch: int,
    clock: Callable[[], int],
    log: Callable[[Any], None] | None,
    mastered: Callable[[], bool] | None = None,
) -> tuple[int, int, int, int | None]:
    """Plain steps of up to ``batch`` tasks over ``n`` episodes.

    Returns teacher ns, student ns, steps, and the episodes played when ``mastered`` first
    held after a step (``None`` if it never did or was not given).
    """
    t_ns = 0
    s_ns = 0
    steps = 0
    done = 0
    at: int | None = None
    t0 = clock()
    while done < n:
        b = min(batch, n - done)
        tasks = teacher.sample(b)
        t1 = clock()
        if log is not None:
            log(tasks)
        rewards = student.episodes(tasks)
        t2 = clock()
        teacher.update(tasks, rewards)
        t3 = clock()
        t_ns += (t1 - t0) + (t3 - t2)
        s_ns += t2 - t1
        t0 = t3
        done += b
        steps += 1
        if mastered is not None:
            if mastered():
                at = done
                mastered = None
            t0 = clock()
    return t_ns, s_ns, steps, at


def _steps_grpo(
    teacher: Any,
    student: Any,
    n_steps: int,
    prompts: int,
    group: int,
    clock: Callable[[], int],
    log: Callable[[Any], None] | None,
    mastered: Callable[[], bool] | None,
) -> tuple[int, int, int, int | None]:
    """``n_steps`` grpo steps; returns the same as :func:`_steps_batch`."""
    ids = np.repeat(np.arange(prompts, dtype=np.int64), group)
    per_step = prompts * group
    t_ns = 0
    s_ns = 0
    at: int | None = None
    t0 = clock()
    for j in range(n_steps):
        tasks = teacher.sample(prompts)
        t1 = clock()
        batch = np.repeat(tasks, group, axis=0)
        if log is not None:
            log(batch)
        rewards = student.episodes(batch)
        t2 = clock()
        # A fresh ids array per step: a teacher may keep what it is given.
        teacher.update(batch, rewards, signals={"group": ids.copy()})
        t3 = clock()
        t_ns += (t1 - t0) + (t3 - t2)
        s_ns += t2 - t1
        t0 = t3
        if mastered is not None:
            if mastered():
                at = (j + 1) * per_step
                mastered = None
            t0 = clock()
    return t_ns, s_ns, n_steps, at


def _stack_log(log: list[Any], batched: bool, space: Any) -> NDArray[Any]:
    if not log:
        return np.empty((0, *space.task_shape))
    if not batched:
        return np.asarray(log)
    return np.concatenate([np.asarray(x) for x in log], axis=0)


# ------------------------------------------------------------------ serialisation
def _jsonable(value: Any) -> Any:
    """Plain JSON types for numpy values, dataclasses, tuples; ``repr`` for anything else."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _job_dict(job: Job) -> dict[str, Any]:
    out = {
        "key": job.key,
        "teacher": job.teacher,
        "label": job.label,
        "params": _jsonable(job.params),
        "scenario": job.scenario,
        "seed": job.seed,
        "episodes": job.episodes,
        "eval_every": job.eval_every,
        "batch_size": job.batch_size,
    }
    # A plain job is described exactly as before the protocol option, so older runs resume.
    if job.protocol != "plain":
        out.update(protocol=job.protocol, prompts=job.prompts, group=job.group)
    return out


def _dump_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=1, allow_nan=False) + "\n").encode())


def _write_result(run_dir: Path, result: JobResult) -> None:
    raw = run_dir / RAW_DIR
    buf = io.BytesIO()
    np.savez_compressed(buf, **result.arrays)
    atomic_write_bytes(raw / f"{result.job.key}.npz", buf.getvalue())
    # The .json goes last: its presence marks the job complete.
    _dump_json(raw / f"{result.job.key}.json", result.meta)


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


# ------------------------------------------------------------------------- running
def run_benchmark(
    teachers: Sequence[str | TeacherSpec],
    scenarios: Sequence[str],
    seeds: int | Sequence[int] = 5,
    *,
    out: str | os.PathLike[str],
    episodes: int | None = None,
    batch_size: int = 1,
    protocol: str = "plain",
    prompts: int = DEFAULT_PROMPTS,
    group: int = DEFAULT_GROUP,
    workers: int | None = None,
    progress: bool = True,
    strict: bool = True,
    suite: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> Path:
    """Run teachers x scenarios x seeds and write a run directory; return its path.

    Parameters
    ----------
    teachers : sequence of str or TeacherSpec
        Registry names, or specs with parameters and labels.
    scenarios : sequence of str
        Scenario names.
    seeds : int or sequence of int
        A count (seeds ``0 .. n-1``) or explicit job seeds.
    out : path
        The run directory. It must not hold a run already unless ``resume`` is set.
    episodes : int or None
        Episode budget of every scenario; ``None`` keeps each scenario's own. A budget under
        10 evaluations' worth evaluates every ``episodes // 10`` episodes instead, so even a
        short run has a curve.
    batch_size : int
        Tasks per ``sample``/``update`` call under the plain protocol; 1 is the faithful
        protocol. Must be 1 under grpo.
    protocol : {"plain", "grpo"}
        The episode loop (see the module docstring). ``"grpo"`` runs the teachers that need an
        |advantage| signal (SEC, DUMP), which plain leaves out; every other teacher runs under
        it too, ignoring the signal.
    prompts, group : int
        grpo only: tasks sampled per step, and rollouts per task (a step plays
        ``prompts * group`` episodes; eval points move to the end of the step that reaches
        them). Validated, then ignored, under plain.
    workers : int or None
        Worker processes; ``None`` means ``os.cpu_count()``. 1 runs in this process.
    progress : bool
        Show a progress bar (tqdm, if installed and stderr is a terminal).
    strict : bool
        Whether the teachers were named by the user: see :func:`autocurriculum.bench.suites.plan`.
    suite : str or None
        Suite name, recorded in the config.
    resume : bool
        Complete an existing run directory with the same configuration, keeping finished jobs.
    overwrite : bool
        Replace the run in ``out`` (its config, raw results, summary, report and figures; any
        other file stays). A non-empty directory that holds no run is never touched.

    Raises
    ------
    autocurriculum._registry.UnknownNameError
        An unknown teacher or scenario name.
    ValueError
        Bad arguments (the message names the value), or ``out`` holds another run.
    BenchmarkError
        A job failed; the message names the job and the worker's exception is chained.
    """
    seed_list = _seed_list(seeds)
    check_protocol(protocol, prompts, group, batch_size)
    if protocol == "plain":
        prompts, group = DEFAULT_PROMPTS, DEFAULT_GROUP  # unused: keep the jobs canonical
    if episodes is not None:
        _check_positive(episodes, "episodes")
    if workers is None:
        workers = os.cpu_count() or 1
    _check_positive(workers, "workers")

    pairs, skipped = plan(teachers, scenarios, strict=strict, protocol=protocol)
    jobs: list[Job] = []
    for pair in pairs:
        sc = make_scenario(pair.scenario)
        n_ep = episodes if episodes is not None else sc.episodes
        every = sc.eval_every if n_ep >= 10 * sc.eval_every else max(1, n_ep // 10)
        jobs.extend(
            Job(
                teacher=pair.spec.name,
                label=pair.spec.label,
                params=pair.params,
                scenario=pair.scenario,
                seed=s,
                episodes=n_ep,
                eval_every=every,
                batch_size=batch_size,
                protocol=protocol,
                prompts=prompts,
                group=group,
            )
            for s in seed_list
        )

    run_dir = Path(out)
    config = {
        "format": FORMAT_VERSION,
        "suite": suite,
        "teachers": [
            {"name": p.spec.name, "label": p.spec.label, "params": _jsonable(p.spec.params)}
            for p in {p.spec.label: p for p in pairs}.values()
        ],
        "scenarios": list(dict.fromkeys(p.scenario for p in pairs)),
        "seeds": seed_list,
        "episodes": episodes,
        "batch_size": batch_size,
        "protocol": _protocol_config(protocol, prompts, group, batch_size),
        "skipped": skipped,
        "expert_rules": {
            t: EXPERT_DOCS.get(t, "see autocurriculum.bench.suites.EXPERT_RULES")
            for t in dict.fromkeys(p.spec.name for p in pairs)
            if t in EXPERT_RULES
        },
        "seed_derivation": "numpy.random.SeedSequence(seed).spawn(2) -> (teacher, student)",
        "timing": "time.process_time_ns around sample/update (teacher) and episode (student), "
        "minus the measured cost of a clock read per interval; BLAS limited to 1 thread",
        "mastery": "episodes_to_best: first episode count with student.score() >= "
        f"best_possible(), read after every step on Discrete students or steps of >= "
        f"{MASTERY_STEP_EPISODES} episodes, else at the eval points (each job's mastery_check)",
        "jobs": [_job_dict(j) for j in jobs],
    }
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if overwrite:
        _clear_run(run_dir)
    done = _prepare_dir(run_dir, config, resume)
    config["version"] = _version()
    config["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    config["machine"] = _machine()
    config["workers"] = workers
    if not resume or not (run_dir / CONFIG_FILE).exists():
        _dump_json(run_dir / CONFIG_FILE, config)

    todo = [j for j in jobs if j.key not in done]
    # Longest jobs first, so the pool does not end on one long straggler.
    todo.sort(key=lambda j: -j.episodes)
    _execute(todo, run_dir, workers=workers, progress=progress, total=len(jobs), done=len(done))
    write_summary(run_dir)
    return run_dir


def _protocol_config(protocol: str, prompts: int, group: int, batch_size: int) -> dict[str, Any]:
    if protocol == "grpo":
        return {
            "name": "grpo",
            "prompts": prompts,
            "group": group,
            "step_episodes": prompts * group,
            "signals": "{'group': numpy.repeat(numpy.arange(prompts), group)}",
            "eval": "each eval point is read at the end of the step that reaches or crosses it; "
            "eval_episodes hold those steps' episode counts",
        }
    return {"name": "plain", "batch_size": batch_size}


def _version() -> str:
    from autocurriculum import __version__

    return __version__


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        _check_positive(int(seeds), "seeds")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]  # type: ignore[union-attr]
    if not out or len(set(out)) != len(out) or min(out) < 0:
        raise ValueError(f"seeds must be a count >= 1 or distinct ints >= 0, got {seeds!r}")
    return out


def _check_positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _clear_run(run_dir: Path) -> None:
    if not (run_dir / CONFIG_FILE).is_file():
        return  # not a run: _prepare_dir refuses it if it is not empty
    for name in (RAW_DIR, "figures"):
        if (run_dir / name).is_dir():
            shutil.rmtree(run_dir / name)
    for name in (CONFIG_FILE, SUMMARY_FILE, "report.md"):
        (run_dir / name).unlink(missing_ok=True)


def _prepare_dir(run_dir: Path, config: dict[str, Any], resume: bool) -> set[str]:
    cfg_path = run_dir / CONFIG_FILE
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run directory {str(run_dir)!r} exists and is not a directory")
    if cfg_path.exists():
        if not resume:
            raise ValueError(
                f"{str(run_dir)!r} already holds a run ({CONFIG_FILE}); choose another output "
                "directory, resume it, or overwrite it"
            )
        old = _read_json(cfg_path, CONFIG_FILE)
        if old.get("jobs") != config["jobs"]:
            raise ValueError(
                f"cannot resume {str(run_dir)!r}: its jobs differ from this configuration "
                "(teachers, parameters, scenarios, seeds, episodes or batch size)"
            )
        done = set()
        for job in config["jobs"]:
            try:
                _read_result_files(run_dir, job)
            except RunDirError:
                continue
            done.add(job["key"])
        return done
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(
            f"output directory {str(run_dir)!r} is not empty and holds no run; choose another one"
        )
    (run_dir / RAW_DIR).mkdir(parents=True, exist_ok=True)
    return set()


def _execute(
    jobs: list[Job], run_dir: Path, *, workers: int, progress: bool, total: int, done: int
) -> None:
    bar = _progress_bar(total, done, enabled=progress)
    try:
        if workers == 1 or len(jobs) <= 1:
            for job in jobs:
                try:
                    result = run_job(job)
                except Exception as exc:
                    raise _job_error(job, exc) from exc
                _write_result(run_dir, result)
                _advance(bar, job)
            return
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures: dict[Future[JobResult], Job] = {pool.submit(run_job, j): j for j in jobs}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for fut in finished:
                        job = futures[fut]
                        exc = fut.exception()
                        if exc is not None:
                            raise _job_error(job, exc) from exc
                        _write_result(run_dir, fut.result())
                        _advance(bar, job)
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()


def _job_error(job: Job, exc: BaseException) -> BenchmarkError:
    return BenchmarkError(f"job {job.describe()} ({job.key}) failed: {type(exc).__name__}: {exc}")


def _progress_bar(total: int, done: int, *, enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is in the bench extra; without it, run without a bar
        return None
    return tqdm(total=total, initial=done, unit="job", desc="benchmark", dynamic_ncols=True)


def _advance(bar: Any, job: Job) -> None:
    if bar is not None:
        bar.set_postfix_str(job.key, refresh=False)
        bar.update(1)


# ------------------------------------------------------------------------- reading
@dataclass
class Run:
    """A run directory, read back: its config and one :class:`JobResult` per job."""

    path: Path
    config: dict[str, Any]
    results: dict[str, JobResult] = field(default_factory=dict)

    def teachers(self) -> list[str]:
        return [t["label"] for t in self.config["teachers"]]

    def scenarios(self) -> list[str]:
        return list(self.config["scenarios"])

    def group(self, teacher: str, scenario: str) -> list[JobResult]:
        """Results of one (teacher label, scenario), in seed order."""
        want = (teacher, scenario)
        out = [r for r in self.results.values() if (r.job.label, r.job.scenario) == want]
        return sorted(out, key=lambda r: r.job.seed)


def _read_json(path: Path, name: str) -> Any:
    if not path.exists():
        raise RunDirError(f"{name} is missing from {str(path.parent)!r}")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunDirError(f"{name} in {str(path.parent)!r} is corrupt: {err}") from err


_META_KEYS = ("space", "best_possible", "teacher_cpu_ns", "student_cpu_ns", "snapshots", "steps")


def _read_result_files(run_dir: Path, job: dict[str, Any]) -> JobResult:
    key = job["key"]
    json_name = f"{RAW_DIR}/{key}.json"
    npz_name = f"{RAW_DIR}/{key}.npz"
    meta = _read_json(run_dir / json_name, json_name)
    if not isinstance(meta, dict) or meta.get("job") != job:
        raise RunDirError(
            f"{json_name} in {str(run_dir)!r} is corrupt: it does not describe job {key}"
        )
    lacking = [k for k in _META_KEYS if k not in meta]
    if lacking:
        raise RunDirError(f"{json_name} in {str(run_dir)!r} is corrupt: no {lacking} entries")
    npz_path = run_dir / npz_name
    if not npz_path.exists():
        raise RunDirError(f"{npz_name} is missing from {str(run_dir)!r}")
    try:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as err:  # zipfile, zlib and numpy raise a zoo of types for bad bytes
        raise RunDirError(f"{npz_name} in {str(run_dir)!r} is corrupt: {err}") from err
    for k in ("eval_episodes", "scores"):
        if k not in arrays:
            raise RunDirError(f"{npz_name} in {str(run_dir)!r} is corrupt: no {k!r} array")
    if arrays["scores"].shape != arrays["eval_episodes"].shape:
        raise RunDirError(f"{npz_name} in {str(run_dir)!r} is corrupt: scores and episodes differ")
    try:
        spec = _job_from_dict(job)
    except ValueError as err:
        raise RunDirError(
            f"{CONFIG_FILE} in {str(run_dir)!r} is corrupt: job {key}: {err}"
        ) from err
    return JobResult(job=spec, arrays=arrays, meta=meta)


def _job_from_dict(job: dict[str, Any]) -> Job:
    return Job(
        teacher=job["teacher"],
        label=job["label"],
        params=job["params"],
        scenario=job["scenario"],
        seed=job["seed"],
        episodes=job["episodes"],
        eval_every=job["eval_every"],
        batch_size=job["batch_size"],
        protocol=job.get("protocol", "plain"),
        prompts=job.get("prompts", DEFAULT_PROMPTS),
        group=job.get("group", DEFAULT_GROUP),
    )


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read a run directory written by :func:`run_benchmark`.

    Raises
    ------
    RunDirError
        A missing or corrupt file; the message names it.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(f"run directory {str(path)!r} does not exist")
    config = _read_json(path / CONFIG_FILE, CONFIG_FILE)
    needed = ("teachers", "scenarios", "seeds", "jobs")
    if (
        not isinstance(config, dict)
        or any(k not in config for k in needed)
        or not all(isinstance(t, dict) and "label" in t for t in config["teachers"])
        or not all(isinstance(j, dict) and "key" in j for j in config["jobs"])
    ):
        raise RunDirError(
            f"{CONFIG_FILE} in {str(path)!r} is corrupt: expected keys {list(needed)}, teachers "
            "with a label and jobs with a key"
        )
    run = Run(path=path, config=config)
    for job in config["jobs"]:
        try:
            run.results[job["key"]] = _read_result_files(path, job)
        except (KeyError, TypeError) as err:
            raise RunDirError(
                f"{CONFIG_FILE} in {str(path)!r} is corrupt: bad job entry {job!r}"
            ) from err
    return run


# ------------------------------------------------------------------------ summary
def summarise(run: Run, *, random_state: int = CI_RANDOM_STATE) -> list[dict[str, Any]]:
    """One row per (teacher, scenario) with the :data:`SUMMARY_COLUMNS` (NaN for n/a)."""
    rows = []
    for scenario in run.scenarios():
        for teacher in run.teachers():
            group = run.group(teacher, scenario)
            if not group:
                continue
            rows.append(_summary_row(teacher, scenario, group, random_state))
    return rows


def _summary_row(
    teacher: str, scenario: str, group: list[JobResult], random_state: int
) -> dict[str, Any]:
    x = group[0].eval_episodes
    for r in group[1:]:
        if not np.array_equal(r.eval_episodes, x):
            raise RunDirError(f"runs of {teacher} on {scenario} have different eval points")
    curves = np.stack([r.scores for r in group])
    best = np.array([r.meta["best_possible"] for r in group])
    final_mean, final_lo, final_hi = metrics.bootstrap_ci(curves[:, -1], random_state=random_state)
    aucs = metrics.auc(curves, x)
    auc_mean, auc_lo, auc_hi = metrics.bootstrap_ci(aucs, random_state=random_state)
    to90 = metrics.episodes_to_threshold(curves, x, 0.9 * best)
    to_best = _episodes_to_best(group, random_state)
    # Under grpo the last step can run past the budget: per-episode figures count what ran.
    episodes = sum(int(r.eval_episodes[-1]) for r in group)
    protocols = sorted({r.job.protocol_text() for r in group})
    return {
        "teacher": teacher,
        "scenario": scenario,
        "seeds": len(group),
        "episodes": int(x[-1]),
        "protocol": "/".join(protocols),
        "best_possible_mean": float(best.mean()),
        "final_mean": final_mean,
        "final_ci_low": final_lo,
        "final_ci_high": final_hi,
        "auc_mean": auc_mean,
        "auc_ci_low": auc_lo,
        "auc_ci_high": auc_hi,
        "episodes_to_90_mean": metrics.mean_if_all_reached(to90),
        "reached_90": f"{int(np.count_nonzero(~np.isnan(to90)))}/{len(group)}",
        **to_best,
        "teacher_us_per_episode": sum(r.meta["teacher_cpu_ns"] for r in group) / episodes / 1e3,
        "student_us_per_episode": sum(r.meta["student_cpu_ns"] for r in group) / episodes / 1e3,
    }


def _episodes_to_best(group: list[JobResult], random_state: int) -> dict[str, Any]:
    """Mean and bootstrap CI of ``episodes_to_best``, only when every seed reached it.

    As for episodes to 90%: averaging only the seeds that got there would reward a teacher
    that rarely does. ``reached_best`` always says how many did.
    """
    nan = float("nan")
    if any("episodes_to_best" not in r.meta for r in group):  # a run from before the field
        return {
            "episodes_to_best_mean": nan,
            "episodes_to_best_ci_low": nan,
            "episodes_to_best_ci_high": nan,
            "reached_best": "",
        }
    values = [r.meta["episodes_to_best"] for r in group]
    reached = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    mean = low = high = nan
    if reached and len(reached) == len(group):
        mean, low, high = metrics.bootstrap_ci(np.array(reached), random_state=random_state)
    return {
        "episodes_to_best_mean": mean,
        "episodes_to_best_ci_low": low,
        "episodes_to_best_ci_high": high,
        "reached_best": f"{len(reached)}/{len(group)}",
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_summary(run_dir: str | os.PathLike[str], run: Run | None = None) -> Path:
    """(Re)write ``summary.csv`` of a run directory from its raw results."""
    run = run if run is not None else load_run(run_dir)
    rows = summarise(run)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row[k]) for k in SUMMARY_COLUMNS})
    path = Path(run_dir) / SUMMARY_FILE
    atomic_write_bytes(path, buf.getvalue().encode())
    return path
