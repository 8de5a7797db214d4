"""The benchmark report: ``report.md`` with summary tables, PNG figures and GIF animations.

:func:`write_report` reads a run directory (see :mod:`autocurriculum.bench.runner`) and writes,
next to it:

- ``figures/curves_<scenario>.png``: % mastered against episodes, mean over seeds with a 95%
  bootstrap band, one line per teacher, the uniform baseline (dashed, black) and the
  benchmark-only references such as the oracle (dotted, grey) drawn apart;
- for Box scenarios (drawn on the first two task dimensions),
  ``figures/sampling_<teacher>__<scenario>.png``: where the teacher sampled in four quarters of
  the run, its model at the end of each quarter (GMM ellipses or boxes, coloured by their
  learning-progress value), and the student's final competence map;
- ``figures/anim_<teacher>__<scenario>.gif``: the model over time on top of the sampled tasks;
- for Discrete scenarios, ``figures/arms_<scenario>.png``: the share of episodes each arm got
  over time, per teacher, arms in prerequisite order.

Matplotlib is imported lazily (it is in the ``bench`` extra), through its object-oriented API
only: no pyplot, so a report never changes the caller's backend or global figure state.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.bench import metrics
from autocurriculum.bench.jobs import JobResult
from autocurriculum.bench.rundir import Run, RunDirError, load_run
from autocurriculum.bench.suites import BASELINE
from autocurriculum.bench.summary import CI_RANDOM_STATE, summarise
from autocurriculum.checkpoint import atomic_write_bytes
from autocurriculum.teachers.registry import teacher_spec

__all__ = ["RunDirError", "write_report"]

REPORT_FILE = "report.md"
FIGURES_DIR = "figures"
#: Time windows of the sampling figure.
N_WINDOWS = 4
_DPI = 100
_GIF_DPI = 90
_GIF_FPS = 4


def write_report(
    run_dir: str | os.PathLike[str], *, gifs: bool = True, workers: int | None = None
) -> Path:
    """Write ``report.md`` and its figures into ``run_dir``; return the report's path.

    Parameters
    ----------
    run_dir : path
        A run directory written by :func:`autocurriculum.bench.runner.run_benchmark`.
    gifs : bool
        Whether to render the animations.
    workers : int or None
        Processes drawing the figures; ``None`` means ``os.cpu_count()``, 1 draws in this
        process.

    Raises
    ------
    RunDirError
        A file of the run directory is missing or corrupt; the message names it.
    ImportError
        matplotlib is not installed (``pip install autocurriculum[bench]``).
    """
    run = load_run(run_dir)
    mpl = _matplotlib()
    fig_dir = run.path / FIGURES_DIR
    fig_dir.mkdir(exist_ok=True)
    rows = summarise(run)
    roles = _roles(run)
    colours = _teacher_colours(roles, mpl)

    # Figures are independent: list them, draw them (in parallel), then write the markdown.
    tasks: list[tuple[str, tuple[Any, ...]]] = []
    layout = []
    for scenario in run.scenarios():
        groups = {t: run.group(t, scenario) for t in run.teachers()}
        groups = {t: g for t, g in groups.items() if g}
        first = next(iter(groups.values()))[0]
        entry: dict[str, Any] = {"scenario": scenario, "groups": groups, "pictures": []}
        entry["curves"] = len(tasks)
        tasks.append(("curves", (scenario, groups, roles, colours, fig_dir)))
        entry["arms"] = None
        if first.meta["space"]["kind"] == "box" and "tasks" in first.arrays:
            for teacher, group in groups.items():
                png = len(tasks)
                tasks.append(("sampling", (teacher, scenario, group[0], fig_dir)))
                gif = None
                if gifs:
                    gif = len(tasks)
                    tasks.append(("animation", (teacher, scenario, group[0], fig_dir)))
                entry["pictures"].append((teacher, png, gif))
        elif "arm_counts" in first.arrays:
            entry["arms"] = len(tasks)
            tasks.append(("arms", (scenario, groups, fig_dir)))
        layout.append(entry)
    paths = _render_all(tasks, workers)

    sections = [
        _scenario_section(
            run,
            e["scenario"],
            rows,
            roles,
            e["groups"],
            paths[e["curves"]],
            [(t, paths[png], None if gif is None else paths[gif]) for t, png, gif in e["pictures"]],
            None if e["arms"] is None else paths[e["arms"]],
        )
        for e in layout
    ]
    text = "\n".join([_header(run), _aggregate_section(run, rows), *sections, _skipped(run)])
    path = run.path / REPORT_FILE
    atomic_write_bytes(path, text.encode())
    return path


def _render(task: tuple[str, tuple[Any, ...]]) -> str:
    kind, args = task
    renderers: dict[str, Callable[..., str]] = {
        "curves": _curves_figure,
        "sampling": _sampling_figure,
        "animation": _animation,
        "arms": _arms_figure,
    }
    return renderers[kind](_matplotlib(), *args)


def _render_all(tasks: list[tuple[str, tuple[Any, ...]]], workers: int | None) -> list[str]:
    n = (os.cpu_count() or 1) if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"workers must be an int >= 1 or None, got {workers!r}")
    if n == 1 or len(tasks) < 4:
        return [_render(t) for t in tasks]
    from concurrent.futures import ProcessPoolExecutor

    # Larger chunks cut pickling of the per-job arrays; order is kept by map.
    with ProcessPoolExecutor(max_workers=min(n, len(tasks))) as pool:
        return list(pool.map(_render, tasks, chunksize=max(1, len(tasks) // (4 * n))))


# --------------------------------------------------------------------------- markdown
def _header(run: Run) -> str:
    cfg = run.config
    seeds = cfg["seeds"]
    jobs = cfg["jobs"]
    budgets = sorted({(j["scenario"], j["episodes"], j["eval_every"]) for j in jobs})
    budget_text = "; ".join(f"{s}: {e:,} episodes, eval every {k:,}" for s, e, k in budgets)
    machine = cfg.get("machine", {})
    lines = [
        "# autocurriculum benchmark report",
        "",
        f"- Suite: {cfg.get('suite') or 'custom'}; created {cfg.get('created', '?')}; "
        f"autocurriculum {cfg.get('version', '?')}",
        f"- Machine: {machine.get('platform', '?')}, {machine.get('cpu_count', '?')} CPUs, "
        f"Python {machine.get('python', '?')}, numpy {machine.get('numpy', '?')}; "
        f"{cfg.get('workers', '?')} worker processes",
        f"- Teachers: {', '.join(run.teachers())}",
        "",
        "## Protocol",
        "",
        f"- {len(seeds)} seeds per (teacher, scenario): {', '.join(map(str, seeds))}. Job seed "
        "k is spawned into a teacher seed and a student seed "
        "(`numpy.random.SeedSequence(k).spawn(2)`), so every teacher meets the same students.",
        f"- Budgets: {budget_text}. {_protocol_text(cfg)}",
        "- Score: % of the student's cells or arms mastered, read at episode 0 and at every eval "
        "point.",
        "- Final: the score at the last eval point, mean over seeds, with a 95% percentile "
        "bootstrap CI over seeds (5,000 resamples, fixed random state). With 5 seeds such an "
        "interval is optimistic: read it as a lower bound on the uncertainty.",
        "- AUC: the time-average of the learning curve (trapezoid area over the eval points "
        "divided by the episode span), in % mastered; it rewards learning early.",
        "- Episodes to 90%: the first eval point at which the score reaches 90% of the "
        "student's best possible score, averaged over seeds; blank when any seed never got "
        "there (the *reached* column says how many did), because averaging only the seeds "
        "that succeeded would flatter an unreliable teacher.",
        "- Episodes to 100%: the first episode count at which the score reaches the student's "
        "best possible score (read after every step on arms students and on steps of many "
        "episodes, else at the eval points), averaged over seeds with a 95% bootstrap CI; "
        "blank, as above, when any seed never got there.",
        "- Teacher µs/episode (= ms per 1,000 episodes): CPU time inside `sample` and `update`, "
        "timed apart from the student's, with the cost of the clock reads subtracted.",
    ]
    experts = cfg.get("expert_rules") or {}
    if experts:
        lines.append(
            "- Expert knowledge given to teachers that need it (each job's raw .json records the "
            "final parameters): " + "; ".join(f"{t}: {d}" for t, d in experts.items()) + "."
        )
    lines.append("")
    return "\n".join(lines)


def _protocol_text(cfg: dict[str, Any]) -> str:
    proto = cfg.get("protocol") or {"name": "plain", "batch_size": cfg.get("batch_size", 1)}
    if proto.get("name") == "grpo":
        p, g = proto.get("prompts", "?"), proto.get("group", "?")
        return (
            f"GRPO-style protocol: each step samples {p} tasks, plays each {g} times and "
            f"updates the teacher with the rewards and the group ids (`signals={{'group': "
            f"ids}}`, one id per task), so teachers can compute |advantages| within a group. A "
            "step cannot be split: each eval point is read at the end of the step that reaches "
            "it, and the curves use those steps' episode counts."
        )
    return (
        f"Batch size {proto.get('batch_size', 1)} (1 is the published protocol: sample one "
        "task, play it, update)."
    )


def _aggregate_section(run: Run, rows: list[dict[str, Any]]) -> str:
    """IQM across scenarios of the final score as % of the best possible, per space kind."""
    kinds: dict[str, list[str]] = {}
    for scenario in run.scenarios():
        kind = _scenario_kind(run, scenario)
        kinds.setdefault(kind, []).append(scenario)
    out = ["## Overall", ""]
    any_table = False
    for kind, scenarios in kinds.items():
        if len(scenarios) < 2:
            continue
        table = []
        for teacher in run.teachers():
            groups = [run.group(teacher, s) for s in scenarios]
            if not all(groups) or len({len(g) for g in groups}) != 1:
                continue
            # Normalised so that a mostly unfeasible scenario (best 20%) weighs like the others.
            norm = np.array([[_normalised_final(r) for r in g] for g in groups]).T
            point, low, high = metrics.iqm_ci(norm, random_state=CI_RANDOM_STATE)
            table.append((point, teacher, low, high))
        if not table:
            continue
        any_table = True
        table.sort(key=lambda x: -x[0])
        out += [
            f"IQM over the {kind} scenarios ({', '.join(scenarios)}) of the final score as % of "
            "the best possible, with a stratified bootstrap 95% CI (runs resampled within each "
            "scenario, as rliable does). Only teachers that ran on all of them.",
            "",
            "| teacher | IQM | 95% CI |",
            "|---|---:|---:|",
        ]
        out += [f"| {t} | {p:.1f} | {_ci(lo, hi)} |" for p, t, lo, hi in table]
        out.append("")
    if not any_table:
        out += ["(A single scenario per space kind: see the scenario tables.)", ""]
    return "\n".join(out)


def _normalised_final(result: JobResult) -> float:
    return 100.0 * float(result.scores[-1]) / max(float(result.meta["best_possible"]), 1e-9)


def _scenario_kind(run: Run, scenario: str) -> str:
    for r in run.results.values():
        if r.job.scenario == scenario:
            return str(r.meta["space"]["kind"])
    return "?"


def _scenario_section(
    run: Run,
    scenario: str,
    rows: list[dict[str, Any]],
    roles: dict[str, str],
    groups: dict[str, list[JobResult]],
    curve_png: str,
    pictures: list[tuple[str, str, str | None]],
    arms_png: str | None,
) -> str:
    mine = sorted(
        (r for r in rows if r["scenario"] == scenario),
        key=lambda r: (-r["final_mean"], -r["auc_mean"]),
    )
    first = next(iter(groups.values()))[0]
    summary = _scenario_summary(scenario)
    out = [
        f"## {scenario}",
        "",
        *([summary, ""] if summary else []),
        f"Best possible: {first.meta['best_possible']:.0f}% mastered. "
        f"{int(first.eval_episodes[-1]):,} episodes, {len(first.scores) - 1} eval points.",
        "",
        "| teacher | final % mastered [95% CI] | AUC | episodes to 90% (reached) "
        "| episodes to 100% [95% CI] (reached) | teacher µs/episode |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in mine:
        name = f"**{r['teacher']}**" if roles.get(r["teacher"]) == BASELINE_ROLE else r["teacher"]
        to90 = "" if math.isnan(r["episodes_to_90_mean"]) else f"{r['episodes_to_90_mean']:,.0f}"
        to_best = (
            ""
            if math.isnan(r["episodes_to_best_mean"])
            else f"{r['episodes_to_best_mean']:,.0f} "
            + _ci(r["episodes_to_best_ci_low"], r["episodes_to_best_ci_high"], "{:,.0f}")
        )
        reached = f" ({r['reached_best']})" if r["reached_best"] else ""
        out.append(
            f"| {name} | {r['final_mean']:.1f} {_ci(r['final_ci_low'], r['final_ci_high'])} "
            f"| {r['auc_mean']:.1f} | {to90} ({r['reached_90']}) | {to_best}{reached} "
            f"| {r['teacher_us_per_episode']:.1f} |"
        )
    out += ["", f"![learning curves on {scenario}]({curve_png})", ""]
    if pictures:
        space = first.meta["space"]
        proj = (
            ""
            if len(space["low"]) == 2
            else (
                f" The task space has {len(space['low'])} dimensions; pictures show the first two "
                f"({space['names'][0]}, {space['names'][1]}), the competence map with the other "
                "dimensions at the middle of their range."
            )
        )
        out += [
            "Where each teacher sampled (seed "
            f"{first.job.seed}, every {_stride_text(first)} episode), in four quarters of the "
            "run, with its model at the end of each quarter (ellipses: 2-sigma GMM components; "
            "rectangles: regions or bounds; colour: the model's learning-progress value), and "
            f"the student's final competence with the final model.{proj}",
            "",
        ]
        for teacher, png, gif in pictures:
            link = f" ([animation]({gif}))" if gif else ""
            out += [f"### {teacher} on {scenario}{link}", "", f"![{teacher}]({png})", ""]
    if arms_png:
        out += [
            "Share of episodes given to each arm over time (seed "
            f"{first.job.seed}), arms in prerequisite order from the bottom.",
            "",
            f"![arm sampling on {scenario}]({arms_png})",
            "",
        ]
    return "\n".join(out)


def _stride_text(result: JobResult) -> str:
    ep = result.arrays.get("task_episodes")
    if ep is None or len(ep) < 2:
        return "1st"
    k = int(ep[1] - ep[0])
    return "" if k == 1 else f"{k}th"


def _scenario_summary(name: str) -> str:
    try:
        from autocurriculum.bench.scenarios import scenario_summary

        return scenario_summary(name)
    except (KeyError, ValueError):  # a scenario registered only in the process that ran
        return ""


def _skipped(run: Run) -> str:
    skipped = run.config.get("skipped") or []
    if not skipped:
        return ""
    out = ["## Not run", ""]
    by_kind: dict[str, list[str]] = {}
    for s in skipped:
        if s.get("code") == "space-kind":
            by_kind.setdefault(s["teacher"], []).append(s["scenario"])
    if by_kind:
        out.append("Teachers run only on the space kinds they serve:")
        out += [f"- {t}: not on {', '.join(scs)}" for t, scs in by_kind.items()]
        out.append("")
    rest = [s for s in skipped if s.get("code") != "space-kind"]
    if rest:
        out += ["| teacher | scenario | reason |", "|---|---|---|"]
        out += [
            f"| {_cell(s['teacher'])} | {_cell(s['scenario'])} | {_cell(s['reason'])} |"
            for s in rest
        ]
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ci(low: float, high: float, fmt: str = "{:.1f}") -> str:
    if math.isnan(low) or math.isnan(high):
        return "[n/a]"
    return f"[{fmt.format(low)}, {fmt.format(high)}]"


# ---------------------------------------------------------------------------- figures
def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(
            "the benchmark report needs matplotlib: pip install 'autocurriculum[bench]'"
        ) from err
    import matplotlib.cm
    import matplotlib.colors
    import matplotlib.figure
    import matplotlib.patches
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    matplotlib.FigureCanvasAgg = FigureCanvasAgg  # type: ignore[attr-defined]
    return matplotlib


def _new_figure(mpl: Any, w: float, h: float, layout: str | None = "constrained") -> Any:
    fig = mpl.figure.Figure(figsize=(w, h), layout=layout)
    mpl.FigureCanvasAgg(fig)
    return fig


def _save_png(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    atomic_write_bytes(path, buf.getvalue())


#: A teacher label's role in the figures: the uniform baseline, a benchmark-only reference
#: (the oracle), or a teacher under test.
BASELINE_ROLE, REFERENCE_ROLE, TEACHER_ROLE = "baseline", "reference", "teacher"
_ROLE_STYLE = {BASELINE_ROLE: ("black", "--"), REFERENCE_ROLE: ("0.55", ":")}


def _roles(run: Run) -> dict[str, str]:
    """Each teacher label's role, from the run's config (its spec flags, recorded at run time)."""
    out = {}
    for entry in run.config["teachers"]:
        if entry.get("name") == BASELINE:
            out[entry["label"]] = BASELINE_ROLE
        elif _benchmark_only(entry):
            out[entry["label"]] = REFERENCE_ROLE
        else:
            out[entry["label"]] = TEACHER_ROLE
    return out


def _benchmark_only(entry: dict[str, Any]) -> bool:
    if "benchmark_only" in entry:
        return bool(entry["benchmark_only"])
    # A run from before the flag was recorded: ask the registry, if it knows the teacher.
    try:
        return teacher_spec(str(entry.get("name"))).benchmark_only
    except ValueError:
        return False


def _teacher_colours(roles: dict[str, str], mpl: Any) -> dict[str, Any]:
    cmap = mpl.colormaps["tab10"]
    out: dict[str, Any] = {}
    i = 0
    for label, role in roles.items():
        if role in _ROLE_STYLE:
            out[label] = _ROLE_STYLE[role][0]
        else:
            out[label] = cmap(i % 10)
            i += 1
    return out


def _curves_figure(
    mpl: Any,
    scenario: str,
    groups: dict[str, list[JobResult]],
    roles: dict[str, str],
    colours: dict[str, Any],
    fig_dir: Path,
) -> str:
    fig = _new_figure(mpl, 7.0, 4.2)
    ax = fig.add_subplot()
    best = None
    for teacher, group in groups.items():
        x = group[0].eval_episodes
        curves = np.stack([r.scores for r in group])
        mean, low, high = metrics.bootstrap_ci(curves, random_state=CI_RANDOM_STATE)
        style = _ROLE_STYLE.get(roles.get(teacher, TEACHER_ROLE), (None, "-"))[1]
        ax.plot(x, mean, style, color=colours[teacher], lw=1.8, label=f"{teacher} ({len(group)})")
        if len(group) > 1:
            ax.fill_between(x, low, high, color=colours[teacher], alpha=0.18, lw=0)
        best = float(np.mean([r.meta["best_possible"] for r in group]))
    if best is not None and best < 100:
        ax.axhline(best, color="0.3", lw=0.8, ls="-.", label=f"best possible ({best:.0f}%)")
    ax.set_xlabel("episodes")
    ax.set_ylabel("% mastered")
    ax.set_ylim(-2, 102)
    ax.set_title(f"{scenario}: mean over seeds, 95% bootstrap CI")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", title="teacher (seeds)", title_fontsize=8)
    name = f"curves_{scenario}.png"
    _save_png(fig, fig_dir / name)
    return f"{FIGURES_DIR}/{name}"


def _box_geometry(result: JobResult) -> tuple[np.ndarray, np.ndarray, list[str]]:
    space = result.meta["space"]
    low = np.asarray(space["low"], dtype=float)[:2]
    high = np.asarray(space["high"], dtype=float)[:2]
    return low, high, list(space["names"][:2])


def _model_extent(snapshots: list[dict[str, Any]]) -> tuple[float, float]:
    values = [
        float(item.get("value", 0.0) or 0.0)
        for snap in snapshots
        for key in ("gaussians", "boxes")
        for item in (snap.get("model") or {}).get(key, [])
    ]
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _draw_model(mpl: Any, ax: Any, model: dict[str, Any], norm: Any, cmap: Any) -> list[Any]:
    """Add the teacher's model to ``ax`` (first two task dims); return the artists."""
    artists = []
    for g in model.get("gaussians", []) or []:
        try:
            mean = np.asarray(g["mean"], dtype=float)[:2]
            cov = np.asarray(g["cov"], dtype=float)
            cov = cov[:2, :2] if cov.ndim == 2 else np.diag(np.broadcast_to(cov, (2,)))
            vals, vecs = np.linalg.eigh(cov)
        except (KeyError, TypeError, ValueError, IndexError, np.linalg.LinAlgError):
            continue  # a malformed component is not worth losing the whole picture
        vals = np.sqrt(np.maximum(vals, 0.0))
        angle = math.degrees(math.atan2(vecs[1, -1], vecs[0, -1]))
        colour = cmap(norm(float(g.get("value", 0.0) or 0.0)))
        weight = float(g.get("weight", 1.0) or 0.0)
        patch = mpl.patches.Ellipse(
            (float(mean[0]), float(mean[1])),
            width=4.0 * vals[-1],
            height=4.0 * vals[0],
            angle=angle,
            facecolor=(*colour[:3], 0.08 + 0.3 * min(1.0, weight)),
            edgecolor=colour,
            lw=1.4,
        )
        artists.append(ax.add_patch(patch))
    for b in model.get("boxes", []) or []:
        try:
            lo = np.asarray(b["low"], dtype=float)[:2]
            hi = np.asarray(b["high"], dtype=float)[:2]
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        colour = cmap(norm(float(b.get("value", 0.0) or 0.0)))
        patch = mpl.patches.Rectangle(
            (float(lo[0]), float(lo[1])),
            float(hi[0] - lo[0]),
            float(hi[1] - lo[1]),
            facecolor="none",
            edgecolor=colour,
            lw=1.2,
        )
        artists.append(ax.add_patch(patch))
    return artists


