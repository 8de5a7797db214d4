"""What the benchmark runner adds per episode, beyond the teacher and the student.

Three loops over the same episodes (the random teacher on ``grid-2d``), measured in one process
and interleaved repeat by repeat, so machine load hits them alike:

- *bare*: ``task = teacher.sample(); reward = student.episode(task); teacher.update(task, reward)``,
  nothing else: the cost of teacher plus student;
- *runner*: :func:`autocurriculum.bench.runner.run_job` on the same job, end to end (building
  the teacher and student, clock reads, score evaluations every 1,000 episodes, task logging,
  model snapshots, the final competence image);
- *student*: ``student.episode(task)`` alone on the tasks the random teacher draws.

The runner's overhead is *runner - bare*, per episode. The target is <= 10 µs. Figures are the
median over repeats of CPU time (``time.process_time``), and wall time is printed next to them.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_runner.py [--episodes 20000] [--repeats 7]

The exit status is 1 if the overhead misses the target.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from autocurriculum.bench.runner import Job, derive_seeds, eval_points, run_job
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.teachers import make

TARGET_US = 10.0
SCENARIO = "grid-2d"
TEACHER = "random"


@dataclass
class Args:
    episodes: int = 20_000
    repeats: int = 7
    seed: int = 0


def _clocks() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def bare_loop(episodes: int, seed: int) -> tuple[float, float]:
    """(cpu s, wall s) of the bare protocol loop, construction excluded."""
    teacher_seed, student_seed = derive_seeds(seed)
    student = make_scenario(SCENARIO).make_student(student_seed)
    teacher = make(TEACHER, student.space, seed=teacher_seed)
    sample, update, episode = teacher.sample, teacher.update, student.episode
    cpu0, wall0 = _clocks()
    for _ in range(episodes):
        task = sample()
        reward = episode(task)
        update(task, reward)
    cpu1, wall1 = _clocks()
    return cpu1 - cpu0, wall1 - wall0


def runner_job(episodes: int, seed: int) -> tuple[float, float, dict]:
    """(cpu s, wall s, meta) of run_job end to end, construction included."""
    job = Job(
        teacher=TEACHER,
        label=TEACHER,
        params={},
        scenario=SCENARIO,
        seed=seed,
        episodes=episodes,
        eval_every=make_scenario(SCENARIO).eval_every,
    )
    cpu0, wall0 = _clocks()
    result = run_job(job)
    cpu1, wall1 = _clocks()
    return cpu1 - cpu0, wall1 - wall0, result.meta


def student_only(episodes: int, seed: int) -> float:
    """CPU s of ``student.episode`` alone on the random teacher's tasks."""
    teacher_seed, student_seed = derive_seeds(seed)
    student = make_scenario(SCENARIO).make_student(student_seed)
    tasks = make(TEACHER, student.space, seed=teacher_seed).sample(episodes)
    episode = student.episode
    cpu0 = time.process_time()
    for i in range(episodes):
        episode(tasks[i])
    return time.process_time() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=Args.episodes)
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--seed", type=int, default=Args.seed)
    args = Args(**vars(parser.parse_args(argv)))
    us = 1e6 / args.episodes

    bare_cpu, bare_wall, run_cpu, run_wall, stud, t_rec, s_rec, clock = ([] for _ in range(8))
    for _ in range(args.repeats):
        c, w = bare_loop(args.episodes, args.seed)
        bare_cpu.append(c * us)
        bare_wall.append(w * us)
        c, w, meta = runner_job(args.episodes, args.seed)
        run_cpu.append(c * us)
        run_wall.append(w * us)
        t_rec.append(meta["teacher_cpu_ns"] / 1e3 / args.episodes)
        s_rec.append(meta["student_cpu_ns"] / 1e3 / args.episodes)
        clock.append(meta["timer_ns"] / 1e3)
        stud.append(student_only(args.episodes, args.seed) * us)

    med = statistics.median
    overhead = med(run_cpu) - med(bare_cpu)
    n_evals = len(eval_points(args.episodes, make_scenario(SCENARIO).eval_every))
    print(
        f"{TEACHER} teacher on {SCENARIO}: median of {args.repeats} repeats x "
        f"{args.episodes:,} episodes ({n_evals} evals), µs per episode"
    )
    print(f"{'':<34} {'CPU':>8} {'wall':>8}")
    print(f"{'bare loop (teacher + student)':<34} {med(bare_cpu):>8.2f} {med(bare_wall):>8.2f}")
    print(f"{'runner run_job, end to end':<34} {med(run_cpu):>8.2f} {med(run_wall):>8.2f}")
    print(f"{'student.episode alone':<34} {med(stud):>8.2f}")
    print(
        f"runner records: teacher {med(t_rec):.2f} µs, student {med(s_rec):.2f} µs per episode "
        f"(clock read {med(clock):.2f} µs, subtracted)"
    )
    ok = overhead <= TARGET_US
    print(
        f"runner overhead: {overhead:.2f} µs per episode (CPU; wall "
        f"{med(run_wall) - med(bare_wall):.2f}); target <= {TARGET_US:g}: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
