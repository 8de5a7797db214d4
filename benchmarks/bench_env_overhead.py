"""Env throughput with a curriculum attached against the same vector env without one.

Target (issue 9): a ratio of 0.97 or more (Syllabus: 0.75-0.85 on this setup).

Setup: 8 sub-envs in worker processes; each step busy-waits 50 µs (a cheap simulator) and an
episode lasts 200 steps; the task is 2-D. Three loops are measured:

- ``gym-async``: Gymnasium ``AsyncVectorEnv`` stepped with pre-drawn random actions;
- ``sb3-subproc``: SB3 ``SubprocVecEnv`` (every sub-env in SB3's ``Monitor``), likewise;
- ``ppo-rollout``: SB3 PPO's ``collect_rollouts`` (n_steps=256 per sub-env, 64x64 MLP,
  one torch thread) on ``SubprocVecEnv``; with the curriculum, ``CurriculumCallback`` runs
  too, as a user runs it.

Each loop runs without a curriculum (``none``) and with ``make_vec`` and the ``alp-gmm`` and
``auto`` teachers, in the same run. A repeat times every (loop, teacher) pair once, in a
shuffled order, so that drifts of a shared machine hit all of them alike. The vector envs and
the teachers live for the whole run (only stepping is timed, after a warm-up), so a teacher's
history grows over the repeats and ALP-GMM refits its mixture (every 250 episodes) as it does
in training. The figure is env steps per second; a ratio is (curriculum / none) within one
repeat, and the report gives the median over repeats of each, with the range of the ratios.

Workers start with ``fork`` (the env is defined in this script).

Run::

    PYTHONPATH=src python benchmarks/bench_env_overhead.py          # about 2 minutes
    PYTHONPATH=src python benchmarks/bench_env_overhead.py --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import SubprocVecEnv

import autocurriculum as ac
import autocurriculum.envs as ace
from autocurriculum.envs.sb3 import CurriculumCallback

TASK_SPACE = ac.Box([0.0, 0.0], [1.0, 1.0], names=["a", "b"])
LOOPS = ("gym-async", "sb3-subproc", "ppo-rollout")
TEACHERS = ("none", "alp-gmm", "auto")


class BusyEnv(gym.Env[np.ndarray, np.ndarray]):
    """A contextual env whose step costs ``step_us`` of CPU; episodes last ``length`` steps.

    The reward depends on the task (so the task is really applied, and the teacher sees varied
    scores); the return is in [0, 1].
    """

    task_space = TASK_SPACE
    return_bounds = (0.0, 1.0)

    def __init__(self, step_us: float = 50.0, length: int = 200):
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.step_s = step_us * 1e-6
        self.length = length
        self.task = np.array([0.5, 0.5])
        self.t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "task" in options:
            self.task = np.asarray(options["task"], dtype=np.float64)
        self.t = 0
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        end = time.perf_counter() + self.step_s
        while time.perf_counter() < end:  # a simulator's CPU work, not a sleep
            pass
        self.t += 1
        reward = float(self.task[0] * self.task[1]) / self.length
        return self._obs(), reward, self.t >= self.length, False, {}

    def _obs(self) -> np.ndarray:
        t = self.t / self.length
        return np.array([self.task[0], self.task[1], t, 0.0], dtype=np.float32)


@dataclass
class Args:
    num_envs: int = 8
    step_us: float = 50.0
    episode_steps: int = 200
    steps: int = 3_000  # vector steps per timing (gym-async, sb3-subproc)
    rollouts: int = 2  # PPO rollouts per timing (each n_steps=256 vector steps)
    warmup: int = 200
    repeats: int = 5
    seed: int = 0
    quick: bool = False  # a smoke run: 1 repeat, short timings


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__)
    for name, default in vars(Args()).items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(default, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(default), default=default)
    args = Args(**vars(parser.parse_args(argv)))
    if args.quick:
        args.repeats, args.steps, args.rollouts, args.warmup = 1, 200, 1, 20
    return args


def build(loop: str, teacher_name: str, args: Args) -> tuple[Any, Callable[[], int]]:
    """The vector env of one (loop, teacher) pair, and the timed work, returning env steps."""
    factory = _factory(args)
    n = args.num_envs
    teacher = None if teacher_name == "none" else ac.make(teacher_name, TASK_SPACE, seed=args.seed)
    sb3 = loop != "gym-async"
    if teacher is None:
        if sb3:
            venv: Any = SubprocVecEnv([_monitored(factory)] * n, start_method="fork")
        else:
            venv = gym.vector.AsyncVectorEnv([factory] * n, context="fork")
    else:
        venv = ace.make_vec(
            factory,
            n,
            teacher,
            vectorization="sb3-subproc" if sb3 else "async",
            vector_kwargs={"start_method": "fork"} if sb3 else {"context": "fork"},
        )
    actions = np.random.default_rng(args.seed).uniform(-1, 1, (64, n, 2)).astype(np.float32)

    if loop == "ppo-rollout":
        model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, seed=args.seed)
        callback: Any = CurriculumCallback() if teacher is not None else None
        _, cb = model._setup_learn(10**9, callback)
        cb.on_training_start(locals(), globals())

        def rollouts(count: int = args.rollouts) -> int:
            for _ in range(count):
                model.collect_rollouts(model.env, cb, model.rollout_buffer, model.n_steps)
            return count * model.n_steps * n

        return venv, rollouts

    if sb3:
        venv.reset()
    else:
        venv.reset(seed=args.seed)

    def steps(count: int = args.steps) -> int:
        for k in range(count):
            venv.step(actions[k % 64])
        return count * n

    return venv, steps


def _factory(args: Args) -> Callable[[], BusyEnv]:
    def make() -> BusyEnv:
        return BusyEnv(args.step_us, args.episode_steps)

    return make


def _monitored(factory: Callable[[], gym.Env[Any, Any]]) -> Callable[[], gym.Env[Any, Any]]:
    def make() -> gym.Env[Any, Any]:
        return Monitor(factory())

    return make


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = parse_args(argv)
    torch.set_num_threads(1)  # the policy's forward pass should not fight the workers
    pairs = [(loop, t) for loop in LOOPS for t in TEACHERS]
    built = {pair: build(*pair, args) for pair in pairs}
    for pair, (_, work) in built.items():  # warm-up: workers running, first episodes done
        work(1 if pair[0] == "ppo-rollout" else args.warmup)
    rates: dict[tuple[str, str], list[float]] = {pair: [] for pair in pairs}
    order = random.Random(args.seed)
    try:
        for repeat in range(args.repeats):
            shuffled = pairs[:]
            order.shuffle(shuffled)
            for pair in shuffled:
                work = built[pair][1]
                start = time.perf_counter()
                done = work()
                rates[pair].append(done / (time.perf_counter() - start))
            print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)
        teachers = {t: built[("gym-async", t)][0].teacher for t in TEACHERS[1:]}
    finally:
        for venv, _ in built.values():
            venv.close()

    print(
        f"\n{args.num_envs} subprocess envs, {args.step_us:g} µs/step, {args.episode_steps}-step "
        f"episodes, {args.repeats} repeats: env steps/s (median) and the ratio to 'none' "
        "(median over repeats [min, max])"
    )
    summary: dict[str, dict[str, float]] = {}
    for loop in LOOPS:
        base = rates[(loop, "none")]
        print(f"{loop:<12} none     {statistics.median(base):>9,.0f} steps/s")
        for t in TEACHERS[1:]:
            rate = rates[(loop, t)]
            ratios = [r / b for r, b in zip(rate, base, strict=True)]
            med = statistics.median(ratios)
            summary[f"{loop}/{t}"] = {"steps_per_s": statistics.median(rate), "ratio": med}
            print(
                f"{loop:<12} {t:<8} {statistics.median(rate):>9,.0f} steps/s  ratio {med:.3f} "
                f"[{min(ratios):.3f}, {max(ratios):.3f}]"
            )
    for name, teacher in teachers.items():
        shown = {k: round(v, 1) for k, v in teacher.metrics().items()}
        print(f"{name} teacher of the gym-async loop at the end: {shown}")
    return summary


if __name__ == "__main__":
    main()
