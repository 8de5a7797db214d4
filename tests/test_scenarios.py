"""The scenario registry and every registered scenario."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from autocurriculum._registry import UnknownNameError
from autocurriculum.bench.scenarios import (
    Scenario,
    list_scenarios,
    make_scenario,
    register_scenario,
    scenario_summary,
)
from autocurriculum.bench.students import ArmsStudent, GridStudent, Student

REQUIRED = [
    "grid-2d",
    "grid-distractors",
    "grid-unfeasible",
    "grid-trivial",
    "grid-forgetting",
    "grid-noisy",
    "grid-rugged",
    "grid-4d",
    "arms-chain",
    "arms-mixed",
]


def test_required_scenarios_are_registered() -> None:
    names = list_scenarios()
    assert set(REQUIRED) <= set(names)
    assert names == sorted(names)


def test_list_by_space_kind() -> None:
    assert list_scenarios("discrete") == ["arms-chain", "arms-mixed"]
    assert "grid-2d" in list_scenarios("box")
    assert not set(list_scenarios("box")) & set(list_scenarios("discrete"))
    with pytest.raises(ValueError, match="graph"):
        list_scenarios("graph")


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError) as info:
        make_scenario("grid-2")
    message = str(info.value)
    assert "Did you mean 'grid-2d'?" in message
    assert "arms-chain" in message
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="arms-mixed"):
        scenario_summary("nope")


@pytest.mark.parametrize("name", REQUIRED)
def test_every_scenario_builds_and_runs_100_episodes(name: str) -> None:
    scenario = make_scenario(name)
    assert scenario.name == name
    assert scenario_summary(name) == scenario.summary
    assert scenario.summary
    assert "\n" not in scenario.summary
    student = scenario.make_student(seed=0)
    assert isinstance(student, Student)
    assert student.space.kind == scenario.space_kind
    assert student.n_episodes == 0
    assert len(student.frontier()) > 0
    tasks = student.space.sample(np.random.default_rng(0), 100)
    rewards = student.episodes(tasks)
    assert rewards.shape == (100,)
    assert np.all((rewards >= 0) & (rewards <= 1))
    assert student.n_episodes == 100
    assert 0.0 <= student.score() <= student.best_possible() <= 100.0
    assert scenario.episodes % scenario.eval_every == 0


@pytest.mark.parametrize("name", REQUIRED)
def test_seed_reproduces_and_scenarios_pickle(name: str) -> None:
    scenario = make_scenario(name)
    copy = pickle.loads(pickle.dumps(scenario))
    assert copy == scenario
    assert hash(copy) == hash(scenario)
    a, b = scenario.make_student(seed=3), copy.make_student(seed=3)
    tasks = a.space.sample(np.random.default_rng(1), 300)
    assert np.array_equal(a.episodes(tasks), b.episodes(tasks))


def test_scenario_parameters() -> None:
    grid = make_scenario("grid-2d").make_student(0)
    assert isinstance(grid, GridStudent)
    assert (grid.cells, grid.dims, grid.space.ndim) == (10, 2, 2)
    assert make_scenario("grid-2d").episodes == 20_000
    assert make_scenario("grid-2d").eval_every == 1_000
    assert make_scenario("grid-distractors").make_student(0).space.ndim == 10
    assert make_scenario("grid-unfeasible").make_student(0).best_possible() == 20.0
    assert make_scenario("grid-trivial").make_student(0).score() == 80.0
    forgetting = make_scenario("grid-forgetting").make_student(0)
    assert forgetting.reset_at == (10_000,)
    assert forgetting.decay > 0
    assert make_scenario("grid-noisy").params["noise"] == 0.1
    assert make_scenario("grid-rugged").params["rugged"] is True
    four = make_scenario("grid-4d")
    assert four.make_student(0).competence().shape == (5, 5, 5, 5)
    assert four.episodes >= 76 * 5**4  # the budget leaves room for the physical minimum
    chain = make_scenario("arms-chain").make_student(0)
    assert isinstance(chain, ArmsStudent)
    assert chain.space.n == 20
    assert chain.chain_order != tuple(range(20))
    mixed = make_scenario("arms-mixed").make_student(0)
    assert mixed.space.n == 35
    assert mixed.best_possible() == pytest.approx(100 * 25 / 35)
    assert mixed.score() == pytest.approx(100 * 5 / 35)
    assert mixed.decay > 0


def test_rugged_scenario_varies_with_seed() -> None:
    scenario = make_scenario("grid-rugged")
    layouts = {scenario.make_student(s).interval_permutations for s in range(5)}
    assert len(layouts) > 1


def test_scenario_is_frozen_and_validated() -> None:
    scenario = make_scenario("grid-2d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.episodes = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="space_kind"):
        Scenario("x", "s", "graph", GridStudent)
    with pytest.raises(ValueError, match="seed"):
        Scenario("x", "s", "box", GridStudent, {"seed": 1})
    with pytest.raises(ValueError, match="episodes"):
        Scenario("x", "s", "box", GridStudent, episodes=0)
    with pytest.raises(ValueError, match="Student"):
        Scenario("x", "s", "box", dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="discrete"):
        Scenario("x", "s", "discrete", GridStudent).make_student(0)


def test_mapping_params_are_converted_and_registering_twice_fails() -> None:
    scenario = Scenario("tiny", "a 3x3 grid", "box", GridStudent, {"cells": 3}, 1_000, 100)
    assert scenario.student_params == (("cells", 3),)
    assert scenario.make_student(0).competence().shape == (3, 3)
    with pytest.raises(ValueError, match="already registered"):
        register_scenario(make_scenario("grid-2d"))
