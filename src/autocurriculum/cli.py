"""The ``autocurriculum`` command line: list teachers and scenarios, run benchmarks, report.

::

    autocurriculum teachers [--kind box|discrete]
    autocurriculum scenarios
    autocurriculum bench [--suite quick|full] [--teachers ...] [--scenarios ...] [--seeds N]
                         [--episodes N] [--workers N] [--batch-size N]
                         [--protocol plain|grpo] [--prompts N] [--group N] [--out DIR]
                         [--resume | --overwrite]
                         [--no-report] [--no-gifs] [--no-progress]
    autocurriculum report DIR [--no-gifs] [--workers N]

Exit codes: 0 success, 1 a benchmark job or the report failed, 2 bad usage (unknown names,
bad numbers, an output directory that already holds a run). Only :func:`main` decides them;
the library underneath raises exceptions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _names(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autocurriculum",
        description="Automatic curriculum learning: teachers and their benchmark.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("teachers", help="list the registered teachers")
    p.add_argument("--kind", choices=("box", "discrete"), help="only teachers for this space kind")

    sub.add_parser("scenarios", help="list the benchmark scenarios")
    sub.add_parser("suites", help="list the benchmark suites")

    p = sub.add_parser(
        "bench",
        help="run a benchmark suite and write its report",
        description="Run teachers x scenarios x seeds in parallel and write a run directory "
        "with config.json, raw results, summary.csv and report.md.",
    )
    p.add_argument("--suite", default="quick", help="suite name (default: quick)")
    p.add_argument(
        "--teachers",
        nargs="+",
        type=_names,
        metavar="NAME",
        help="teachers to run instead of the suite's (space- or comma-separated); random is "
        "always added as the baseline",
    )
    p.add_argument(
        "--scenarios",
        nargs="+",
        type=_names,
        metavar="NAME",
        help="scenarios instead of the suite's",
    )
    p.add_argument("--seeds", type=_positive_int, help="seeds per pair (default: the suite's)")
    p.add_argument(
        "--episodes",
        type=_positive_int,
        help="episodes per run (default: each scenario's budget); a budget under 10 evals of "
        "the scenario is evaluated every episodes/10 instead",
    )
    p.add_argument(
        "--workers", type=_positive_int, help="worker processes (default: the number of CPUs)"
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=1,
        help="plain protocol: tasks per sample/update call (default: 1, the published protocol)",
    )
    p.add_argument(
        "--protocol",
        choices=("plain", "grpo"),
        default="plain",
        help="episode loop (default: plain). grpo samples --prompts tasks per step, plays each "
        "--group times and passes the group ids as signals, so teachers that need an "
        "|advantage| signal (sec, dump) run",
    )
    p.add_argument(
        "--prompts", type=_positive_int, help="grpo: tasks sampled per step (default: 8)"
    )
    p.add_argument("--group", type=_positive_int, help="grpo: rollouts per task (default: 4)")
    p.add_argument("--out", type=Path, help="run directory (default: runs/<suite>-<time>)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="complete an interrupted run in --out")
    again.add_argument(
        "--overwrite", action="store_true", help="replace the run already in --out, if any"
    )
    p.add_argument("--no-report", action="store_true", help="skip report.md and its figures")
    p.add_argument("--no-gifs", action="store_true", help="skip the GIF animations")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("report", help="(re)write report.md and figures of a run directory")
    p.add_argument("run_dir", type=Path, metavar="DIR")
    p.add_argument("--no-gifs", action="store_true", help="skip the GIF animations")
    p.add_argument(
        "--workers", type=_positive_int, help="processes drawing figures (default: CPUs)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse reports usage errors (code 2) and --help (code 0)
        return int(stop.code) if isinstance(stop.code, int) else EXIT_USAGE
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "teachers":
            return _cmd_teachers(args, out)
        if args.command == "scenarios":
            return _cmd_scenarios(out)
        if args.command == "suites":
            return _cmd_suites(out)
        if args.command == "bench":
            return _cmd_bench(args, out, err)
        if args.command == "report":
            return _cmd_report(args, out, err)
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    parser.error(f"unknown command {args.command!r}")  # unreachable: argparse checks choices
    return EXIT_USAGE


def _table(rows: list[tuple[str, str]], out: TextIO) -> None:
    width = max((len(n) for n, _ in rows), default=0)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}", file=out)


def _cmd_teachers(args: argparse.Namespace, out: TextIO) -> int:
    from autocurriculum.teachers.registry import list_teachers, teacher_spec

    rows = []
    for name in list_teachers(args.kind, benchmark_only=True):
        spec = teacher_spec(name)
        notes = []
        if spec.benchmark_only:
            notes.append("benchmark only")
        if spec.required_params:
            notes.append("needs " + ", ".join(spec.required_params))
        if spec.needs_one_of:
            notes.append("needs signal " + " or ".join(sorted(spec.needs_one_of)))
        elif spec.reads:
            notes.append("reads " + ", ".join(sorted(spec.reads)))
        note = f" ({'; '.join(notes)})" if notes else ""
        rows.append((name, f"[{'/'.join(spec.kinds)}] {spec.summary}{note}"))
    _table(rows, out)
    return EXIT_OK


def _cmd_scenarios(out: TextIO) -> int:
    from autocurriculum.bench.scenarios import list_scenarios, make_scenario, scenario_summary

    rows = [(n, f"[{make_scenario(n).space_kind}] {scenario_summary(n)}") for n in list_scenarios()]
    _table(rows, out)
    return EXIT_OK


def _cmd_suites(out: TextIO) -> int:
    from autocurriculum.bench.suites import list_suites, suite_summary

    _table([(n, suite_summary(n)) for n in list_suites()], out)
    return EXIT_OK


def _flatten(groups: list[list[str]] | None) -> list[str] | None:
    if groups is None:
        return None
    return list(dict.fromkeys(n for g in groups for n in g))


def _cmd_bench(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from autocurriculum.bench.runner import (
        DEFAULT_GROUP,
        DEFAULT_PROMPTS,
        BenchmarkError,
        run_benchmark,
    )
    from autocurriculum.bench.suites import BASELINE, check_names, get_suite

    teachers = _flatten(args.teachers)
    scenarios = _flatten(args.scenarios)
    grpo_only = [f for f, v in (("--prompts", args.prompts), ("--group", args.group)) if v]
    if args.protocol != "grpo" and grpo_only:
        print(
            f"autocurriculum bench: error: {' and '.join(grpo_only)} apply to --protocol grpo "
            f"only, got --protocol {args.protocol}",
            file=err,
        )
        return EXIT_USAGE
    try:
        suite = get_suite(args.suite)
        check_names(teachers, scenarios)
    except ValueError as exc:  # UnknownNameError is a ValueError
        print(f"autocurriculum bench: error: {exc}", file=err)
        return EXIT_USAGE
    strict = teachers is not None
    if teachers is None:
        teacher_list: list = suite.teacher_specs()
    else:
        teacher_list = teachers if BASELINE in teachers else [BASELINE, *teachers]
    scenario_list = scenarios if scenarios is not None else suite.scenario_names()
    seeds = args.seeds if args.seeds is not None else suite.seeds
    episodes = args.episodes if args.episodes is not None else suite.episodes
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = args.out if args.out is not None else Path("runs") / f"{suite.name}-{stamp}"
    problem = _run_dir_problem(run_dir, resume=args.resume)
    if problem:
        print(f"autocurriculum bench: error: {problem}", file=err)
        return EXIT_USAGE
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)

    protocol = args.protocol
    if protocol == "grpo":
        protocol += f", {args.prompts or DEFAULT_PROMPTS} prompts x {args.group or DEFAULT_GROUP}"
    print(f"benchmark -> {run_dir} ({workers} workers, {protocol})", file=out, flush=True)
    start = time.perf_counter()
    try:
        run_benchmark(
            teacher_list,
            scenario_list,
            seeds,
            out=run_dir,
            episodes=episodes,
            batch_size=args.batch_size,
            protocol=args.protocol,
            prompts=args.prompts if args.prompts is not None else DEFAULT_PROMPTS,
            group=args.group if args.group is not None else DEFAULT_GROUP,
            workers=workers,
            progress=not args.no_progress,
            strict=strict,
            suite=suite.name if teachers is None and scenarios is None else None,
            resume=args.resume,
            overwrite=args.overwrite,
        )
    except BenchmarkError as exc:
        print(f"autocurriculum bench: error: {exc}", file=err)
        _print_cause(exc, err)
        return EXIT_FAILED
    except ValueError as exc:
        print(f"autocurriculum bench: error: {exc}", file=err)
        return EXIT_USAGE
    except OSError as exc:
        print(f"autocurriculum bench: error: cannot write the run to {run_dir}: {exc}", file=err)
        return EXIT_FAILED
    print(
        f"ran in {time.perf_counter() - start:.0f} s; summary: {run_dir / 'summary.csv'}",
        file=out,
        flush=True,
    )
    if args.no_report:
        return EXIT_OK
    return _report(run_dir, not args.no_gifs, workers, out, err)


def _run_dir_problem(run_dir: Path, *, resume: bool) -> str | None:
    """Why ``run_dir`` cannot hold a run, found before any job starts (``None`` if it can)."""
    if resume and not (run_dir / "config.json").is_file():
        return f"--resume: {run_dir} holds no run to resume (no config.json); drop --resume"
    existing = run_dir
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == run_dir else f"is under {existing}, which is a file"
        return f"--out {run_dir} {what}: give a directory"
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        return f"--out {run_dir}: {existing} is not writable"
    return None


def _print_cause(exc: BaseException, err: TextIO) -> None:
    # A job failure is a bug somewhere (a teacher, a student): its traceback is the useful part.
    cause = exc.__cause__
    if cause is not None:
        print("".join(traceback.format_exception(cause)), file=err)


def _cmd_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _report(args.run_dir, not args.no_gifs, args.workers, out, err)


def _report(run_dir: Path, gifs: bool, workers: int | None, out: TextIO, err: TextIO) -> int:
    from autocurriculum.bench.report import write_report
    from autocurriculum.bench.runner import RunDirError

    start = time.perf_counter()
    try:
        path = write_report(run_dir, gifs=gifs, workers=workers)
    except RunDirError as exc:
        print(f"autocurriculum report: error: {exc}", file=err)
        return EXIT_USAGE
    except ImportError as exc:
        print(f"autocurriculum report: error: {exc}", file=err)
        return EXIT_FAILED
    except OSError as exc:
        print(f"autocurriculum report: error: cannot write the report in {run_dir}: {exc}",
              file=err)
        return EXIT_FAILED
    print(f"report ({time.perf_counter() - start:.0f} s): {path}", file=out)
    return EXIT_OK
