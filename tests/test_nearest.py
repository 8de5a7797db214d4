"""NearestHistory: exact 1-NN over a bounded window, checked against brute force."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from autocurriculum.progress.nearest import NearestHistory


def brute_force(points: np.ndarray, values: np.ndarray, window: int):
    """Value and squared distance of each point's nearest earlier point among the last
    ``window`` ones, ties to the earliest: the definition, written the slow way."""
    n = len(points)
    out_v = np.full(n, np.nan)
    out_d = np.full(n, np.inf)
    for i in range(1, n):
        lo = max(0, i - window)
        d2 = ((points[lo:i] - points[i]) ** 2).sum(axis=1)
        j = int(np.argmin(d2))  # first minimum: the earliest among ties
        out_v[i], out_d[i] = values[lo + j], d2[j]
    return out_v, out_d


def make_points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Uniform points plus a dense cluster, points on a face and exact duplicates (ties)."""
    pts = rng.random((n, d))
    cluster = rng.random(n) < 0.3
    pts[cluster] = np.clip(rng.normal(0.15, 0.03, (int(cluster.sum()), d)), 0.0, 1.0)
    pts[rng.random(n) < 0.1, 0] = 0.0
    pts[rng.random(n) < 0.05] = 0.0
    # Grid points give exact ties between different points (equidistant neighbours).
    lattice = rng.random(n) < 0.05
    pts[lattice] = rng.integers(0, 5, (int(lattice.sum()), d)) / 4.0
    return pts


def feed(history: NearestHistory, pts: np.ndarray, vals: np.ndarray, batches: list[int]):
    got_v, got_d = [], []
    start = 0
    while start < len(pts):
        size = batches[start % len(batches)]
        v, d, _ = history.query_add(pts[start : start + size], vals[start : start + size])
        got_v.append(v)
        got_d.append(d)
        start += size
    return np.concatenate(got_v), np.concatenate(got_d)


@pytest.mark.parametrize(
    ("ndim", "window"),
    [(1, 40), (2, 30), (2, 700), (2, 1500), (3, 900), (5, 1500), (10, 600), (10, 5000)],
)
def test_matches_brute_force(ndim, window):
    rng = np.random.default_rng(ndim * 1000 + window)
    n = 2000
    pts = make_points(rng, n, ndim)
    vals = np.arange(n, dtype=float)  # the value names the point: ties must pick the earliest
    expected_v, expected_d2 = brute_force(pts, vals, window)
    for batches in ([1], [37, 1, 256, 5], [300]):
        history = NearestHistory(ndim, window)
        got_v, got_d = feed(history, pts, vals, batches)
        np.testing.assert_array_equal(got_v, expected_v, err_msg=f"batches {batches}")
        np.testing.assert_allclose(got_d, np.sqrt(expected_d2), rtol=1e-12)
        assert len(history) == min(n, window)


def test_distractor_dims_and_small_rebuild_period():
    # Two informative dims and eight uniform ones, a rebuild every 7 insertions: the tree,
    # the recent points and the about-to-leave points all take part.
    rng = np.random.default_rng(5)
    n = 2000
    pts = rng.random((n, 10))
    pts[:, :2] = np.clip(rng.normal(0.3, 0.05, (n, 2)), 0.0, 1.0)
    vals = np.arange(n, dtype=float)
    expected, _ = brute_force(pts, vals, 300)
    got, _ = feed(NearestHistory(10, 300, rebuild_every=7), pts, vals, [1, 64])
    np.testing.assert_array_equal(got, expected)


