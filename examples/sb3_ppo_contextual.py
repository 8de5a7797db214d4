"""Train Stable-Baselines3 PPO on a contextual env, with a teacher choosing every episode's task.

The env is ``autocurriculum/PointMassGate-v0``: a point must pass a gate of a given position
and width, then reach a goal (reward 1 on success). Narrow and off-centre gates are almost
never found by chance, and gates narrower than the point cannot be passed at all, so a teacher
that follows learning progress should move from wide to narrow gates instead of spending a
third of the episodes on impossible ones.

Three lines attach the curriculum: build the teacher on the env's task space, build the
vector env with ``make_vec`` (SB3's ``SubprocVecEnv`` here), and pass ``CurriculumCallback``
to ``learn`` so that the teacher's metrics reach SB3's logger and the teacher is checkpointed
next to the model. At the end the policy is evaluated on the env's 10 x 10 test grid.

Run: python examples/sb3_ppo_contextual.py --teacher alp-gmm --total-steps 200000
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, fields

import numpy as np
from stable_baselines3 import PPO

import autocurriculum as ac
import autocurriculum.envs as ace
from autocurriculum.envs.sb3 import CurriculumCallback

ENV_ID = "autocurriculum/PointMassGate-v0"


@dataclass
class Args:
    teacher: str = "alp-gmm"
    total_steps: int = 200_000
    num_envs: int = 8
    vectorization: str = "sb3-subproc"  # or "sb3-dummy": everything in this process
    n_steps: int = 256  # PPO rollout length per sub-env
    seed: int = 0
    checkpoint_every: int = 5_000  # vector steps between teacher + model checkpoints
    save_path: str = ""  # empty: a temporary folder
    test_stride: int = 1  # evaluate on every test_stride-th task of the 10 x 10 grid
    episodes_per_task: int = 4


# The smoke test's budget: one short rollout, in this process, on a few test tasks.
TINY_ARGS = [
    "--total-steps", "256", "--num-envs", "2", "--vectorization", "sb3-dummy",
    "--n-steps", "64", "--checkpoint-every", "64", "--test-stride", "25",
    "--episodes-per-task", "1",
]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__)
    for field in fields(Args):
        default = getattr(Args(), field.name)
        parser.add_argument(
            f"--{field.name.replace('_', '-')}", type=type(default), default=default
        )
    return Args(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    space = ace.PointMassGate.task_space
    teacher = ac.make(args.teacher, space, seed=args.seed)
    # score=None: the env declares its return bounds (0, 1), so the score is the success rate.
    envs = ace.make_vec(ENV_ID, args.num_envs, teacher, vectorization=args.vectorization)
    save_path = args.save_path or tempfile.mkdtemp(prefix="sb3_ppo_contextual-")
    try:
        model = PPO(
            "MlpPolicy",
            envs,
            n_steps=args.n_steps,
            batch_size=min(256, args.n_steps * args.num_envs),
            seed=args.seed,
            verbose=0,
        )
        callback = CurriculumCallback(
            save_freq=args.checkpoint_every, save_path=save_path, name_prefix="ppo"
        )
        model.learn(args.total_steps, callback=callback)
        metrics = envs.metrics()
    finally:
        envs.close()  # sends the last outcomes to the teacher

    test_set = ace.PointMassGate().default_test_set[:: args.test_stride]
    result = ace.evaluate(model, ENV_ID, test_set, args.episodes_per_task, seed=args.seed)
    sampled = teacher.sample(1000)  # where the teacher would send the agent now
    narrow = float(np.mean(sampled[:, 1] < 1.0))
    print(
        f"teacher {args.teacher}: {metrics['curriculum/episodes']:.0f} episodes, "
        f"{metrics['curriculum/teacher_updates']:.0f} teacher updates"
    )
    print(f"% of the test set mastered: {result.percent_mastered:.1f} ({len(test_set)} tasks)")
    print(f"share of the teacher's next tasks with a gate narrower than 1: {narrow:.2f}")
    print(f"checkpoints (model .zip, teacher .ckpt, load with ac.load): {save_path}")
    return result.percent_mastered


if __name__ == "__main__":
    main()
