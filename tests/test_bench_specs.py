"""The benchmark reads teacher specs: expert knowledge, signals and report styles by spec."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autocurriculum.bench import report
from autocurriculum.bench.jobs import Job, run_job
from autocurriculum.bench.rundir import Run
from autocurriculum.bench.scenarios import EXPERT_DOCS, easy_corner, make_scenario
from autocurriculum.bench.suites import BASELINE, Entrant, build_teacher, missing_signals, plan
from autocurriculum.teachers.registry import list_teachers, teacher_spec


def test_every_scenario_gives_documented_expert_values():
    for name in ("grid-2d", "grid-rugged", "arms-chain"):
        sc = make_scenario(name)
        student = sc.make_student(seed=3)
        values = sc.expert_values(student)
        assert values["student"] is student
        assert set(values) <= set(EXPERT_DOCS)
    rugged = make_scenario("grid-rugged").make_student(seed=3)
    values = make_scenario("grid-rugged").expert_values(rugged)
    np.testing.assert_array_equal(values["start"], easy_corner(rugged))
    assert set(make_scenario("arms-chain").expert_values(rugged)) == {"student"}


def test_a_teacher_gets_exactly_the_expert_values_its_spec_lists():
    sc = make_scenario("grid-2d")
    student = sc.make_student(seed=0)
    values = sc.expert_values(student)
    for name in list_teachers("box", benchmark_only=True):
        spec = teacher_spec(name)
        if spec.required_params and not set(spec.required_params) <= set(values):
            continue  # a manual schedule: nothing the scenario can give
        teacher, recorded = build_teacher(name, student, seed=0, expert=values)
        params = teacher.get_params()
        for key in spec.expert_params:
            if key in values and key != "student":
                np.testing.assert_allclose(params[key], values[key], err_msg=f"{name}.{key}")
                assert recorded[key] == values[key]
        # A value the spec does not list never reaches the teacher.
        for key in set(values) - set(spec.expert_params):
            assert key not in recorded, f"{name} got {key}"
    # The student is passed to whoever lists it, and never recorded (it is not data).
    oracle, recorded = build_teacher("oracle", student, seed=0, expert=values)
    assert oracle.student is student
    assert "student" not in recorded
    # User parameters override expert values.
    _, recorded = build_teacher(
        "adr", student, seed=0, params={"low_threshold": 0.1}, expert=values
    )
    assert recorded["low_threshold"] == 0.1


def test_jobs_record_the_expert_values_they_used():
    result = run_job(Job("adr", "adr", {}, "grid-rugged", 2, episodes=100, eval_every=50))
    student = make_scenario("grid-rugged").make_student(result.meta["student_seed"])
    assert result.meta["teacher_params"]["start"] == easy_corner(student).tolist()
    assert result.meta["teacher_params"]["high_threshold"] == 0.7


def test_signals_needed_decide_the_protocols():
    for name in list_teachers(benchmark_only=True):
        spec = teacher_spec(name)
        grpo_gives = {"group", "step"}
        unmet = bool(spec.needs_one_of) and not spec.needs_one_of & grpo_gives
        assert bool(missing_signals(spec, "grpo")) == unmet
        assert bool(missing_signals(spec, "plain")) == bool(spec.needs_one_of)
    pairs, skipped = plan(["sec", BASELINE], ["arms-chain"], strict=False)
    assert [p.entrant.name for p in pairs] == [BASELINE]
    assert skipped[0]["code"] == "signals"
    for needed in sorted(teacher_spec("sec").needs_one_of):
        assert needed in skipped[0]["reason"]


def test_config_records_spec_flags_and_expert_knowledge(tmp_path: Path):
    from autocurriculum.bench.runner import run_benchmark

    out = run_benchmark(
        [BASELINE, "oracle", "adr", Entrant(BASELINE, label="uniform")],
        ["grid-2d"],
        1,
        out=tmp_path / "run",
        episodes=100,
        workers=1,
        progress=False,
    )
    config = json.loads((out / "config.json").read_text())
    flags = {t["label"]: t["benchmark_only"] for t in config["teachers"]}
    assert flags == {BASELINE: False, "oracle": True, "adr": False, "uniform": False}
    assert set(config["expert_rules"]) == {"oracle", "adr"}
    assert "start" in config["expert_rules"]["adr"]
    assert config["protocol"] == {"name": "plain", "batch_size": 1}


def _run(teachers: list[dict]) -> Run:
    return Run(path=Path("."), config={"teachers": teachers, "scenarios": [], "jobs": []})


def test_report_styles_by_spec_flags_not_by_label():
    run = _run(
        [
            {"name": BASELINE, "label": "uniform"},
            {"name": "oracle", "label": "upper", "benchmark_only": True},
            {"name": "zlp", "label": "oracle"},  # a label is not a role
            {"name": "oracle", "label": "old-oracle"},  # a run from before the flag: registry
            {"name": "gone", "label": "gone"},  # not registered here: a plain teacher
        ]
    )
    assert report._roles(run) == {
        "uniform": report.BASELINE_ROLE,
        "upper": report.REFERENCE_ROLE,
        "oracle": report.TEACHER_ROLE,
        "old-oracle": report.REFERENCE_ROLE,
        "gone": report.TEACHER_ROLE,
    }


@pytest.mark.parametrize("name", ["adr", "spdl"])
def test_expert_values_make_the_published_grid_figures(name):
    # The expert knowledge given by value is what the runner gave by teacher name before.
    student = make_scenario("grid-2d").make_student(seed=0)
    values = make_scenario("grid-2d").expert_values(student)
    if name == "adr":
        want = {"start": [0.0, 0.0], "low_threshold": 0.2, "high_threshold": 0.7}
    else:
        want = {"init_mean": [0.05, 0.05], "init_cov": [[0.0025, 0.0], [0.0, 0.0025]]}
    _, recorded = build_teacher(name, student, seed=0, expert=values)
    for key, value in want.items():
        np.testing.assert_allclose(recorded[key], value)
