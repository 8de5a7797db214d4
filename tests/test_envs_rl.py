"""The contextual envs, evaluation, and a real SB3 agent training with a curriculum."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import autocurriculum as ac
import autocurriculum.envs as ace

GATE = "autocurriculum/PointMassGate-v0"
STUMPS = "autocurriculum/StumpTracks-v0"


def _aim_at_gate(obs):
    """A scripted policy: go to the gate's x above the wall, down through it, then to the goal.

    Past the wall it steers to the goal at (0, -1) on both axes: diving straight to the floor
    would pass the goal's disk by when the gate is off-centre.
    """
    obs = np.atleast_2d(obs)
    x, y, gate = obs[:, 0] * 4, obs[:, 1] * 2, obs[:, 2] * 4
    above = y > 0.35
    dx = np.clip((gate - x) / 0.3, -1, 1)
    dy = np.where(above & (np.abs(gate - x) > 0.05), 0.0, -1.0)
    after = y < 0
    dx = np.where(after, np.clip(-x / 0.3, -1, 1), dx)
    dy = np.where(after, np.clip((-1.0 - y) / 0.3, -1, 1), dy)
    return np.stack([dx, dy], axis=1).astype(np.float32)


# ------------------------------------------------------------------- PointMassGate
def test_point_mass_gate_declares_its_contract():
    env = gym.make(GATE)
    assert ace.task_space_of(env) == ace.PointMassGate.task_space
    assert env.get_wrapper_attr("return_bounds") == (0.0, 1.0)
    assert env.get_wrapper_attr("mastery_threshold") == 0.5
    assert env.get_wrapper_attr("default_test_set").shape == (100, 2)
    assert env.spec.max_episode_steps == 100
    ace.check_applies_task(env)


def test_point_mass_gate_has_feasible_and_unfeasible_tasks():
    wide, narrow, too_narrow, edge_too_narrow = [0.0, 3.0], [2.5, 0.6], [0.0, 0.3], [4.0, 0.7]
    result = ace.evaluate(_aim_at_gate, GATE, [wide, narrow, too_narrow, edge_too_narrow])
    # A policy that aims passes wide and narrow gates; nothing passes a gate narrower than the
    # point, or a gate against the side narrower than twice the point.
    assert result.mean_returns.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_point_mass_gate_crash_ends_the_episode():
    env = ace.PointMassGate()
    env.reset(seed=0, options={"task": [3.0, 1.0]})
    rewards, terminated = [], False
    while not terminated:
        _, reward, terminated, _, info = env.step(np.array([0.0, -1.0]))
        rewards.append(reward)
    assert sum(rewards) == 0.0
    assert info["is_success"] is False
    assert env.y < 0.3  # it stopped at the wall


def test_point_mass_gate_renders():
    env = ace.PointMassGate(render_mode="rgb_array")
    env.reset(seed=0, options={"task": [1.0, 2.0]})
    frame = env.render()
    assert frame.shape == (160, 320, 3)
    assert frame.dtype == np.uint8


# --------------------------------------------------------------------- Stump Tracks
def test_stump_tracks_is_seeded_and_applies_its_task():
    env = gym.make(STUMPS)
    assert env.spec.max_episode_steps == 2000
    assert env.get_wrapper_attr("mastery_threshold") == 230.0
    env.reset(seed=7, options={"task": [2.0, 1.0]})
    heights = list(env.unwrapped.stump_heights)
    env.reset(seed=7, options={"task": [2.0, 1.0]})
    assert env.unwrapped.stump_heights == heights  # same (task, seed), same track
    assert abs(np.mean(heights) - 2.0) < 0.05  # N(2.0, 0.1)
    env.reset(seed=7, options={"task": [0.0, 1.0]})
    assert min(env.unwrapped.stump_heights) == 0.05  # floored at 0.05
    n_close = len(env.unwrapped.stump_heights)
    env.reset(seed=7, options={"task": [0.0, 6.0]})
    assert len(env.unwrapped.stump_heights) < n_close / 3  # wider spacing, fewer stumps
    with pytest.raises(ValueError, match=r"autocurriculum/StumpTracks-v0: task \[4\.0, 1\.0\]"):
        env.reset(options={"task": [4.0, 1.0]})
    env.close()


def test_stump_tracks_returns_stay_within_the_declared_bounds():
    env = gym.make(STUMPS)
    low, high = env.get_wrapper_attr("return_bounds")
    rng = np.random.default_rng(0)
    for episode in range(3):
        env.reset(seed=episode, options={"task": [rng.uniform(0, 3), rng.uniform(0, 6)]})
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += reward
            done = terminated or truncated
        assert low <= total <= high
    env.close()


def test_stump_tracks_renders_its_stumps():
    env = gym.make(STUMPS, render_mode="rgb_array")
    env.reset(seed=0, options={"task": [2.0, 1.0]})
    frame = env.render()
    env.close()
    assert frame.shape == (400, 600, 3)
    # The ground is 100 px above the bottom; 2-step stumps are 28 px tall and white.
    row_above_ground = frame[290]
    assert (row_above_ground == 255).all(axis=1).sum() >= 10


# ----------------------------------------------------------------------- evaluate
def test_evaluate_is_deterministic_and_independent_of_num_envs():
    tasks = ace.PointMassGate().default_test_set[::7]
    one = ace.evaluate(_aim_at_gate, GATE, tasks, episodes_per_task=2, num_envs=1, seed=3)
    many = ace.evaluate(_aim_at_gate, GATE, tasks, episodes_per_task=2, num_envs=5, seed=3)
    np.testing.assert_array_equal(one.returns, many.returns)
    assert one.returns.shape == (len(tasks), 2)
    assert 0.0 < one.percent_mastered < 100.0
    default = ace.evaluate(_aim_at_gate, GATE, episodes_per_task=1)
    assert default.tasks.shape == (100, 2)


def test_evaluate_rejects_tasks_outside_the_space():
    with pytest.raises(ValueError, match=r"PointMassGate-v0: task \[0\., 7\.\]"):
        ace.evaluate(_aim_at_gate, GATE, [[0.0, 7.0]])


# ------------------------------------------------------------------- SB3 training
@pytest.mark.parametrize("vectorization", ["sb3-dummy", "sb3-subproc"])
def test_ppo_trains_with_a_curriculum_logs_and_checkpoints(tmp_path, vectorization):
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure

    from autocurriculum.envs.sb3 import CurriculumCallback

    teacher = ac.make("alp-gmm", ace.PointMassGate.task_space, seed=0)
    kwargs = {"start_method": "fork"} if vectorization == "sb3-subproc" else None
    envs = ace.make_vec(GATE, 4, teacher, vectorization=vectorization, vector_kwargs=kwargs)
    model = PPO("MlpPolicy", envs, n_steps=64, batch_size=128, n_epochs=1, seed=0)
    model.set_logger(configure(str(tmp_path / "logs"), ["csv"]))
    callback = CurriculumCallback(save_freq=128, save_path=tmp_path, name_prefix="ppo")
    model.learn(512, callback=callback)
    envs.close()

    # The teacher learnt from the episodes that finished.
    assert teacher.n_updates_ >= 4
    # Its metrics reached SB3's logger.
    header = (tmp_path / "logs" / "progress.csv").read_text().splitlines()[0]
    assert "teacher/n_updates" in header
    assert "curriculum/episodes" in header
    # Teacher and model checkpoints come in pairs, and the teacher loads back.
    saved = ac.load(tmp_path / "ppo_teacher_512_steps.ckpt")
    assert saved.n_updates_ >= 1
    assert (tmp_path / "ppo_512_steps.zip").exists()
    # save_freq counts vector steps: 128 steps of 4 envs is one checkpoint in 512 env steps.
    assert [p.name for p in tmp_path.glob("ppo_teacher_*")] == ["ppo_teacher_512_steps.ckpt"]


def test_the_callback_needs_a_curriculum():
    from stable_baselines3 import PPO

    from autocurriculum.envs.sb3 import CurriculumCallback

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1)
    with pytest.raises(ValueError, match="no curriculum"):
        model.learn(32, callback=CurriculumCallback())
    with pytest.raises(ValueError, match="save_path"):
        CurriculumCallback(save_freq=10)


def test_evaluate_takes_an_sb3_model():
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", gym.make(GATE), n_steps=32, batch_size=32, seed=0)
    result = ace.evaluate(model, GATE, [[0.0, 3.0], [-2.0, 1.0]], episodes_per_task=2)
    assert result.returns.shape == (2, 2)
