"""Benchmark scenarios: a named student configuration with its episode budget.

A :class:`Scenario` holds a student class and its keyword arguments (not a closure, so it
pickles to worker processes), the default budget and how often to evaluate. The registered
scenarios cover the ALP-GMM toy grid and the TeachMyAgent skill-specific challenges:

============================  ===============================================================
name                          student
============================  ===============================================================
``grid-2d``                   10x10 grid (the ALP-GMM toy protocol)
``grid-distractors``          10x10 grid plus 8 distractor dimensions (10-D task space)
``grid-unfeasible``           10x10 grid, 80% of the cells never learn (best possible 20%)
``grid-trivial``              10x10 grid, 80% of the cells mastered from the start
``grid-forgetting``           10x10 grid, decay 0.001 per unpractised episode, reset at 10,000
``grid-noisy``                10x10 grid, reward noise sd 0.1
``grid-rugged``               10x10 grid, 4 permuted intervals per dimension
``grid-4d``                   4 dims x 5 cells (625 cells), 100,000 episodes
``arms-chain``                20 shuffled arms in a prerequisite chain
``arms-mixed``                20-arm chain + 10 unlearnable + 5 trivial arms, with decay
============================  ===============================================================

Expert knowledge: a scenario gives *values* by constructor parameter name
(:meth:`Scenario.expert_values`), computed from the job's student, because what is easy can
depend on its seed (a rugged grid). The runner passes a teacher exactly the values its registry
spec lists in ``expert_params`` (user parameters override them), so this module never needs to
know which teacher takes what. Every scenario gives ``student``, the learner itself (read by the
benchmark-only oracle); the grid scenarios also give ADR's start point and thresholds and SPDL's
initial distribution (:func:`grid_expert`). :data:`EXPERT_DOCS` says what each value is.

Examples
--------
>>> from autocurriculum.bench.scenarios import list_scenarios, make_scenario
>>> "grid-2d" in list_scenarios()
True
>>> scenario = make_scenario("grid-2d")
>>> student = scenario.make_student(seed=0)
>>> student.episode([0.05, 0.05])
0.01
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum._registry import Registry
from autocurriculum.bench.students import ArmsStudent, GridStudent, Student
from autocurriculum.spaces import Box

__all__ = [
    "EXPERT_DOCS",
    "Scenario",
    "easy_corner",
    "grid_expert",
    "list_scenarios",
    "make_scenario",
    "register_scenario",
    "scenario_summary",
]

_SPACE_KINDS = ("box", "discrete")


@dataclass(frozen=True)
class Scenario:
    """A named student configuration and its default budget.

    Parameters
    ----------
    name : str
        Registry name, for example ``"grid-2d"``.
    summary : str
        One line for tables and ``--help``.
    space_kind : {"box", "discrete"}
        Kind of the student's task space, to match teachers to scenarios.
    student_cls : type of Student
        The student class.
    student_params : tuple of (str, object) pairs
        Keyword arguments of ``student_cls`` other than ``seed``. A tuple of pairs, not a
        dict, so the frozen dataclass stays hashable; a mapping is accepted and converted.
    episodes : int
        Default episode budget of a run.
    eval_every : int
        Episodes between two evaluations of the student's score.
    expert : callable or None
        ``expert(student) -> {parameter: value}``: expert knowledge of this scenario for
        teachers that take it (see :meth:`expert_values`). A module-level function, so that the
        scenario pickles.

    Examples
    --------
    >>> from autocurriculum.bench.students import GridStudent
    >>> scenario = Scenario(
    ...     name="grid-3x3",
    ...     summary="a tiny 3x3 grid",
    ...     space_kind="box",
    ...     student_cls=GridStudent,
    ...     student_params={"cells": 3},
    ...     episodes=1_000,
    ...     eval_every=100,
    ... )
    >>> scenario.make_student(seed=0).best_possible()
    100.0

    References
    ----------
    .. [1] Romac, Portelas, Hofmann and Oudeyer, "TeachMyAgent: a Benchmark for Automatic
       Curriculum Learning in Deep RL", ICML 2021.
    .. [2] Portelas, Colas, Hofmann and Oudeyer, "Teacher algorithms for curriculum learning
       of Deep RL in continuously parameterized environments", CoRL 2019.
    """

    name: str
    summary: str
    space_kind: str
    student_cls: type[Student]
    student_params: tuple[tuple[str, Any], ...] | Mapping[str, Any] = field(default=())
    episodes: int = 20_000
    eval_every: int = 1_000
    expert: Callable[[Student], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Scenario name must be a non-empty str, got {self.name!r}")
        if self.space_kind not in _SPACE_KINDS:
            raise ValueError(
                f"Scenario {self.name!r}: space_kind must be one of {_SPACE_KINDS}, got "
                f"{self.space_kind!r}"
            )
        if not (isinstance(self.student_cls, type) and issubclass(self.student_cls, Student)):
            raise ValueError(
                f"Scenario {self.name!r}: student_cls must be a Student subclass, got "
                f"{self.student_cls!r}"
            )
        params = self.student_params
        if isinstance(params, Mapping):
            params = tuple(params.items())
        params = tuple((str(k), v) for k, v in params)
        if any(k == "seed" for k, _ in params):
            raise ValueError(
                f"Scenario {self.name!r}: student_params must not hold 'seed'; make_student(seed) "
                "sets it"
            )
        object.__setattr__(self, "student_params", params)
        for attr in ("episodes", "eval_every"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"Scenario {self.name!r}: {attr} must be an int >= 1, got {value!r}"
                )
        if self.eval_every > self.episodes:
            raise ValueError(
                f"Scenario {self.name!r}: eval_every={self.eval_every} exceeds "
                f"episodes={self.episodes}"
            )

    @property
    def params(self) -> dict[str, Any]:
        """The student's keyword arguments (without ``seed``), as a fresh dict."""
        return dict(self.student_params)

    def make_student(self, seed: int) -> Student:
        """A fresh student of this scenario, seeded with ``seed``."""
        student = self.student_cls(**self.params, seed=seed)
        if student.space.kind != self.space_kind:
            raise ValueError(
                f"Scenario {self.name!r} declares space_kind {self.space_kind!r} but its student "
                f"has {student.space!r}"
            )
        return student

    def expert_values(self, student: Student) -> dict[str, Any]:
        """Expert knowledge for ``student`` by constructor parameter name (:data:`EXPERT_DOCS`).

        Always ``student`` (the learner itself), plus what :attr:`expert` gives.
        """
        extra = dict(self.expert(student)) if self.expert is not None else {}
        return {"student": student, **extra}


