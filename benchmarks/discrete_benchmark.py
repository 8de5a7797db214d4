"""Benchmark of the discrete teachers (issue 4, items 3 and 6), and the data behind ``auto``.

Four sub-commands; results go to a run directory (default ``runs/discrete``),
figures to ``benchmarks/figures/``, tables to stdout and ``<out>/tables.md``:

``arms``
    Every discrete teacher (and ``random``, and ``oracle`` as the upper reference) on
    ``arms-chain`` and ``arms-mixed``, over ``--seeds`` seeds, under two protocols:

    - *plain*: one episode per ``sample``/``update``, outcome = the 0/1 reward (the runner's
      protocol, ``batch_size=1``);
    - *grpo*: each step samples ``--prompts`` arms and rolls each out ``--group`` times; the
      update gets the rewards and ``signals={"group": ids}`` (one id per prompt), so SEC and
      DUMP compute GRPO |advantages| from the group. Teachers that read no signal ignore it.

    Each run is the project's training loop (:func:`autocurriculum.bench.loop.run_loop`, the
    one the runner's jobs play) with a callback that records what the runner does not: every
    forgetting event and its recovery, the arm of every episode, and runs past the budget (up
    to ``--cap``) until everything is mastered, so that slow teachers get a time rather than
    a censored one. It uses the runner's seed derivation (``derive_seeds``), so job seed
    ``k`` meets the same student and teacher as in the runner, and gets the same episodes to
    master. Teachers that need a trainer signal (SEC, DUMP: their registry spec's
    ``needs_one_of``) run under grpo only.

    Per run it records: the score (% of arms mastered) every 100 episodes up to
    the scenario budget (20,000), for the final score and the AUC; the first episode at which
    every learnable arm is mastered at once (*episodes to master*; the chain for arms-chain,
    the chain and the trivial arms for arms-mixed), continuing past the budget up to ``--cap``
    episodes if needed; the arm of every episode; and forgetting events (an arm that was
    mastered falls to <= 0.75) with the episodes until it is mastered again.

``forgetting``
    The same loop (plain protocol) on students that forget: ``arms-chain`` with every
    competence reset at episode 8,000, ``arms-decay`` (20 independent arms, decay 5e-4 per
    episode of neglect) and ``arms-decay-chance`` (10 of them plus 10 arms at 25% chance
    success), for the forgetting figure and tables.

``grid``
    The binning adapter (``binned``) with each discrete teacher that needs no signal, against
    the continuous teachers, on grid scenarios, through the project's runner
    (:func:`autocurriculum.bench.runner.run_benchmark`).

``report``
    Tables (mean [95% bootstrap CI]) and figures from the two run directories.

Run from the repository root (about an hour on 2 shared cores for all of it; docs/discrete.md
has the results and the exact commands)::

    PYTHONPATH=src nice -n 10 python benchmarks/discrete_benchmark.py arms --seeds 10
    PYTHONPATH=src nice -n 10 python benchmarks/discrete_benchmark.py forgetting --seeds 10
    PYTHONPATH=src nice -n 10 python benchmarks/discrete_benchmark.py grid --seeds 5
    PYTHONPATH=src python benchmarks/discrete_benchmark.py report
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum.bench import metrics
from autocurriculum.bench.jobs import derive_seeds, eval_points
from autocurriculum.bench.loop import Callback, LoopState, run_loop
from autocurriculum.bench.pool import execute
from autocurriculum.bench.protocols import DEFAULT_GROUP, DEFAULT_PROMPTS, PROTOCOLS, make_protocol
from autocurriculum.bench.runner import load_run, run_benchmark, summarise
from autocurriculum.bench.scenarios import make_scenario
from autocurriculum.bench.suites import BASELINE, Entrant, build_teacher, missing_signals
from autocurriculum.teachers.registry import list_teachers, teacher_spec

MASTERED = 0.75
ARMS_SCENARIOS = ("arms-chain", "arms-mixed")
RANDOM_STATE = 0
FIG_DIR = Path(__file__).resolve().parent / "figures"


@dataclass(frozen=True)
class Spec:
    """A teacher configuration: label, registry name, parameters."""

    label: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def protocols(self) -> tuple[str, ...]:
        """The protocols whose updates carry the signals the teacher needs."""
        spec = teacher_spec(self.name)
        return tuple(p for p in PROTOCOLS if not missing_signals(spec, p))


#: Every discrete teacher with its published defaults, then the variants worth a row.
ARMS_SPECS: tuple[Spec, ...] = (
    Spec(BASELINE, BASELINE),
    Spec("oracle", "oracle", note="reads the student's frontier: upper reference"),
    Spec("tscl", "tscl", note="defaults: window K=10, epsilon-greedy 0.1"),
    Spec("tscl-online", "tscl", {"variant": "online"}, note="alpha=0.1, epsilon-greedy 0.1"),
    Spec("tscl-sampling", "tscl", {"variant": "sampling"}, note="K=10, epsilon-greedy 0.1"),
    Spec("tscl-boltzmann", "tscl", {"policy": "boltzmann"}, note="window, tau=0.0004"),
    Spec("exp3s", "exp3s", note="published: eta=1e-3, delta progress"),
    Spec("exp3s-ema", "exp3s", {"progress": "ema", "eta": 0.1}, note="not published"),
    Spec("learnability", "learnability", note="SFL defaults: buffer 100, ratio 0.5, window 10"),
    Spec("plr", "plr", note="beta=0.1, rho=0.1, replay 0.5, performance score"),
    Spec("sec", "sec", note="lr 0.5, tau 1.0"),
    Spec("sec-t0.2", "sec", {"temperature": 0.2}, note="lr 0.5, tau 0.2"),
    Spec("dump", "dump", note="window 300, tau 0.1"),
    Spec("zlp", "zlp", note="this library's teacher (not published), its defaults"),
)


# ------------------------------------------------------------------------- arms jobs
def arm_roles(student: Any) -> dict[str, NDArray[np.int64]]:
    """Arm ids by role, from the student's public API: chain order, then initial competence."""
    comp = student.competence()
    chain = np.asarray(student.chain_order, dtype=np.int64)
    others = np.setdiff1d(np.arange(student.space.n), chain)
    trivial = others[comp[others] >= 1.0]
    unlearnable = others[comp[others] < 1.0]
    return {"chain": chain, "trivial": trivial, "unlearnable": unlearnable}


