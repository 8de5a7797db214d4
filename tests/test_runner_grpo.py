"""The runner's grpo protocol, first full mastery (episodes_to_best), and plain unchanged."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autocurriculum.bench import metrics
from autocurriculum.bench.runner import (
    SUMMARY_COLUMNS,
    Job,
    JobResult,
    derive_seeds,
    load_run,
    run_benchmark,
    run_job,
)
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.suites import Entrant, build_teacher, plan
from autocurriculum.bench.summary import summary_row
from autocurriculum.teachers.base import Teacher

# 1,000 episodes evaluated every 100 under grpo 8 x 4 = 32 episodes a step: each point moves up
# to the next multiple of 32 (ceil(100 / 32) = 4 steps = 128, ceil(900 / 32) = 29 -> 928, ...).
GRPO_POINTS_1000 = [0, 128, 224, 320, 416, 512, 608, 704, 800, 928, 1024]


# ------------------------------------------------------------------ hand-rolled loops
def _build(teacher: str, scenario: str, seed: int) -> tuple[Any, Any]:
    teacher_seed, student_seed = derive_seeds(seed)
    sc = make_scenario(scenario)
    student = sc.make_student(student_seed)
    built, _ = build_teacher(teacher, student, seed=teacher_seed, expert=sc.expert_values(student))
    return built, student


def _plain_loop(teacher: str, scenario: str, seed: int, episodes: int) -> tuple[list, int | None]:
    """Scores after every episode (index = episodes played) and the first full mastery."""
    t, student = _build(teacher, scenario, seed)
    best = student.best_possible()
    scores = [student.score()]
    first = 0 if scores[0] >= best else None
    for e in range(1, episodes + 1):
        task = t.sample()
        t.update(task, student.episode(task))
        scores.append(student.score())
        if first is None and scores[-1] >= best:
            first = e
    return scores, first


def _grpo_loop(
    teacher: str, scenario: str, seed: int, steps: int, prompts: int = 8, group: int = 4
) -> tuple[dict[int, float], int | None, np.ndarray]:
    """Score after every step keyed by episodes played, first full mastery, all played tasks."""
    t, student = _build(teacher, scenario, seed)
    best = student.best_possible()
    ids = np.repeat(np.arange(prompts), group)
    scores = {0: student.score()}
    first = 0 if scores[0] >= best else None
    played = []
    for s in range(1, steps + 1):
        batch = np.repeat(t.sample(prompts), group)
        played.append(batch)
        t.update(batch, student.episodes(batch), {"group": ids})
        scores[s * prompts * group] = student.score()
        if first is None and scores[s * prompts * group] >= best:
            first = s * prompts * group
    return scores, first, np.concatenate(played)


# ----------------------------------------------------------------------- grpo
@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grpo") / "run"
    return run_benchmark(
        ["sec", "dump"],
        ["arms-chain"],
        2,
        out=out,
        episodes=640,
        protocol="grpo",
        workers=2,
        progress=False,
    )


def test_grpo_runs_signal_teachers_and_writes_results(grpo_run: Path):
    config = json.loads((grpo_run / "config.json").read_text())
    assert config["protocol"]["name"] == "grpo"
    assert (config["protocol"]["prompts"], config["protocol"]["group"]) == (8, 4)
    assert not config["skipped"]
    for job in config["jobs"]:
        assert (job["protocol"], job["prompts"], job["group"]) == ("grpo", 8, 4)
    run = load_run(grpo_run)
    assert sorted(run.results) == sorted(
        f"{t}__arms-chain__seed{s}" for t in ("sec", "dump") for s in (0, 1)
    )
    for result in run.results.values():
        assert result.job.protocol == "grpo"
        # 640 episodes, eval every 64: each point is a multiple of 32 already.
        np.testing.assert_array_equal(result.eval_episodes, np.arange(0, 641, 64))
        assert result.meta["steps"] == 640 // 32
        assert result.arrays["arm_counts"].sum() == 640
        assert result.meta["teacher_cpu_ns"] > 0
        assert result.meta["mastery_check"] == "step"
    with open(grpo_run / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    assert [(r["teacher"], r["protocol"]) for r in rows] == [
        ("sec", "grpo(8x4)"),
        ("dump", "grpo(8x4)"),
    ]


def test_grpo_is_reproducible_and_matches_a_hand_rolled_loop(grpo_run: Path):
    # The same job again, in this process, gives the same arrays as the pool's worker did.
    result = load_run(grpo_run).results["sec__arms-chain__seed1"]
    again = run_job(result.job)
    assert sorted(again.arrays) == sorted(result.arrays)
    for name, arr in result.arrays.items():
        np.testing.assert_array_equal(again.arrays[name], arr, err_msg=name)
    # And the curve is the score of a hand-rolled GRPO loop (same seeds) at those episodes.
    scores, first, played = _grpo_loop("sec", "arms-chain", 1, steps=640 // 32)
    np.testing.assert_array_equal(result.scores, [scores[int(e)] for e in result.eval_episodes])
    np.testing.assert_array_equal(
        result.arrays["arm_counts"].sum(axis=0), np.bincount(played, minlength=20)
    )
    assert result.meta["episodes_to_best"] == first


def test_grpo_eval_episodes_are_the_episodes_played():
    job = Job("random", "random", {}, "arms-chain", 3, 1000, 100, protocol="grpo")
    result = run_job(job)
    np.testing.assert_array_equal(result.eval_episodes, GRPO_POINTS_1000)
    assert result.meta["episodes_run"] == 1024
    assert result.meta["steps"] == 32
    assert result.arrays["arm_counts"].sum() == 1024
    scores, _, _ = _grpo_loop("random", "arms-chain", 3, steps=32)
    np.testing.assert_array_equal(result.scores, [scores[e] for e in GRPO_POINTS_1000])


def test_grpo_first_mastery_matches_a_hand_rolled_loop():
    job = Job("oracle", "oracle", {}, "arms-chain", 3, 1600, 200, protocol="grpo")
    result = run_job(job)
    # 200 -> ceil(200 / 32) = 7 steps = 224, 400 -> 13 steps = 416, ..., 1600 = 50 steps.
    points = [0, 224, 416, 608, 800, 1024, 1216, 1408, 1600]
    np.testing.assert_array_equal(result.eval_episodes, points)
    scores, first, _ = _grpo_loop("oracle", "arms-chain", 3, steps=50)
    np.testing.assert_array_equal(result.scores, [scores[e] for e in points])
    # The oracle masters the chain under grpo too, at the end of some step, after the 760
    # practices it needs at the very least, and between two eval points.
    assert first is not None
    assert first >= 760
    assert first % 32 == 0
    assert first not in points
    assert result.meta["episodes_to_best"] == first


def test_eval_points_landing_on_one_step_are_kept_once():
    job = Job("random", "random", {}, "arms-chain", 0, 100, 10, protocol="grpo", prompts=4)
    result = run_job(job)
    # Steps of 16: 10 -> 16, 20 and 30 -> 32, 40 -> 48, ..., 100 -> 112.
    np.testing.assert_array_equal(result.eval_episodes, [0, 16, 32, 48, 64, 80, 96, 112])
    assert result.arrays["arm_counts"].sum() == 112


class _GroupProbe(Teacher):
    """Test only: uniform, and checks every update's signals are the grpo group and step ids."""

    reads = frozenset({"group", "step"})
    needs_one_of = frozenset({"group"})

    def __init__(self, space, *, prompts: int = 8, group: int = 4, seed: int | None = None):
        super().__init__(space, seed=seed)
        self.prompts = prompts
        self.group = group
        self.steps_ = 0
        self.ended_ = 0

    def _sample(self, n):
        if n != self.prompts:
            raise ValueError(f"sampled {n} tasks, expected {self.prompts} prompts")
        return self.space.sample(self.rng_, n)

    def _update(self, tasks, scores, signals):
        if set(signals) != {"group", "step"}:
            raise ValueError(f"expected signals 'group' and 'step', got {signals!r}")
        ids = signals["group"]
        want = np.repeat(np.arange(self.prompts), self.group)
        if not np.array_equal(ids, want):
            raise ValueError(f"group ids {ids.tolist()}, expected {want.tolist()}")
        if not np.all(signals["step"] == self.steps_):
            raise ValueError(f"step ids {signals['step'].tolist()}, expected {self.steps_}")
        if self.ended_ != self.steps_:
            raise ValueError(f"step {self.steps_} began before step {self.ended_} ended")
        # Every rollout of a group plays the same task.
        for g in range(self.prompts):
            same = tasks[ids == g]
            if not np.all(same == same[0]):
                raise ValueError(f"group {g} holds different tasks: {same.tolist()}")
        self.steps_ += 1

    def _end_step(self):
        self.ended_ += 1

    def _metrics(self):
        return {"probe_steps": self.steps_, "probe_ended": self.ended_}