def test_hand_computed_case_and_counts():
    history = NearestHistory(2, max_history=3)
    values, dists, counts = history.query_add(
        [[0.0, 0.0], [1.0, 0.0], [0.75, 0.0], [0.0, 0.125], [0.875, 0.0]],
        [0.1, 0.2, 0.3, 0.4, 0.5],
    )
    # Point 2's nearest is point 1; point 3 sees points 0..2 -> point 0; point 4 sees points
    # 1..3 (point 0 left the window of 3): 1.0 and 0.75 are both 0.125 away (exactly, in
    # binary), and the earlier one wins.
    np.testing.assert_array_equal(counts, [0, 1, 2, 3, 3])
    assert np.isnan(values[0])
    assert np.isinf(dists[0])
    np.testing.assert_array_equal(values[1:], [0.1, 0.2, 0.1, 0.2])
    np.testing.assert_array_equal(dists[1:], [1.0, 0.25, 0.125, 0.125])
    assert history.nearest([0.0, 0.0]) == (3, 0.125, 0.4)
    points, stored = history.points()
    np.testing.assert_array_equal(points, [[0.75, 0.0], [0.0, 0.125], [0.875, 0.0]])
    np.testing.assert_array_equal(stored, [0.3, 0.4, 0.5])


def test_history_is_bounded():
    history = NearestHistory(3, max_history=100)
    rng = np.random.default_rng(0)
    sizes = set()
    for _ in range(200):
        history.add(rng.random((17, 3)), rng.random(17))
        assert len(history) <= 100
        sizes.add((history._points.shape, history._brute.shape))
    assert len(history) == 100
    assert history.n_added == 3400
    assert len(sizes) == 1  # no array grows with the run
    # Rebuilds are periodic, not per insertion.
    assert history.n_rebuilds <= 3400 // 64 + 2


def test_empty_and_pickle_round_trip():
    history = NearestHistory(2, max_history=500)
    assert history.nearest([0.5, 0.5]) is None
    rng = np.random.default_rng(1)
    history.add(rng.random((800, 2)), rng.random(800))
    twin = pickle.loads(pickle.dumps(history))
    clone = copy.deepcopy(history)
    pts, vals = rng.random((300, 2)), rng.random(300)
    expected = history.query_add(pts, vals)
    for other in (twin, clone):
        for got, exp in zip(other.query_add(pts, vals), expected, strict=True):
            np.testing.assert_array_equal(got, exp)


def test_state_is_plain_data_and_round_trips():
    # A teacher's state_dict holds the history through autocurriculum._state, which reads the
    # instance's fields: they must be plain data (the k-d tree is derived, kept outside), and
    # the decoded copy must answer exactly as the original, tree rebuilt over the same points.
    from autocurriculum._state import from_plain, is_plain, to_plain

    history = NearestHistory(3, max_history=700)
    rng = np.random.default_rng(4)
    history.add(rng.random((1500, 3)), rng.random(1500))
    plain = to_plain(history)
    assert is_plain(plain["fields"])
    assert not any("tree" in key and key != "_tree_lo" for key in plain["fields"])
    copy_ = from_plain(plain)
    assert copy_.n_rebuilds == history.n_rebuilds
    pts, vals = rng.random((400, 3)), rng.random(400)
    expected = history.query_add(pts, vals)
    for got, exp in zip(copy_.query_add(pts, vals), expected, strict=True):
        np.testing.assert_array_equal(got, exp)
    # The copy rebuilt no more than the original did: the same schedule, the same state.
    assert copy_.n_rebuilds == history.n_rebuilds


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ndim": 0}, "ndim"),
        ({"ndim": 2, "max_history": 0}, "max_history"),
        ({"ndim": 2, "max_history": 2.5}, "max_history"),
        ({"ndim": 2, "rebuild_every": 0}, "rebuild_every"),
        ({"ndim": 2, "rebuild_every": 10**6}, "rebuild_every"),
        ({"ndim": 2, "max_history": 10**12}, r"max_history must be an int in \[1, 33333333\]"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NearestHistory(**kwargs)


def test_bad_points():
    history = NearestHistory(2, max_history=10)
    with pytest.raises(ValueError, match=r"points\[0, 1\] = 1.5"):
        history.add([[0.5, 1.5]], [0.0])
    with pytest.raises(ValueError, match="shape"):
        history.add([[0.5, 0.5, 0.5]], [0.0])
    with pytest.raises(ValueError, match="values"):
        history.query_add([[0.5, 0.5]], [0.0, 1.0])
