"""A curriculum over CartPole's pole length and push force, in a plain Gymnasium vector loop.

No RL library here: the point is the plumbing a user writes around their own agent.

- ``TaskWrapper`` makes the stock ``CartPole-v1`` contextual: the task is (pole half-length,
  push force), applied by a small function. It checks at construction that the task changes
  the env.
- ``make_vec(..., vectorization="async")`` runs the sub-envs in worker processes with the
  teacher in this process. Every sub-env already holds its next task when Gymnasium resets it
  (autoresets pass no options), and each finished episode's score is credited to the task it
  ran. ``autoreset_mode`` can be any of Gymnasium's three.
- ``score=(0, 500)``: CartPole's return is the number of steps balanced, at most 500.

The "agent" is a fixed controller with exploration noise (push towards where the pole falls),
so what changes over the run is only where the teacher sends it: long poles are easy for it,
short light poles with weak pushes are hard.

Run: python examples/gymnasium_vector_curriculum.py --teacher alp-gmm --steps 20000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np

import autocurriculum as ac
import autocurriculum.envs as ace

TASK_SPACE = ac.Box(low=[0.05, 2.0], high=[1.5, 20.0], names=["pole_half_length", "force"])


def apply_task(env: gym.Env[Any, Any], task: np.ndarray) -> None:
    """Set CartPole's pole half-length (and the mass-length product it caches) and push force."""
    pole = env.unwrapped
    pole.length = float(task[0])
    pole.polemass_length = pole.masspole * pole.length
    pole.force_mag = float(task[1])


def make_cartpole() -> gym.Env[Any, Any]:
    """One contextual CartPole (a module-level function, so that worker processes can build it)."""
    return ace.TaskWrapper(
        gym.make("CartPole-v1"), TASK_SPACE, apply_task, return_bounds=(0.0, 500.0)
    )


@dataclass
class Args:
    teacher: str = "alp-gmm"
    steps: int = 20_000  # vector steps
    num_envs: int = 8
    vectorization: str = "async"  # or "sync"
    autoreset_mode: str = "NextStep"  # or "SameStep", "Disabled"
    noise: float = 0.2  # probability of a random action
    seed: int = 0
    report_every: int = 5_000


TINY_ARGS = ["--steps", "300", "--num-envs", "2", "--vectorization", "sync",
             "--report-every", "100"]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__)
    for field in fields(Args):
        default = getattr(Args(), field.name)
        parser.add_argument(
            f"--{field.name.replace('_', '-')}", type=type(default), default=default
        )
    return Args(**vars(parser.parse_args(argv)))


def controller(obs: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Push towards the side the pole falls to, with a random action now and then."""
    lean = obs[:, 2] + 0.5 * obs[:, 3]
    actions = (lean > 0).astype(np.int64)
    explore = rng.random(len(obs)) < noise
    return np.where(explore, rng.integers(0, 2, len(obs)), actions)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    teacher = ac.make(args.teacher, TASK_SPACE, seed=args.seed)
    envs = ace.make_vec(
        make_cartpole,
        args.num_envs,
        teacher,
        score=(0.0, 500.0),
        vectorization=args.vectorization,
        autoreset_mode=args.autoreset_mode,
    )
    try:
        obs, _ = envs.reset(seed=args.seed)
        for step in range(1, args.steps + 1):
            obs, _, terminated, truncated, _ = envs.step(controller(obs, args.noise, rng))
            done = terminated | truncated
            if args.autoreset_mode == "Disabled" and done.any():
                # Disabled autoreset: the loop resets finished sub-envs; they take staged tasks.
                obs, _ = envs.reset(options={"reset_mask": done})
            if step % args.report_every == 0:
                m = envs.metrics()
                print(
                    f"step {step:>6}: {m['curriculum/episodes']:>5.0f} episodes, mean score of "
                    f"the last 100 {m.get('curriculum/mean_score_100', float('nan')):.3f}"
                )
    finally:
        envs.close()  # sends the outcomes still pending to the teacher
    metrics = envs.metrics()
    sampled = teacher.sample(1000)
    print(f"final metrics: { {k: round(v, 3) for k, v in metrics.items()} }")
    print(
        "the teacher's next tasks: mean pole half-length "
        f"{sampled[:, 0].mean():.2f}, mean force {sampled[:, 1].mean():.1f}"
    )
    return metrics


if __name__ == "__main__":
    main()
