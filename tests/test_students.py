"""Hand-checked facts of the benchmark students' protocols."""

from __future__ import annotations

import itertools
import pickle
import re
import time
from typing import Any

import numpy as np
import pytest

from autocurriculum.bench.students import ArmsStudent, GridStudent, Student
from autocurriculum.spaces import Box, Discrete


def centre(cell: tuple[int, ...], cells: int = 10) -> list[float]:
    """Task at the centre of a grid cell (non-rugged, no distractors)."""
    return [(k + 0.5) / cells for k in cell]


def drive_with_frontier(student: Student, n: int) -> None:
    """Oracle: play the centre of the first frontier box ``n`` times (re-reading the frontier)."""
    for _ in range(n):
        boxes = student.frontier()
        assert len(boxes), f"frontier empty after {student.n_episodes} episodes"
        student.episode(boxes[0].mean(axis=0))


def interior_points(boxes: np.ndarray, rng: np.random.Generator, per_box: int = 5) -> np.ndarray:
    """Uniform points strictly inside every box (boundaries are shared with other cells)."""
    low, high = boxes[:, 0], boxes[:, 1]
    u = rng.uniform(0.01, 0.99, size=(per_box, *low.shape))
    return (low + u * (high - low)).reshape(-1, boxes.shape[-1])


def expected_frontier_cells(student: GridStudent) -> set[int]:
    """Brute-force frontier from the public competence and learnable arrays."""
    comp = student.competence().ravel()
    learnable = student.learnable().ravel()
    shape = (student.cells,) * student.dims
    out = set()
    for flat in range(comp.size):
        idx = np.unravel_index(flat, shape)
        nbrs = student.previous_neighbours(tuple(int(i) for i in idx))
        unlocked = flat == 0 or any(comp[np.ravel_multi_index(j, shape)] >= 75 for j in nbrs)
        if learnable[flat] and unlocked and comp[flat] <= 75:
            out.add(flat)
    return out


# ----------------------------------------------------------------- grid protocol
def test_space_is_named_unit_cube() -> None:
    student = GridStudent(dims=2, distractor_dims=3)
    assert isinstance(student.space, Box)
    assert student.space == Box(np.zeros(5), np.ones(5), student.space.names)
    assert student.space.names == ("x0", "x1", "distractor0", "distractor1", "distractor2")


def test_origin_learns_from_start_and_reward_is_competence_after_update() -> None:
    student = GridStudent()
    assert student.episode([0.05, 0.05]) == pytest.approx(0.01)
    assert student.episode([0.0, 0.09]) == pytest.approx(0.02)
    assert student.competence()[0, 0] == 2.0
    assert student.n_episodes == 2


def test_non_origin_cell_waits_for_a_previous_neighbour_at_75() -> None:
    student = GridStudent()
    for _ in range(20):
        assert student.episode(centre((1, 0))) == 0.0
        assert student.episode(centre((1, 1))) == 0.0
    for _ in range(74):
        student.episode(centre((0, 0)))
    assert student.competence()[0, 0] == 74
    assert student.episode(centre((1, 0))) == 0.0  # 74 < 75: still locked
    student.episode(centre((0, 0)))
    assert student.competence()[0, 0] == 75
    assert student.episode(centre((1, 0))) == pytest.approx(0.01)  # >= 75 unlocks
    assert student.episode(centre((1, 1))) == pytest.approx(0.01)  # the diagonal counts too
    assert student.episode(centre((2, 0))) == 0.0  # not a neighbour of (0, 0)


def test_score_counts_cells_strictly_above_75() -> None:
    student = GridStudent()
    for _ in range(75):
        student.episode(centre((0, 0)))
    assert student.score() == 0.0
    student.episode(centre((0, 0)))
    assert student.score() == 1.0


def test_competence_capped_at_100() -> None:
    student = GridStudent(cells=2)
    rewards = [student.episode([0.1, 0.1]) for _ in range(150)]
    assert max(rewards) == 1.0
    assert student.competence()[0, 0] == 100.0


