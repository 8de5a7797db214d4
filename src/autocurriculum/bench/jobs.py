"""Benchmark jobs: one (teacher, scenario, seed), its seeds, eval points, and what it records.

:func:`run_job` builds the job's student and teacher, plays :func:`~autocurriculum.bench.loop.
run_loop` and keeps, besides the curve of % mastered at episode 0 and every eval point:

- the first episode count at which the student is fully mastered (``episodes_to_best``);
- the teacher's CPU time apart from the student's;
- for pictures, a bounded subsample of the sampled tasks, the teacher's model at (up to
  :data:`MAX_SNAPSHOTS`) eval points and the student's competence then and at the end.

Seeds: job seed ``k`` is spawned (``numpy.random.SeedSequence(k).spawn(2)``) into a teacher seed
and a student seed (:func:`derive_seeds`), so a run is reproducible, and every teacher meets the
same students (same rugged permutation, same reward noise stream) for a given ``k``, under
either protocol.

First full mastery: ``episodes_to_best`` is the first episode count at which
``student.evaluate() >= student.best_possible()`` (``None`` if never within the run). A read
costs 2-7 µs on an arms student and 3-19 µs on a grid student; read after every episode it
would add 4.8 µs (+33%) to the runner's 14.5 µs per episode of the random teacher on grid-2d.
So it is read after every step only on a Discrete student (exact; measured cost, random
teacher, one episode per step: +2.4 µs or +18% per episode on arms-chain, +8.9 µs or +63% on
arms-mixed, whose student decays, until the first mastery) or when a step plays at least
:data:`MASTERY_STEP_EPISODES` episodes (grpo steps, large batches: at most ~1 µs per episode).
Otherwise (a Box student, fewer episodes per step) it is read at the eval points only, where the
score is read anyway, so the figure is the first eval point at full mastery, a resolution of
``eval_every`` episodes. The job's .json says which (``mastery_check``: ``"step"`` or
``"eval"``).

BLAS is limited to one thread while a job runs, so that parallel workers do not oversubscribe
the cores (the CPU time of a teacher that calls BLAS is charged in full either way).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum._threads import single_threaded_blas
from autocurriculum.bench._json import jsonable
from autocurriculum.bench.learner import ArmCompetence, CompetenceMap
from autocurriculum.bench.loop import Callback, LoopState, run_loop
from autocurriculum.bench.protocols import (
    DEFAULT_GROUP,
    DEFAULT_PROMPTS,
    StepProtocol,
    make_protocol,
)
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.suites import build_teacher
from autocurriculum.spaces import Box, Discrete, Space

__all__ = [
    "FORMAT_VERSION",
    "MASTERY_STEP_EPISODES",
    "Job",
    "JobResult",
    "derive_seeds",
    "eval_points",
    "run_job",
]

#: Version of the files a job writes.
FORMAT_VERSION = 1
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
#: Steps of at least this many episodes read the score after every step for first mastery
#: (at most ~0.6 µs per episode even on grid-4d); shorter steps on a Box student read it at
#: the eval points only.
MASTERY_STEP_EPISODES = 16


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
        self.step_protocol()  # checks the protocol and its parameters

    @property
    def key(self) -> str:
        return f"{self.label}__{self.scenario}__seed{self.seed}"

    def step_protocol(self) -> StepProtocol:
        """The job's protocol object."""
        return make_protocol(
            self.protocol, batch_size=self.batch_size, prompts=self.prompts, group=self.group
        )

    def protocol_text(self) -> str:
        """The protocol in one token, for tables: ``plain``, ``plain(batch=16)``, ``grpo(8x4)``."""
        return self.step_protocol().text()

    def describe(self) -> str:
        return f"{self.label} on {self.scenario}, seed {self.seed}"

    def to_dict(self) -> dict[str, Any]:
        """The job as recorded in ``config.json`` and its raw .json (also the resume check)."""
        out = {
            "key": self.key,
            "teacher": self.teacher,
            "label": self.label,
            "params": jsonable(self.params),
            "scenario": self.scenario,
            "seed": self.seed,
            "episodes": self.episodes,
            "eval_every": self.eval_every,
            "batch_size": self.batch_size,
        }
        # A plain job is described exactly as before the protocol option, so older runs resume.
        if self.protocol != "plain":
            out.update(protocol=self.protocol, prompts=self.prompts, group=self.group)
        return out

    @classmethod
    def from_dict(cls, job: dict[str, Any]) -> Job:
        """The job :meth:`to_dict` described; a missing key raises ``KeyError``."""
        return cls(
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


def run_job(job: Job) -> JobResult:
    """Run one job in this process and return what it recorded."""
    with single_threaded_blas():
        return _run_job(job)


def _run_job(job: Job) -> JobResult:
    wall0 = time.perf_counter()
    scenario = make_scenario(job.scenario)
    teacher_seed, student_seed = derive_seeds(job.seed)
    student = scenario.make_student(student_seed)
    teacher, teacher_params = build_teacher(
        job.teacher,
        student,
        seed=teacher_seed,
        params=job.params,
        expert=scenario.expert_values(student),
    )
    space = student.space
    protocol = job.step_protocol()
    points = eval_points(
        job.episodes, job.eval_every, 1 if protocol.splittable else protocol.step_episodes
    )
    pictures = isinstance(space, Box) and space.ndim >= 2 and isinstance(student, CompetenceMap)
    per_step = isinstance(space, Discrete) or protocol.step_episodes >= MASTERY_STEP_EPISODES
    recorder = _Snapshots(len(points)) if pictures else None
    result = run_loop(
        teacher,
        student,
        protocol,
        eval_at=points,
        mastery="step" if per_step else "eval",
        callbacks=[recorder] if recorder is not None else (),
        log_tasks=pictures or isinstance(space, Discrete),
    )

    arrays: dict[str, NDArray[Any]] = {
        "eval_episodes": result.eval_episodes,
        "scores": result.evaluations,
    }
    if result.tasks is not None:
        arrays.update(_task_arrays(result.tasks, space))
    if recorder is not None:
        arrays["competence_image"] = np.asarray(
            student.competence_image(IMAGE_RESOLUTION), dtype=np.float32
        )
        # One coarse competence map per snapshot, for the animation's background.
        arrays["competence_frames"] = np.stack(recorder.frames)
        arrays["competence_frame_episodes"] = np.array(
            [snap["episode"] for snap in recorder.snapshots], dtype=np.int64
        )
    if isinstance(space, Discrete):
        if isinstance(student, ArmCompetence):
            arrays["arm_competence"] = np.asarray(student.competence(), dtype=np.float64)
        # Pictures list the arms in prerequisite order when the student has one.
        chain = [int(a) for a in getattr(student, "chain_order", ())]
        rest = [a for a in range(space.n) if a not in set(chain)]
        arrays["arm_order"] = np.asarray(chain + rest, dtype=np.int64)

    meta = {
        "format": FORMAT_VERSION,
        "job": job.to_dict(),
        "teacher_params": jsonable(teacher_params),
        "teacher_seed": teacher_seed,
        "student_seed": student_seed,
        "space": space.to_dict(),
        "best_possible": result.best_possible,
        "final_score": float(result.evaluations[-1]),
        "episodes_run": result.episodes,
        "unit": student.unit,
        "units_run": result.units,
        "episodes_to_best": result.first_best,
        "mastery_check": "step" if per_step else "eval",
        "teacher_cpu_ns": result.teacher_ns,
        "student_cpu_ns": result.learner_ns,
        "teacher_cpu_ns_raw": result.teacher_ns_raw,
        "student_cpu_ns_raw": result.learner_ns_raw,
        "timer_ns": result.timer_ns,
        "steps": result.steps,
        "wall_s": time.perf_counter() - wall0,
        "teacher_metrics": jsonable(teacher.metrics()),
        "snapshots": recorder.snapshots if recorder is not None else [],
    }
    return JobResult(job=job, arrays=arrays, meta=meta)


def _task_arrays(tasks: NDArray[Any], space: Space) -> dict[str, NDArray[Any]]:
    """What pictures need of the tasks played: a subsample (Box) or arm counts over time."""
    if isinstance(space, Box):
        stride = max(1, math.ceil(len(tasks) / MAX_TASK_POINTS))
        return {
            "task_episodes": np.arange(0, len(tasks), stride, dtype=np.int64),
            # Pictures show the first two dimensions; the others are not kept.
            "tasks": tasks[::stride, :2].astype(np.float32),
        }
    assert isinstance(space, Discrete)  # the runner logs tasks of Box and Discrete spaces only
    n_bins = min(ARM_COUNT_BINS, len(tasks))
    edges = np.linspace(0, len(tasks), n_bins + 1).round().astype(np.int64)
    interval = np.searchsorted(edges[1:], np.arange(len(tasks)), side="right")
    counts = np.zeros((n_bins, space.n), dtype=np.int32)
    np.add.at(counts, (interval, tasks.astype(np.int64)), 1)
    return {"arm_counts": counts, "arm_count_edges": edges}


class _Snapshots(Callback):
    """At up to :data:`MAX_SNAPSHOTS` eval points: the teacher's model and a competence map."""

    def __init__(self, n_points: int):
        self.last = n_points - 1
        self.every = max(1, math.ceil(self.last / (MAX_SNAPSHOTS - 1)))
        self.snapshots: list[dict[str, Any]] = []
        self.frames: list[NDArray[np.uint8]] = []

    def on_eval(self, state: LoopState) -> None:
        i = state.evaluations - 1
        if i % self.every == 0 or i == self.last:
            self.snapshots.append({"episode": state.episodes, "model": _snapshot(state.teacher)})
            image = np.asarray(
                state.learner.competence_image(FRAME_RESOLUTION),  # type: ignore[attr-defined]
                dtype=np.float64,
            )
            self.frames.append(np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8))


def _snapshot(teacher: Any) -> dict[str, Any]:
    """The teacher's model, projected on the first two task dimensions (all pictures show)."""
    model = jsonable(teacher.model_snapshot())
    if not isinstance(model, dict):
        raise ValueError(f"{type(teacher).__name__}.model_snapshot() must return a dict")
    out: dict[str, Any] = {}
    for key, items in model.items():
        if key in _SNAPSHOT_FIELDS:
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
    for field in ("mean", "low", "high"):
        if isinstance(out.get(field), list):
            out[field] = out[field][:2]
    cov = out.get("cov")
    if isinstance(cov, list) and cov and isinstance(cov[0], list):
        out["cov"] = [row[:2] for row in cov[:2]]
    return out
