"""SPDL: the KL trust region, moving toward the target, knowledge validation, conformance."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.teachers.spdl import MAX_KL
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


def test_value_signal_replaces_scores_as_the_performance_estimate():
    def run(signals_of):
        teacher = ac.make("spdl", UNIT2, init_mean=[0.5, 0.5], alpha_offset=10, update_every=100,
                          seed=2)
        for _ in range(3):
            tasks = teacher.sample(100)
            teacher.update(tasks, np.full(100, 0.5), signals=signals_of(tasks))
        return _gaussian(teacher)[0]

    by_value = run(lambda tasks: {"value": 3.0 * tasks[:, 1]})  # estimates on their own scale
    flat = run(lambda tasks: None)
    # Same seed, same first batch: only the performance estimate differs between the runs.
    assert by_value[1] > flat[1] + 0.05
    # Signals meant for other teachers (a GRPO loop's group ids) leave the scores in charge.
    by_group = run(lambda tasks: {"group": np.arange(len(tasks)) // 4})
    np.testing.assert_allclose(by_group, flat)


def test_signals_are_a_mapping_of_known_names():
    teacher = ac.make("spdl", UNIT2, init_mean=[0.5, 0.5], update_every=10, seed=0)
    tasks = teacher.sample(4)
    with pytest.raises(ValueError, match="signals must be a mapping"):
        teacher.update(tasks, np.full(4, 0.5), signals=np.full(4, 0.3))
    with pytest.raises(ValueError, match="Did you mean 'value'"):
        teacher.update(tasks, np.full(4, 0.5), signals={"valeu": np.full(4, 0.3)})
    assert teacher.spec.reads == frozenset({"value"})
    assert teacher.spec.needs_one_of == frozenset()


def test_negative_value_estimates_never_push_away_from_the_target():
    teacher = ac.make("spdl", UNIT2, init_mean=[0.3, 0.3], update_every=50, seed=0)
    tasks = teacher.sample(50)
    teacher.update(tasks, np.full(50, 0.5), signals={"value": np.full(50, -2.0)})
    assert teacher.metrics()["teacher/spdl_alpha"] == 0.0
    teacher.update(teacher.sample(50), np.full(50, 0.5), signals={"value": np.full(50, 2.0)})
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


# ----------------------------------------------------------------- robustness
def _drive_unit(teacher, score_of_unit, updates, batch):
    """Drive ``teacher`` with scores computed in the unit cube; return every sampled batch."""
    space = teacher.space
    out = []
    for _ in range(updates):
        tasks = teacher.sample(batch)
        assert np.all(np.isfinite(tasks))
        assert space.contains(tasks)
        out.append(space.to_unit(tasks))
        teacher.update(tasks, score_of_unit(out[-1]))
    return out


def _factor_diagonal(teacher):
    return np.diag(teacher.chol_)


def test_a_contracting_distribution_stops_at_the_floor():
    # The largest trust region and no pull toward the target: performance peaked at one point
    # shrinks the distribution update after update. It used to shrink without end, on toward a
    # singular Cholesky factor (max_kl=1e6 got there in 13 updates, and every later update
    # raised LinAlgError); it now stops at the floor, and every update still works.
    teacher = ac.make("spdl", UNIT2, init_mean=[0.5, 0.5], max_kl=MAX_KL, zeta=0.0,
                      update_every=20, seed=0)
    peak = np.array([0.3, 0.6])
    _drive_unit(teacher, lambda u: np.clip(1.0 - 3.0 * np.linalg.norm(u - peak, axis=1), 0, 1),
                updates=300, batch=20)
    diag = _factor_diagonal(teacher)
    assert diag.min() == pytest.approx(1e-6, rel=1e-6)  # it did contract all the way
    assert diag.min() >= 1e-6 * (1 - 1e-9)
    np.testing.assert_allclose(teacher.mu_, peak, atol=0.05)
    assert np.isfinite(list(teacher.metrics().values())).all()


def test_a_widening_distribution_stops_at_the_ceiling():
    # Success everywhere and a strong pull toward a target a thousand box ranges wide: without
    # the ceiling the factor reaches sd 1000 within 40 updates; it stops at 10 ranges.
    teacher = ac.make("spdl", UNIT2, init_mean=[0.5, 0.5], init_cov=np.eye(2) * 9.0**2,
                      target_cov=np.eye(2) * 1e6, max_kl=0.1, zeta=10.0, update_every=20,
                      seed=1)
    _drive_unit(teacher, lambda u: np.ones(len(u)), updates=40, batch=20)
    diag = _factor_diagonal(teacher)
    assert diag.min() > 9.99  # pressed against the ceiling
    assert np.abs(teacher.chol_).max() <= 10.0 * (1 + 1e-12)
    assert np.isfinite(list(teacher.metrics().values())).all()


@pytest.mark.parametrize(("low", "high"), [(0.0, 1e200), (-1e-200, 1e-200), (1e150, 3e150)])
def test_the_box_scale_does_not_matter(low, high):
    # Boxes of range 1e200 or 1e-200 used to sample NaN (the covariance went through the
    # product of two ranges, which overflows or underflows). In unit coordinates the teacher
    # must behave the same at every scale.
    peak = np.array([0.7, 0.4])

    def score(u):
        return np.clip(1.0 - 2.0 * np.linalg.norm(u - peak, axis=1), 0.0, 1.0)

    def run(space):
        teacher = ac.make("spdl", space, update_every=25, seed=3)
        return _drive_unit(teacher, score, updates=12, batch=25), teacher

    reference, unit_teacher = run(UNIT2)
    scaled, teacher = run(ac.Box([low, low], [high, high]))
    for a, b in zip(reference, scaled, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(teacher.mu_, unit_teacher.mu_, rtol=1e-9)
    assert teacher.metrics()["teacher/spdl_updates"] == 12.0
    assert unit_teacher.metrics()["teacher/spdl_step_kl"] > 0.0  # the runs did move


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
        ({"max_kl": 1e6}, r"max_kl must be a real number in \(0, 1\]"),
        ({"max_kl": 1e3}, "max_kl"),
        ({"max_kl": float("inf")}, "max_kl"),
        ({"update_every": 10**12}, "update_every must be an int in"),
        ({"resample_tries": 10**12}, "resample_tries must be an int in"),
        ({"init_cov": np.eye(2) * 1e-16}, "init_cov .* out of SPDL's range"),
        ({"init_cov": np.eye(2) * 1e4}, "init_cov .* out of SPDL's range"),
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
        signal_fn=lambda tasks, scores: {"value": 2.0 * scores},
        episodes=320,
    )


def test_conformance_one_dimension():
    check_teacher(ac.make("spdl", ac.Box([2.0], [5.0]), update_every=50, seed=2), episodes=320)