@pytest.fixture
def probe_teacher(register_teacher):
    return register_teacher("group-probe", _GroupProbe, "test only: checks grpo signals")


def test_teacher_receives_the_group_ids(probe_teacher: str, tmp_path: Path):
    spec = Entrant(probe_teacher, params={"prompts": 3, "group": 5})
    out = run_benchmark(
        [spec],
        ["arms-chain", "grid-2d"],
        1,
        out=tmp_path / "run",
        episodes=300,
        protocol="grpo",
        prompts=3,
        group=5,
        workers=1,
        progress=False,
    )
    run = load_run(out)
    for scenario in ("arms-chain", "grid-2d"):
        result = run.results[f"{probe_teacher}__{scenario}__seed0"]
        steps = result.meta["steps"]
        assert steps == 300 // 15
        assert result.meta["teacher_metrics"]["teacher/probe_steps"] == steps
        assert result.meta["teacher_metrics"]["teacher/probe_ended"] == steps
        assert result.meta["teacher_metrics"]["teacher/n_updates"] == 300


def test_signal_teachers_are_planned_under_grpo_only(probe_teacher: str):
    pairs, skipped = plan(["random", probe_teacher, "sec"], ["arms-chain"], strict=False)
    assert [p.entrant.name for p in pairs] == ["random"]
    assert [s["code"] for s in skipped] == ["signals", "signals"]
    assert all("--protocol grpo" in s["reason"] for s in skipped)
    with pytest.raises(ValueError, match="--protocol grpo"):
        plan(["sec"], ["arms-chain"], strict=True)
    pairs, skipped = plan(
        ["random", probe_teacher, "sec"], ["arms-chain"], strict=False, protocol="grpo"
    )
    assert [p.entrant.name for p in pairs] == ["random", probe_teacher, "sec"]
    assert not skipped


