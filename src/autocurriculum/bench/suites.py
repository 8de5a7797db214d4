"""Benchmark suites: which teachers run on which scenarios, with which expert knowledge.

A suite names teachers and scenarios; :func:`plan` turns teachers x scenarios into the pairs
that can actually run, reading each teacher's registry spec
(:func:`autocurriculum.teachers.registry.teacher_spec`), never its name:

- a teacher runs on a scenario only if it serves the scenario's space kind (``spec.kinds``);
- a teacher whose ``update`` needs a trainer-side signal (``spec.needs_one_of``: SEC and DUMP
  need |advantage| or GRPO group ids) runs only under a protocol whose updates carry one (the
  runner's ``"grpo"``); under ``"plain"`` (rewards only) it is left out, with a reason that says
  to use grpo;
- a teacher gets the scenario's expert knowledge for exactly the parameters its spec lists in
  ``expert_params`` (:meth:`autocurriculum.bench.scenarios.Scenario.expert_values`: ADR's start
  point and thresholds, SPDL's initial distribution, the oracle's student), recorded in each
  run's ``config.json``; user parameters override it;
- a teacher with required parameters that nobody supplies (a manual ``schedule`` needs its
  stages) is left out of composed suites, and is an error when asked for by name.

Each left-out pair is returned with its reason, so reports can say what did not run and why.
The suites only pick teachers that exist in the registry, so they grow with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autocurriculum._registry import Registry
from autocurriculum.bench.learner import Learner
from autocurriculum.bench.protocols import PROTOCOLS, make_protocol
from autocurriculum.bench.scenarios import Scenario, list_scenarios, make_scenario
from autocurriculum.teachers.registry import TeacherSpec, list_teachers, make, teacher_spec

__all__ = [
    "BASELINE",
    "Entrant",
    "PlannedPair",
    "Suite",
    "build_teacher",
    "check_names",
    "expert_for",
    "get_suite",
    "list_suites",
    "missing_signals",
    "plan",
    "register_suite",
    "suite_summary",
]

#: The uniform reference every table holds and every figure draws as the baseline.
BASELINE = "random"
#: Constructor parameters the runner supplies itself.
RUNNER_SUPPLIED = ("space", "seed")


@dataclass(frozen=True)
class Entrant:
    """A teacher entered in a benchmark: a registry name, explicit parameters and a label.

    Parameters
    ----------
    name : str
        Registry name, as for :func:`autocurriculum.make`.
    params : mapping
        Keyword arguments for the teacher, on top of the scenario's expert knowledge. Must be
        JSON-serialisable so the run's ``config.json`` records them.
    label : str
        Name in tables, figures and file names; defaults to ``name``. Two entrants of one
        teacher with different parameters need different labels.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Entrant name must be a non-empty str, got {self.name!r}")
        object.__setattr__(self, "params", dict(self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)
        bad = set(self.label) & set('/\\:*?"<>| ')
        if bad or self.label.startswith(".") or "__" in self.label:
            raise ValueError(
                f"Entrant label {self.label!r} must be usable in a file name: no spaces, no "
                f"'__', no leading dot, none of / \\ : * ? \" < > |"
            )


@dataclass(frozen=True)
class Suite:
    """A named benchmark composition.

    Parameters
    ----------
    name, summary : str
    teachers : tuple of str or Entrant, or None
        Teachers to run; names absent from the registry are skipped, so a suite written today
        picks up teachers as they land. ``None`` means every registered teacher, the
        benchmark-only references included.
    scenarios : tuple of str or None
        Scenario names; ``None`` means every registered scenario.
    seeds : int
        Seeds per (teacher, scenario).
    episodes : int or None
        Episode budget for every scenario; ``None`` keeps each scenario's own budget.
    """

    name: str
    summary: str
    teachers: tuple[str | Entrant, ...] | None
    scenarios: tuple[str, ...] | None
    seeds: int = 5
    episodes: int | None = None

    def entrants(self) -> list[Entrant]:
        """The suite's teachers that exist in the registry now."""
        known = list_teachers(benchmark_only=True)
        if self.teachers is None:
            return [Entrant(n) for n in known]
        entrants = [t if isinstance(t, Entrant) else Entrant(t) for t in self.teachers]
        return [e for e in entrants if e.name in known]

    # The CLI's name for it (autocurriculum.cli reads it).
    teacher_specs = entrants

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


# ----------------------------------------------------------------- building teachers
def expert_for(spec: TeacherSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The expert ``values`` (by parameter name) that ``spec`` lists in ``expert_params``."""
    return {k: values[k] for k in spec.expert_params if k in values}


def build_teacher(
    name: str,
    learner: Learner,
    *,
    seed: int | None,
    params: Mapping[str, Any] | None = None,
    expert: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Build the registered teacher ``name`` for ``learner``, with the expert knowledge it takes.

    Parameters
    ----------
    name : str
        Registry name.
    learner : Learner
        The teacher is built for ``learner.space``.
    seed : int or None
        The teacher's seed.
    params : mapping, optional
        User parameters; they override expert values.
    expert : mapping, optional
        Expert values by parameter name (:meth:`Scenario.expert_values`); the teacher gets
        those its spec lists in ``expert_params``.

    Returns
    -------
    teacher : Teacher
    recorded : dict
        The parameters it was built with, except values that are not data (the student), for
        the run's records.
    """
    spec = teacher_spec(name)
    kwargs = {**expert_for(spec, expert or {}), **(params or {})}
    teacher = make(name, learner.space, seed=seed, **kwargs)
    recorded = {k: v for k, v in kwargs.items() if k not in (expert or {}) or _is_data(v)}
    return teacher, recorded


def _is_data(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_is_data(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_is_data(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def missing_signals(spec: TeacherSpec, protocol: str) -> frozenset[str]:
    """The signals ``spec`` needs (one of) that ``protocol``'s updates do not carry, or ``{}``."""
    given = make_protocol(protocol).signals
    if not spec.needs_one_of or spec.needs_one_of & given:
        return frozenset()
    return spec.needs_one_of


# ----------------------------------------------------------------- applicability
def _accepted_params(spec: TeacherSpec) -> tuple[set[str], bool]:
    """``(accepted keyword names, takes **kwargs)`` of a spec's builder, for error messages."""
    try:
        sig = inspect.signature(spec.builder)
    except (TypeError, ValueError):
        return set(), True
    accepted = {
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    return accepted - {"self"}, takes_kwargs


@dataclass(frozen=True)
class PlannedPair:
    """One (teacher, scenario) pair that will run, with the user's parameters.

    Expert-knowledge parameters are added per job, from the job's student.
    """

    entrant: Entrant
    scenario: str
    params: dict[str, Any]


def plan(
    teachers: Sequence[str | Entrant],
    scenarios: Sequence[str],
    *,
    strict: bool,
    protocol: str = "plain",
) -> tuple[list[PlannedPair], list[dict[str, str]]]:
    """The (teacher, scenario) pairs that can run, and the ones left out with a reason.

    Parameters
    ----------
    teachers : sequence of str or Entrant
    scenarios : sequence of str
    strict : bool
        Whether the teachers were asked for by name (the ``--teachers`` option): then a teacher
        that can run on none of the scenarios is an error rather than a skip.
    protocol : {"plain", "grpo"}
        The runner's step protocol. Teachers that need a signal the protocol's updates do not
        carry (:func:`missing_signals`) are left out.

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
    entrants = [t if isinstance(t, Entrant) else Entrant(t) for t in teachers]
    labels = [e.label for e in entrants]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"teacher labels must be unique, repeated: {dupes}")
    specs = {e.name: teacher_spec(e.name) for e in entrants}  # unknown names raise here
    scenario_objs = [make_scenario(s) for s in scenarios]
    if not scenario_objs:
        raise ValueError("no scenarios to run")
    if not entrants:
        raise ValueError("no teachers to run")
    # Expert values may depend on the student's seed; a probe student checks what is given.
    probes = {sc.name: sc.make_student(seed=0) for sc in scenario_objs}

    pairs: list[PlannedPair] = []
    skipped: list[dict[str, str]] = []
    for entrant in entrants:
        spec = specs[entrant.name]
        reasons: list[str] = []
        for sc in scenario_objs:
            code, reason = _problem(entrant, spec, sc, probes[sc.name], protocol, strict)
            if reason is None:
                pairs.append(PlannedPair(entrant, sc.name, dict(entrant.params)))
            else:
                reasons.append(f"{sc.name}: {reason}")
                skipped.append(
                    {"teacher": entrant.label, "scenario": sc.name, "code": code, "reason": reason}
                )
        if strict and not any(p.entrant is entrant for p in pairs):
            raise ValueError(
                f"teacher {entrant.label!r} cannot run on any of the scenarios "
                f"({'; '.join(reasons)}). Teachers for these scenarios: "
                f"{', '.join(_fitting_teachers(scenario_objs))}"
            )
    return pairs, skipped


def _problem(
    entrant: Entrant,
    spec: TeacherSpec,
    sc: Scenario,
    probe: Any,
    protocol: str,
    strict: bool,
) -> tuple[str, str | None]:
    """``(code, reason)`` why ``entrant`` cannot run on ``sc``, or ``("", None)``."""
    if sc.space_kind not in spec.kinds:
        kinds = "/".join(spec.kinds)
        return "space-kind", f"serves {kinds} spaces, the scenario is {sc.space_kind}"
    if missing_signals(spec, protocol):
        needs = " or ".join(sorted(spec.needs_one_of))
        return "signals", (
            f"needs a trainer signal ({needs}) that the {protocol} protocol does not give; "
            "run it under the grpo protocol (--protocol grpo, protocol='grpo')"
        )
    clash = sorted(set(entrant.params) & set(RUNNER_SUPPLIED))
    if clash:
        raise ValueError(
            f"teacher {entrant.label!r}: parameter(s) {clash} are set by the runner (the space "
            "comes from the scenario, the seed from the job seed); remove them"
        )
    accepted, takes_kwargs = _accepted_params(spec)
    unknown = sorted(set(entrant.params) - accepted) if not takes_kwargs else []
    if unknown:
        raise ValueError(
            f"teacher {entrant.name!r} does not take parameter(s) {unknown}; it takes "
            f"{sorted(accepted - set(RUNNER_SUPPLIED))}"
        )
    expert = sc.expert_values(probe)
    given = {**expert_for(spec, expert), **entrant.params}
    missing = [p for p in spec.required_params if p not in given]
    if missing:
        if strict:
            raise ValueError(
                f"teacher {entrant.name!r} needs parameter(s) {missing} that the benchmark "
                "cannot choose; pass them in an Entrant to "
                "autocurriculum.bench.runner.run_benchmark"
            )
        return "params", f"needs parameter(s) {missing} that the suite does not set"
    # Teachers validate their parameters against the space when built (a binned teacher whose
    # grid over a 10-D box would have too many arms): a probe build finds that before a worker.
    try:
        build_teacher(entrant.name, probe, seed=0, params=entrant.params, expert=expert)
    except ValueError as err:
        return "unbuildable", f"cannot be built for this space: {err}"
    return "", None


def _fitting_teachers(scenarios: Sequence[Scenario]) -> list[str]:
    kinds = {s.space_kind for s in scenarios}
    return [n for n in list_teachers(benchmark_only=True) if kinds & set(teacher_spec(n).kinds)]


def check_names(
    teachers: Sequence[str] | None = None, scenarios: Sequence[str] | None = None
) -> None:
    """Raise ``UnknownNameError`` for the first unknown teacher or scenario name."""
    for t in teachers or ():
        teacher_spec(t)
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
    BASELINE,
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