def _snapshot_at(snapshots: list[dict[str, Any]], episode: int) -> dict[str, Any]:
    """The last model snapshot taken at or before ``episode``."""
    best: dict[str, Any] = {}
    for snap in snapshots:
        if int(snap["episode"]) <= episode:
            best = snap.get("model") or {}
    return best


def _setup_axes(ax: Any, low: np.ndarray, high: np.ndarray, names: list[str]) -> None:
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(names[0], fontsize=8)
    ax.set_ylabel(names[1], fontsize=8)
    ax.tick_params(labelsize=7)


def _sampling_figure(
    mpl: Any, teacher: str, scenario: str, result: JobResult, fig_dir: Path
) -> str:
    low, high, names = _box_geometry(result)
    tasks = result.arrays["tasks"]
    episodes = result.arrays["task_episodes"]
    total = int(result.eval_episodes[-1])
    snapshots = result.meta.get("snapshots", [])
    vmin, vmax = _model_extent(snapshots)
    mnorm = mpl.colors.Normalize(vmin, vmax)
    mcmap = mpl.colormaps["plasma"]
    enorm = mpl.colors.Normalize(0, total)
    ecmap = mpl.colormaps["viridis"]
    has_model = any(snap.get("model") for snap in snapshots)

    # A fixed grid (panels, colour bars, spacers) instead of constrained layout, which costs
    # several draws per figure.
    fig = _new_figure(mpl, 3.0 * (N_WINDOWS + 1) + 1.6, 3.3, layout=None)
    ratios = [1.0] * N_WINDOWS + [0.05, 0.12, 1.0, 0.05, 0.3, 0.05]
    grid = fig.add_gridspec(
        1,
        len(ratios),
        width_ratios=ratios,
        wspace=0.28,
        left=0.03,
        right=0.96,
        top=0.82,
        bottom=0.15,
    )
    axes = [fig.add_subplot(grid[0, i]) for i in range(N_WINDOWS)]
    edges = np.linspace(0, total, N_WINDOWS + 1).astype(int)
    scatter = None
    for w, ax in enumerate(axes):
        sel = (episodes >= edges[w]) & (episodes < edges[w + 1])
        pts = tasks[sel]
        scatter = ax.scatter(
            pts[:, 0], pts[:, 1], c=episodes[sel], cmap=ecmap, norm=enorm, s=3, lw=0
        )
        _draw_model(mpl, ax, _snapshot_at(snapshots, int(edges[w + 1])), mnorm, mcmap)
        _setup_axes(ax, low, high, names)
        ax.set_title(f"episodes {edges[w]:,}-{edges[w + 1]:,}", fontsize=9)
        if w:
            ax.set_ylabel("")
    fig.colorbar(scatter, cax=fig.add_subplot(grid[0, N_WINDOWS])).set_label("episode", size=8)
    ax = fig.add_subplot(grid[0, N_WINDOWS + 2])
    image = result.arrays.get("competence_image")
    if image is not None:
        im = ax.imshow(
            image,
            origin="lower",
            extent=(low[0], high[0], low[1], high[1]),
            cmap="Greens",
            vmin=0,
            vmax=1,
            interpolation="nearest",
            aspect="auto",
        )
        cbar = fig.colorbar(im, cax=fig.add_subplot(grid[0, N_WINDOWS + 3]))
        cbar.set_label("competence", size=8)
    _draw_model(mpl, ax, _snapshot_at(snapshots, total), mnorm, mcmap)
    _setup_axes(ax, low, high, names)
    ax.set_ylabel("")
    ax.set_title(f"final competence, {result.scores[-1]:.0f}% mastered", fontsize=9)
    if has_model:
        sm = mpl.cm.ScalarMappable(norm=mnorm, cmap=mcmap)
        cbar = fig.colorbar(sm, cax=fig.add_subplot(grid[0, N_WINDOWS + 5]))
        cbar.set_label("model value (LP)", size=8)
    for cax in fig.axes[len(axes) :]:
        if cax is not ax:
            cax.tick_params(labelsize=7)
    fig.suptitle(f"{teacher} on {scenario} (seed {result.job.seed})", fontsize=11)
    name = f"sampling_{teacher}__{scenario}.png"
    _save_png(fig, fig_dir / name)
    return f"{FIGURES_DIR}/{name}"