class ArmsRecorder(Callback):
    """After every step: the arm of every episode, forgetting events, times to master.

    Also stops the run once it is past the budget, every learnable arm is mastered, and (with
    a reset) the reset is behind it.
    """

    def __init__(self, student: Any, budget: int, reset: int | None):
        roles = arm_roles(student)
        n = student.space.n
        self.chain_mask = np.zeros(n, dtype=bool)
        self.chain_mask[roles["chain"]] = True
        self.roles = roles
        self.budget = budget
        self.reset = reset
        self.arms = np.zeros(budget, dtype=np.int16)
        self.on_forgotten = np.zeros(budget, dtype=bool)
        self.n_forgotten = np.zeros(budget, dtype=np.int16)
        self.mastered = student.competence() > MASTERED
        self.ever = self.mastered.copy()
        self.forgot_at = np.full(n, -1, dtype=np.int64)  # episode of the open event, or -1
        self.events: list[tuple[int, int, int]] = []  # (arm, forgot at, recovered at or -1)
        self.t_chain = math.nan
        self.t_remaster = math.nan

    def on_step(self, state: LoopState) -> bool:
        batch = np.asarray(state.tasks)
        t = state.episodes
        start = t - len(batch)
        forgotten = self.ever & ~self.mastered  # as it was when the step began
        if start < self.budget:
            hi = min(self.budget, t)
            self.arms[start:hi] = batch[: hi - start]
            self.on_forgotten[start:hi] = forgotten[batch[: hi - start]]
            self.n_forgotten[start:hi] = int(forgotten.sum())
        now = state.learner.competence() > MASTERED  # type: ignore[attr-defined]
        if t <= self.budget:
            for a in np.flatnonzero(self.mastered & ~now):
                self.forgot_at[a] = t
            for a in np.flatnonzero(~self.mastered & now & (self.forgot_at >= 0)):
                self.events.append((int(a), int(self.forgot_at[a]), t))
                self.forgot_at[a] = -1
        self.mastered = now
        self.ever |= now
        if math.isnan(self.t_chain) and now[self.chain_mask].all():
            self.t_chain = float(t)
        if (
            self.reset is not None
            and t > self.reset
            and math.isnan(self.t_remaster)
            and state.learner.evaluate() >= state.learner.best_possible()
        ):
            self.t_remaster = float(t)
        past_reset = self.reset is None or t > self.reset
        return not (t >= self.budget and state.first_best is not None and past_reset)

    def closed_events(self) -> NDArray[np.int64]:
        """Every event, the unrecovered ones with -1 as their end."""
        events = self.events + [(int(a), int(self.forgot_at[a]), -1)
                                for a in np.flatnonzero(self.forgot_at >= 0)]
        return np.asarray(events, dtype=np.int64).reshape(-1, 3)


def run_arms_job(
    spec: Spec,
    scenario: str,
    seed: int,
    protocol: str,
    *,
    prompts: int = DEFAULT_PROMPTS,
    group: int = DEFAULT_GROUP,
    eval_every: int = 100,
    cap: int = 60_000,
    student_params: dict[str, Any] | None = None,
    budget: int | None = None,
) -> dict[str, Any]:
    """One run of a teacher on an arms scenario; returns arrays and scalars (see module doc)."""
    sc = make_scenario(scenario)
    teacher_seed, student_seed = derive_seeds(seed)
    if student_params is None:
        student = sc.make_student(student_seed)
    else:
        student = sc.student_cls(**{**sc.params, **student_params}, seed=student_seed)
    teacher, _ = build_teacher(
        spec.name, student, seed=teacher_seed, params=spec.params,
        expert=sc.expert_values(student),
    )
    budget = sc.episodes if budget is None else budget
    if cap < budget:
        raise ValueError(f"cap must be >= the budget ({budget}), got {cap}")
    step = make_protocol(protocol, prompts=prompts, group=group)
    # A grpo step cannot be split: each point is read at the end of the step that reaches it,
    # as in the runner; the run goes on to the cap unless the recorder stops it.
    curve_points = eval_points(budget, eval_every, 1 if step.splittable else step.step_episodes)
    end = -(-cap // step.step_episodes) * step.step_episodes
    points = np.append(curve_points, end) if end > curve_points[-1] else curve_points
    resets = [int(x) for x in getattr(student, "reset_at", ())]
    recorder = ArmsRecorder(student, budget, min(resets) if resets else None)
    cpu0 = time.process_time()
    result = run_loop(teacher, student, step, eval_at=points, mastery="step", callbacks=[recorder])
    roles = recorder.roles
    t = result.episodes
    return {
        "label": spec.label,
        "scenario": scenario,
        "seed": seed,
        "protocol": protocol,
        "budget": budget,
        "eval_every": eval_every,
        "best_possible": student.best_possible(),
        "curve": result.evaluations[: len(curve_points)].copy(),
        "t_master": math.nan if result.first_best is None else float(result.first_best),
        "t_chain": recorder.t_chain,
        "t_remaster": recorder.t_remaster,
        "reset": math.nan if recorder.reset is None else float(recorder.reset),
        "arms": recorder.arms,
        "on_forgotten": recorder.on_forgotten,
        "n_forgotten": recorder.n_forgotten,
        "events": recorder.closed_events(),
        "roles_chain": roles["chain"],
        "roles_trivial": roles["trivial"],
        "roles_unlearnable": roles["unlearnable"],
        "episodes_run": t,
        "teacher_us_per_episode": result.teacher_ns / 1e3 / t,
        "cpu_s": time.process_time() - cpu0,
    }


def _job_key(label: str, scenario: str, protocol: str, seed: int) -> str:
    return f"{label}__{scenario}__{protocol}__seed{seed}"


def _save(path: Path, result: dict[str, Any]) -> None:
    arrays = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in result.items() if not isinstance(v, np.ndarray)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(scalars)), **arrays)
    os.replace(tmp, path)


