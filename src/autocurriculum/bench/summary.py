"""The run's summary: one row per (teacher, scenario), with bootstrap CIs over the seeds.

The columns (:data:`SUMMARY_COLUMNS`) are written to ``summary.csv`` of the run directory
(:func:`write_summary`) and read by the report. Every CI uses the fixed random state
:data:`CI_RANDOM_STATE`, so a summary is reproducible from the raw results.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.bench import metrics
from autocurriculum.bench.jobs import JobResult
from autocurriculum.bench.rundir import SUMMARY_FILE, Run, RunDirError, load_run
from autocurriculum.checkpoint import atomic_write_bytes

__all__ = ["CI_RANDOM_STATE", "SUMMARY_COLUMNS", "summarise", "summary_row", "write_summary"]

#: Random state of the bootstrap CIs in summary.csv, so the summary is reproducible.
CI_RANDOM_STATE = 0

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


def summarise(run: Run, *, random_state: int = CI_RANDOM_STATE) -> list[dict[str, Any]]:
    """One row per (teacher, scenario) with the :data:`SUMMARY_COLUMNS` (NaN for n/a)."""
    rows = []
    for scenario in run.scenarios():
        for teacher in run.teachers():
            group = run.group(teacher, scenario)
            if group:
                rows.append(summary_row(teacher, scenario, group, random_state))
    return rows


def summary_row(
    teacher: str, scenario: str, group: list[JobResult], random_state: int
) -> dict[str, Any]:
    """The summary of one (teacher label, scenario) from its jobs' results."""
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
    """(Re)write ``summary.csv`` of a run directory from its raw results; return its path."""
    run = run if run is not None else load_run(run_dir)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in summarise(run):
        writer.writerow({k: _fmt(row[k]) for k in SUMMARY_COLUMNS})
    path = Path(run_dir) / SUMMARY_FILE
    atomic_write_bytes(path, buf.getvalue().encode())
    return path
