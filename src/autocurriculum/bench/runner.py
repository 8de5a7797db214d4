"""The benchmark runner: teachers x scenarios x seeds, in parallel worker processes.

:func:`run_benchmark` plans the (teacher, scenario) pairs that can run
(:func:`autocurriculum.bench.suites.plan`), expands them into one :class:`Job` per seed, runs
the jobs in a pool of worker processes (:mod:`~autocurriculum.bench.pool`), writes each result
to the run directory as it arrives (:mod:`~autocurriculum.bench.rundir`) and ends with its
``summary.csv`` (:mod:`~autocurriculum.bench.summary`). Each job plays the training loop
(:mod:`~autocurriculum.bench.loop`) under one of the step protocols
(:mod:`~autocurriculum.bench.protocols`) and records what :mod:`~autocurriculum.bench.jobs`
describes.

A failed job stops the run with :class:`BenchmarkError` naming it (after the jobs already
running finish); ``resume=True`` completes an interrupted run directory. The protocol and its
parameters are part of each job's description in ``config.json`` (plain jobs are described as
before the protocol existed, so older runs still resume), so a run cannot be resumed under
another protocol.

This module also re-exports the names of the modules it is built from, so that
``from autocurriculum.bench.runner import load_run, summarise, Job, ...`` keeps working.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.bench._json import jsonable
from autocurriculum.bench.jobs import (
    FORMAT_VERSION,
    MASTERY_STEP_EPISODES,
    Job,
    JobResult,
    derive_seeds,
    eval_points,
    run_job,
)
from autocurriculum.bench.pool import BenchmarkError, execute
from autocurriculum.bench.protocols import (
    DEFAULT_GROUP,
    DEFAULT_PROMPTS,
    PROTOCOLS,
    check_positive,
    check_protocol,
    make_protocol,
)
from autocurriculum.bench.rundir import (
    CONFIG_FILE,
    Run,
    RunDirError,
    clear_run,
    dump_json,
    load_run,
    machine,
    prepare_run_dir,
    write_result,
)
from autocurriculum.bench.scenarios import EXPERT_DOCS, make_scenario
from autocurriculum.bench.suites import Entrant, PlannedPair, expert_for, plan
from autocurriculum.bench.summary import (
    CI_RANDOM_STATE,
    SUMMARY_COLUMNS,
    summarise,
    write_summary,
)
from autocurriculum.teachers.registry import teacher_spec

__all__ = [
    "CI_RANDOM_STATE",
    "DEFAULT_GROUP",
    "DEFAULT_PROMPTS",
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


def run_benchmark(
    teachers: Sequence[str | Entrant],
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
    teachers : sequence of str or Entrant
        Registry names, or entrants with parameters and labels.
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
        The step protocol (:mod:`autocurriculum.bench.protocols`). ``"grpo"`` runs the teachers
        that need an |advantage| or group signal (SEC, DUMP), which plain leaves out; every
        other teacher runs under it too, ignoring the signals.
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
    step_protocol = make_protocol(protocol, batch_size=batch_size, prompts=prompts, group=group)
    if protocol == "plain":
        prompts, group = DEFAULT_PROMPTS, DEFAULT_GROUP  # unused: keep the jobs canonical
    if episodes is not None:
        check_positive(episodes, "episodes")
    if workers is None:
        workers = os.cpu_count() or 1
    check_positive(workers, "workers")
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")

    pairs, skipped = plan(teachers, scenarios, strict=strict, protocol=protocol)
    jobs: list[Job] = []
    for pair in pairs:
        sc = make_scenario(pair.scenario)
        n_ep = episodes if episodes is not None else sc.episodes
        every = sc.eval_every if n_ep >= 10 * sc.eval_every else max(1, n_ep // 10)
        jobs.extend(
            Job(
                teacher=pair.entrant.name,
                label=pair.entrant.label,
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
    entrants = {p.entrant.label: p.entrant for p in pairs}
    config = {
        "format": FORMAT_VERSION,
        "suite": suite,
        "teachers": [_teacher_entry(e) for e in entrants.values()],
        "scenarios": list(dict.fromkeys(p.scenario for p in pairs)),
        "seeds": seed_list,
        "episodes": episodes,
        "batch_size": batch_size,
        "protocol": step_protocol.config(),
        "skipped": skipped,
        "expert_rules": _expert_rules(pairs),
        "seed_derivation": "numpy.random.SeedSequence(seed).spawn(2) -> (teacher, student)",
        "timing": "time.process_time_ns around sample/update (teacher) and train (student), "
        "minus the measured cost of a clock read per interval; BLAS limited to 1 thread",
        "mastery": "episodes_to_best: first episode count with student.evaluate() >= "
        f"best_possible(), read after every step on Discrete students or steps of >= "
        f"{MASTERY_STEP_EPISODES} episodes, else at the eval points (each job's mastery_check)",
        "jobs": [j.to_dict() for j in jobs],
    }
    if overwrite:
        clear_run(run_dir)
    done = prepare_run_dir(run_dir, config, resume)
    config["version"] = _version()
    config["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    config["machine"] = machine()
    config["workers"] = workers
    if not resume or not (run_dir / CONFIG_FILE).exists():
        dump_json(run_dir / CONFIG_FILE, config)

    todo = [j for j in jobs if j.key not in done]
    # Longest jobs first, so the pool does not end on one long straggler.
    todo.sort(key=lambda j: -j.episodes)
    execute(
        run_job,
        todo,
        on_result=lambda job, result: write_result(run_dir, result),
        workers=workers,
        describe=lambda job: f"{job.describe()} ({job.key})",
        progress=progress,
        total=len(jobs),
        done=len(done),
    )
    write_summary(run_dir)
    return run_dir


def _teacher_entry(entrant: Entrant) -> dict[str, Any]:
    spec = teacher_spec(entrant.name)
    # The report styles benchmark-only references apart without needing the registry.
    return {
        "name": entrant.name,
        "label": entrant.label,
        "params": jsonable(entrant.params),
        "benchmark_only": spec.benchmark_only,
    }


def _expert_rules(pairs: list[PlannedPair]) -> dict[str, str]:
    """Per teacher name, one line on the expert knowledge the scenarios give it."""
    given: dict[str, dict[str, str]] = {}
    for pair in pairs:
        sc = make_scenario(pair.scenario)
        values = sc.expert_values(sc.make_student(seed=0))
        taken = expert_for(teacher_spec(pair.entrant.name), values)
        for param in taken:
            if param not in pair.entrant.params:
                doc = EXPERT_DOCS.get(param, "set by the scenario")
                given.setdefault(pair.entrant.name, {})[param] = doc
    return {name: "; ".join(f"{p}: {d}" for p, d in docs.items()) for name, docs in given.items()}


def _version() -> str:
    from autocurriculum import __version__

    return __version__


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        check_positive(int(seeds), "seeds")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]  # type: ignore[union-attr]
    if not out or len(set(out)) != len(out) or min(out) < 0:
        raise ValueError(f"seeds must be a count >= 1 or distinct ints >= 0, got {seeds!r}")
    return out