def load_arms(run_dir: Path) -> list[dict[str, Any]]:
    """Every saved arms job of a run directory."""
    out = []
    for path in sorted((run_dir / "arms").glob("*.npz")):
        with np.load(path) as data:
            result = json.loads(str(data["meta"]))
            result.update({k: data[k] for k in data.files if k != "meta"})
        out.append(result)
    return out


def _arms_worker(args: tuple[Spec, str, int, str, dict[str, Any], str]) -> str:
    spec, scenario, seed, protocol, opts, path = args
    result = run_arms_job(spec, scenario, seed, protocol, **opts)
    _save(Path(path), result)
    return path


def cmd_arms(args: argparse.Namespace) -> None:
    specs = [s for s in ARMS_SPECS if not args.teachers or s.label in args.teachers]
    opts = {"prompts": args.prompts, "group": args.group, "cap": args.cap}
    jobs = []
    for spec in specs:
        for protocol in spec.protocols:
            if args.protocols and protocol not in args.protocols:
                continue
            for scenario in args.scenarios:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    key = _job_key(spec.label, scenario, protocol, seed)
                    path = Path(args.out) / "arms" / f"{key}.npz"
                    if path.exists() and not args.overwrite:
                        continue
                    jobs.append((spec, scenario, seed, protocol, opts, str(path)))
    print(f"{len(jobs)} arms jobs", file=sys.stderr)
    _run_pool(_arms_worker, jobs, args.workers)


def _run_pool(fn: Callable[[Any], str], jobs: Sequence[Any], workers: int) -> None:
    t0 = time.perf_counter()
    count = [0]

    def report(job: Any, path: str) -> None:
        count[0] += 1
        print(f"  {count[0]}/{len(jobs)} {Path(path).stem} {time.perf_counter() - t0:.0f}s",
              file=sys.stderr)

    execute(fn, jobs, on_result=report, workers=workers)


# ------------------------------------------------------------------------- grid jobs
#: Discrete teachers run through the adapter on the grid; those whose spec needs a signal that
#: the protocol does not give (SEC and DUMP need |advantage| or group ids) only under
#: ``grid --protocol grpo``.
BINNED_INNER = ("tscl", "exp3s", "learnability", "plr", "sec", "dump")
CONTINUOUS = ("alp-gmm", "riac", "covar-gmm", "lp-tree")
#: Grid scenarios whose relevant dimensions are 2-D: 10 bins per dimension are 100 arms.
GRID_2D = ("grid-2d", "grid-unfeasible")
DISTRACTORS = "grid-distractors"


def _grid_specs(scenario_dims: int, protocol: str = "plain") -> list[Entrant]:
    known = set(list_teachers("box"))
    specs = [Entrant(BASELINE), Entrant("oracle")]
    specs += [Entrant(name) for name in CONTINUOUS if name in known]
    inners = [n for n in BINNED_INNER if not missing_signals(teacher_spec(n), protocol)]
    if scenario_dims == 2:
        for inner in inners:
            specs.append(Entrant("binned", {"teacher": inner, "bins": 10}, f"binned-{inner}"))
        # 7 bins do not line up with the student's 10 cells: the adapter without that luck.
        specs.append(Entrant("binned", {"teacher": "tscl", "bins": 7}, "binned-tscl-b7"))
    else:
        # 10 bins per dimension of a 10-D box are 10^10 arms: the adapter refuses them.
        # 2 bins per dimension (1,024 arms) need no knowledge of the task; 10 bins on the
        # two relevant dimensions and 1 on the 8 distractors use expert knowledge.
        for inner in inners:
            specs.append(Entrant("binned", {"teacher": inner, "bins": 2}, f"binned-{inner}-b2"))
        expert = [10, 10] + [1] * (scenario_dims - 2)
        specs.append(Entrant("binned", {"teacher": "tscl", "bins": expert}, "binned-tscl-expert"))
    return specs


def cmd_grid(args: argparse.Namespace) -> None:
    out = Path(args.out)
    common = {"seeds": args.seeds, "episodes": args.episodes, "workers": args.workers,
              "progress": False, "resume": args.resume, "protocol": args.protocol}
    suffix = "" if args.protocol == "plain" else f"-{args.protocol}"
    scenarios_2d = [s for s in GRID_2D if s in args.scenarios]
    if scenarios_2d:
        run_dir = out / f"grid{suffix}"
        run_benchmark(_grid_specs(2, args.protocol), scenarios_2d, out=run_dir, **common)
        print(f"wrote {run_dir}", file=sys.stderr)
    if DISTRACTORS in args.scenarios:
        dims = make_scenario(DISTRACTORS).make_student(seed=0).space.ndim
        run_dir = out / f"grid-distractors{suffix}"
        run_benchmark(_grid_specs(dims, args.protocol), [DISTRACTORS], out=run_dir, **common)
        print(f"wrote {run_dir}", file=sys.stderr)