#: What each expert value of the registered scenarios is, by parameter name, for a run's
#: ``config.json`` and its report.
EXPERT_DOCS: dict[str, str] = {
    "student": "the benchmark's student itself (benchmark-only references)",
    "start": "the corner of the grid's origin cell (permuted on a rugged grid)",
    "low_threshold": "0.2 on the [0, 1] reward",
    "high_threshold": "0.7 on the [0, 1] reward",
    "init_mean": "the centre of the grid's origin cell",
    "init_cov": "diagonal, sd half a cell",
}


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


def grid_expert(student: Student) -> dict[str, Any]:
    """Expert knowledge of a grid scenario: where the origin cell is, and the reward scale.

    - ``start``, ``low_threshold``, ``high_threshold`` (ADR): grow the bounds from the corner of
      the origin cell, the one cell an expert knows to be easy; thresholds 0.2 / 0.7 on the
      [0, 1] reward (the cell's competence / 100; a cell is mastered above 0.75).
    - ``init_mean``, ``init_cov`` (SPDL): an initial Gaussian centred on the origin cell, sd
      half a cell. The target keeps its default (box centre, sd range / 4), which covers the
      box, as TeachMyAgent does without a known target.
    """
    corner = easy_corner(student)
    if corner is None:
        return {}
    space: Box = student.space  # type: ignore[assignment]
    # The origin cell spans [corner, corner + 1/cells] (upward, also on a rugged grid).
    cell = space.range / int(getattr(student, "cells", 10))
    mean = np.clip(corner + cell / 2, space.low, space.high)
    return {
        "start": corner.tolist(),
        "low_threshold": 0.2,
        "high_threshold": 0.7,
        "init_mean": mean.tolist(),
        "init_cov": np.diag((cell / 2) ** 2).tolist(),
    }


_SCENARIOS: Registry[Scenario] = Registry("scenario")


def register_scenario(scenario: Scenario) -> Scenario:
    """Add ``scenario`` to the registry under its name; a taken name raises ``ValueError``."""
    if not isinstance(scenario, Scenario):
        raise ValueError(f"register_scenario takes a Scenario, got {scenario!r}")
    _SCENARIOS.add(scenario.name, scenario, scenario.summary)
    return scenario


def make_scenario(name: str) -> Scenario:
    """The registered scenario ``name``.

    Raises
    ------
    autocurriculum._registry.UnknownNameError
        A ``ValueError`` listing the known names, with a "did you mean" suggestion.
    """
    return _SCENARIOS.get(name)