def test_resume_cannot_mix_protocols(tmp_path: Path):
    out = tmp_path / "run"
    kw: dict[str, Any] = {"out": out, "episodes": 200, "workers": 1, "progress": False}
    run_benchmark(["random"], ["arms-chain"], 1, protocol="grpo", **kw)
    with pytest.raises(ValueError, match="jobs differ"):
        run_benchmark(["random"], ["arms-chain"], 1, resume=True, **kw)
    with pytest.raises(ValueError, match="jobs differ"):
        run_benchmark(["random"], ["arms-chain"], 1, protocol="grpo", group=2, resume=True, **kw)
    run_benchmark(["random"], ["arms-chain"], 1, protocol="grpo", resume=True, **kw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "ppo"}, r"protocol must be one of \['plain', 'grpo'\], got 'ppo'"),
        ({"protocol": None}, r"got None"),
        ({"protocol": "grpo", "prompts": 0}, r"prompts must be an int >= 1, got 0"),
        ({"protocol": "grpo", "group": -2}, r"group must be an int >= 1, got -2"),
        ({"protocol": "grpo", "group": 2.5}, r"group must be an int >= 1, got 2\.5"),
        ({"protocol": "plain", "prompts": True}, r"prompts must be an int >= 1, got True"),
        ({"protocol": "grpo", "batch_size": 4}, r"batch_size=4 with protocol 'grpo'"),
    ],
)
def test_bad_protocol_values_raise(kwargs: dict[str, Any], message: str, tmp_path: Path):
    with pytest.raises(ValueError, match=message):
        run_benchmark(["random"], ["arms-chain"], 1, out=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match=message):
        Job("random", "random", {}, "arms-chain", 0, 100, 10, **kwargs)


def test_plan_rejects_an_unknown_protocol():
    with pytest.raises(ValueError, match="got 'GRPO'"):
        plan(["random"], ["arms-chain"], strict=True, protocol="GRPO")


# ----------------------------------------------------------------- plain protocol
def test_plain_defaults_unchanged(tmp_path: Path):
    kw: dict[str, Any] = {"episodes": 300, "workers": 1, "progress": False}
    a = run_benchmark(["random", "oracle"], ["arms-chain"], 1, out=tmp_path / "a", **kw)
    # prompts and group are ignored under plain: the jobs and results are those of the defaults.
    b = run_benchmark(
        ["random", "oracle"],
        ["arms-chain"],
        1,
        out=tmp_path / "b",
        protocol="plain",
        prompts=3,
        group=5,
        **kw,
    )
    ca = json.loads((a / "config.json").read_text())
    cb = json.loads((b / "config.json").read_text())
    assert ca["jobs"] == cb["jobs"]
    assert not any("protocol" in job for job in ca["jobs"])  # as before the option existed
    assert ca["protocol"] == {"name": "plain", "batch_size": 1}
    ra, rb = load_run(a), load_run(b)
    for key, result in ra.results.items():
        for name, arr in result.arrays.items():
            np.testing.assert_array_equal(rb.results[key].arrays[name], arr, err_msg=name)
        assert result.job.protocol == "plain"


