"""Benchmark suites: which teachers run on which scenarios, with which expert knowledge.

A suite names teachers and scenarios; :func:`plan` turns teachers x scenarios into the pairs
that can actually run:

- a teacher runs on a scenario only if it serves the scenario's space kind;
- a teacher that needs a trainer-side signal (|advantage|: SEC, DUMP) runs only under the
  runner's ``"grpo"`` protocol, which rolls each task out as a group and passes the group ids;
  under ``"plain"`` (rewards only) it is left out, with a reason that says to use grpo;
- a teacher with required parameters that nobody supplies (a manual ``schedule`` needs its
  stages) is left out of composed suites, and is an error when asked for by name;
- a teacher that needs expert knowledge (ADR's start point and thresholds) gets it from
  :func:`expert_params`, one rule per teacher, so the knowledge is written down in one place
  and recorded in each run's ``config.json``.

Each left-out pair is returned with its reason, so reports can say what did not run and why.
The suites only pick teachers that exist in the registry, so they grow with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum._registry import Registry
from autocurriculum.bench.scenarios import Scenario, list_scenarios, make_scenario
from autocurriculum.spaces import Box
from autocurriculum.teachers import registry as teacher_registry

__all__ = [
    "EXPERT_DOCS",
    "EXPERT_RULES",
    "PlannedPair",
    "Suite",
    "TeacherSpec",
    "check_names",
    "easy_corner",
    "expert_params",
    "get_suite",
    "list_suites",
    "plan",
    "register_suite",
    "suite_summary",
    "teacher_constructor_params",
]

#: Constructor parameters the runner supplies itself.
RUNNER_SUPPLIED = ("space", "seed", "student")
#: The runner's episode-loop protocols (see :mod:`autocurriculum.bench.runner`).
PROTOCOLS = ("plain", "grpo")


@dataclass(frozen=True)
class TeacherSpec:
    """A teacher to benchmark: a registry name, explicit parameters and a display label.

    Parameters
    ----------
    name : str
        Registry name, as for :func:`autocurriculum.make`.
    params : mapping
        Keyword arguments for the teacher, on top of :func:`expert_params`. Must be
        JSON-serialisable so the run's ``config.json`` records them.
    label : str
        Name in tables, figures and file names; defaults to ``name``. Two specs of one teacher
        with different parameters need different labels.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"TeacherSpec name must be a non-empty str, got {self.name!r}")
        object.__setattr__(self, "params", dict(self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)
        bad = set(self.label) & set('/\\:*?"<>| ')
        if bad or self.label.startswith(".") or "__" in self.label:
            raise ValueError(
                f"TeacherSpec label {self.label!r} must be usable in a file name: no spaces, no "
                f"'__', no leading dot, none of / \\ : * ? \" < > |"
            )


@dataclass(frozen=True)
class Suite:
    """A named benchmark composition.

    Parameters
    ----------
    name, summary : str
    teachers : tuple of str or TeacherSpec, or None
        Teachers to run; names absent from the registry are skipped, so a suite written today
        picks up teachers as they land. ``None`` means every registered teacher.
    scenarios : tuple of str or None
        Scenario names; ``None`` means every registered scenario.
    seeds : int
        Seeds per (teacher, scenario).
    episodes : int or None
        Episode budget for every scenario; ``None`` keeps each scenario's own budget.
    """

    name: str
    summary: str
    teachers: tuple[str | TeacherSpec, ...] | None
    scenarios: tuple[str, ...] | None
    seeds: int = 5
    episodes: int | None = None

    def teacher_specs(self) -> list[TeacherSpec]:
        """The suite's teachers that exist in the registry now."""
        if self.teachers is None:
            return [TeacherSpec(n) for n in teacher_registry.list_teachers()]
        specs = [t if isinstance(t, TeacherSpec) else TeacherSpec(t) for t in self.teachers]
        known = set(teacher_registry.list_teachers())
        return [s for s in specs if s.name in known]

    def scenario_names(self) -> list[str]:
        """The suite's scenarios that exist in the registry now."""
        if self.scenarios is None:
            return list_scenarios()
        known = set(list_scenarios())
        return [s for s in self.scenarios if s in known]


_SUITES: Registry[Suite] = Registry("suite")


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` to the registry under its name."""
    _SUITES.add(suite.name, suite, suite.summary)
    return suite


def get_suite(name: str) -> Suite:
    """The registered suite ``name``; an unknown name lists the known ones with a suggestion."""
    return _SUITES.get(name)


def list_suites() -> list[str]:
    return _SUITES.names()


def suite_summary(name: str) -> str:
    return _SUITES.summary(name)


# ----------------------------------------------------------------- expert knowledge
ExpertRule = Callable[[Scenario, Any], dict[str, Any]]


def easy_corner(student: Any) -> NDArray[np.float64] | None:
    """Task-space corner of a grid student's origin cell, the one cell learnable from scratch.

    The low corner of the box, except on a rugged grid, where each relevant dimension's first
    learner interval sits wherever the student's (seeded) permutation put it. ``None`` for a
    student that is not over a Box.
    """
    space = getattr(student, "space", None)
    if not isinstance(space, Box):
        return None
    unit = np.zeros(space.ndim)
    if getattr(student, "rugged", False):
        perms = student.interval_permutations
        for d, perm in enumerate(perms):
            unit[d] = list(perm).index(0) / len(perm)
    return space.from_unit(unit)


def _adr_rule(scenario: Scenario, student: Any) -> dict[str, Any]:
    # ADR grows its bounds from a point an expert knows to be easy: the grid's origin cell.
    # Thresholds 0.2 / 0.7 on the [0, 1] reward, as for the grid in the brief of the benchmark.
    corner = easy_corner(student)
    if corner is None:
        return {}
    return {"start": corner.tolist(), "low_threshold": 0.2, "high_threshold": 0.7}


def _spdl_rule(scenario: Scenario, student: Any) -> dict[str, Any]:
    # SPDL's expert knowledge is its initial distribution: centred on the origin cell, sd half
    # a cell. The target keeps its default (box centre, sd
    # range / 4), which covers the box, as TeachMyAgent does without a known target.
    corner = easy_corner(student)
    if corner is None:
        return {}
    space: Box = student.space
    # The origin cell spans [corner, corner + 1/cells] (upward, also on a rugged grid).
    cells = int(getattr(student, "cells", 10))
    cell = space.range / cells
    mean = np.clip(corner + cell / 2, space.low, space.high)
    return {"init_mean": mean.tolist(), "init_cov": np.diag((cell / 2) ** 2).tolist()}


#: Expert knowledge per teacher name: a rule maps (scenario, the job's student) to keyword
#: arguments. It runs in each job, because what is easy can depend on the student's seed (a
#: rugged grid). User parameters override it. Each job's .json records the final parameters.
EXPERT_RULES: dict[str, ExpertRule] = {"adr": _adr_rule, "spdl": _spdl_rule}

#: One line per rule, for config.json and the report.
EXPERT_DOCS: dict[str, str] = {
    "adr": "start at the corner of the grid's origin cell (permuted on a rugged grid), "
    "low_threshold 0.2, high_threshold 0.7",
    "spdl": "initial Gaussian centred on the grid's origin cell, sd half a cell; default target",
}


def expert_params(teacher: str, scenario: Scenario, student: Any) -> dict[str, Any]:
    """Expert-knowledge parameters of ``teacher`` for this scenario's ``student`` (or ``{}``)."""
    rule = EXPERT_RULES.get(teacher)
    return rule(scenario, student) if rule is not None else {}


# ----------------------------------------------------------------- applicability
def teacher_constructor_params(name: str) -> tuple[set[str], set[str], bool]:
    """``(accepted, required, takes_kwargs)`` keyword names of a registered teacher's constructor.

    ``required`` excludes the ones the runner supplies (space, seed, student).
    """
    entry = teacher_registry.teacher_factory(name)
    try:
        sig = inspect.signature(entry)
    except (TypeError, ValueError):
        return set(), set(), True
    accepted: set[str] = set()
    required: set[str] = set()
    takes_kwargs = False
    for i, p in enumerate(sig.parameters.values()):
        if p.kind is p.VAR_KEYWORD:
            takes_kwargs = True
            continue
        if p.kind is p.VAR_POSITIONAL or (i == 0 and p.kind is p.POSITIONAL_ONLY):
            continue
        accepted.add(p.name)
        if p.default is p.empty and p.name not in RUNNER_SUPPLIED and i > 0:
            required.add(p.name)
    return accepted, required, takes_kwargs


def _requires_signals(name: str) -> bool:
    entry = teacher_registry.teacher_factory(name)
    return bool(getattr(entry, "requires_signals", False))


@dataclass(frozen=True)
class PlannedPair:
    """One (teacher, scenario) pair that will run, with the user's parameters.

    Expert-knowledge parameters are added per job, from the job's student.
    """

    spec: TeacherSpec
    scenario: str
    params: dict[str, Any]


def plan(
    teachers: Sequence[str | TeacherSpec],
    scenarios: Sequence[str],
    *,
    strict: bool,
    protocol: str = "plain",
) -> tuple[list[PlannedPair], list[dict[str, str]]]:
    """The (teacher, scenario) pairs that can run, and the ones left out with a reason.

    Parameters
    ----------
    teachers : sequence of str or TeacherSpec
    scenarios : sequence of str
    strict : bool
        Whether the teachers were asked for by name (the ``--teachers`` option): then a teacher
        that can run on none of the scenarios is an error rather than a skip.
    protocol : {"plain", "grpo"}
        The runner's episode loop. Teachers that need a trainer signal (``requires_signals``)
        are planned under ``"grpo"`` only.

    Raises
    ------
    autocurriculum._registry.UnknownNameError
        An unknown teacher or scenario name (lists the known ones, with a suggestion).
    ValueError
        A teacher parameter its constructor does not take; with ``strict``, a teacher that
        cannot run on any of the scenarios; an unknown ``protocol``.

    Notes
    -----
    Each runnable pair's teacher is built once for a probe student (seed 0), so a teacher that
    rejects a scenario's space (its own ``ValueError``) is left out with that message instead
    of failing a worker mid-run.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, got {protocol!r}")
    specs = [t if isinstance(t, TeacherSpec) else TeacherSpec(t) for t in teachers]
    labels = [s.label for s in specs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"teacher labels must be unique, repeated: {dupes}")
    for spec in specs:
        teacher_registry.teacher_kinds(spec.name)  # unknown names raise here, with a suggestion
    scenario_objs = [make_scenario(s) for s in scenarios]
    # Expert rules may depend on the student's seed; a probe student checks parameter names.
    probes = {sc.name: sc.make_student(seed=0) for sc in scenario_objs}
    if not scenario_objs:
        raise ValueError("no scenarios to run")
    if not specs:
        raise ValueError("no teachers to run")

    pairs: list[PlannedPair] = []
    skipped: list[dict[str, str]] = []
    for spec in specs:
        kinds = teacher_registry.teacher_kinds(spec.name)
        accepted, required, takes_kwargs = teacher_constructor_params(spec.name)
        reasons: list[str] = []
        for sc in scenario_objs:
            reason = None
            code = ""
            if sc.space_kind not in kinds:
                reason = f"serves {'/'.join(kinds)} spaces, the scenario is {sc.space_kind}"
                code = "space-kind"
            elif protocol == "plain" and _requires_signals(spec.name):
                reason = (
                    "needs a trainer signal (|advantage|) that the plain protocol does not give; "
                    "run it under the grpo protocol (--protocol grpo, protocol='grpo')"
                )
                code = "signals"
            if reason is None:
                params = {**expert_params(spec.name, sc, probes[sc.name]), **spec.params}
                clash = sorted(set(params) & set(RUNNER_SUPPLIED))
                if clash:
                    raise ValueError(
                        f"teacher {spec.label!r}: parameter(s) {clash} are set by the runner "
                        "(the space and student come from the scenario, the seed from the job "
                        "seed); remove them"
                    )
                unknown = sorted(set(params) - accepted) if not takes_kwargs else []
                if unknown:
                    raise ValueError(
                        f"teacher {spec.name!r} does not take parameter(s) {unknown}; it takes "
                        f"{sorted(accepted - set(RUNNER_SUPPLIED))}"
                    )
                missing = sorted(required - set(params))
                if missing:
                    reason = f"needs parameter(s) {missing} that the suite does not set"
                    code = "params"
                    if strict:
                        raise ValueError(
                            f"teacher {spec.name!r} needs parameter(s) {missing} that the "
                            "benchmark cannot choose; pass them in a TeacherSpec to "
                            "autocurriculum.bench.runner.run_benchmark"
                        )
            if reason is None:
                reason = _build_problem(spec.name, probes[sc.name], params, accepted)
                code = "unbuildable" if reason else ""
            if reason is None:
                pairs.append(PlannedPair(spec, sc.name, dict(spec.params)))
            else:
                reasons.append(f"{sc.name}: {reason}")
                skipped.append(
                    {"teacher": spec.label, "scenario": sc.name, "code": code, "reason": reason}
                )
        if strict and not any(p.spec is spec for p in pairs):
            raise ValueError(
                f"teacher {spec.label!r} cannot run on any of the scenarios "
                f"({'; '.join(reasons)}). Teachers for these scenarios: "
                f"{', '.join(_fitting_teachers(scenario_objs))}"
            )
    return pairs, skipped


def _build_problem(
    name: str, student: Any, params: dict[str, Any], accepted: set[str]
) -> str | None:
    """Why ``name`` cannot be built for this student (its ``ValueError``), or ``None``.

    Teachers validate their parameters against the space when built (a binned teacher whose
    grid over a 10-D box would have too many arms, for example); building one for a probe
    student finds that before a worker does.
    """
    kwargs = dict(params)
    if "student" in accepted:
        kwargs["student"] = student
    try:
        teacher_registry.make(name, student.space, seed=0, **kwargs)
    except ValueError as err:
        return f"cannot be built for this space: {err}"
    return None


def _fitting_teachers(scenarios: Sequence[Scenario]) -> list[str]:
    kinds = {s.space_kind for s in scenarios}
    return [
        n
        for n in teacher_registry.list_teachers()
        if kinds & set(teacher_registry.teacher_kinds(n))
    ]


def check_names(
    teachers: Sequence[str] | None = None, scenarios: Sequence[str] | None = None
) -> None:
    """Raise ``UnknownNameError`` for the first unknown teacher or scenario name."""
    for t in teachers or ():
        teacher_registry.teacher_kinds(t)
    for s in scenarios or ():
        make_scenario(s)


# ------------------------------------------------------------------------ suites
#: The quick suite (``make demo``): the library's recommended teachers (lp-tree for boxes, zlp
#: for arms), the classic ones and the baselines, on four scenarios that separate them (the toy
#: grid, a mostly unfeasible grid, an arms chain, the chain among chance arms), with 5 seeds and
#: the full 20k-episode
#: protocol. Teachers take 15-100 µs per episode, so the suite costs a few minutes of CPU.
#: Left out: teachers that need trainer signals (sec, dump; they run in ``full`` under the grpo
#: protocol) or hand-written stages (schedule), the binned adapter (the slowest, ~240 µs per
#: episode), and ``auto``, which delegates to lp-tree / zlp and would duplicate their rows.
QUICK_TEACHERS: tuple[str, ...] = (
    "random",
    "oracle",
    "lp-tree",
    "alp-gmm",
    "riac",
    "covar-gmm",
    "adr",
    "spdl",
    "zlp",
    "tscl",
    "exp3s",
    "learnability",
    "plr",
)

register_suite(
    Suite(
        name="quick",
        summary=(
            "demo: random, oracle, our teachers and the classic ones on grid-2d, "
            "grid-unfeasible, arms-chain and arms-mixed, 5 seeds x 20k episodes"
        ),
        teachers=QUICK_TEACHERS,
        scenarios=("grid-2d", "grid-unfeasible", "arms-chain", "arms-mixed"),
        seeds=5,
    )
)
register_suite(
    Suite(
        name="full",
        summary="every registered teacher on every scenario it fits, 5 seeds, scenario budgets",
        teachers=None,
        scenarios=None,
        seeds=5,
    )
)
