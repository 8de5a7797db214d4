"""Benchmark metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autocurriculum.bench import metrics


class TestBootstrapCI:
    def test_two_runs_exact_percentiles(self):
        # Resampled means of [0, 10] are 0 (p=1/4), 5 (1/2) or 10 (1/4): the 2.5% and 97.5%
        # quantiles of that distribution are 0 and 10.
        mean, low, high = metrics.bootstrap_ci([0.0, 10.0], random_state=0, n_resamples=4000)
        assert mean == 5.0
        assert low == 0.0
        assert high == 10.0

    def test_identical_values_give_a_point_interval(self):
        mean, low, high = metrics.bootstrap_ci([0.1] * 5, random_state=0)
        assert low <= mean <= high
        assert math.isclose(low, 0.1)
        assert math.isclose(high, 0.1)

    def test_single_run_has_no_interval(self):
        mean, low, high = metrics.bootstrap_ci([3.0], random_state=0)
        assert mean == 3.0
        assert math.isnan(low)
        assert math.isnan(high)

    def test_columns_get_their_own_interval(self):
        curves = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 5.0], [0.0, 2.0, 5.0]])
        mean, low, high = metrics.bootstrap_ci(curves, random_state=1)
        np.testing.assert_allclose(mean, [0.0, 2.0, 5.0])
        np.testing.assert_allclose(low[[0, 2]], [0.0, 5.0])
        np.testing.assert_allclose(high[[0, 2]], [0.0, 5.0])
        assert 1.0 <= low[1] < 2.0 < high[1] <= 3.0

    def test_reproducible_and_seed_dependent(self):
        values = np.arange(10.0) ** 2
        a = metrics.bootstrap_ci(values, random_state=3, n_resamples=200)
        b = metrics.bootstrap_ci(values, random_state=3, n_resamples=200)
        c = metrics.bootstrap_ci(values, random_state=4, n_resamples=200)
        assert a == b
        assert a[1:] != c[1:]

    def test_interval_shrinks_with_confidence(self):
        values = np.arange(20.0)
        _, lo95, hi95 = metrics.bootstrap_ci(values, random_state=0)
        _, lo50, hi50 = metrics.bootstrap_ci(values, random_state=0, confidence=0.5)
        assert lo95 < lo50 < 9.5 < hi50 < hi95

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"values": [1.0, 2.0], "random_state": None}, "random_state"),
            ({"values": [], "random_state": 0}, "at least one run"),
            ({"values": [1.0, float("nan")], "random_state": 0}, "finite"),
            ({"values": [1.0, 2.0], "random_state": 0, "confidence": 1.5}, "confidence"),
            ({"values": [1.0, 2.0], "random_state": 0, "n_resamples": 0}, "n_resamples"),
        ],
    )
    def test_bad_input(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            metrics.bootstrap_ci(**kwargs)


class TestIQM:
    def test_trims_a_quarter_each_side(self):
        # 8 values: drop 2 low and 2 high, mean of 3, 4, 5, 6.
        assert metrics.iqm([8, 1, 7, 2, 6, 3, 5, 4]) == 4.5

    def test_flattens_runs_by_tasks(self):
        scores = np.array([[0.0, 100.0], [1.0, 2.0], [3.0, 50.0], [4.0, 5.0]])
        # Sorted: 0 1 2 3 4 5 50 100 -> middle four: 2 3 4 5.
        assert metrics.iqm(scores) == 3.5

    def test_stratified_ci_resamples_within_tasks(self):
        # Every task's runs agree, so any stratified resample is the same array: the CI is a
        # point. A bootstrap over the flattened values would mix tasks and spread.
        scores = np.tile([0.0, 10.0, 20.0, 30.0], (5, 1))
        point, low, high = metrics.iqm_ci(scores, random_state=0)
        # 20 values, 5 of each; trimming 5 per side leaves five 10s and five 20s.
        assert point == 15.0
        assert low == 15.0
        assert high == 15.0

    def test_ci_contains_point(self):
        rng = np.random.default_rng(0)
        scores = rng.uniform(0, 100, size=(5, 3))
        point, low, high = metrics.iqm_ci(scores, random_state=1, n_resamples=500)
        assert low <= point <= high
        assert low < high

    def test_single_run_has_no_interval(self):
        point, low, high = metrics.iqm_ci([[1.0, 2.0, 3.0, 4.0]], random_state=0)
        assert point == 2.5
        assert math.isnan(low)
        assert math.isnan(high)

    def test_bad_shape(self):
        with pytest.raises(ValueError, match="runs, tasks"):
            metrics.iqm_ci([1.0, 2.0], random_state=0)


class TestAUC:
    def test_linear_curve(self):
        assert metrics.auc([0.0, 50.0, 100.0], [0, 1000, 2000]) == 50.0

    def test_uneven_eval_points(self):
        # 0 -> 100 over the first 1,000 episodes, then flat for 2,000:
        # (0.5 * 1000 * 100 + 2000 * 100) / 3000.
        value = metrics.auc([0.0, 100.0, 100.0], [0, 1000, 3000])
        assert math.isclose(value, 250_000 / 3000)

    def test_per_run(self):
        out = metrics.auc([[10.0, 10.0], [0.0, 20.0]], [0, 5])
        np.testing.assert_allclose(out, [10.0, 10.0])

    @pytest.mark.parametrize(
        ("scores", "episodes", "match"),
        [
            ([1.0], [0], "at least 2"),
            ([1.0, 2.0], [0, 1, 2], "match the scores"),
            ([1.0, 2.0], [5, 5], "strictly increasing"),
        ],
    )
    def test_bad_input(self, scores, episodes, match):
        with pytest.raises(ValueError, match=match):
            metrics.auc(scores, episodes)


class TestEpisodesToThreshold:
    def test_first_eval_at_or_above(self):
        assert metrics.episodes_to_threshold([0, 40, 90, 99], [0, 10, 20, 30], 90) == 20.0

    def test_never_reached_is_nan(self):
        assert math.isnan(metrics.episodes_to_threshold([0, 40, 89], [0, 10, 20], 90))

    def test_per_run_thresholds(self):
        # 90% of a best possible of 20 is 18: the second run gets there at 2,000.
        out = metrics.episodes_to_threshold(
            [[0, 50, 95], [0, 10, 20]], [0, 1000, 2000], np.array([90.0, 18.0])
        )
        np.testing.assert_array_equal(out, [2000.0, 2000.0])

    def test_threshold_shape_checked(self):
        with pytest.raises(ValueError, match="threshold"):
            metrics.episodes_to_threshold([[0, 1], [0, 1]], [0, 1], [1.0, 2.0, 3.0])

    def test_mean_if_all_reached(self):
        assert metrics.mean_if_all_reached([1000.0, 3000.0]) == 2000.0
        assert math.isnan(metrics.mean_if_all_reached([1000.0, float("nan")]))