def test_previous_neighbours() -> None:
    student = GridStudent()
    assert set(student.previous_neighbours((1, 1))) == {(0, 0), (0, 1), (1, 0)}
    assert student.previous_neighbours((0, 0)) == []
    assert student.previous_neighbours((3, 0)) == [(2, 0)]
    assert set(student.previous_neighbours((0, 4))) == {(0, 3)}
    assert len(GridStudent(dims=3, cells=4).previous_neighbours((2, 2, 2))) == 7
    with pytest.raises(ValueError, match="10"):
        student.previous_neighbours((10, 0))


def test_7600_perfect_episodes_master_everything() -> None:
    student = GridStudent()
    drive_with_frontier(student, 7599)
    assert student.score() == 99.0
    drive_with_frontier(student, 1)
    assert student.score() == 100.0
    assert student.frontier().shape == (0, 2, 2)


def test_uniform_random_masters_about_4_percent() -> None:
    student = GridStudent(seed=0)
    tasks = np.random.default_rng(1).random((20_000, 2))
    for task in tasks:
        student.episode(task)
    assert 2.0 <= student.score() <= 7.0


def test_distractor_dims_are_ignored() -> None:
    plain = GridStudent(noise=0.05, seed=3)
    noisy = GridStudent(noise=0.05, distractor_dims=8, seed=3)
    rng = np.random.default_rng(0)
    relevant = rng.random((3000, 2)) * 0.35  # near the origin, where learning happens
    full = np.hstack([relevant, rng.random((3000, 8))])
    a = [plain.episode(t) for t in relevant]
    b = [noisy.episode(t) for t in full]
    assert a == b
    assert np.array_equal(plain.competence(), noisy.competence())
    assert plain.score() > 0
    boxes = noisy.frontier()
    assert np.all(boxes[:, 0, 2:] == 0.0)
    assert np.all(boxes[:, 1, 2:] == 1.0)


def test_unlearnable_cells_never_learn_and_best_possible_matches() -> None:
    student = GridStudent(unlearnable_fraction=0.8)
    assert student.best_possible() == 20.0
    learnable = student.learnable()
    # 20 cells: all with index sum <= 4 (15 cells), then 5 of the 6 with sum 5, in
    # lexicographic order: (0, 5) .. (4, 1) learn, (5, 0) does not.
    assert learnable.sum() == 20
    assert learnable[4, 1]
    assert not learnable[5, 0]
    assert not learnable[1, 5]
    drive_with_frontier(student, 20 * 76)
    assert student.score() == 20.0
    assert len(student.frontier()) == 0
    for _ in range(100):
        assert student.episode(centre((5, 0))) == 0.0
        assert student.episode(centre((9, 9))) == 0.0
    assert student.score() == 20.0


def test_trivial_cells_start_mastered() -> None:
    student = GridStudent(trivial_fraction=0.8)
    assert student.score() == 80.0
    assert student.best_possible() == 100.0
    comp = student.competence()
    # 80 cells: index sum <= 12 holds 79, then (4, 9) is the first with sum 13.
    assert comp[4, 9] == 100.0
    assert comp[5, 8] == 0.0
    assert comp[3, 9] == 100.0
    assert student.episode(centre((0, 0))) == 1.0
    assert student.episode(centre((5, 8))) == pytest.approx(0.01)
    drive_with_frontier(student, 20 * 76 - 1)  # (5, 8) already had its first episode
    assert student.score() == 100.0


def test_trivial_plus_unlearnable_above_one_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"0\.6"):
        GridStudent(trivial_fraction=0.6, unlearnable_fraction=0.6)


def test_decay_spares_the_practised_cell_and_floors_at_zero() -> None:
    student = GridStudent(decay=0.5)
    for _ in range(10):
        student.episode(centre((0, 0)))
    assert student.competence()[0, 0] == 10.0  # practised cells do not decay
    for _ in range(4):
        student.episode(centre((9, 9)))
    assert student.competence()[0, 0] == 8.0
    for _ in range(100):
        student.episode(centre((9, 9)))
    assert student.competence()[0, 0] == 0.0
    assert student.episode(centre((0, 0))) == pytest.approx(0.01)


