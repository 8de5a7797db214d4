"""Teach the ALP-GMM paper's grid student with a teacher of your choice, one episode at a time.

The loop below is the teacher protocol as a user writes it around their own learner. The
teacher is built as the benchmark builds it: with the scenario's expert knowledge for exactly
the parameters its registry spec lists (ADR's start point, SPDL's initial distribution, the
oracle's student), so any registered teacher name works.

Run: python examples/grid_curriculum.py --teacher random --episodes 20000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.suites import build_teacher


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
    scenario = make_scenario(args.scenario)
    student = scenario.make_student(args.seed)
    teacher, _ = build_teacher(
        args.teacher, student, seed=args.seed, expert=scenario.expert_values(student)
    )
    for episode in range(1, args.episodes + 1):
        task = teacher.sample()
        teacher.update(task, student.episode(task))
        if episode % args.report_every == 0:
            print(f"episode {episode:>6}: {student.score():5.1f}% mastered")
    return student.score()


if __name__ == "__main__":
    main()