# --------------------------------------------------------------------------- report
def _ci_text(mean: float, low: float, high: float, fmt: str = "{:.1f}") -> str:
    if math.isnan(low):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def _ratio_ci(
    num: NDArray[np.float64], den: NDArray[np.float64], n_resamples: int = 5000
) -> tuple[float, float, float]:
    """Ratio of means with a percentile bootstrap CI, resampling both groups independently."""
    rng = np.random.default_rng(RANDOM_STATE)
    a = num[rng.integers(0, len(num), (n_resamples, len(num)))].mean(axis=1)
    b = den[rng.integers(0, len(den), (n_resamples, len(den)))].mean(axis=1)
    lo, hi = np.quantile(a / b, [0.025, 0.975])
    return float(num.mean() / den.mean()), float(lo), float(hi)


def _group(results: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["scenario"], r["protocol"], r["label"]), []).append(r)
    for runs in groups.values():
        runs.sort(key=lambda r: r["seed"])
    return groups


def _master_times(runs: list[dict[str, Any]], key: str) -> tuple[NDArray[np.float64], int]:
    """Episodes to master per run, censored runs counted at the episodes they ran; hits."""
    t = np.array([r[key] for r in runs], dtype=np.float64)
    ran = np.array([r["episodes_run"] for r in runs], dtype=np.float64)
    hits = int(np.count_nonzero(~np.isnan(t)))
    return np.where(np.isnan(t), ran, t), hits


def _forgetting_stats(r: dict[str, Any], margin: int = 2000) -> dict[str, float]:
    """Forgetting in one run: events, recovery, and where the episodes went meanwhile.

    An *event* is a mastered arm falling to <= 0.75; it is *recovered* when the arm is mastered
    again (events starting in the last ``margin`` episodes are not counted as unrecovered).
    *At-risk* episodes are those with at least one forgotten arm; ``focus`` is the share of
    them spent on a forgotten arm, ``uniform_focus`` what uniform sampling would spend.
    """
    n_arms = int(len(r["roles_chain"]) + len(r["roles_trivial"]) + len(r["roles_unlearnable"]))
    risk = r["n_forgotten"] > 0
    events = r["events"]
    early = events[events[:, 1] <= r["budget"] - margin] if len(events) else events
    recovered = early[early[:, 2] >= 0] if len(early) else early
    return {
        "events": float(len(events)),
        "at_risk": float(risk.mean()),
        "focus": float(r["on_forgotten"][risk].mean()) if risk.any() else math.nan,
        "uniform_focus": float((r["n_forgotten"][risk] / n_arms).mean())
        if risk.any()
        else math.nan,
        "recovered": float(len(recovered) / len(early)) if len(early) else math.nan,
        "recovery_median": float(np.median(recovered[:, 2] - recovered[:, 1]))
        if len(recovered)
        else math.nan,
    }


def _unlearnable_share(r: dict[str, Any], start: int, stop: int) -> float:
    arms = r["arms"][start:stop]
    return float(np.isin(arms, r["roles_unlearnable"]).mean())


def arms_tables(results: list[dict[str, Any]]) -> str:
    """Markdown tables of the arms runs: one per (scenario, protocol)."""
    groups = _group(results)
    lines: list[str] = []
    order = [s.label for s in ARMS_SPECS]
    for scenario in ARMS_SCENARIOS:
        for protocol in ("plain", "grpo"):
            base = groups.get((scenario, protocol, BASELINE))
            if base is None:
                continue
            key = "t_master"
            base_t, _ = _master_times(base, key)
            target = "the whole chain" if scenario == "arms-chain" else "every learnable arm"
            lines += [
                f"### {scenario}, {protocol} protocol",
                "",
                f"Episodes to master {target} at once (censored runs count at the episodes "
                "they ran, shown with >=), its ratio to uniform's mean, the final % of arms "
                f"mastered at {base[0]['budget']:,} episodes and the AUC of that curve; mean "
                f"[95% bootstrap CI] over {len(base)} seeds.",
                "",
            ]
            header = (
                "| teacher | episodes to master | reached | x uniform | median x | final % | "
                "AUC % |"
            )
            sep = "|---|---|---|---|---|---|---|"
            if scenario == "arms-mixed":
                header += (
                    " % on unlearnable, 15-20k | forgetting events | % at-risk ep. on "
                    "forgotten arms (uniform) | % recovered | recovery, median ep. |"
                )
                sep += "---|---|---|---|---|"
            header += " µs/ep |"
            sep += "---|"
            lines += [header, sep]
            for label in order:
                runs = groups.get((scenario, protocol, label))
                if runs is None:
                    continue
                t, hits = _master_times(runs, key)
                m, lo, hi = metrics.bootstrap_ci(t, random_state=RANDOM_STATE)
                ge = ">= " if hits < len(runs) else ""
                ratio = _ratio_ci(t, base_t)
                med = float(np.median(t) / np.median(base_t))
                curves = np.stack([r["curve"] for r in runs])
                x = np.arange(curves.shape[1]) * runs[0]["eval_every"]
                final = metrics.bootstrap_ci(curves[:, -1], random_state=RANDOM_STATE)
                aucs = metrics.bootstrap_ci(metrics.auc(curves, x), random_state=RANDOM_STATE)
                us = float(np.mean([r["teacher_us_per_episode"] for r in runs]))
                row = (
                    f"| {label} | {ge}{_ci_text(m, lo, hi, '{:,.0f}')} | {hits}/{len(runs)} | "
                    f"{ge}{_ci_text(*ratio, '{:.2f}')} | {med:.2f} | {_ci_text(*final)} | "
                    f"{_ci_text(*aucs)} |"
                )
                if scenario == "arms-mixed":
                    budget = runs[0]["budget"]
                    share = [100 * _unlearnable_share(r, budget - 5000, budget) for r in runs]
                    fs = [_forgetting_stats(r) for r in runs]
                    row += (
                        f" {_ci_text(*metrics.bootstrap_ci(share, random_state=RANDOM_STATE))} |"
                        f" {_mean_ci([f['events'] for f in fs], '{:.1f}')} |"
                        f" {_forgetting_focus(fs)} |"
                        f" {_mean_ci(_finite([100 * f['recovered'] for f in fs]), '{:.0f}')} |"
                        f" {_mean_ci(_finite([f['recovery_median'] for f in fs]), '{:,.0f}')} |"
                    )
                row += f" {us:.0f} |"
                lines.append(row)
            lines.append("")
    return "\n".join(lines)


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _forgetting_focus(stats: list[dict[str, float]]) -> str:
    focus = _finite([100 * f["focus"] for f in stats])
    if not focus:
        return "no forgetting"
    uniform = float(np.nanmean([100 * f["uniform_focus"] for f in stats]))
    return f"{_mean_ci(focus, '{:.0f}')} ({uniform:.0f}), {len(focus)} runs"


