"""The run directory: its files, written atomically, read back, resumed.

A run directory holds::

    config.json                               the exact configuration, version, machine
    raw/<teacher>__<scenario>__seed<k>.npz    arrays of one job (curve, tasks, competence)
    raw/<teacher>__<scenario>__seed<k>.json   metadata of one job (seeds, timings, snapshots)
    summary.csv                               one row per (teacher, scenario)

Every file is written atomically (temporary file, then rename); a job's .json is written after
its .npz, so its presence marks the job complete. A run can be resumed only under the same
configuration: its jobs (teachers, parameters, scenarios, seeds, budgets, protocol) must be the
same as those recorded in ``config.json``.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.bench.jobs import Job, JobResult
from autocurriculum.checkpoint import atomic_write_bytes

__all__ = [
    "CONFIG_FILE",
    "RAW_DIR",
    "SUMMARY_FILE",
    "Run",
    "RunDirError",
    "clear_run",
    "dump_json",
    "load_run",
    "machine",
    "prepare_run_dir",
    "write_result",
]

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.csv"
RAW_DIR = "raw"
#: What :func:`clear_run` removes besides the raw results (the report's outputs).
_RUN_OUTPUTS = ("figures", "report.md")


class RunDirError(ValueError):
    """A run directory that cannot be read; the message names the missing or corrupt file."""


@dataclass
class Run:
    """A run directory, read back: its config and one :class:`JobResult` per job."""

    path: Path
    config: dict[str, Any]
    results: dict[str, JobResult] = field(default_factory=dict)

    def teachers(self) -> list[str]:
        """Teacher labels, in the order of the config."""
        return [t["label"] for t in self.config["teachers"]]

    def scenarios(self) -> list[str]:
        return list(self.config["scenarios"])

    def group(self, teacher: str, scenario: str) -> list[JobResult]:
        """Results of one (teacher label, scenario), in seed order."""
        want = (teacher, scenario)
        out = [r for r in self.results.values() if (r.job.label, r.job.scenario) == want]
        return sorted(out, key=lambda r: r.job.seed)


def dump_json(path: Path, data: Any) -> None:
    """Write ``data`` as strict JSON (no NaN), atomically."""
    atomic_write_bytes(path, (json.dumps(data, indent=1, allow_nan=False) + "\n").encode())


def write_result(run_dir: Path, result: JobResult) -> None:
    """Write one job's .npz and then its .json (which marks it complete)."""
    raw = run_dir / RAW_DIR
    buf = io.BytesIO()
    np.savez_compressed(buf, **result.arrays)  # type: ignore[arg-type]
    atomic_write_bytes(raw / f"{result.job.key}.npz", buf.getvalue())
    dump_json(raw / f"{result.job.key}.json", result.meta)


def machine() -> dict[str, Any]:
    """The machine a run ran on, for its config."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def clear_run(run_dir: Path) -> None:
    """Remove the run in ``run_dir`` (config, raw results, summary, report); keep other files.

    A directory without ``config.json`` holds no run and is left alone
    (:func:`prepare_run_dir` then refuses it if it is not empty).
    """
    if not (run_dir / CONFIG_FILE).is_file():
        return
    for name in (RAW_DIR, *_RUN_OUTPUTS):
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
    for name in (CONFIG_FILE, SUMMARY_FILE, *_RUN_OUTPUTS):
        path = run_dir / name
        if path.is_file():
            path.unlink()


def prepare_run_dir(run_dir: Path, config: dict[str, Any], resume: bool) -> set[str]:
    """Create ``run_dir`` for ``config``, or check it for a resume; return the finished job keys.

    Raises
    ------
    ValueError
        ``run_dir`` is a file, holds a run and ``resume`` is not set, holds a run of other jobs,
        or is not empty and holds no run.
    """
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
        if not isinstance(old, dict) or old.get("jobs") != config["jobs"]:
            raise ValueError(
                f"cannot resume {str(run_dir)!r}: its jobs differ from this configuration "
                "(teachers, parameters, scenarios, seeds, episodes or protocol)"
            )
        done = set()
        for job in config["jobs"]:
            try:
                _read_result(run_dir, job)
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


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read a run directory written by :func:`autocurriculum.bench.runner.run_benchmark`.

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
            run.results[job["key"]] = _read_result(path, job)
        except (KeyError, TypeError) as err:
            raise RunDirError(
                f"{CONFIG_FILE} in {str(path)!r} is corrupt: bad job entry {job!r}"
            ) from err
    return run


def _read_json(path: Path, name: str) -> Any:
    if not path.exists():
        raise RunDirError(f"{name} is missing from {str(path.parent)!r}")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunDirError(f"{name} in {str(path.parent)!r} is corrupt: {err}") from err


_META_KEYS = ("space", "best_possible", "teacher_cpu_ns", "student_cpu_ns", "snapshots", "steps")


def _read_result(run_dir: Path, job: dict[str, Any]) -> JobResult:
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
        spec = Job.from_dict(job)
    except ValueError as err:
        raise RunDirError(
            f"{CONFIG_FILE} in {str(run_dir)!r} is corrupt: job {key}: {err}"
        ) from err
    return JobResult(job=spec, arrays=arrays, meta=meta)
