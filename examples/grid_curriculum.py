"""Teach the ALP-GMM paper's grid student with a teacher of your choice, one episode at a time.

Run: python examples/grid_curriculum.py --teacher random --episodes 20000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import autocurriculum as ac
from autocurriculum.bench.scenarios import make_scenario


@dataclass
class Args:
    teacher: str = "random"
    scenario: str = "grid-2d"
    episodes: int = 20_000
    seed: int = 0
    report_every: int = 2_000


TINY_ARGS = ["--episodes", "300", "--report-every", "100"]


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__)
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return Args(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    student = make_scenario(args.scenario).make_student(args.seed)
    params = {"student": student} if args.teacher == "oracle" else {}
    teacher = ac.make(args.teacher, student.space, seed=args.seed, **params)
    for episode in range(1, args.episodes + 1):
        task = teacher.sample()
        teacher.update(task, student.episode(task))
        if episode % args.report_every == 0:
            print(f"episode {episode:>6}: {student.score():5.1f}% mastered")
    return student.score()


if __name__ == "__main__":
    main()