def list_scenarios(space_kind: str | None = None) -> list[str]:
    """Registered scenario names, sorted, optionally only those of one ``space_kind``."""
    if space_kind is not None and space_kind not in _SPACE_KINDS:
        raise ValueError(f"space_kind must be one of {_SPACE_KINDS} or None, got {space_kind!r}")
    return [
        n
        for n in _SCENARIOS.names()
        if space_kind is None or _SCENARIOS.get(n).space_kind == space_kind
    ]


def scenario_summary(name: str) -> str:
    """The one-line description of a registered scenario."""
    return _SCENARIOS.summary(name)


def _grid(
    name: str, summary: str, episodes: int = 20_000, eval_every: int = 1_000, **params: Any
) -> None:
    register_scenario(
        Scenario(
            name=name,
            summary=summary,
            space_kind="box",
            student_cls=GridStudent,
            student_params=tuple(params.items()),
            episodes=episodes,
            eval_every=eval_every,
            expert=grid_expert,
        )
    )


def _arms(name: str, summary: str, **params: Any) -> None:
    register_scenario(
        Scenario(
            name=name,
            summary=summary,
            space_kind="discrete",
            student_cls=ArmsStudent,
            student_params=tuple(params.items()),
        )
    )


_grid("grid-2d", "ALP-GMM toy: 10x10 grid; 100% needs 7,600 episodes, uniform gets ~4% at 20k")
_grid(
    "grid-distractors",
    "10x10 grid plus 8 distractor dims the learner ignores (10-D task space)",
    distractor_dims=8,
)
_grid(
    "grid-unfeasible",
    "10x10 grid, 80% of cells never learn: best possible 20%",
    unlearnable_fraction=0.8,
)
_grid(
    "grid-trivial",
    "10x10 grid, 80% of cells mastered from the start",
    trivial_fraction=0.8,
)
# Decay 0.001: a cell left at 76 falls back to "not mastered" after ~1,000 unpractised episodes
# and a cell driven to 100 holds for 25,000, so forgetting punishes stopping at the threshold
# without swamping learning (uniform still gains ~0.01 per episode per cell). The reset at the
# half-way mark tests whether a teacher notices progress that has restarted.
_grid(
    "grid-forgetting",
    "10x10 grid; unpractised cells lose 0.001 per episode, all competence resets at 10,000",
    decay=0.001,
    reset_at=(10_000,),
)
_grid("grid-noisy", "10x10 grid, reward noise sd 0.1", noise=0.1)
_grid(
    "grid-rugged",
    "10x10 grid, each dim cut into 4 intervals permuted with the seed (rugged difficulty)",
    rugged=True,
)
# 4 dims x 5 cells = 625 cells: 100% physically needs 76 * 625 = 47,500 episodes, beyond the
# usual 20k, so the budget is raised to 100,000 (about twice the minimum), evaluated every
# 5,000 to keep 20 points per curve like the other scenarios.
_grid(
    "grid-4d",
    "4 dims x 5 cells (625 cells); 100% needs 47,500 episodes, budget 100,000",
    episodes=100_000,
    eval_every=5_000,
    cells=5,
    dims=4,
)
# learn_rate 0.02: 38 practice episodes master an arm; an oracle needs 760, uniform ~15,200.
_arms(
    "arms-chain",
    "20 shuffled arms in a prerequisite chain (38 practices each); uniform needs ~15k episodes",
    n_arms=20,
    chain=True,
    learn_rate=0.02,
    shuffle=True,
)
# 35 arms: the 20-arm chain, 10 unlearnable arms that succeed 25% of the time by chance
# (reward that moves like progress but never sticks) and 5 arms mastered from the start. Best
# possible 25/35 = 71.4%, starting score 5/35 = 14.3%. Uniform sampling gives the chain arm
# 1/35 of the episodes, about 35 * 20 * 38 = 26,600 episodes for the chain: it cannot finish
# in 20k, where arms-chain's uniform baseline does (~15k). Decay 5e-5 per unpractised
# episode: a just-mastered arm (0.76) slips after 200 episodes of neglect, a trivial arm (1.0)
# after 5,000, so a teacher must revisit what it left behind.
_arms(
    "arms-mixed",
    "20-arm chain + 10 unlearnable (25% chance success) + 5 trivial arms, decay 5e-5",
    n_arms=20,
    chain=True,
    learn_rate=0.02,
    unlearnable=10,
    unlearnable_success=0.25,
    trivial=5,
    decay=5e-5,
    shuffle=True,
)
