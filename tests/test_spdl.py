"""SPDL: the KL trust region, moving toward the target, knowledge validation, conformance."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.testing import check_teacher

UNIT2 = ac.Box([0.0, 0.0], [1.0, 1.0])
BOX = ac.Box([0.0, -1.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])


def _gaussian(teacher):
    g = teacher.model_snapshot()["gaussians"][0]
    return np.array(g["mean"]), np.array(g["cov"])


def _kl(m0, c0, m1, c1):
    """KL(N(m0, c0) || N(m1, c1)), the textbook closed form (independent of the teacher)."""
    inv1 = np.linalg.inv(c1)
    diff = m1 - m0
    return 0.5 * (
        np.trace(inv1 @ c0) + diff @ inv1 @ diff - len(m0)
        + np.log(np.linalg.det(c1) / np.linalg.det(c0))
    )


# ---------------------------------------------------------------- trust region
@pytest.mark.parametrize("max_kl", [0.02, 0.1, 0.5])
def test_every_update_stays_in_the_kl_trust_region(max_kl):
    teacher = ac.make(
        "spdl", BOX, init_mean=[0.6, 0.4], init_cov=np.diag([0.3, 0.7]) ** 2, max_kl=max_kl,
        update_every=64, seed=0,
    )
    steps = []
    for step in range(12):
        before = _gaussian(teacher)
        tasks = teacher.sample(64)
        u = BOX.to_unit(tasks)
        # Performance that rewards moving up and to the right and shrinking: pushes hard.
        scores = np.clip(u[:, 0] * u[:, 1] * 2.0 + 0.1 * np.sin(step), 0.0, 1.0)
        teacher.update(tasks, scores)
        after = _gaussian(teacher)
        steps.append(_kl(*after, *before))
    assert max(steps) <= max_kl * (1 + 1e-9) + 1e-12
    # The bound binds: updates use the room they have, so the check above is not vacuous.
    assert max(steps) > 0.5 * max_kl


def test_importance_weights_drive_the_mean_to_better_tasks():
    # alpha stays 0 (long offset): the only force is the estimated performance.
    teacher = ac.make(
        "spdl", UNIT2, init_mean=[0.5, 0.5], init_cov=np.eye(2) * 0.1**2, alpha_offset=1000,
        update_every=200, seed=1,
    )
    for _ in range(6):
        tasks = teacher.sample(200)
        teacher.update(tasks, tasks[:, 0])  # better toward x0 = 1
    mean, _ = _gaussian(teacher)
    assert mean[0] > 0.6
    assert abs(mean[1] - 0.5) < 0.05


def test_moves_toward_the_target_when_performance_is_good():
    target_mean, target_cov = np.array([0.5, 0.5]), np.eye(2) * 0.25**2
    teacher = ac.make(
        "spdl", UNIT2, init_mean=[0.3, 0.3], init_cov=np.eye(2) * 0.05**2, zeta=1.0,
        update_every=200, seed=0,
    )
    start_kl = _kl(*_gaussian(teacher), target_mean, target_cov)
    for _ in range(8):
        tasks = teacher.sample(200)
        teacher.update(tasks, np.ones(len(tasks)))
    mean, cov = _gaussian(teacher)
    end_kl = _kl(mean, cov, target_mean, target_cov)
    assert end_kl < 0.3 * start_kl
    assert np.all(mean > 0.35)
    assert np.all(np.diag(cov) > 0.05**2)
    assert teacher.metrics()["teacher/spdl_kl_to_target"] == pytest.approx(end_kl, rel=1e-6)


def test_failure_everywhere_leaves_the_distribution_where_it_is():
    teacher = ac.make("spdl", UNIT2, init_mean=[0.3, 0.3], update_every=50, seed=0)
    before = _gaussian(teacher)
    for _ in range(4):
        tasks = teacher.sample(50)
        teacher.update(tasks, np.zeros(50))
    after = _gaussian(teacher)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])


def test_signals_replace_scores_as_the_performance_estimate():
    def run(signals_of):
        teacher = ac.make("spdl", UNIT2, init_mean=[0.5, 0.5], alpha_offset=10, update_every=100,
                          seed=2)
        for _ in range(3):
            tasks = teacher.sample(100)
            teacher.update(tasks, np.full(100, 0.5), signals=signals_of(tasks))
        return _gaussian(teacher)[0]

    by_value = run(lambda tasks: 3.0 * tasks[:, 1])  # value estimates on their own scale
    by_mapping = run(lambda tasks: {"value": 3.0 * tasks[:, 1]})
    flat = run(lambda tasks: None)
    np.testing.assert_allclose(by_value, by_mapping)
    # Same seed, same first batch: only the performance estimate differs between the runs.
    assert by_value[1] > flat[1] + 0.05
    # Signals meant for other teachers (a GRPO loop's group ids) leave the scores in charge.
    by_group = run(lambda tasks: {"group": np.arange(len(tasks)) // 4})
    np.testing.assert_allclose(by_group, flat)


def test_negative_value_estimates_never_push_away_from_the_target():
    teacher = ac.make("spdl", UNIT2, init_mean=[0.3, 0.3], update_every=50, seed=0)
    tasks = teacher.sample(50)
    teacher.update(tasks, np.full(50, 0.5), signals=np.full(50, -2.0))
    assert teacher.metrics()["teacher/spdl_alpha"] == 0.0
    teacher.update(teacher.sample(50), np.full(50, 0.5), signals=np.full(50, 2.0))
    assert teacher.metrics()["teacher/spdl_alpha"] > 0.0


def test_update_gradients_match_finite_differences():
    from scipy.optimize import check_grad

    from autocurriculum.teachers.spdl import _Problem

    rng = np.random.default_rng(0)
    d = 3
    chol = np.array([[0.1, 0.0, 0.0], [0.03, 0.2, 0.0], [-0.02, 0.05, 0.15]])
    problem = _Problem(rng.random((80, d)), rng.random(80), np.full(d, 0.4), chol,
                       np.full(d, 0.5), np.eye(d) * 0.25, alpha=0.3, max_kl=0.1)
    for _ in range(3):
        x = problem.x0 + 0.05 * rng.standard_normal(len(problem.x0))
        scale = np.linalg.norm(problem.objective(x)[1])
        err = check_grad(lambda x: problem.objective(x)[0], lambda x: problem.objective(x)[1], x)
        assert err < 1e-5 * max(1.0, scale)
        assert check_grad(problem.trust, problem.trust_grad, x) < 1e-5
    # The closed-form inverse Fisher diagonal against the Hessian of the exact KL.
    x0, h = problem.x0, 1e-5
    hess = np.empty((len(x0), len(x0)))
    for k in range(len(x0)):
        e = np.zeros(len(x0))
        e[k] = h
        hess[:, k] = (problem.trust_grad(x0 - e) - problem.trust_grad(x0 + e)) / (2 * h)
    numeric = np.diag(np.linalg.inv(0.5 * (hess + hess.T)))
    np.testing.assert_allclose(problem.fisher_inverse_diag(), numeric, rtol=1e-6)


# ------------------------------------------------------------------ defaults
def test_default_initial_distribution_is_a_random_point_with_a_tenth_of_the_range():
    mean, cov = _gaussian(ac.make("spdl", BOX, seed=5))
    assert BOX.contains(mean)
    np.testing.assert_allclose(cov, np.diag((0.1 * BOX.range) ** 2), rtol=1e-12)
    other, _ = _gaussian(ac.make("spdl", BOX, seed=6))
    assert not np.array_equal(mean, other)


def test_default_target_is_the_box_centre_with_a_quarter_range_sd():
    teacher = ac.make("spdl", BOX, init_mean=BOX.low + BOX.range / 2,
                      init_cov=np.diag((BOX.range / 4) ** 2), seed=0)
    assert teacher.metrics()["teacher/spdl_kl_to_target"] == pytest.approx(0.0, abs=1e-12)


def test_samples_are_clipped_or_resampled_into_the_box():
    corner = {"init_mean": [0.0, 0.0], "init_cov": np.eye(2) * 0.1**2, "seed": 0}
    clipped = ac.make("spdl", UNIT2, **corner).sample(4000)
    resampled = ac.make("spdl", UNIT2, resample_tries=20, **corner).sample(4000)
    assert UNIT2.contains(clipped)
    assert UNIT2.contains(resampled)
    on_edge = lambda t: np.mean((t == 0.0).any(axis=1))  # noqa: E731
    assert on_edge(clipped) > 0.6  # 3/4 of a centred Gaussian leaves the quadrant
    assert on_edge(resampled) < 0.01


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"target_cov": [[1.0, 2.0], [2.0, 1.0]]}, "target_cov must be positive definite"),
        ({"init_cov": [[1.0, 0.0], [0.0, 0.0]]}, "init_cov must be positive definite"),
        ({"target_cov": [[1.0, 0.5], [0.0, 1.0]]}, "target_cov must be symmetric"),
        ({"init_cov": np.eye(3)}, "init_cov must have shape"),
        ({"init_cov": [[np.nan, 0.0], [0.0, 1.0]]}, "init_cov must be finite"),
        ({"target_mean": [4.0, 0.0]}, "target_mean .* outside"),
        ({"init_mean": [0.0, -2.0]}, "init_mean .* outside"),
        ({"init_mean": [0.0]}, "init_mean must have shape"),
        ({"max_kl": 0.0}, "max_kl"),
        ({"zeta": -1.0}, "zeta"),
        ({"alpha_offset": -1}, "alpha_offset"),
        ({"update_every": 0}, "update_every"),
        ({"resample_tries": 1.5}, "resample_tries"),
    ],
)
def test_bad_knowledge_or_hyperparameters_raise(params, match):
    with pytest.raises(ValueError, match=match):
        ac.make("spdl", BOX, **params)


def test_discrete_space_is_refused_with_the_teachers_that_can_serve_it():
    with pytest.raises(ValueError, match="discrete") as err:
        ac.make("spdl", ac.Discrete(4))
    assert "random" in str(err.value)


# ---------------------------------------------------------------- conformance
def test_conformance_with_updates():
    check_teacher(ac.make("spdl", BOX, update_every=50, seed=0), episodes=320)


def test_conformance_with_signals_and_resampling():
    check_teacher(
        ac.make("spdl", BOX, update_every=50, resample_tries=3, seed=1),
        signal_fn=lambda tasks, scores: 2.0 * scores,
        episodes=320,
    )


def test_conformance_one_dimension():
    check_teacher(ac.make("spdl", ac.Box([2.0], [5.0]), update_every=50, seed=2), episodes=320)