def _animation(mpl: Any, teacher: str, scenario: str, result: JobResult, fig_dir: Path) -> str:
    """A GIF of the model over time on the sampled tasks and the student's competence map.

    One frame per snapshot: the competence map (green) at that episode, the tasks sampled since
    the previous frame (blue) and before it (grey), and the teacher's model.

    Frames are blitted: the axes are drawn once, and each frame only redraws the scatter, the
    model's patches and the title onto a copy of that background (about 50x cheaper than a
    full draw per frame, which is what matplotlib's PillowWriter does). Pillow writes the GIF.
    """
    from PIL import Image

    low, high, names = _box_geometry(result)
    tasks = result.arrays["tasks"]
    episodes = result.arrays["task_episodes"]
    snapshots = result.meta.get("snapshots", [])
    vmin, vmax = _model_extent(snapshots)
    mnorm = mpl.colors.Normalize(vmin, vmax)
    mcmap = mpl.colormaps["plasma"]

    comp_frames = result.arrays.get("competence_frames")
    comp_episodes = result.arrays.get("competence_frame_episodes")

    fig = _new_figure(mpl, 4.2, 4.2, layout=None)
    fig.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.9)
    ax = fig.add_subplot()
    _setup_axes(ax, low, high, names)
    background_map = None
    if comp_frames is not None and comp_episodes is not None and len(comp_frames):
        background_map = ax.imshow(
            comp_frames[0],
            origin="lower",
            extent=(low[0], high[0], low[1], high[1]),
            cmap="Greens",
            vmin=0,
            vmax=255,
            alpha=0.6,
            interpolation="nearest",
            aspect="auto",
            animated=True,
        )
    old = ax.scatter([], [], s=2, lw=0, color="0.7", animated=True)
    new = ax.scatter([], [], s=4, lw=0, color="tab:blue", animated=True)
    title = fig.text(0.5, 0.95, "", ha="center", va="center", fontsize=9, animated=True)
    canvas = fig.canvas
    fig.set_dpi(_GIF_DPI)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = snapshots or [{"episode": int(result.eval_episodes[-1]), "model": {}}]
    images = []
    prev = 0
    for snap in frames:
        ep = int(snap["episode"])
        old.set_offsets(_xy(tasks[episodes < prev]))
        new.set_offsets(_xy(tasks[(episodes >= prev) & (episodes < max(ep, 1))]))
        patches = _draw_model(mpl, ax, snap.get("model") or {}, mnorm, mcmap)
        title.set_text(f"{teacher} on {scenario}: episode {ep:,}")
        canvas.restore_region(background)
        if background_map is not None and comp_frames is not None and comp_episodes is not None:
            k = int(np.searchsorted(comp_episodes, ep, side="right")) - 1
            background_map.set_data(comp_frames[max(k, 0)])
            ax.draw_artist(background_map)
        for artist in (old, new, *patches):
            ax.draw_artist(artist)
        fig.draw_artist(title)
        rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy())
        # Fast octree palettes: Pillow's default median cut costs more than drawing the frame.
        images.append(
            rgb.quantize(colors=128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        )
        for patch in patches:
            patch.remove()
        prev = ep
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=int(1000 / _GIF_FPS),
        loop=0,
    )
    name = f"anim_{teacher}__{scenario}.gif"
    atomic_write_bytes(fig_dir / name, buf.getvalue())
    return f"{FIGURES_DIR}/{name}"