def test_decay_can_lock_a_cell_again() -> None:
    student = GridStudent(decay=0.5)
    for _ in range(76):
        student.episode(centre((0, 0)))
    assert student.score() == 1.0
    # The origin, no longer practised, reads 76, 75.5, 75, 74.5: (1, 0) learns three times.
    rewards = [student.episode(centre((1, 0))) for _ in range(5)]
    assert rewards == pytest.approx([0.01, 0.02, 0.03, 0.03, 0.03])
    assert student.score() == 0.0
    assert student.competence()[0, 0] == 73.5
    cells = set(student.cells_of(interior_points(student.frontier(), np.random.default_rng(0))))
    assert cells == {0}


def test_reset_restores_initial_state() -> None:
    student = GridStudent(trivial_fraction=0.1, reset_at=(50, 120))
    initial = student.competence()
    rewards = [student.episode(centre((0, 0))) for _ in range(50)]
    assert rewards[-1] == 1.0  # trivial origin
    for _ in range(20):
        student.episode(centre((4, 1)))  # first non-trivial cell, unlocked by trivial (3, 0)
    assert student.competence()[4, 1] == 20.0
    for _ in range(50):
        student.episode(centre((4, 1)))
    assert student.n_episodes == 120
    assert np.array_equal(student.competence(), initial)
    assert student.score() == 10.0


def test_reset_at_counts_episodes_from_start() -> None:
    student = GridStudent(reset_at=(50,))
    rewards = [student.episode(centre((0, 0))) for _ in range(51)]
    assert rewards[49] == pytest.approx(0.50)  # the 50th episode still sees its update
    assert rewards[50] == pytest.approx(0.01)  # then everything restarted


def test_noise_is_added_and_clipped() -> None:
    student = GridStudent(noise=0.1, seed=0)
    rewards = np.array([student.episode(centre((9, 9))) for _ in range(2000)])
    assert rewards.min() == 0.0
    assert 0.3 < np.mean(rewards == 0.0) < 0.7  # half the draws are negative, clipped to 0
    assert rewards.max() > 0.1
    assert rewards.max() <= 1.0
    assert student.competence()[9, 9] == 0.0


def test_rugged_is_a_seeded_permutation_of_intervals() -> None:
    perms = set()
    for seed in range(10):
        student = GridStudent(rugged=True, seed=seed)
        for perm in student.interval_permutations:
            assert sorted(perm) == [0, 1, 2, 3]
            perms.add(perm)
    assert len(perms) > 3
    assert GridStudent().interval_permutations == ((0, 1, 2, 3),) * 2
    a, b = GridStudent(rugged=True, seed=4), GridStudent(rugged=True, seed=4)
    assert a.interval_permutations == b.interval_permutations


def test_rugged_mapping_moves_whole_intervals() -> None:
    student = GridStudent(rugged=True, seed=1)
    plain = GridStudent()
    rng = np.random.default_rng(0)
    x = rng.random(4000)
    for d in range(2):
        tasks = np.full((x.size, 2), 0.01)
        tasks[:, d] = x
        moved = tasks.copy()
        for e, perm in enumerate(student.interval_permutations):
            j = np.minimum((tasks[:, e] * 4).astype(int), 3)
            moved[:, e] = tasks[:, e] + (np.array(perm)[j] - j) / 4
        assert np.array_equal(student.cells_of(tasks), plain.cells_of(moved))
    # A bijection: the 4 intervals together cover every learner cell, each cell's share once.
    assert set(student.cells_of(rng.random((5000, 2))).tolist()) == set(range(100))


def test_rugged_frontier_boxes_land_on_learnable_cells() -> None:
    student = GridStudent(rugged=True, seed=2)
    assert student.interval_permutations != ((0, 1, 2, 3),) * 2
    rng = np.random.default_rng(0)
    for n in (0, 300, 2000, 5000):
        drive_with_frontier(student, n - student.n_episodes)
        boxes = student.frontier()
        cells = set(student.cells_of(interior_points(boxes, rng)).tolist())
        assert cells == expected_frontier_cells(student)
    drive_with_frontier(student, 7600 - student.n_episodes)
    assert student.score() == 100.0


