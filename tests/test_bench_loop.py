"""The training loop: protocols, axes, mastery, callbacks, and the learner protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from autocurriculum.bench.jobs import derive_seeds
from autocurriculum.bench.learner import Learner, SingleTaskLearner
from autocurriculum.bench.loop import Callback, LoopState, run_loop
from autocurriculum.bench.protocols import GRPO, Plain
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.students import ArmsStudent, GridStudent
from autocurriculum.bench.suites import build_teacher
from autocurriculum.spaces import Discrete
from autocurriculum.teachers import make


def _pair(teacher: str, scenario: str, seed: int = 0) -> tuple[Any, Any]:
    teacher_seed, student_seed = derive_seeds(seed)
    sc = make_scenario(scenario)
    student = sc.make_student(student_seed)
    built, _ = build_teacher(teacher, student, seed=teacher_seed, expert=sc.expert_values(student))
    return built, student


# --------------------------------------------------------------- same as a hand-rolled loop
@pytest.mark.parametrize(
    ("protocol", "scenario"),
    [
        (Plain(), "grid-2d"),
        (Plain(7), "grid-2d"),
        (Plain(), "arms-chain"),
        (GRPO(3, 2), "arms-chain"),
    ],
    ids=["single-box", "batch-box", "single-arms", "grpo-arms"],
)
def test_the_loop_plays_what_a_hand_rolled_loop_plays(protocol, scenario):
    episodes = 300
    teacher, student = _pair("random", scenario)
    result = run_loop(teacher, student, protocol, eval_at=[0, 100, episodes], log_tasks=True)

    teacher, student = _pair("random", scenario)
    played, scores = [], {0: student.score()}
    done = 0
    while done < episodes:
        if isinstance(protocol, GRPO):
            batch = np.repeat(teacher.sample(protocol.prompts), protocol.group, axis=0)
        else:  # batches never straddle the eval point at 100
            room = (100 if done < 100 else episodes) - done
            batch = teacher.sample(min(protocol.batch_size, room))
        teacher.update(batch, student.episodes(batch))
        played.append(batch)
        done += len(batch)
        scores[done] = student.score()
    np.testing.assert_array_equal(result.tasks, np.concatenate(played))
    np.testing.assert_array_equal(
        result.evaluations, [scores[int(e)] for e in result.eval_episodes]
    )
    assert result.episodes == result.eval_episodes[-1] == done
    assert result.units == student.n_episodes == done
    assert result.teacher_ns > 0
    assert result.learner_ns > 0


def test_grpo_steps_run_past_a_point_they_cannot_land_on():
    teacher, student = _pair("random", "arms-chain")
    result = run_loop(teacher, student, GRPO(8, 4), eval_at=[0, 100, 200])
    # Steps of 32: 100 is first reached at 128, 200 at 224.
    np.testing.assert_array_equal(result.eval_episodes, [0, 128, 224])
    assert result.steps == 7


# ----------------------------------------------------------------------------- mastery
def test_mastery_per_step_is_exact_and_per_eval_is_coarse():
    # The oracle masters a 3-arm chain (2 practices each) in exactly 6 episodes.
    def run(mastery):
        student = ArmsStudent(n_arms=3, learn_rate=0.5, shuffle=False, seed=0)
        teacher = make("oracle", student.space, student=student, seed=0)
        return run_loop(teacher, student, eval_at=[0, 5, 10, 20], mastery=mastery)

    assert run("step").first_best == 6
    assert run("step").first_best_units == 6
    assert run("eval").first_best == 10
    assert run("step").eval_episodes.tolist() == [0, 5, 10, 20]  # the check changes nothing else


# ---------------------------------------------------------------------------- callbacks
class Recorder(Callback):
    def __init__(self, stop_at_step: int | None = None, stop_at_eval: int | None = None):
        self.calls: list[tuple[str, int]] = []
        self.batches: list[NDArray[Any]] = []
        self.stop_at_step = stop_at_step
        self.stop_at_eval = stop_at_eval

    def on_start(self, state: LoopState) -> None:
        self.calls.append(("start", state.episodes))

    def on_step(self, state: LoopState) -> bool:
        self.calls.append(("step", state.episodes))
        assert state.tasks is not None
        assert state.scores is not None
        assert len(state.tasks) == len(state.scores)
        self.batches.append(state.tasks.copy())
        return state.steps != self.stop_at_step

    def on_eval(self, state: LoopState) -> bool:
        self.calls.append(("eval", state.episodes))
        assert state.evaluation == state.learner.evaluate()
        return state.evaluations - 1 != self.stop_at_eval

    def on_end(self, state: LoopState) -> None:
        self.calls.append(("end", state.episodes))


@pytest.mark.parametrize("protocol", [Plain(), Plain(2), GRPO(2, 2)], ids=str)
def test_callbacks_see_every_step_and_eval_in_order(protocol):
    teacher, student = _pair("random", "arms-chain")
    rec = Recorder()
    result = run_loop(
        teacher, student, protocol, eval_at=[0, 4, 8], callbacks=[rec], log_tasks=True
    )
    per_step = protocol.step_episodes
    steps = [("step", e) for e in range(per_step, 9, per_step)]
    assert rec.calls == [
        ("eval", 0),
        ("start", 0),
        *[c for c in steps if c[1] <= 4],
        ("eval", 4),
        *[c for c in steps if c[1] > 4],
        ("eval", 8),
        ("end", 8),
    ]
    # The batches the callback saw are what the learner trained on, in order.
    np.testing.assert_array_equal(np.concatenate(rec.batches), result.tasks)
    assert not result.stopped


def test_a_callback_stops_the_run_after_a_step_or_at_an_eval_point():
    teacher, student = _pair("random", "arms-chain")
    result = run_loop(teacher, student, eval_at=[0, 10, 20], callbacks=[Recorder(stop_at_step=3)])
    assert (result.episodes, result.steps, result.stopped) == (3, 3, True)
    assert result.eval_episodes.tolist() == [0]  # no evaluation past the stop
    assert student.n_episodes == 3

    # A step that stops the run on an eval point is still evaluated there.
    teacher, student = _pair("random", "arms-chain")
    rec = Recorder(stop_at_step=10)
    result = run_loop(teacher, student, eval_at=[0, 10, 20], callbacks=[rec])
    assert result.eval_episodes.tolist() == [0, 10]
    assert rec.calls[-3:] == [("step", 10), ("eval", 10), ("end", 10)]

    teacher, student = _pair("random", "arms-chain")
    rec = Recorder(stop_at_eval=1)
    result = run_loop(teacher, student, eval_at=[0, 10, 20], callbacks=[rec])
    assert result.eval_episodes.tolist() == [0, 10]
    assert result.stopped
    assert rec.calls[-1] == ("end", 10)


def test_state_timing_is_current_in_callbacks():
    seen = []

    class Clock(Callback):
        def on_eval(self, state):
            seen.append((state.steps, state.teacher_cpu_ns(), state.learner_cpu_ns()))

    teacher, student = _pair("random", "grid-2d")
    result = run_loop(teacher, student, eval_at=[0, 200, 400], callbacks=[Clock()])
    assert [s for s, _, _ in seen] == [0, 200, 400]
    assert seen[0][1] == 0.0
    assert 0 < seen[1][1] < seen[2][1] == result.teacher_ns
    assert seen[2][2] == result.learner_ns


def test_a_callback_without_on_step_keeps_the_fast_path():
    student = Counting(GridStudent(seed=0))
    teacher = make("random", student.space, seed=0)
    run_loop(teacher, student, eval_at=[0, 50], callbacks=[Callback()])
    assert (student.one, student.batches) == (50, 0)
    # A step callback is called on the fast path too: tasks come as batches of one.
    student = Counting(GridStudent(seed=0))
    teacher = make("random", student.space, seed=0)
    rec = Recorder()
    run_loop(teacher, student, eval_at=[0, 50], callbacks=[rec])
    assert (student.one, student.batches) == (50, 0)
    assert {b.shape for b in rec.batches} == {(1, 2)}


# ----------------------------------------------------------------------- learner protocol
class Counting:
    """A student wrapper that counts which of its training calls the loop used."""

    def __init__(self, student: GridStudent):
        self.student = student
        self.space = student.space
        self.unit = student.unit
        self.one = 0
        self.batches = 0

    def train_one(self, task):
        self.one += 1
        return self.student.train_one(task)

    def train(self, tasks):
        self.batches += 1
        return self.student.train(tasks)

    def evaluate(self):
        return self.student.evaluate()

    def best_possible(self):
        return self.student.best_possible()

    def consumed(self):
        return self.student.consumed()


class Bandit:
    """A batch-only learner whose training costs 10 'env steps' per task on arm 0, 1 on others.

    It masters an arm after 3 practices; its evaluation is the % of arms mastered.
    """

    unit = "env_steps"

    def __init__(self, arms: int = 4):
        self.space = Discrete(arms)
        self.practice = np.zeros(arms, dtype=int)
        self.steps = 0
        self.calls: list[int] = []

    def train(self, tasks: NDArray[np.int64]) -> NDArray[np.float64]:
        self.calls.append(len(tasks))
        tasks = np.asarray(tasks)
        np.add.at(self.practice, tasks, 1)
        self.steps += int(np.where(tasks == 0, 10, 1).sum())
        return (self.practice[tasks] >= 3).astype(np.float64)

    def evaluate(self) -> float:
        return 100.0 * float(np.mean(self.practice >= 3))

    def best_possible(self) -> float:
        return 100.0

    def consumed(self) -> int:
        return self.steps


def test_students_implement_the_learner_protocol():
    for student in (GridStudent(seed=0), ArmsStudent(seed=0)):
        assert isinstance(student, SingleTaskLearner)
        assert student.unit == "episodes"
        task = student.space.sample(np.random.default_rng(0), 1)
        assert 0.0 <= student.train_one(task[0]) <= 1.0
        assert student.train(task).shape == (1,)
        assert student.consumed() == student.n_episodes == 2
        assert student.evaluate() == student.score()
    assert isinstance(Bandit(), Learner)
    assert not isinstance(Bandit(), SingleTaskLearner)


def test_a_batch_only_learner_runs_under_the_single_task_protocol():
    learner = Bandit()
    teacher = make("random", learner.space, seed=0)
    result = run_loop(teacher, learner, eval_at=[0, 20, 40], log_tasks=True)
    assert learner.calls == [1] * 40  # batches of one through train()
    assert result.episodes == 40
    assert result.tasks.shape == (40,)


def test_the_x_axis_can_be_the_learners_unit():
    learner = Bandit()
    teacher = make("random", learner.space, seed=0)
    result = run_loop(teacher, learner, Plain(4), eval_at=[0, 50, 100], axis="units")
    # Steps are never cut short on the units axis: each point is read when it is reached.
    assert learner.calls == [4] * result.steps
    assert result.eval_units[0] == 0
    assert result.eval_units[1] >= 50
    assert result.eval_units[2] >= 100
    assert result.units == learner.steps == result.eval_units[-1]
    assert result.episodes == 4 * result.steps
    # Each step adds at most 4 x 10 units: the loop stopped at the first step past each point.
    assert result.eval_units[2] - 100 < 40


def test_bad_loop_arguments_name_the_value():
    teacher, student = _pair("random", "arms-chain")
    for bad in ([5, 10], [0], [0, 10, 10], [0.0, 10.0], [[0, 10]]):
        with pytest.raises(ValueError, match="eval_at must be increasing ints starting at 0"):
            run_loop(teacher, student, eval_at=bad)
    with pytest.raises(ValueError, match=r"axis must be one of .* got 'time'"):
        run_loop(teacher, student, eval_at=[0, 10], axis="time")
    with pytest.raises(ValueError, match="mastery must be 'step' or 'eval', got 'often'"):
        run_loop(teacher, student, eval_at=[0, 10], mastery="often")
    assert student.n_episodes == 0