def _xy(points: np.ndarray) -> np.ndarray:
    return points[:, :2] if len(points) else np.empty((0, 2))


def _arms_figure(mpl: Any, scenario: str, groups: dict[str, list[JobResult]], fig_dir: Path) -> str:
    n = len(groups)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = _new_figure(mpl, 3.2 * cols, 2.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    im = None
    for ax, (teacher, group) in zip(axes, groups.items(), strict=False):
        r = group[0]
        counts = r.arrays["arm_counts"].astype(float)
        order = r.arrays.get("arm_order")
        if order is not None and len(order) == counts.shape[1]:
            counts = counts[:, order]
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
        edges = r.arrays.get("arm_count_edges", r.eval_episodes)
        im = ax.pcolormesh(
            edges,
            np.arange(counts.shape[1] + 1) - 0.5,
            share.T,
            cmap="magma",
            # sqrt scale: a uniform share (1/arms) stays visible next to a focused 100%.
            norm=mpl.colors.PowerNorm(0.5, vmin=0.0, vmax=1.0),
        )
        ax.set_title(f"{teacher}: {r.scores[-1]:.0f}% mastered", fontsize=9)
        ax.set_xlabel("episodes", fontsize=8)
        ax.set_ylabel("arm (prerequisite order)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    if im is not None:
        fig.colorbar(im, ax=list(axes[:n]), shrink=0.8, label="share of episodes")
    fig.suptitle(f"{scenario}: where each teacher sampled (seed {group[0].job.seed})")
    name = f"arms_{scenario}.png"
    _save_png(fig, fig_dir / name)
    return f"{FIGURES_DIR}/{name}"
