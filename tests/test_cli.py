"""The ``autocurriculum`` command line."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autocurriculum.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_teachers_lists_names_and_docs(capsys: pytest.CaptureFixture[str]):
    assert main(["teachers"]) == 0
    out = capsys.readouterr().out
    assert "random" in out
    assert "Uniform sampling over the whole space" in out
    assert main(["teachers", "--kind", "discrete"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert "random" in names
    assert "adr" not in names  # ADR serves Box spaces only


def test_scenarios_and_suites(capsys: pytest.CaptureFixture[str]):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("grid-2d", "grid-unfeasible", "arms-chain"):
        assert name in out
    assert main(["suites"]) == 0
    out = capsys.readouterr().out
    assert "quick" in out
    assert "full" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--teachers", "randm"], "unknown teacher 'randm'. Did you mean 'random'?"),
        (["bench", "--scenarios", "grid2d"], "unknown scenario 'grid2d'. Did you mean 'grid-2d'?"),
        (["bench", "--suite", "quik"], "unknown suite 'quik'. Did you mean 'quick'? Known suites"),
        (["bench", "--seeds", "0"], "expected a positive integer, got 0"),
        (["bench", "--teachers", "adr", "--scenarios", "arms-chain"], "cannot run on any"),
        (["bench", "--teachers", "sec", "--scenarios", "arms-chain"], "--protocol grpo"),
        (["bench", "--prompts", "4"], "--prompts apply to --protocol grpo only"),
        (["bench", "--protocol", "ppo"], "invalid choice: 'ppo'"),
        (["bench", "--protocol", "grpo", "--group", "0"], "expected a positive integer, got 0"),
        (
            ["bench", "--protocol", "grpo", "--batch-size", "4", "--scenarios", "arms-chain"],
            "batch_size=4 with protocol 'grpo'",
        ),
    ],
)
def test_bad_bench_arguments_exit_2(argv, message, capsys, tmp_path: Path):
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_unknown_name_from_the_console_script_has_no_traceback():
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-m", "autocurriculum", "bench", "--teachers", "alp-gmn"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown teacher 'alp-gmn'" in proc.stderr
    assert "Known teachers:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_of_a_non_run_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    assert main(["report", str(tmp_path)]) == 2
    assert "config.json is missing" in capsys.readouterr().err


def test_bench_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    out = tmp_path / "run"
    argv = [
        "bench", "--teachers", "oracle", "--scenarios", "arms-chain", "--seeds", "2",
        "--episodes", "600", "--workers", "2", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert str(out / "report.md") in printed
    text = (out / "report.md").read_text()
    # random joins every run as the baseline.
    assert "**random**" in text
    assert "| oracle " in text
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["teacher"], r["scenario"]) for r in rows] == [
        ("random", "arms-chain"),
        ("oracle", "arms-chain"),
    ]
    assert (out / "figures" / "curves_arms-chain.png").stat().st_size > 0
    assert (out / "figures" / "arms_arms-chain.png").stat().st_size > 0
    # The same command again refuses to overwrite; --overwrite replaces the run.
    assert main(argv) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--no-report"]) == 0
    assert not (out / "report.md").exists()
    assert main(["report", str(out), "--no-gifs"]) == 0
    assert (out / "report.md").is_file()


def test_bench_grpo_protocol(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    out = tmp_path / "run"
    argv = [
        "bench", "--teachers", "sec", "--scenarios", "arms-chain", "--seeds", "1",
        "--episodes", "200", "--workers", "1", "--out", str(out), "--no-progress", "--no-report",
        "--protocol", "grpo", "--prompts", "4", "--group", "2",
    ]  # fmt: skip
    assert main(argv) == 0
    assert "grpo, 4 prompts x 2" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert (config["protocol"]["name"], config["protocol"]["prompts"]) == ("grpo", 4)
    assert config["protocol"]["group"] == 2
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["teacher"], r["protocol"]) for r in rows] == [
        ("random", "grpo(4x2)"),
        ("sec", "grpo(4x2)"),
    ]
    # 200 episodes in steps of 8: the budget is a whole number of steps.
    assert {r["episodes"] for r in rows} == {"200"}
