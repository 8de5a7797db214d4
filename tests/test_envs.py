"""The env integration: contract, scoring, curriculum vector envs, exact credit, bad input."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import autocurriculum as ac
import autocurriculum.envs as ace
from autocurriculum.envs import (
    CurriculumEnv,
    CurriculumVectorEnv,
    ReturnBounds,
    SubEnvError,
    SubEnvValueError,
    TaskInbox,
    TaskWrapper,
    make_scorer,
    make_vec,
)
from test_envs_helpers import (
    ECHO_SPACE,
    EchoEnv,
    RecordingTeacher,
    make_crashing_echo,
    make_echo,
    make_ignoring_echo,
)

# fork starts workers in milliseconds; the default start methods are tested separately.
FORK = {
    "sync": None,
    "async": {"context": "fork"},
    "sb3-dummy": None,
    "sb3-subproc": {"start_method": "fork"},
}

CASES = [
    ("sync", "NextStep"),
    ("sync", "SameStep"),
    ("sync", "Disabled"),
    ("async", "NextStep"),
    ("async", "SameStep"),
    ("async", "Disabled"),
    ("sb3-dummy", None),
    ("sb3-subproc", None),
]


def _make(factory, n, teacher, vectorization, mode=None, **kwargs):
    return make_vec(
        factory,
        n,
        teacher,
        vectorization=vectorization,
        autoreset_mode=mode,
        vector_kwargs=FORK[vectorization],
        **kwargs,
    )


def _run(envs, steps, mode=None, seed=0):
    """Step with random actions; return the task of every episode that finished, as the main
    process sees it (from the observations), and check each final reward against it."""
    rng = np.random.default_rng(seed)
    sb3 = not isinstance(envs, gym.vector.VectorEnv)
    n = envs.num_envs
    obs = envs.reset() if sb3 else envs.reset(seed=seed)[0]
    current = obs[:, 0].copy()
    finished = []
    for _ in range(steps):
        actions = rng.integers(0, 2, n)
        if sb3:
            obs, rewards, done, _ = envs.step(actions)
        else:
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            done = terminated | truncated
        for i in np.flatnonzero(done):
            # EchoEnv pays its task's value on the last step: the return is the task.
            assert rewards[i] == current[i].astype(rewards.dtype)  # SB3 keeps float32
            finished.append(current[i])
        if mode == "Disabled" and done.any():
            obs, _ = envs.reset(options={"reset_mask": done})
        current = obs[:, 0].copy()
    return np.array(finished)


# --------------------------------------------------------------------------- import
def test_import_autocurriculum_does_not_import_gymnasium():
    code = "import sys, autocurriculum; assert 'gymnasium' not in sys.modules, 'gymnasium'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_envs_does_not_import_sb3_or_box2d():
    code = (
        "import sys, autocurriculum.envs as ace; "
        "assert 'stable_baselines3' not in sys.modules; assert 'Box2D' not in sys.modules; "
        "assert 'autocurriculum/PointMassGate-v0' in __import__('gymnasium').registry"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------- contract
def _set_pole(env, task):
    env.unwrapped.length = float(task[0])


def test_task_wrapper_applies_the_task_before_reset():
    env = TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), _set_pole)
    env.reset(seed=0, options={"task": [1.25]})
    assert env.unwrapped.length == 1.25
    env.reset(seed=1)  # no task: keeps the current one
    assert env.unwrapped.length == 1.25
    assert ace.task_space_of(env) == ac.Box([0.2], [2.0])


def test_task_wrapper_detects_an_env_that_ignores_the_task():
    with pytest.raises(ValueError, match="CartPole-v1 ignores its task"):
        TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), lambda env, task: None)
    # The check can be turned off, for tasks that act later than it looks.
    TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), lambda env, task: None, check=False)


def test_the_check_leaves_the_env_random_stream_unchanged():
    env = gym.make("CartPole-v1")
    env.reset(seed=3)
    expected = env.unwrapped.np_random.random()
    env = gym.make("CartPole-v1")
    env.reset(seed=3)
    TaskWrapper(env, ac.Box([0.2], [2.0]), _set_pole)
    assert env.unwrapped.np_random.random() == expected


def test_task_outside_the_space_names_env_and_task():
    env = TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), _set_pole)
    with pytest.raises(ValueError, match=r"CartPole-v1: task \[5\.0\] is not in its task space"):
        env.reset(options={"task": [5.0]})
    gate = gym.make("autocurriculum/PointMassGate-v0")
    with pytest.raises(ValueError, match=r"autocurriculum/PointMassGate-v0: task \[0, 9\]"):
        gate.reset(options={"task": [0, 9]})


def test_an_env_without_task_space_is_told_how_to_adapt():
    with pytest.raises(ValueError, match="TaskWrapper"):
        ace.task_space_of(gym.make("CartPole-v1"))


# -------------------------------------------------------------------------- scoring
def test_scores_from_bounds_success_and_functions():
    assert make_scorer((0.0, 200.0))(50.0, {}) == 0.25
    assert make_scorer("success")(-3.0, {"is_success": np.True_}) == 1.0
    assert make_scorer("success")(3.0, {"is_success": False}) == 0.0
    assert make_scorer(lambda r, info: r / 10)(5.0, {}) == 0.5
    assert make_scorer(None, EchoEnv())(0.25, {}) == 0.25  # declared by the env


def test_score_errors_never_clip_silently():
    with pytest.raises(ValueError, match=r"episodic return 250\.0 is outside .*\[0\.0, 200\.0\]"):
        make_scorer((0.0, 200.0))(250.0, {})
    assert ReturnBounds(0.0, 200.0, clip=True)(250.0, {}) == 1.0
    with pytest.raises(ValueError, match=r"returned 2\.0 .* scores must be in"):
        make_scorer(lambda r, info: 2.0)(1.0, {})
    with pytest.raises(ValueError, match="is_success"):
        make_scorer("success")(1.0, {"other": 1})
    with pytest.raises(ValueError, match="low < high"):
        make_scorer((1.0, 1.0))
    with pytest.raises(ValueError, match="not known"):
        make_scorer("sucess")


def test_a_missing_scale_says_how_to_declare_one():
    env = TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), _set_pole)
    teacher = ac.make("random", ac.Box([0.2], [2.0]), seed=0)
    with pytest.raises(
        ValueError, match=r"no return scale for CartPole-v1: pass score=\(low, high\)"
    ):
        CurriculumEnv(env, teacher)
    with pytest.raises(ValueError, match="return_bounds"):
        make_vec(
            lambda: TaskWrapper(gym.make("CartPole-v1"), ac.Box([0.2], [2.0]), _set_pole),
            2,
            teacher,
        )


def test_a_function_score_reaches_subprocesses():
    # A lambda does not pickle with the standard library; the scorer carries it.
    teacher = RecordingTeacher(ECHO_SPACE, seed=0)
    envs = _make(make_echo, 2, teacher, "async", score=lambda r, info: r / 2)
    _run(envs, 60)
    envs.close()
    tasks, scores = teacher.credited()
    assert len(scores) > 10
    np.testing.assert_array_equal(scores, tasks[:, 0] / 2)


# -------------------------------------------------------------------- exact credit
@pytest.mark.parametrize(("vectorization", "mode"), CASES, ids=lambda v: str(v))
def test_every_episode_is_credited_to_the_task_it_ran(vectorization, mode):
    teacher = RecordingTeacher(ECHO_SPACE, seed=1)
    envs = _make(make_echo, 4, teacher, vectorization, mode)
    finished = _run(envs, 250, mode)
    stale = envs.metrics()["curriculum/stale_tasks"]
    envs.close()  # sends the last outcomes
    tasks, scores = teacher.credited()
    assert len(finished) > 150
    # Every finished episode reached the teacher once, with its own task, and nothing else did.
    np.testing.assert_array_equal(np.sort(tasks[:, 0]), np.sort(finished))
    # The score is the episode's return, which is its task's value: exact credit.
    np.testing.assert_array_equal(scores, tasks[:, 0])
    # Every credited task is one the teacher proposed.
    assert set(tasks[:, 0]) <= set(np.concatenate(teacher.sampled)[:, 0])
    # No sub-env ever reset without a staged task: none waited for the teacher.
    assert stale == 0


def test_outcomes_reach_the_teacher_in_batches():
    teacher = RecordingTeacher(ECHO_SPACE, seed=1)
    envs = _make(make_echo, 4, teacher, "sync", batch_size=16)
    _run(envs, 100)
    sizes = [len(s) for _, s in teacher.updates]
    envs.close()
    assert sizes
    assert all(size >= 16 for size in sizes)
    # Tasks are drawn num_envs at a time, not one per episode.
    assert all(len(batch) == 4 for batch in teacher.sampled)


def test_spawned_workers_share_the_task_slots():
    # With spawn (and SB3's default, forkserver) workers rebuild everything from pickles, the
    # task slots included: they map the same memory by path.
    space = ace.PointMassGate.task_space
    teacher = ac.make("random", space, seed=0)
    envs = make_vec(
        "autocurriculum/PointMassGate-v0",
        2,
        teacher,
        vectorization="async",
        vector_kwargs={"context": "spawn"},
    )
    envs.reset(seed=0)
    for _ in range(120):
        envs.step(np.zeros((2, 2), dtype=np.float32))
    assert envs.metrics()["curriculum/episodes"] >= 2
    envs.close()
    assert teacher.n_updates_ >= 2


# ------------------------------------------------------------------- user-built envs
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_users_own_gymnasium_vector_env(kind):
    fns = [lambda: TaskInbox(EchoEnv())] * 3
    venv = (
        gym.vector.SyncVectorEnv(fns, autoreset_mode="SameStep")
        if kind == "sync"
        else gym.vector.AsyncVectorEnv(fns, context="fork")
    )
    teacher = RecordingTeacher(ECHO_SPACE, seed=2)
    envs = CurriculumVectorEnv(venv, teacher)
    finished = _run(envs, 120)
    envs.close()
    tasks, scores = teacher.credited()
    np.testing.assert_array_equal(np.sort(tasks[:, 0]), np.sort(finished))
    np.testing.assert_array_equal(scores, tasks[:, 0])


def test_a_users_own_sb3_vec_env():
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from autocurriculum.envs.sb3 import CurriculumSB3VecEnv

    venv = DummyVecEnv([lambda: Monitor(TaskInbox(EchoEnv()))] * 3)
    teacher = RecordingTeacher(ECHO_SPACE, seed=2)
    envs = CurriculumSB3VecEnv(venv, teacher, score="success")
    finished = _run(envs, 120)
    envs.close()
    tasks, scores = teacher.credited()
    np.testing.assert_array_equal(np.sort(tasks[:, 0]), np.sort(finished))
    np.testing.assert_array_equal(scores, (tasks[:, 0] > 0.5).astype(float))


def test_sub_envs_without_an_inbox_are_an_error():
    with pytest.raises(ValueError, match=r"not wrapped in autocurriculum\.envs\.TaskInbox"):
        CurriculumVectorEnv(
            gym.vector.SyncVectorEnv([make_echo] * 2), ac.make("random", ECHO_SPACE)
        )


def test_single_env_curriculum():
    teacher = RecordingTeacher(ECHO_SPACE, seed=3)
    env = CurriculumEnv(EchoEnv(), teacher)
    returns = []
    for episode in range(20):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(0)
            total += reward
            done = terminated or truncated
        returns.append(total)
    tasks, scores = teacher.credited()
    # batch_size=1: each episode reaches the teacher as soon as it ends.
    assert len(teacher.updates) == 20
    np.testing.assert_array_equal(scores, returns)
    np.testing.assert_array_equal(tasks[:, 0], returns)
    with pytest.raises(ValueError, match="takes its tasks from the teacher"):
        env.reset(options={"task": [0.5]})


# ------------------------------------------------------------------------ bad input
def test_a_teacher_outside_the_env_task_space():
    teacher = ac.make("random", ac.Box([0.0], [2.0]), seed=0)
    with pytest.raises(ValueError, match=r"not inside the task space of EchoEnv"):
        make_vec(make_echo, 2, teacher)


def test_an_env_that_ignores_its_task_is_detected_at_construction():
    with pytest.raises(ValueError, match="EchoEnv ignores its task"):
        make_vec(make_ignoring_echo, 2, ac.make("random", ECHO_SPACE))


def test_unknown_env_id_and_vectorization_list_the_valid_names():
    with pytest.raises(ValueError, match=r"Did you mean 'autocurriculum/PointMassGate-v0'"):
        make_vec("autocurriculum/PointMasGate-v0", 2, ac.make("random", ECHO_SPACE))
    with pytest.raises(ValueError, match=r"Did you mean 'sb3-subproc'.*Known: sync, async"):
        make_vec(make_echo, 2, ac.make("random", ECHO_SPACE), vectorization="sb3_subproc")


def test_use_after_close_and_a_changed_number_of_sub_envs():
    envs = make_vec(make_echo, 2, ac.make("random", ECHO_SPACE, seed=0))
    envs.reset(seed=0)
    envs.env.num_envs = 3  # what a vector env that grew looks like from outside
    with pytest.raises(RuntimeError, match="had 2 sub-envs and now has 3"):
        envs.step(np.zeros(2, dtype=np.int64))
    envs.env.num_envs = 2
    envs.close()
    with pytest.raises(RuntimeError, match="was closed"):
        envs.step(np.zeros(2, dtype=np.int64))
    envs.close()  # closing twice is harmless

    sb3 = make_vec(make_echo, 2, ac.make("random", ECHO_SPACE, seed=0), vectorization="sb3-dummy")
    sb3.close()
    with pytest.raises(RuntimeError, match="was closed"):
        sb3.reset()


def test_explicit_tasks_are_refused_by_the_curriculum():
    envs = make_vec(make_echo, 2, ac.make("random", ECHO_SPACE, seed=0))
    with pytest.raises(ValueError, match="takes its tasks from the teacher"):
        envs.reset(options={"task": [0.5]})
    envs.close()


@pytest.mark.parametrize("vectorization", ["sync", "async", "sb3-dummy", "sb3-subproc"])
def test_a_crashing_sub_env_surfaces_with_its_index_and_outcomes_are_kept(vectorization):
    teacher = RecordingTeacher(ECHO_SPACE, seed=0)  # its 27th task is the first to crash
    envs = _make(make_crashing_echo, 3, teacher, vectorization, check_task=False)
    sb3 = vectorization.startswith("sb3")
    envs.reset() if sb3 else envs.reset(seed=0)
    finished = []

    def step_until_crash():
        for _ in range(500):
            out = envs.step(np.zeros(3, dtype=np.int64))
            done = out[2] if sb3 else out[2] | out[3]
            finished.append(int(done.sum()))

    with pytest.raises(
        SubEnvError, match=r"sub-env [0-2] \(EchoEnv\) raised RuntimeError in step on task \[0\.9"
    ):
        step_until_crash()
    finished = sum(finished)
    tasks, scores = teacher.credited()
    # Everything delivered before the crash reached the teacher, correctly credited.
    assert finished > 0
    assert len(scores) >= finished
    np.testing.assert_array_equal(scores, tasks[:, 0])
    with pytest.raises(RuntimeError, match="stopped after a sub-env failed"):
        envs.step(np.zeros(3, dtype=np.int64))
    envs.close()


def test_a_return_outside_the_declared_bounds_is_an_error():
    teacher = RecordingTeacher(ECHO_SPACE, seed=5)
    envs = make_vec(make_echo, 2, teacher, score=(0.0, 0.5))
    envs.reset(seed=0)

    def step_a_while():
        for _ in range(200):
            envs.step(np.zeros(2, dtype=np.int64))

    with pytest.raises(SubEnvValueError, match=r"sub-env \d .*outside the declared return bounds"):
        step_a_while()
    assert isinstance(SubEnvValueError("x"), ValueError)
    envs.close()
