"""The benchmark runner: files of a run directory, reproducibility, failures, suites."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from autocurriculum._registry import UnknownNameError
from autocurriculum.bench.jobs import FRAME_RESOLUTION, IMAGE_RESOLUTION
from autocurriculum.bench.runner import (
    SUMMARY_COLUMNS,
    BenchmarkError,
    Job,
    RunDirError,
    derive_seeds,
    eval_points,
    load_run,
    run_benchmark,
    run_job,
)
from autocurriculum.bench.scenarios import easy_corner, make_scenario
from autocurriculum.bench.suites import (
    Entrant,
    get_suite,
    list_suites,
    plan,
)
from autocurriculum.teachers.base import Teacher

TEACHERS = ["random", "oracle"]
EPISODES = 2000


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "tiny"
    return run_benchmark(
        TEACHERS, ["grid-2d"], 2, out=out, episodes=EPISODES, workers=2, progress=False
    )


def _keys() -> list[str]:
    return [f"{t}__grid-2d__seed{s}" for t in TEACHERS for s in (0, 1)]


def test_run_directory_files(tiny_run: Path):
    assert (tiny_run / "config.json").is_file()
    assert (tiny_run / "summary.csv").is_file()
    for key in _keys():
        assert (tiny_run / "raw" / f"{key}.npz").stat().st_size > 0
        assert (tiny_run / "raw" / f"{key}.json").stat().st_size > 0
    assert not list(tiny_run.rglob("*.tmp")), "temporary files left behind"
    config = json.loads((tiny_run / "config.json").read_text())
    assert [t["name"] for t in config["teachers"]] == TEACHERS
    assert config["seeds"] == [0, 1]
    assert config["batch_size"] == 1
    assert config["protocol"] == {"name": "plain", "batch_size": 1}
    assert {"version", "created", "machine"} <= set(config)
    assert sorted(j["key"] for j in config["jobs"]) == sorted(_keys())


def test_raw_results_content(tiny_run: Path):
    run = load_run(tiny_run)
    result = run.results["oracle__grid-2d__seed0"]
    # 2,000 episodes are under 10 evals of the scenario's 1,000: evaluated every 200.
    np.testing.assert_array_equal(result.eval_episodes, np.arange(0, EPISODES + 1, 200))
    assert result.scores[0] == 0.0
    assert np.all(np.diff(result.scores) >= 0)  # the grid student never forgets
    # Uniform sampling masters nothing this early; the oracle, which only practises learnable
    # cells, must be well clear of that (it could reach 26% if it practised one cell at a time).
    assert result.scores[-1] >= 10.0
    assert run.results["random__grid-2d__seed0"].scores[-1] < result.scores[-1]
    assert result.arrays["tasks"].shape[1] == 2
    assert result.arrays["competence_image"].shape == (IMAGE_RESOLUTION,) * 2
    meta = result.meta
    assert meta["steps"] == EPISODES
    assert meta["episodes_run"] == EPISODES
    # A Box student with one episode per step is checked for full mastery at eval points.
    assert meta["mastery_check"] == "eval"
    assert meta["episodes_to_best"] is None
    assert meta["teacher_cpu_ns"] > 0
    assert meta["student_cpu_ns"] > 0
    assert meta["best_possible"] == 100.0
    assert meta["snapshots"][0]["episode"] == 0
    frames = result.arrays["competence_frames"]
    assert frames.shape == (
        len(meta["snapshots"]),
        FRAME_RESOLUTION,
        FRAME_RESOLUTION,
    )
    assert frames[0].max() == 0  # nothing learned at episode 0
    assert frames[-1].max() > 0.75 * 255  # the oracle has mastered cells by the end


def test_summary_columns_and_ci_order(tiny_run: Path):
    with open(tiny_run / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    assert [(r["teacher"], r["scenario"]) for r in rows] == [
        ("random", "grid-2d"),
        ("oracle", "grid-2d"),
    ]
    for row in rows:
        assert row["seeds"] == "2"
        low, mean, high = (float(row[k]) for k in ("final_ci_low", "final_mean", "final_ci_high"))
        assert low <= mean <= high
        assert float(row["teacher_us_per_episode"]) > 0
    oracle = rows[1]
    run = load_run(tiny_run)
    finals = [run.results[f"oracle__grid-2d__seed{s}"].scores[-1] for s in (0, 1)]
    assert float(oracle["final_mean"]) == pytest.approx(np.mean(finals))
    # Neither teacher reaches 90% of the grid in 2,000 episodes: the column is empty.
    assert oracle["episodes_to_90_mean"] == ""
    assert oracle["reached_90"] == "0/2"
    assert oracle["episodes_to_best_mean"] == ""
    assert oracle["reached_best"] == "0/2"
    assert oracle["protocol"] == "plain"


def test_same_seed_same_results_in_process(tiny_run: Path, tmp_path: Path):
    again = run_benchmark(
        TEACHERS,
        ["grid-2d"],
        2,
        out=tmp_path / "again",
        episodes=EPISODES,
        workers=1,
        progress=False,
    )
    for key in _keys():
        with (
            np.load(tiny_run / "raw" / f"{key}.npz") as a,
            np.load(again / "raw" / f"{key}.npz") as b,
        ):
            assert a.files == b.files
            for name in a.files:
                np.testing.assert_array_equal(a[name], b[name], err_msg=f"{key}: {name}")
        ma = json.loads((tiny_run / "raw" / f"{key}.json").read_text())
        mb = json.loads((again / "raw" / f"{key}.json").read_text())
        for field in ("snapshots", "teacher_seed", "student_seed", "final_score", "job"):
            assert ma[field] == mb[field]


def test_seeds_are_derived_deterministically():
    assert derive_seeds(0) == derive_seeds(0)
    teacher0, student0 = derive_seeds(0)
    assert teacher0 != student0
    assert derive_seeds(1) != (teacher0, student0)
    with pytest.raises(ValueError, match="seed"):
        derive_seeds(-1)


def test_eval_points():
    np.testing.assert_array_equal(eval_points(3000, 1000), [0, 1000, 2000, 3000])
    np.testing.assert_array_equal(eval_points(2500, 1000), [0, 1000, 2000, 2500])


def test_batch_size_keeps_budget_and_eval_points(tmp_path: Path):
    job = Job("random", "random", {}, "arms-chain", 0, episodes=1000, eval_every=300, batch_size=64)
    result = run_job(job)
    np.testing.assert_array_equal(result.eval_episodes, [0, 300, 600, 900, 1000])
    assert result.arrays["arm_counts"].sum() == 1000
    # Batches never straddle an eval point: 300 = 4 x 64 + 44, and the last 100 = 64 + 36.
    assert result.meta["steps"] == 3 * 5 + 2


class _Exploding(Teacher):
    """Uniform, until its update count reaches ``fail_at``: a teacher bug mid-run."""

    def __init__(self, space, *, fail_at: int = 150, seed: int | None = None):
        super().__init__(space, seed=seed)
        self.fail_at = fail_at

    def _sample(self, n):
        return self.space.sample(self.rng_, n)

    def _update(self, tasks, scores, signals):
        if self.n_updates_ + len(tasks) >= self.fail_at:
            raise RuntimeError(f"boom after {self.fail_at} updates")


@pytest.fixture
def exploding_teacher(register_teacher):
    return register_teacher("exploding", _Exploding, "test only: fails mid-run")


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_failure_names_the_job(exploding_teacher: str, tmp_path: Path, workers: int):
    with pytest.raises(BenchmarkError, match=r"exploding on grid-2d, seed 1") as info:
        run_benchmark(
            ["random", Entrant(exploding_teacher, params={"fail_at": 150})],
            ["grid-2d"],
            [1],
            out=tmp_path / "run",
            episodes=300,
            workers=workers,
            progress=False,
        )
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "boom after 150 updates" in str(info.value)
    # The failed job left no result behind.
    assert not (tmp_path / "run" / "raw" / "exploding__grid-2d__seed1.json").exists()


def test_teacher_that_rejects_the_space_is_left_out(tmp_path: Path):
    bad = Entrant("schedule", params={"stages": [{"episodes": -1}, {}]}, label="badsched")
    pairs, skipped = plan(["random", bad], ["grid-2d"], strict=False)
    assert [p.entrant.label for p in pairs] == ["random"]
    assert skipped[0]["code"] == "unbuildable"
    assert "episodes" in skipped[0]["reason"]
    with pytest.raises(ValueError, match=r"'badsched' cannot run on any"):
        plan([bad], ["grid-2d"], strict=True)


def test_existing_run_is_not_overwritten_and_resume_completes_it(tiny_run: Path, tmp_path: Path):
    out = tmp_path / "run"
    run_benchmark(["random"], ["grid-2d"], 2, out=out, episodes=500, workers=1, progress=False)
    with pytest.raises(ValueError, match="already holds a run"):
        run_benchmark(["random"], ["grid-2d"], 2, out=out, episodes=500, workers=1, progress=False)
    with pytest.raises(ValueError, match="jobs differ"):
        run_benchmark(
            ["random"],
            ["grid-2d"],
            3,
            out=out,
            episodes=500,
            workers=1,
            progress=False,
            resume=True,
        )
    kept = out / "raw" / "random__grid-2d__seed0.npz"
    kept_before = kept.stat().st_mtime_ns
    (out / "raw" / "random__grid-2d__seed1.json").unlink()
    run_benchmark(
        ["random"], ["grid-2d"], 2, out=out, episodes=500, workers=1, progress=False, resume=True
    )
    assert (out / "raw" / "random__grid-2d__seed1.json").is_file()
    assert kept.stat().st_mtime_ns == kept_before
    assert len(load_run(out).results) == 2


def test_overwrite_replaces_a_run(tmp_path: Path):
    out = tmp_path / "run"
    run_benchmark(["random"], ["arms-chain"], 1, out=out, episodes=300, workers=1, progress=False)
    run_benchmark(
        ["random"],
        ["arms-chain"],
        2,
        out=out,
        episodes=300,
        workers=1,
        progress=False,
        overwrite=True,
    )
    assert len(load_run(out).results) == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        run_benchmark(
            ["random"],
            ["arms-chain"],
            1,
            out=tmp_path / "other",
            episodes=300,
            workers=1,
            progress=False,
            overwrite=True,
        )


class TestLoadRunErrors:
    def test_missing_config(self, tmp_path: Path):
        with pytest.raises(RunDirError, match=r"config\.json is missing"):
            load_run(tmp_path)

    def test_corrupt_config(self, tmp_path: Path):
        (tmp_path / "config.json").write_text("{not json")
        with pytest.raises(RunDirError, match=r"config\.json .* is corrupt"):
            load_run(tmp_path)

    def test_missing_and_corrupt_raw_files(self, tiny_run: Path, tmp_path: Path):
        import shutil

        copy = tmp_path / "copy"
        shutil.copytree(tiny_run, copy)
        npz = copy / "raw" / "random__grid-2d__seed1.npz"
        npz.write_bytes(b"garbage")
        with pytest.raises(RunDirError, match=r"raw/random__grid-2d__seed1\.npz .* is corrupt"):
            load_run(copy)
        npz.unlink()
        with pytest.raises(RunDirError, match=r"raw/random__grid-2d__seed1\.npz is missing"):
            load_run(copy)
        shutil.copy(tiny_run / "raw" / npz.name, npz)
        (copy / "raw" / "oracle__grid-2d__seed0.json").unlink()
        with pytest.raises(RunDirError, match=r"raw/oracle__grid-2d__seed0\.json is missing"):
            load_run(copy)


class TestPlanning:
    def test_unknown_names_suggest(self):
        with pytest.raises(UnknownNameError, match="Did you mean 'random'"):
            plan(["randon"], ["grid-2d"], strict=True)
        with pytest.raises(UnknownNameError, match="Did you mean 'grid-2d'"):
            plan(["random"], ["grid-2e"], strict=True)
        with pytest.raises(UnknownNameError, match="Known suites: full, quick"):
            get_suite("quik")

    def test_space_kind_filter_and_skip_reasons(self):
        pairs, skipped = plan(["random", "adr"], ["grid-2d", "arms-chain"], strict=False)
        assert [(p.entrant.name, p.scenario) for p in pairs] == [
            ("random", "grid-2d"),
            ("random", "arms-chain"),
            ("adr", "grid-2d"),
        ]
        assert skipped == [
            {
                "teacher": "adr",
                "scenario": "arms-chain",
                "code": "space-kind",
                "reason": "serves box spaces, the scenario is discrete",
            }
        ]

    def test_strict_teacher_that_fits_nothing(self):
        with pytest.raises(ValueError, match="cannot run on any of the scenarios"):
            plan(["adr"], ["arms-chain"], strict=True)

    def test_teachers_needing_signals_are_skipped(self):
        pairs, skipped = plan(["random", "sec"], ["arms-chain"], strict=False)
        assert [p.entrant.name for p in pairs] == ["random"]
        assert skipped[0]["code"] == "signals"
        assert "--protocol grpo" in skipped[0]["reason"]
        pairs, skipped = plan(["random", "sec"], ["arms-chain"], strict=False, protocol="grpo")
        assert [p.entrant.name for p in pairs] == ["random", "sec"]
        assert skipped == []

    def test_required_params(self):
        pairs, skipped = plan(["schedule"], ["grid-2d"], strict=False)
        assert not pairs
        assert "stages" in skipped[0]["reason"]
        with pytest.raises(ValueError, match="stages"):
            plan(["schedule"], ["grid-2d"], strict=True)

    def test_bad_params(self):
        with pytest.raises(ValueError, match="does not take"):
            plan([Entrant("random", params={"temperature": 1.0})], ["grid-2d"], strict=True)
        with pytest.raises(ValueError, match="set by the runner"):
            plan([Entrant("random", params={"seed": 3})], ["grid-2d"], strict=True)

    def test_suites_only_hold_registered_teachers(self):
        from autocurriculum.teachers import list_teachers

        assert list_suites() == ["full", "quick"]
        quick = get_suite("quick")
        assert {s.name for s in quick.entrants()} <= set(list_teachers(benchmark_only=True))
        assert {"random", "oracle"} <= {s.name for s in quick.entrants()}
        assert quick.scenario_names() == ["grid-2d", "grid-unfeasible", "arms-chain", "arms-mixed"]


def test_expert_corner_follows_the_rugged_permutation():
    plain = make_scenario("grid-2d").make_student(seed=0)
    np.testing.assert_array_equal(easy_corner(plain), [0.0, 0.0])
    rugged = make_scenario("grid-rugged").make_student(seed=5)
    corner = easy_corner(rugged)
    # The learner's origin cell is where the task maps into learner interval 0, cell 0.
    assert rugged.cells_of([corner + 0.01])[0] == 0
    assert easy_corner(make_scenario("arms-chain").make_student(seed=0)) is None


def test_oracle_receives_the_student():
    job = Job("oracle", "oracle", {}, "arms-chain", 0, episodes=1000, eval_every=500)
    result = run_job(job)
    # 20 arms x 38 practices: an oracle masters the chain within 760 episodes.
    assert result.scores[-1] == 100.0
    assert result.meta["episodes_to_best"] == 760
    assert math.isfinite(result.meta["teacher_cpu_ns"])