def test_rugged_boxes_tile_the_cube_and_a_cell_may_need_several() -> None:
    student = GridStudent(rugged=True, seed=2)
    volumes = np.zeros(100)
    for cell, box in zip(student._box_cell, student._boxes, strict=True):
        volumes[cell] += np.prod(box[1] - box[0])
    assert np.allclose(volumes, 0.01)  # every cell keeps its share of the task space
    counts = np.bincount(student._box_cell, minlength=100)
    assert counts.max() > 1  # cells straddling a cut at 0.25, 0.5 or 0.75 split apart
    assert counts.min() == 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"distractor_dims": 3, "noise": 0.2},
        {"rugged": True, "noise": 0.1, "decay": 0.01, "reset_at": (700,)},
        {"cells": 5, "dims": 3, "trivial_fraction": 0.2, "unlearnable_fraction": 0.3},
    ],
)
def test_batch_equals_sequential(params: dict) -> None:
    one, batch = GridStudent(**params, seed=5), GridStudent(**params, seed=5)
    rng = np.random.default_rng(0)
    tasks = rng.random((1500, one.space.ndim)) * 0.5
    # Boundary values exercise the x == 1.0 and interval-edge rules.
    edges = np.array(list(itertools.product([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0], repeat=2)))
    edge_tasks = np.full((len(edges), one.space.ndim), 0.3)
    edge_tasks[:, :2] = edges
    tasks = np.vstack([tasks, edge_tasks, tasks])
    sequential = np.array([one.episode(t) for t in tasks])
    together = np.concatenate([batch.episodes(tasks[:1000]), batch.episodes(tasks[1000:])])
    assert np.array_equal(sequential, together)
    assert np.array_equal(one.competence(), batch.competence())
    assert one.n_episodes == batch.n_episodes == len(tasks)
    assert np.array_equal(one.cells_of(edge_tasks), [one._locate(t) for t in edge_tasks])


def test_frontier_boxes_hold_exactly_the_learnable_unmastered_unlocked_cells() -> None:
    student = GridStudent(unlearnable_fraction=0.5, trivial_fraction=0.1, decay=0.02, seed=1)
    rng = np.random.default_rng(3)
    for _ in range(6):
        student.episodes(rng.random((800, 2)) * 0.6)
        boxes = student.frontier()
        assert boxes.shape[1:] == (2, 2)
        assert np.all(boxes[:, 0] < boxes[:, 1])
        cells = student.cells_of(interior_points(boxes, rng))
        comp = student.competence().ravel()
        assert np.all(student.learnable().ravel()[cells])
        assert np.all(comp[cells] <= 75)
        assert set(cells.tolist()) == expected_frontier_cells(student)


@pytest.mark.parametrize(
    "params",
    [
        {"trivial_fraction": 0.05, "reset_at": (900,)},
        {"rugged": True, "unlearnable_fraction": 0.7},
        {"decay": 0.1},
    ],
)
def test_cached_frontier_stays_exact_after_every_episode(params: dict) -> None:
    student = GridStudent(**params, seed=4)
    rng = np.random.default_rng(0)
    # Learn near the origin, then neglect it (with decay, cells fall back below 75).
    tasks = np.vstack([rng.random((1000, 2)) * 0.2, 0.9 + 0.1 * rng.random((500, 2))])
    for i, task in enumerate(tasks):
        boxes = student.frontier()
        assert np.array_equal(boxes, student._compute_frontier()), f"episode {i}"
        boxes[:] = -1.0  # the caller owns its copy
        student.episode(task)
    cells = set(student.cells_of(interior_points(student.frontier(), rng)).tolist())
    assert cells == expected_frontier_cells(student)


def test_one_dimensional_grid_takes_a_flat_batch() -> None:
    one, batch = GridStudent(dims=1), GridStudent(dims=1)
    tasks = np.array([0.05, 0.05, 0.15, 1.0])
    assert np.array_equal(batch.episodes(tasks), [one.episode([t]) for t in tasks])
    assert batch.competence().tolist() == [2.0] + [0.0] * 9