def _mean_ci(values: Sequence[float], fmt: str) -> str:
    if not values:
        return "n/a"
    return _ci_text(*metrics.bootstrap_ci(np.asarray(values), random_state=RANDOM_STATE), fmt)


def _protocol_text(protocol: str) -> str:
    return "batch 1" if protocol == "plain" else f"{protocol} protocol"


def grid_tables(run_dirs: Sequence[Path]) -> str:
    """Markdown tables of the grid runs (the runner's summary rows)."""
    lines: list[str] = []
    for run_dir in run_dirs:
        if not (run_dir / "config.json").exists():
            continue
        run = load_run(run_dir)
        rows = summarise(run)
        for scenario in run.scenarios():
            lines += [
                f"### {scenario}",
                "",
                f"% of cells mastered after {rows[0]['episodes']:,} episodes and AUC, mean [95% "
                f"bootstrap CI] over {rows[0]['seeds']} seeds (the project's runner, "
                f"{_protocol_text(rows[0]['protocol'])}).",
                "",
                "| teacher | final % | AUC % | teacher µs/episode |",
                "|---|---|---|---|",
            ]
            for row in rows:
                if row["scenario"] != scenario:
                    continue
                lines.append(
                    f"| {row['teacher']} | "
                    f"{_ci_text(row['final_mean'], row['final_ci_low'], row['final_ci_high'])} | "
                    f"{_ci_text(row['auc_mean'], row['auc_ci_low'], row['auc_ci_high'])} | "
                    f"{row['teacher_us_per_episode']:.0f} |"
                )
            lines.append("")
    return "\n".join(lines)


def cmd_report(args: argparse.Namespace) -> None:
    out = Path(args.out)
    parts = []
    results = load_arms(out)
    if results:
        parts.append(arms_tables(results))
        parts.append(reset_table(results))
        parts.append(decay_table(results))
        if args.figures:
            figures(results)
    parts.append(stopping_table(results))
    parts.append(grid_tables([out / "grid", out / "grid-distractors", out / "grid-grpo"]))
    text = "\n".join(parts)
    (out / "tables.md").write_text(text)
    print(text)


# ------------------------------------------------------------------- stopping runs
STOP_SCENARIO = "arms-mixed-60k"
STOP_BUDGET = 60_000
STOP_WINDOW = 5_000
STOP_LABELS = (BASELINE, "tscl", "learnability", "plr", "zlp")