def test_plain_oracle_first_mastery_matches_a_hand_rolled_loop():
    job = Job("oracle", "oracle", {}, "arms-chain", 0, episodes=1000, eval_every=100)
    result = run_job(job)
    scores, first = _plain_loop("oracle", "arms-chain", 0, 1000)
    # 20 arms in a chain, 38 practices each, and the oracle never wastes one.
    assert first == 20 * 38
    assert result.meta["episodes_to_best"] == first
    assert result.meta["mastery_check"] == "step"
    assert result.meta["episodes_run"] == 1000
    np.testing.assert_array_equal(result.scores, [scores[e] for e in result.eval_episodes])


def test_plain_box_mastery_is_read_at_eval_points():
    job = Job("oracle", "oracle", {}, "grid-trivial", 0, episodes=3000, eval_every=100)
    result = run_job(job)
    scores, first = _plain_loop("oracle", "grid-trivial", 0, 3000)
    assert first is not None
    assert result.meta["mastery_check"] == "eval"
    # The first eval point at or after the exact first mastery.
    assert result.meta["episodes_to_best"] == math.ceil(first / 100) * 100
    np.testing.assert_array_equal(result.scores, [scores[e] for e in result.eval_episodes])
    # Large batches check after every step: the end of the batch that first masters it.
    batched = run_job(
        Job("oracle", "oracle", {}, "grid-trivial", 0, episodes=3000, eval_every=100, batch_size=16)
    )
    assert batched.meta["mastery_check"] == "step"
    teacher, student = _build("oracle", "grid-trivial", 0)
    done, at = 0, None
    while at is None and done < 3000:
        n = min(16, 100 - done % 100)  # a batch never straddles an eval point
        tasks = teacher.sample(n)
        teacher.update(tasks, student.episodes(tasks))
        done += n
        if student.score() >= student.best_possible():
            at = done
    assert at is not None
    assert at % 100 != 0  # mastered mid-interval: finer than the eval points
    assert batched.meta["episodes_to_best"] == at


def test_never_mastered_is_none(tmp_path: Path):
    result = run_job(Job("random", "random", {}, "arms-chain", 0, episodes=200, eval_every=20))
    assert result.scores[-1] < result.meta["best_possible"]
    assert result.meta["episodes_to_best"] is None


# ------------------------------------------------------------------- summary
def _fake(seed: int, to_best: int | None) -> JobResult:
    job = Job("random", "random", {}, "arms-chain", seed, episodes=100, eval_every=50)
    arrays = {"eval_episodes": np.array([0, 50, 100]), "scores": np.array([0.0, 50.0, 100.0])}
    meta = {
        "best_possible": 100.0,
        "teacher_cpu_ns": 1e5,
        "student_cpu_ns": 1e5,
        "episodes_to_best": to_best,
    }
    return JobResult(job=job, arrays=arrays, meta=meta)


def test_summary_episodes_to_best_only_when_every_seed_reached_it():
    partial = summary_row(
        "random", "arms-chain", [_fake(0, 700), _fake(1, None), _fake(2, 900)], random_state=0
    )
    assert partial["reached_best"] == "2/3"
    assert math.isnan(partial["episodes_to_best_mean"])
    assert math.isnan(partial["episodes_to_best_ci_low"])
    row = summary_row("random", "arms-chain", [_fake(0, 700), _fake(2, 900)], random_state=0)
    assert row["reached_best"] == "2/2"
    assert row["episodes_to_best_mean"] == 800.0
    _, low, high = metrics.bootstrap_ci([700.0, 900.0], random_state=0)
    assert (row["episodes_to_best_ci_low"], row["episodes_to_best_ci_high"]) == (low, high)
    assert 700.0 <= low <= 800.0 <= high <= 900.0
    assert row["protocol"] == "plain"
    none = summary_row("random", "arms-chain", [_fake(0, None)], random_state=0)
    assert none["reached_best"] == "0/1"
    assert math.isnan(none["episodes_to_best_mean"])
    assert math.isnan(none["episodes_to_best_ci_low"])