def test_one_at_the_top_falls_in_the_last_cell() -> None:
    student = GridStudent()
    assert student.cells_of([[1.0, 1.0], [0.0, 1.0], [0.999, 0.0]]).tolist() == [99, 9, 90]
    assert student._locate([1.0, 1.0]) == 99


def test_pickle_round_trip_continues_identically() -> None:
    student = GridStudent(noise=0.1, decay=0.01, rugged=True, seed=7)
    rng = np.random.default_rng(0)
    student.episodes(rng.random((500, 2)) * 0.4)
    copy = pickle.loads(pickle.dumps(student))
    tasks = rng.random((500, 2)) * 0.4
    assert np.array_equal(student.episodes(tasks), copy.episodes(tasks))
    assert student.score() == copy.score()
    assert repr(copy) == repr(student)


@pytest.mark.parametrize(
    ("task", "fragment"),
    [
        ([1.5, 0.2], "1.5"),
        ([0.2, -0.25], "-0.25"),
        ([float("nan"), 0.2], "nan"),
        (np.array([0.5, np.inf]), "inf"),
        ([0.5, 0.5, 0.5], "shape (3,)"),
        ([[0.5, 0.5]], "shape (1, 2)"),
        (0.5, "shape ()"),
        (["a", "b"], "dtype"),
    ],
)
def test_bad_grid_task_raises_with_the_value(task: object, fragment: str) -> None:
    student = GridStudent()
    with pytest.raises(ValueError, match=re.escape(fragment)):
        student.episode(task)
    assert student.n_episodes == 0