def stopping_table(results: list[dict[str, Any]]) -> str:
    runs_by = _group([r for r in results if r["scenario"] == STOP_SCENARIO])
    if not runs_by:
        return ""
    windows = range(0, STOP_BUDGET, STOP_WINDOW)
    head = " | ".join(f"{w // 1000}-{(w + STOP_WINDOW) // 1000}k" for w in windows)
    lines = [
        f"### arms-mixed over {STOP_BUDGET:,} episodes: share on the unlearnable arms",
        "",
        "% of the episodes of each 5,000-episode window spent on the 10 unlearnable arms "
        "(uniform: 28.6%), mean over the seeds; the last column is the mean [95% bootstrap "
        "CI] of the last window.",
        "",
        f"| teacher | {head} | last window |",
        "|---|" + "---|" * (len(windows) + 1),
    ]
    for (_, _, label), runs in sorted(runs_by.items(), key=lambda kv: STOP_LABELS.index(kv[0][2])):
        shares = np.array(
            [[_unlearnable_share(r, w, w + STOP_WINDOW) for w in windows] for r in runs]
        )
        cells = " | ".join(f"{100 * v:.1f}" for v in shares.mean(axis=0))
        last = _mean_ci((100 * shares[:, -1]).tolist(), "{:.1f}")
        lines.append(f"| {label} | {cells} | {last} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- forgetting runs
RESET_AT = 8000
RESET_SCENARIO = f"arms-chain-reset{RESET_AT}"
FORGET_LABELS = (
    BASELINE, "oracle", "tscl", "tscl-sampling", "exp3s-ema", "learnability", "plr", "zlp"
)


#: Forgetting by decay: 20 independent learnable arms (no chain); every arm loses 5e-4 per
#: episode it is not practised, so an arm left at 0.76 slips after 20 episodes of neglect and
#: one driven to 1.0 after 500 (uniform sampling gives each arm twice the practice it needs to
#: hold). The "-chance" variant has 10 learnable arms and 10 arms that
#: succeed 25% of the time by chance (best possible 50%).
DECAY_SCENARIO = "arms-decay"
DECAY_CHANCE_SCENARIO = "arms-decay-chance"
FORGET_SCENARIOS: dict[str, dict[str, Any]] = {
    RESET_SCENARIO: {"reset_at": (RESET_AT,)},
    DECAY_SCENARIO: {"n_arms": 20, "chain": False, "decay": 5e-4},
    DECAY_CHANCE_SCENARIO: {"n_arms": 10, "chain": False, "unlearnable": 10,
                            "unlearnable_success": 0.25, "decay": 5e-4},
}


@dataclass(frozen=True)
class Variant:
    """A plain-protocol run of a registered arms scenario with other student parameters."""

    base: str
    labels: tuple[str, ...]
    student_params: dict[str, Any] | None = None
    budget: int | None = None


#: The runs of the ``forgetting`` and ``stopping`` sub-commands, by the scenario name they
#: are saved under.
VARIANTS: dict[str, Variant] = {
    **{name: Variant("arms-chain", FORGET_LABELS, params)
       for name, params in FORGET_SCENARIOS.items()},
    STOP_SCENARIO: Variant("arms-mixed", STOP_LABELS, budget=STOP_BUDGET),
}


def _variant_worker(args: tuple[Spec, str, int, str]) -> str:
    spec, name, seed, path = args
    v = VARIANTS[name]
    result = run_arms_job(
        spec, v.base, seed, "plain", student_params=v.student_params, budget=v.budget
    )
    result["scenario"] = name
    _save(Path(path), result)
    return path


def _run_variants(args: argparse.Namespace, names: Sequence[str]) -> None:
    jobs = []
    for name in names:
        for spec in ARMS_SPECS:
            if spec.label not in VARIANTS[name].labels:
                continue
            if args.teachers and spec.label not in args.teachers:
                continue
            for seed in range(args.seeds):
                path = Path(args.out) / "arms" / f"{_job_key(spec.label, name, 'plain', seed)}.npz"
                if path.exists() and not args.overwrite:
                    continue
                jobs.append((spec, name, seed, str(path)))
    print(f"{len(jobs)} jobs", file=sys.stderr)
    _run_pool(_variant_worker, jobs, args.workers)


def cmd_forgetting(args: argparse.Namespace) -> None:
    """arms-chain with a reset at 8,000 episodes, arms-decay, arms-decay-chance (plain)."""
    _run_variants(args, list(FORGET_SCENARIOS))


def cmd_stopping(args: argparse.Namespace) -> None:
    """arms-mixed for 60,000 episodes: does the share on unlearnable arms go to zero?"""
    _run_variants(args, [STOP_SCENARIO])


def decay_table(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for scenario, what in (
        (DECAY_SCENARIO, "20 independent learnable arms"),
        (DECAY_CHANCE_SCENARIO, "10 independent learnable arms and 10 arms at 25% chance "
         "success (best possible 50%)"),
    ):
        runs_by = _group([r for r in results if r["scenario"] == scenario])
        if not runs_by:
            continue
        lines += [
            f"### {scenario}: forgetting by decay, plain protocol",
            "",
            f"{what}; a learnable arm loses 5e-4 of competence per episode it is not "
            "practised. A *forgetting event* is a mastered arm falling to <= 0.75; *at-risk* "
            "episodes are those with at least one forgotten arm. Mean [95% bootstrap CI] over "
            "the seeds (the at-risk share over the runs that had forgetting).",
            "",
            "| teacher | final % | AUC % | events per run | % of at-risk episodes on forgotten "
            "arms (uniform would) | % recovered | recovery, median episodes | % on chance "
            "arms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for spec in ARMS_SPECS:
            runs = runs_by.get((scenario, "plain", spec.label))
            if runs is None:
                continue
            curves = np.stack([r["curve"] for r in runs])
            x = np.arange(curves.shape[1]) * runs[0]["eval_every"]
            final = metrics.bootstrap_ci(curves[:, -1], random_state=RANDOM_STATE)
            aucs = metrics.bootstrap_ci(metrics.auc(curves, x), random_state=RANDOM_STATE)
            fs = [_forgetting_stats(r) for r in runs]
            chance = (
                _mean_ci([100 * _unlearnable_share(r, 0, r["budget"]) for r in runs], "{:.0f}")
                if len(runs[0]["roles_unlearnable"])
                else "-"
            )
            lines.append(
                f"| {spec.label} | {_ci_text(*final)} | {_ci_text(*aucs)} | "
                f"{_mean_ci([f['events'] for f in fs], '{:.1f}')} | {_forgetting_focus(fs)} | "
                f"{_mean_ci(_finite([100 * f['recovered'] for f in fs]), '{:.0f}')} | "
                f"{_mean_ci(_finite([f['recovery_median'] for f in fs]), '{:,.0f}')} | "
                f"{chance} |"
            )
        lines.append("")
    return "\n".join(lines)


def reset_table(results: list[dict[str, Any]]) -> str:
    runs_by = _group([r for r in results if r["scenario"] == RESET_SCENARIO])
    if not runs_by:
        return ""
    lines = [
        f"### arms-chain with a reset at {RESET_AT:,} episodes, plain protocol",
        "",
        f"Every arm's competence returns to 0 after episode {RESET_AT:,}. Episodes to master "
        "the chain before the reset (runs that did), and episodes from the reset until the "
        "chain is mastered again (censored runs count at the episodes they ran, with >=), "
        "mean [95% bootstrap CI].",
        "",
        "| teacher | mastered before the reset | episodes to master, first | episodes to master "
        "again, from the reset | again / first |",
        "|---|---|---|---|---|",
    ]
    for spec in ARMS_SPECS:
        runs = runs_by.get((RESET_SCENARIO, "plain", spec.label))
        if runs is None:
            continue
        first = np.array([r["t_master"] for r in runs], dtype=np.float64)
        before = first[first <= RESET_AT]
        again = np.array([r["t_remaster"] for r in runs], dtype=np.float64)
        ran = np.array([r["episodes_run"] for r in runs], dtype=np.float64)
        hits = int(np.count_nonzero(~np.isnan(again)))
        again = np.where(np.isnan(again), ran, again) - RESET_AT
        ge = ">= " if hits < len(runs) else ""
        ratio = f"{again.mean() / before.mean():.2f}" if len(before) == len(runs) else "n/a"
        lines.append(
            f"| {spec.label} | {len(before)}/{len(runs)} | "
            f"{_mean_ci(list(before), '{:,.0f}') if len(before) else 'n/a'} | "
            f"{ge}{_mean_ci(list(again), '{:,.0f}')} | {ratio} |"
        )
    lines.append("")
    return "\n".join(lines)


# -------------------------------------------------------------------------- figures
CURVE_LABELS = (BASELINE, "oracle", "tscl", "tscl-sampling", "exp3s", "exp3s-ema",
                "learnability", "plr", "sec", "sec-t0.2", "dump", "zlp")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figures(results: list[dict[str, Any]]) -> list[Path]:
    """Write the arms figures to benchmarks/figures/; return their paths."""
    plt = _plt()
    FIG_DIR.mkdir(parents=True, exist_ok=True)
    groups = _group(results)
    colours = {label: plt.cm.tab20(i / 20) for i, label in enumerate(CURVE_LABELS)}
    paths = []

    fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True, constrained_layout=True)
    for i, scenario in enumerate(ARMS_SCENARIOS):
        for j, protocol in enumerate(("plain", "grpo")):
            ax = axes[i, j]
            for label in CURVE_LABELS:
                runs = groups.get((scenario, protocol, label))
                if runs is None:
                    continue
                curves = np.stack([r["curve"] for r in runs])
                x = np.arange(curves.shape[1]) * runs[0]["eval_every"]
                m, lo, hi = metrics.bootstrap_ci(curves, random_state=RANDOM_STATE)
                ax.plot(x, m, color=colours[label], label=label, lw=1.5)
                ax.fill_between(x, lo, hi, color=colours[label], alpha=0.15, lw=0)
            ax.set_title(f"{scenario}, {protocol} protocol")
            ax.set_ylabel("% of arms mastered")
            ax.grid(alpha=0.3)
        axes[1, j].set_xlabel("episodes")
    axes[0, 1].legend(fontsize=8, ncol=2, loc="lower right")
    paths.append(_savefig(fig, "arms_curves.png"))

    fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True, constrained_layout=True)
    for j, protocol in enumerate(("plain", "grpo")):
        ax = axes[j]
        for label in CURVE_LABELS:
            runs = groups.get(("arms-mixed", protocol, label))
            if runs is None:
                continue
            bins = 1000
            shares = np.stack([
                np.isin(r["arms"], r["roles_unlearnable"]).reshape(-1, bins).mean(axis=1)
                for r in runs
            ])
            x = (np.arange(shares.shape[1]) + 0.5) * bins
            ax.plot(x, 100 * shares.mean(axis=0), color=colours[label], label=label, lw=1.5)
        ax.axhline(100 * 10 / 35, color="k", ls=":", lw=1)
        ax.set_title(f"arms-mixed, {protocol}: episodes on the 10 unlearnable arms")
        ax.set_xlabel("episodes")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("% of episodes (per 1,000)")
    axes[1].legend(fontsize=8, ncol=2)
    paths.append(_savefig(fig, "arms_unlearnable_share.png"))

    paths.append(_forgetting_figure(plt, groups))
    plt.close("all")
    return paths


def _savefig(fig: Any, name: str) -> Path:
    path = FIG_DIR / name
    fig.savefig(path, dpi=110)
    return path


def _heatmap(ax: Any, r: dict[str, Any], stop: int, bin_size: int, title: str) -> Any:
    order = np.concatenate([r["roles_chain"], r["roles_trivial"], r["roles_unlearnable"]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    arms = r["arms"][:stop].astype(np.int64)
    n_bins = stop // bin_size
    counts = np.zeros((len(order), n_bins))
    np.add.at(counts, (rank[arms[: n_bins * bin_size]],
                       np.arange(n_bins * bin_size) // bin_size), 1)
    image = ax.imshow(counts / bin_size, aspect="auto", origin="lower", cmap="magma",
                      extent=(0, n_bins * bin_size, -0.5, len(order) - 0.5), vmin=0, vmax=0.5)
    events = r["events"]
    if len(events):
        keep = events[:, 1] < stop
        ax.scatter(events[keep, 1], rank[events[keep, 0]], marker="x", s=14, color="cyan",
                   lw=0.8, label="arm forgotten (mastered -> not)")
    n_chain, n_triv = len(r["roles_chain"]), len(r["roles_trivial"])
    for y in (n_chain - 0.5, n_chain + n_triv - 0.5):
        if y < len(order) - 1:
            ax.axhline(y, color="w", lw=0.6, ls="--")
    ax.set_title(title, fontsize=9)
    return image


def _colour(plt: Any, label: str) -> Any:
    return plt.cm.tab20(CURVE_LABELS.index(label) / 20)


def _forgetting_figure(plt: Any, groups: dict[tuple[str, str, str], list[dict[str, Any]]]) -> Path:
    labels = ("tscl", "zlp", BASELINE)
    fig, axes = plt.subplots(3, 3, figsize=(15, 11), constrained_layout=True)
    image = None
    for j, label in enumerate(labels):
        runs = groups.get((DECAY_SCENARIO, "plain", label))
        if runs:
            image = _heatmap(axes[0, j], runs[0], 20_000, 250,
                             f"arms-decay, {label}, seed 0 (x: arm forgotten)")
        axes[0, j].set_ylabel("arm (20 learnable)", fontsize=8)
        runs = groups.get((RESET_SCENARIO, "plain", label))
        if runs:
            image = _heatmap(axes[1, j], runs[0], 16_000, 200,
                             f"arms-chain, all competence reset at {RESET_AT:,}, {label}, seed 0")
            axes[1, j].axvline(RESET_AT, color="w", lw=1.2)
        axes[1, j].set_ylabel("arm (chain order)", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes[:2, :], shrink=0.6, label="share of the bin's episodes")

    # The benchmark-only references (the oracle) forget nothing: left out of these panels.
    names = {spec.label: spec.name for spec in ARMS_SPECS}
    shown = [label for label in FORGET_LABELS if not teacher_spec(names[label]).benchmark_only]
    ax = axes[2, 0]
    for label in shown:
        runs = groups.get((DECAY_SCENARIO, "plain", label))
        if not runs:
            continue
        bins = 500
        n = np.stack([r["n_forgotten"].reshape(-1, bins).mean(axis=1) for r in runs])
        x = (np.arange(n.shape[1]) + 0.5) * bins
        ax.plot(x, n.mean(axis=0), color=_colour(plt, label), label=label, lw=1.5)
    ax.set_ylim(0, 3)  # exp3s-ema climbs off the scale (to ~14): it stops maintaining
    ax.set_title("arms-decay: arms forgotten and not yet recovered (mean)", fontsize=9)
    ax.set_xlabel("episodes")
    ax.set_ylabel("forgotten arms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)

    ax = axes[2, 1]
    names, focus, uniform = [], [], []
    for label in shown:
        runs = groups.get((DECAY_SCENARIO, "plain", label))
        if not runs:
            continue
        fs = [_forgetting_stats(r) for r in runs]
        values = _finite([100 * f["focus"] for f in fs])
        if not values:
            continue
        names.append(label)
        focus.append(float(np.mean(values)))
        uniform.append(float(np.nanmean([100 * f["uniform_focus"] for f in fs])))
    pos = np.arange(len(names))
    ax.bar(pos, focus, color=[_colour(plt, n) for n in names])
    ax.scatter(pos, uniform, marker="_", s=400, color="k", label="uniform sampling would")
    ax.set_xticks(pos, names, rotation=30, fontsize=8)
    ax.set_ylabel("% of at-risk episodes on forgotten arms")
    ax.set_title("arms-decay: where episodes go while an arm is forgotten", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")

    ax = axes[2, 2]
    for label in FORGET_LABELS:
        runs = groups.get((RESET_SCENARIO, "plain", label))
        if not runs:
            continue
        curves = np.stack([r["curve"] for r in runs])
        x = np.arange(curves.shape[1]) * runs[0]["eval_every"]
        ax.plot(x, curves.mean(axis=0), color=_colour(plt, label), label=label, lw=1.5)
    ax.axvline(RESET_AT, color="k", lw=1)
    ax.set_title(f"arms-chain with a reset at {RESET_AT:,}: % of arms mastered", fontsize=9)
    ax.set_xlabel("episodes")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    path = _savefig(fig, "forgetting.png")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    for j, label in enumerate(("tscl", "learnability", "zlp")):
        runs = groups.get(("arms-mixed", "plain", label))
        if runs:
            image = _heatmap(axes[j], runs[0], 20_000, 250, f"arms-mixed, {label}, seed 0")
        axes[j].set_ylabel("arm: chain order | trivial | chance (25%)", fontsize=8)
        axes[j].set_xlabel("episodes")
    fig.colorbar(image, ax=axes, shrink=0.8, label="share of the bin's episodes")
    _savefig(fig, "arms_mixed_heatmaps.png")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("arms", help="discrete teachers on arms-chain and arms-mixed")
    p.add_argument("--out", default="runs/discrete")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--teachers", nargs="*", default=None, help="labels (default: all)")
    p.add_argument("--scenarios", nargs="*", default=list(ARMS_SCENARIOS))
    p.add_argument("--protocols", nargs="*", default=None, choices=("plain", "grpo"))
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--cap", type=int, default=60_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_arms)

    p = sub.add_parser("grid", help="binned discrete teachers vs continuous ones on grids")
    p.add_argument("--out", default="runs/discrete")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--episodes", type=int, default=None, help="default: the scenario's 20k")
    p.add_argument("--scenarios", nargs="*", default=[*GRID_2D, DISTRACTORS])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--protocol", choices=("plain", "grpo"), default="plain",
                   help="grpo adds binned sec and dump, which need group ids")
    p.set_defaults(func=cmd_grid)
    for name, text, func in (
        ("forgetting", "arms-chain with a reset, arms-decay(-chance): forgetting", cmd_forgetting),
        ("stopping", "arms-mixed for 60k episodes: unlearnable share", cmd_stopping),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--out", default="runs/discrete")
        p.add_argument("--seeds", type=int, default=10)
        p.add_argument("--teachers", nargs="*", default=None, help="labels (default: all)")
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--overwrite", action="store_true")
        p.set_defaults(func=func)

    p = sub.add_parser("report", help="tables and figures from the run directories")
    p.add_argument("--out", default="runs/discrete")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="tables only (keep benchmarks/figures/ as they are)")
    p.set_defaults(func=cmd_report)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
