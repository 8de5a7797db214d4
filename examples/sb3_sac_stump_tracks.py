"""Train Stable-Baselines3 SAC on Stump Tracks with ALP-GMM choosing the stumps' height and spacing.

The setting of the ALP-GMM paper (Portelas et al., 2019) and of TeachMyAgent's Stump Tracks,
on Gymnasium's BipedalWalker: the task is the mean stump height in [0, 3] and the spacing in
[0, 6]; a task is mastered when the episodic return is above 230; the test set is the 10 x 10
grid over the task space. As TeachMyAgent did, returns are clipped to [-150, 350] before they
become the teacher's scores (``ReturnBounds(..., clip=True)``: clipping on purpose, never by
default).

The published runs train for 20M steps, days on a laptop: this file shows the wiring (SAC,
subprocess envs, the teacher's metrics in SB3's logger, teacher checkpoints next to the
model), and ``--total-steps`` sets the budget. Needs ``pip install box2d==2.3.10 pygame-ce``.

Run: python examples/sb3_sac_stump_tracks.py --total-steps 1000000 --num-envs 4
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, fields

from stable_baselines3 import SAC

import autocurriculum as ac
import autocurriculum.envs as ace
from autocurriculum.envs.sb3 import CurriculumCallback

ENV_ID = "autocurriculum/StumpTracks-v0"


@dataclass
class Args:
    teacher: str = "alp-gmm"
    total_steps: int = 1_000_000
    num_envs: int = 4
    vectorization: str = "sb3-subproc"  # or "sb3-dummy"
    learning_starts: int = 10_000
    batch_size: int = 256
    buffer_size: int = 1_000_000
    seed: int = 0
    checkpoint_every: int = 25_000  # vector steps between teacher + model checkpoints
    save_path: str = ""  # empty: a temporary folder
    test_stride: int = 1  # evaluate on every test_stride-th task of the 10 x 10 grid
    eval_max_steps: int = 2_000  # cut evaluation episodes after this many steps


# The smoke test's budget: a few hundred steps, two test tasks, short evaluation episodes.
TINY_ARGS = [
    "--total-steps", "120", "--num-envs", "2", "--vectorization", "sb3-dummy",
    "--learning-starts", "100", "--batch-size", "32", "--buffer-size", "1000",
    "--checkpoint-every", "50", "--test-stride", "50", "--eval-max-steps", "50",
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
    space = ace.StumpTracks.task_space
    teacher = ac.make(args.teacher, space, seed=args.seed)
    envs = ace.make_vec(
        ENV_ID,
        args.num_envs,
        teacher,
        score=ace.ReturnBounds(-150.0, 350.0, clip=True),
        vectorization=args.vectorization,
    )
    save_path = args.save_path or tempfile.mkdtemp(prefix="sb3_sac_stump_tracks-")
    try:
        model = SAC(
            "MlpPolicy",
            envs,
            learning_starts=args.learning_starts,
            batch_size=args.batch_size,
            buffer_size=args.buffer_size,
            seed=args.seed,
        )
        callback = CurriculumCallback(
            save_freq=args.checkpoint_every, save_path=save_path, name_prefix="sac"
        )
        model.learn(args.total_steps, callback=callback)
    finally:
        envs.close()  # sends the outcomes still pending to the teacher

    test_set = ace.StumpTracks().default_test_set[:: args.test_stride]
    result = ace.evaluate(
        model, ENV_ID, test_set, seed=args.seed, max_episode_steps=args.eval_max_steps
    )
    metrics = envs.metrics()
    print(f"teacher {args.teacher}: {metrics['curriculum/episodes']:.0f} training episodes")
    print(
        f"% of the test set mastered (return > 230): {result.percent_mastered:.1f} "
        f"({len(test_set)} tasks; published ALP-GMM walker after 20M steps: 42.7)"
    )
    print(f"checkpoints (model .zip, teacher .ckpt, load with ac.load): {save_path}")
    return result.percent_mastered


if __name__ == "__main__":
    main()