def test_bad_batch_raises_before_playing() -> None:
    student = GridStudent()
    with pytest.raises(ValueError, match=r"1\.25"):
        student.episodes([[0.05, 0.05], [0.05, 1.25]])
    assert student.n_episodes == 0
    assert student.competence()[0, 0] == 0


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"cells": 0}, "cells"),
        ({"dims": 1.5}, "dims"),
        ({"unlearnable_fraction": 1.5}, "1.5"),
        ({"noise": -0.1}, "-0.1"),
        ({"decay": float("nan")}, "nan"),
        ({"reset_at": (0,)}, "reset_at"),
        ({"reset_at": 100}, "reset_at"),
        ({"seed": "a"}, "seed"),
    ],
)
def test_bad_grid_params(params: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        GridStudent(**params)


def test_competence_image_orientation() -> None:
    student = GridStudent()
    for _ in range(80):
        student.episode(centre((0, 0)))
    for _ in range(30):
        student.episode(centre((1, 0)))  # x0 in [0.1, 0.2], x1 in [0, 0.1]
    image = student.competence_image(resolution=20)
    assert image.shape == (20, 20)
    assert image[0, 0] == pytest.approx(0.8)
    assert image[0, 2] == pytest.approx(0.3)  # row = dim 1 (low), column = dim 0 (cell 1)
    assert image[2, 0] == 0.0
    assert image.max() <= 1.0
    with pytest.raises(NotImplementedError, match="Box"):
        ArmsStudent().competence_image()


def test_competence_image_other_dims_at_half() -> None:
    student = GridStudent(dims=3, cells=2)
    for _ in range(10):
        student.episode([0.2, 0.2, 0.2])
    assert student.competence()[0, 0, 0] == 10.0
    image = student.competence_image(resolution=4)
    assert image.max() == 0.0  # the image slices x2 = 0.5, in cell 1, never played
    assert np.array_equal(GridStudent(dims=1).competence_image(3).shape, (3, 3))


def test_grid_speed_under_30_microseconds() -> None:
    cases: list[dict[str, Any]] = [
        {},
        {"dims": 2, "distractor_dims": 8},
        {"decay": 0.001, "reset_at": (10_000,)},
    ]
    for params in cases:
        student = GridStudent(**params)
        tasks = np.random.default_rng(0).random((5000, student.space.ndim))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for i in range(len(tasks)):
                student.episode(tasks[i])
            best = min(best, (time.perf_counter() - start) / len(tasks))
        assert best < 30e-6, f"{params}: {best * 1e6:.1f} µs per episode"


# ------------------------------------------------------------------------ arms
def test_arms_space_and_roles() -> None:
    student = ArmsStudent(n_arms=4, unlearnable=3, trivial=2, seed=0)
    assert isinstance(student.space, Discrete)
    assert student.space.n == 9
    assert student.score() == pytest.approx(200 / 9)
    assert student.best_possible() == pytest.approx(600 / 9)
    assert len(student.chain_order) == 4


def test_arms_chain_waits_for_the_previous_arm() -> None:
    student = ArmsStudent(n_arms=5, seed=3)
    first, second, third = student.chain_order[:3]
    assert student.frontier().tolist() == [first]
    for _ in range(100):
        student.episode(second)
        student.episode(third)
    assert student.competence()[second] == 0.0
    for _ in range(37):
        student.episode(first)
    assert student.competence()[first] == pytest.approx(0.74)
    student.episode(second)
    assert student.competence()[second] == 0.0  # 0.74 is not mastered
    student.episode(first)  # 38th practice: 0.76
    assert student.score() == 20.0
    assert student.frontier().tolist() == [second]
    student.episode(second)
    assert student.competence()[second] == pytest.approx(0.02)
    assert student.competence()[third] == 0.0


def test_arms_oracle_masters_chain_in_760_episodes() -> None:
    student = ArmsStudent(seed=0)
    for _ in range(759):
        student.episode(int(student.frontier()[0]))
    assert student.score() == 95.0
    student.episode(int(student.frontier()[0]))
    assert student.score() == 100.0
    assert student.frontier().size == 0


def test_arms_uniform_takes_on_the_order_of_15k_episodes() -> None:
    student = ArmsStudent(seed=0)
    student.episodes(np.random.default_rng(0).integers(0, 20, 10_000))
    assert 30.0 <= student.score() <= 90.0


def test_arms_without_chain_learn_independently() -> None:
    student = ArmsStudent(n_arms=4, chain=False, shuffle=False)
    assert student.frontier().tolist() == [0, 1, 2, 3]
    student.episode(3)
    assert student.competence()[3] == pytest.approx(0.02)


def test_arms_shuffle_hides_the_order() -> None:
    orders = [ArmsStudent(seed=s).chain_order for s in range(5)]
    assert all(order != tuple(range(20)) for order in orders)
    assert len(set(orders)) == 5
    assert ArmsStudent(shuffle=False).chain_order == tuple(range(20))
    assert sorted(orders[0]) == list(range(20))


def test_arms_reward_is_bernoulli_of_competence() -> None:
    student = ArmsStudent(n_arms=1, learn_rate=0.5, seed=0)
    rewards = np.array([student.episode(0) for _ in range(4000)])
    assert set(np.unique(rewards[1:])) == {1.0}  # competence 1 from the second episode
    student = ArmsStudent(n_arms=1, unlearnable=1, unlearnable_success=0.25, shuffle=False)
    rewards = np.array([student.episode(1) for _ in range(4000)])
    assert set(np.unique(rewards)) == {0.0, 1.0}
    assert 0.22 < rewards.mean() < 0.28
    assert student.competence()[1] == 0.25
    assert student.score() == 0.0


def test_arms_unlearnable_and_trivial() -> None:
    student = ArmsStudent(n_arms=2, unlearnable=2, trivial=1, shuffle=False)
    assert student.competence().tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    for _ in range(500):
        student.episode(2)
    assert student.competence()[2] == 0.0
    assert 2 not in student.frontier()
    assert 3 not in student.frontier()
    with pytest.raises(ValueError, match=r"0\.8"):
        ArmsStudent(unlearnable=1, unlearnable_success=0.8)


def test_arms_decay_and_relearning() -> None:
    student = ArmsStudent(n_arms=2, trivial=1, decay=0.01, shuffle=False)
    for _ in range(10):
        student.episode(0)
    assert student.competence()[0] == pytest.approx(0.2)  # practised: no decay
    assert student.competence()[2] == pytest.approx(0.9)  # trivial arm decayed 10 times
    for _ in range(20):
        student.episode(1)  # locked, but practised: it does not decay either
    assert student.competence()[0] == pytest.approx(0.0, abs=1e-12)
    assert student.competence()[2] == pytest.approx(0.7)
    assert 2 in student.frontier()
    student.episode(2)
    assert student.competence()[2] == pytest.approx(0.72)


def test_arms_reset() -> None:
    student = ArmsStudent(n_arms=2, trivial=1, decay=0.01, reset_at=(30,), shuffle=False)
    for _ in range(30):
        student.episode(0)
    assert student.competence().tolist() == [0.0, 0.0, 1.0]
    student.episode(0)
    assert student.competence()[0] == pytest.approx(0.02)


def test_arms_batch_equals_sequential() -> None:
    params: dict[str, Any] = {"n_arms": 5, "unlearnable": 2, "unlearnable_success": 0.3}
    params["trivial"] = 1
    params |= {"decay": 0.002, "reset_at": (900,), "learn_rate": 0.05}
    one, batch = ArmsStudent(**params, seed=2), ArmsStudent(**params, seed=2)
    tasks = np.random.default_rng(0).integers(0, 8, 2000)
    sequential = np.array([one.episode(int(t)) for t in tasks])
    assert np.array_equal(sequential, batch.episodes(tasks))
    assert np.array_equal(one.competence(), batch.competence())


def test_arms_cached_frontier_stays_exact() -> None:
    for params in ({"reset_at": (300,)}, {"decay": 0.002, "trivial": 2}):
        student = ArmsStudent(n_arms=6, learn_rate=0.1, **params, seed=1)
        rng = np.random.default_rng(0)
        # Random practice, then one arm only, so neglected arms can decay past 0.75.
        tasks = np.concatenate([rng.integers(0, student.space.n, 600), np.zeros(300, int)])
        for task in tasks:
            assert np.array_equal(student.frontier(), student._compute_frontier())
            student.episode(task)


def test_arms_pickle_round_trip() -> None:
    student = ArmsStudent(decay=1e-4, seed=1)
    student.episodes(np.arange(20).repeat(20))
    copy = pickle.loads(pickle.dumps(student))
    tasks = np.random.default_rng(0).integers(0, 20, 300)
    assert np.array_equal(student.episodes(tasks), copy.episodes(tasks))


@pytest.mark.parametrize(
    ("task", "fragment"),
    [(20, "20"), (-1, "-1"), (2.5, "2.5"), ("3", "'3'"), (True, "True"), ([1, 2], "[1, 2]")],
)
def test_bad_arm_raises_with_the_value(task: object, fragment: str) -> None:
    student = ArmsStudent()
    with pytest.raises(ValueError, match=re.escape(fragment)):
        student.episode(task)
    assert student.n_episodes == 0


def test_arm_ids_accept_numpy_ints() -> None:
    student = ArmsStudent(shuffle=False)
    student.episode(np.int64(0))
    student.episode(np.array(0))
    assert student.n_episodes == 2


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"n_arms": 0}, "n_arms"),
        ({"learn_rate": 0.0}, "learn_rate"),
        ({"learn_rate": 2}, "2"),
        ({"chain": "yes"}, "chain"),
        ({"trivial": -1}, "trivial"),
    ],
)
def test_bad_arm_params(params: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ArmsStudent(**params)


def test_arms_speed_under_30_microseconds() -> None:
    student = ArmsStudent(decay=1e-4)
    tasks = np.random.default_rng(0).integers(0, 20, 5000)
    start = time.perf_counter()
    for i in range(len(tasks)):
        student.episode(tasks[i])
    per = (time.perf_counter() - start) / len(tasks)
    assert per < 30e-6, f"{per * 1e6:.1f} µs per episode"


def test_get_params_and_repr() -> None:
    student = GridStudent(cells=4, rugged=True, seed=3)
    params = student.get_params()
    assert (params["cells"], params["rugged"], params["seed"]) == (4, True, 3)
    assert "cells=4" in repr(student)
    assert GridStudent(**params).interval_permutations == student.interval_permutations
