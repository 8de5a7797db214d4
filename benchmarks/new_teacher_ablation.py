"""LP-Tree, our continuous teacher: against the published teachers, and its ablation.

Two studies, each a benchmark run (``autocurriculum.bench.runner``: one episode at a time, the
published protocol; job seed ``k`` gives the teacher and the student their seeds, so every
teacher meets the same students):

- ``compare``: ``lp-tree`` with its defaults against every published continuous teacher that
  needs no expert knowledge (ALP-GMM, Covar-GMM and RIAC, each with its class defaults and with
  the values its paper's benchmark scripts used), and the uniform ``random`` baseline, on every
  grid scenario at the scenario's own budget (20,000 episodes; 100,000 for ``grid-4d``). For
  each scenario the table gives the mean % mastered at the end with its 95% bootstrap CI over
  the seeds, and judges LP-Tree against the best published configuration *of that scenario*
  (the one with the highest mean): "worse" when LP-Tree's CI lies wholly below the best one's,
  "better" when it lies wholly above, "tied" otherwise.
- ``ablation``: LP-Tree with one component removed at a time (see ``ABLATIONS``), on a few
  scenarios. Besides the final score it gives the episodes to reach 90% of the best possible
  score (a mean over seeds, when every seed got there), which still separates variants that
  all end at 100%.

Each study writes a run directory (``--out``; ``--resume`` completes an interrupted one) and
prints Markdown tables. Teacher CPU per episode is measured with
``benchmarks/bench_continuous_teachers.py --teachers lp-tree ...``.

Run (about 1 hour of CPU for ``compare`` with 5 seeds, most of it the GMM teachers)::

    PYTHONPATH=src nice -n 10 python benchmarks/new_teacher_ablation.py compare \\
        --seeds 5 --workers 2 --out /tmp/lp-tree-compare
    PYTHONPATH=src nice -n 10 python benchmarks/new_teacher_ablation.py ablation \\
        --seeds 5 --workers 2 --out /tmp/lp-tree-ablation
    PYTHONPATH=src python benchmarks/new_teacher_ablation.py table /tmp/lp-tree-compare

``--teachers published`` and ``--teachers ours`` run the two sides into separate run
directories (the published side is the slow one and does not change when LP-Tree does);
``table`` merges the directories it is given.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from autocurriculum.bench.metrics import bootstrap_ci
from autocurriculum.bench.runner import load_run, run_benchmark, summarise
from autocurriculum.bench.scenarios import list_scenarios
from autocurriculum.bench.suites import BASELINE, Entrant

#: Every grid scenario of the suite.
GRID_SCENARIOS = list_scenarios("box")

OURS = Entrant("lp-tree")
UNIFORM = Entrant(BASELINE)
#: The published teachers without expert knowledge: class defaults, and the values of the
#: papers' benchmark scripts (ALGORITHMS.md).
PUBLISHED = [
    Entrant("alp-gmm"),
    Entrant("alp-gmm", {"fit_rate": 150, "random_task_ratio": 0.05}, "alp-gmm-bench"),
    Entrant("covar-gmm"),
    Entrant(
        "covar-gmm",
        {"fit_rate": 150, "random_task_ratio": 0.1, "potential_ks": list(range(2, 15))},
        "covar-gmm-bench",
    ),
    Entrant("riac"),
    Entrant("riac", {"max_region_size": 150, "nb_split_attempts": 75}, "riac-bench"),
]

#: One component of LP-Tree removed at a time (parameters on top of the defaults).
ABLATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "full": ({}, "the defaults"),
    "no-plateau-check": ({"recent": 0}, "LP from the whole window only (recent=0)"),
    "no-confidence": ({"z": 0.0}, "raw slopes, no standard-error discount (z=0)"),
    "signed-lp": ({"absolute": False}, "only rising reward counts (absolute=False)"),
    "no-merge": ({"merge": False}, "idle leaves never merge (merge=False)"),
    "no-exploration": ({"random_ratio": 0.0}, "no uniform share (random_ratio=0)"),
    "uniform-fallback": (
        {"fallback": "uniform"}, "uniform tasks while no leaf shows progress (fallback='uniform')"
    ),
    "no-initial-partition": (
        {"initial_depth": 0}, "start from one leaf instead of 8 (initial_depth=0)"
    ),
    "no-partition": (
        {"max_leaves": 1, "initial_depth": 0}, "a single region, never split (max_leaves=1)"
    ),
}


def ablation_entrants() -> list[Entrant]:
    """One entrant per ablation, labelled ``lp-tree-<ablation>``."""
    return [
        Entrant(OURS.name, params, f"{OURS.name}-{name}") for name, (params, _) in ABLATIONS.items()
    ]


ABLATION_SCENARIOS = [
    "grid-2d", "grid-distractors", "grid-forgetting", "grid-noisy", "grid-rugged", "grid-4d"
]

CI_SEED = 0
#: The episode count of the published protocol; longer runs are also reported at this point.
PROTOCOL_EPISODES = 20_000


def _cell(values: np.ndarray) -> tuple[float, float, float]:
    mean, lo, hi = bootstrap_ci(values, random_state=CI_SEED)
    return float(mean), float(lo), float(hi)


def _fmt(mean: float, lo: float, hi: float) -> str:
    if math.isnan(lo):
        return f"{mean:.1f}"
    return f"{mean:.1f} [{lo:.1f}, {hi:.1f}]"


def _finals(run_dirs: list[str]) -> tuple[dict[tuple[str, str], Any], list[str], list[str]]:
    """Final scores and budgets per (teacher, scenario), over one or more run directories."""
    out: dict[tuple[str, str], Any] = {}
    scenarios: list[str] = []
    teachers: list[str] = []
    for run_dir in run_dirs:
        run = load_run(run_dir)
        for scenario in run.scenarios():
            for teacher in run.teachers():
                group = run.group(teacher, scenario)
                if group:
                    out[teacher, scenario] = (
                        np.array([r.scores[-1] for r in group]), group[0].job.episodes
                    )
                    # A longer budget is also read at the protocol's 20,000 episodes.
                    x = group[0].eval_episodes
                    if x[-1] > PROTOCOL_EPISODES and PROTOCOL_EPISODES in x:
                        at = int(np.flatnonzero(x == PROTOCOL_EPISODES)[0])
                        key = f"{scenario} @{PROTOCOL_EPISODES:,}"
                        out[teacher, key] = (
                            np.array([r.scores[at] for r in group]), PROTOCOL_EPISODES
                        )
                        scenarios += [key] if key not in scenarios else []
                    scenarios += [scenario] if scenario not in scenarios else []
                    teachers += [teacher] if teacher not in teachers else []
    return out, scenarios, teachers


def compare_table(run_dirs: list[str]) -> str:
    """Markdown: per scenario, every teacher's final % mastered [CI] and the verdict."""
    finals, scenarios, found = _finals(run_dirs)
    published = [t for t in found if t not in (OURS.label, UNIFORM.label)]
    teachers = [t for t in (OURS.label, *published, UNIFORM.label) if t in found]
    lines = [
        "| scenario | episodes | seeds | " + " | ".join(teachers) + " | best published | "
        "LP-Tree vs best |",
        "|---" * (len(teachers) + 5) + "|",
    ]
    for scenario in [s for s in GRID_SCENARIOS if s in scenarios] + sorted(
        s for s in scenarios if s not in GRID_SCENARIOS
    ):
        cells = {t: _cell(finals[t, scenario][0]) for t in teachers if (t, scenario) in finals}
        budgets = {finals[t, scenario][1] for t in teachers if (t, scenario) in finals}
        seeds = {len(finals[t, scenario][0]) for t in teachers if (t, scenario) in finals}
        ours = cells.get(OURS.label)
        pub = {t: c for t, c in cells.items() if t in published}
        best = max(pub, key=lambda t: pub[t][0]) if pub else None
        verdict = "-"
        if ours is not None and best is not None:
            b = pub[best]
            if ours[2] < b[1]:
                verdict = "worse"
            elif ours[1] > b[2]:
                verdict = "better"
            else:
                verdict = "tied"
        row = [
            scenario,
            "/".join(f"{e:,}" for e in sorted(budgets)),
            "/".join(str(n) for n in sorted(seeds)),
        ]
        row += [_fmt(*cells[t]) if t in cells else "" for t in teachers]
        row += [best or "", verdict]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def ablation_table(run_dir: str) -> str:
    """Markdown: per variant and scenario, final % mastered [CI] and episodes to 90%."""
    run = load_run(run_dir)
    rows = {(r["teacher"], r["scenario"]): r for r in summarise(run, random_state=CI_SEED)}
    scenarios = run.scenarios()
    lines = [
        "| variant | " + " | ".join(scenarios) + " |",
        "|---" * (len(scenarios) + 1) + "|",
    ]
    for label in run.teachers():
        cells = []
        for scenario in scenarios:
            r = rows.get((label, scenario))
            if r is None:
                cells.append("")
                continue
            text = _fmt(r["final_mean"], r["final_ci_low"], r["final_ci_high"])
            to90 = r["episodes_to_90_mean"]
            if not math.isnan(to90):
                text += f"; 90% at {to90:,.0f}"
            cells.append(text)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=["compare", "ablation", "table"])
    parser.add_argument("run_dirs", nargs="*", help="for 'table': run directories to print")
    parser.add_argument(
        "--teachers", choices=["all", "ours", "published"], default="all",
        help="compare: which side to run (the table merges run directories)",
    )
    parser.add_argument("--out", help="run directory to write")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", help="override the study's scenarios")
    parser.add_argument("--episodes", type=int, help="override every scenario's budget (smoke)")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()

    if args.study == "table":
        if not args.run_dirs:
            parser.error("table needs run directories")
        runs = [load_run(d) for d in args.run_dirs]
        ablation = {e.label for e in ablation_entrants()}
        if all(set(run.teachers()) <= ablation for run in runs):
            for run_dir in args.run_dirs:
                print(ablation_table(run_dir))
        else:
            print(compare_table(args.run_dirs))
        return
    if not args.out:
        parser.error(f"{args.study} needs --out")
    if args.study == "compare":
        teachers = {
            "all": [OURS, *PUBLISHED, UNIFORM],
            "ours": [OURS],
            "published": [*PUBLISHED, UNIFORM],
        }[args.teachers]
        scenarios = args.scenarios or GRID_SCENARIOS
    else:
        teachers = ablation_entrants()
        scenarios = args.scenarios or ABLATION_SCENARIOS
    run_dir = run_benchmark(
        teachers, scenarios, args.seeds, out=args.out, workers=args.workers,
        episodes=args.episodes, progress=False, resume=args.resume,
    )
    if args.study == "compare":
        print(compare_table([str(run_dir)]))
    else:
        print(ablation_table(str(run_dir)))


if __name__ == "__main__":
    main()
