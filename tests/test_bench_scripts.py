"""The scripts in benchmarks/ call the runner's loop: they have none of their own, and agree."""

from __future__ import annotations

import importlib.util
import re
import sys
import tokenize
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from autocurriculum.bench.jobs import Job, run_job

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
#: Scripts allowed a teacher loop of their own, and why.
OWN_LOOP = {
    # Its bare sample/episode/update loop is the reference the runner's overhead is measured
    # against.
    "bench_runner.py",
    # It times the served teacher's calls against the in-process teacher's: the bare calls are
    # what it measures.
    "bench_ray_teacher.py",
}


def _load(name: str) -> ModuleType:
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_script_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def _code(path: Path) -> str:
    """The script's code without its strings and comments."""
    with path.open("rb") as f:
        tokens = tokenize.tokenize(f.readline)
        kept = [t.string for t in tokens if t.type not in (tokenize.STRING, tokenize.COMMENT)]
    return " ".join(kept)


def test_no_script_has_an_episode_loop_of_its_own():
    # Calling a teacher's sample or update (or binding them) is the runner's job
    # (autocurriculum.bench.loop); the scripts build teachers and read results.
    calls = re.compile(r"\bteacher\w* \. (sample|update)\b")
    offenders = [
        path.name
        for path in sorted(BENCHMARKS.glob("*.py"))
        if path.name not in OWN_LOOP and calls.search(_code(path))
    ]
    assert offenders == []
    assert calls.search(_code(BENCHMARKS / "bench_runner.py"))  # the check finds a loop


@pytest.mark.parametrize("protocol", ["plain", "grpo"])
def test_discrete_benchmark_gets_the_runners_episodes_to_master(protocol: str):
    script = _load("discrete_benchmark")
    spec = next(s for s in script.ARMS_SPECS if s.label == "zlp")
    # Seed 1 masters the chain before the budget (about 4,200 episodes): the run stops there.
    arms = script.run_arms_job(spec, "arms-chain", 1, protocol, budget=5000, cap=12_000)
    job = run_job(
        Job("zlp", "zlp", {}, "arms-chain", 1, episodes=12_000, eval_every=1000, protocol=protocol)
    )
    assert arms["t_master"] == job.meta["episodes_to_best"]
    assert arms["t_master"] < 5000 <= arms["episodes_run"] < 5000 + 32
    assert len(arms["curve"]) == 5000 // 100 + 1
    # Its curve is the runner's score at the same episodes (every 100, as far as the budget).
    x = np.arange(len(arms["curve"])) * 100
    shared = np.isin(job.eval_episodes, x)
    np.testing.assert_array_equal(
        arms["curve"][job.eval_episodes[shared] // 100], job.scores[shared]
    )
    # The arm of every episode it recorded is what the teacher sampled, so counts agree too.
    assert len(arms["arms"]) == 5000


def test_discrete_benchmark_derives_protocols_from_specs():
    script = _load("discrete_benchmark")
    protocols = {s.label: s.protocols for s in script.ARMS_SPECS}
    assert protocols["sec"] == ("grpo",)
    assert protocols["dump"] == ("grpo",)
    assert protocols["zlp"] == ("plain", "grpo")


def test_faithful_bands_runs_one_job():
    script = _load("faithful_bands")
    config = next(c for c in script.CONFIGS if c.teacher == "adr")
    score, cpu = script.run_one((config.teacher, config.params, 0, 300))
    assert 0.0 <= score <= 100.0
    assert cpu > 0


def test_continuous_teachers_cost_has_a_tail():
    script = _load("bench_continuous_teachers")
    us, tail_us, _score, metrics = script.run("alp-gmm", "grid-2d", 600, 1, 0, 200)
    assert us > 0
    assert tail_us > 0
    assert "teacher/n_updates" in metrics
    us, tail_us, _, _ = script.run("adr", "grid-2d", 640, 64, 0, 128)  # expert values given
    assert us > 0
    assert tail_us > 0


def test_discrete_scale_times_every_protocol():
    import argparse

    script = _load("bench_discrete_scale")
    args = argparse.Namespace(arms=50, batch=16)
    for name in ("zlp", "sec"):  # sec needs group ids: grpo
        cpu, wall = script._time_case(name, {}, args, rounds=2, repeats=2, warmup=1)
        assert cpu > 0
        assert wall > 0
        assert script._peak_memory(name, {}, args) > 0
