"""The shared learning-signal pipeline: each estimator against a naive or hand computation."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from autocurriculum._state import from_plain, is_plain, to_plain
from autocurriculum.params import InvalidParameterError
from autocurriculum.progress import (
    AdvantageStep,
    ArmEMA,
    ArmWindow,
    DeltaTracker,
    EMAProgress,
    QuantileReservoir,
    Staleness,
    UnseenArms,
    WindowSlope,
    boltzmann,
    draw,
    draw_epsilon_greedy,
    entropy,
    epsilon_greedy,
    group_advantages,
    group_batch,
    learnability,
    mean_by_arm,
    occurrence_levels,
    read_abs_advantage,
    split_levels,
)


def _batch(rng, n_arms=5, n=40):
    return rng.integers(0, n_arms, size=n), rng.random(n)


# ------------------------------------------------------------------- batches
def test_group_batch_ranks_and_last_positions():
    g = group_batch(np.array([3, 1, 3, 3, 1, 0]))
    assert g.unique.tolist() == [0, 1, 3]
    assert g.counts.tolist() == [1, 2, 3]
    assert g.rank.tolist() == [0, 0, 1, 2, 1, 0]
    assert g.last.tolist() == [5, 4, 3]
    assert g.unique[g.inverse].tolist() == [3, 1, 3, 3, 1, 0]


def test_levels_keep_every_arm_once_and_in_order():
    arms = np.array([2, 2, 0, 2, 1, 0, 2])
    levels = occurrence_levels(arms)
    assert [lvl.tolist() for lvl in levels] == [[0, 2, 4], [1, 5], [3], [6]]
    head, tail = split_levels(arms, max_levels=2)
    assert [lvl.tolist() for lvl in head] == [[0, 2, 4], [1, 5]]
    assert tail.tolist() == [3, 6]


# ------------------------------------------------------------------- windows
def test_arm_window_batch_equals_one_by_one_and_a_deque():
    rng = np.random.default_rng(0)
    arms, values = _batch(rng, n_arms=4, n=60)
    batch, single = ArmWindow(4, 3), ArmWindow(4, 3)
    batch.push(arms, values)
    reference = [collections.deque(maxlen=3) for _ in range(4)]
    for a, v in zip(arms, values, strict=True):
        single.push([a], [v])
        reference[a].append(v)
    np.testing.assert_array_equal(batch.values, single.values)
    np.testing.assert_array_equal(batch.sums, single.sums)
    for a in range(4):
        np.testing.assert_allclose(batch.ordered(a), list(reference[a]))
        assert batch.mean_of([a])[0] == pytest.approx(np.mean(reference[a]))
    assert batch.total.tolist() == np.bincount(arms, minlength=4).tolist()


def test_arm_window_keeps_the_last_values_when_one_batch_overflows_it():
    w = ArmWindow(2, 3)
    w.push([1] * 7, [1, 2, 3, 4, 5, 6, 7])
    assert w.ordered(1).tolist() == [5, 6, 7]
    assert w.means(default=-1.0).tolist() == [-1.0, 6.0]


def test_window_slope_matches_least_squares_on_the_last_points():
    rng = np.random.default_rng(1)
    arms, values = _batch(rng, n_arms=3, n=50)
    times = np.arange(50) + 1e9  # large time stamps must not cost precision
    slope = WindowSlope(3, 5, default=1.0)
    slope.push(arms[:20], times[:20], values[:20])
    slope.push(arms[20:], times[20:], values[20:])
    for a in range(3):
        mine = np.flatnonzero(arms == a)[-5:]
        expected = np.polyfit(times[mine] - 1e9, values[mine], 1)[0]
        assert slope.slopes[a] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_window_slope_hand_case_and_default_below_two_points():
    slope = WindowSlope(3, 10, default=1.0)
    slope.push([0, 1, 0], times=[0, 1, 2], values=[0.0, 0.3, 0.5])
    assert slope.slopes.tolist() == [0.25, 1.0, 1.0]
    with pytest.raises(ValueError, match="window"):
        WindowSlope(3, 1)


# ------------------------------------------------------------------ trackers
def test_arm_ema_batch_equals_one_by_one_bitwise():
    rng = np.random.default_rng(2)
    arms = np.concatenate([np.full(30, 1), rng.integers(0, 4, 30)])  # a long repeat: scalar tail
    values = rng.random(60)
    batch, single = ArmEMA(4, 0.3, start_at_first=True), ArmEMA(4, 0.3, start_at_first=True)
    after = batch.push(arms, values)
    steps = []
    for a, v in zip(arms, values, strict=True):
        steps.append(single.push([a], [v])[0])
    np.testing.assert_array_equal(batch.values, single.values)
    np.testing.assert_array_equal(after, steps)
    assert batch.counts.tolist() == np.bincount(arms, minlength=4).tolist()


def test_ema_progress_hand_case():
    lp = EMAProgress(2, fast=0.5, slow=0.25)
    out = lp.push([0, 0, 0], [0.0, 1.0, 1.0])
    # fast: 0, .5, .75; slow: 0, .25, .4375
    assert out.tolist() == [0.0, 0.25, 0.3125]
    assert lp.progress().tolist() == [0.3125, 0.0]
    with pytest.raises(ValueError, match="slow"):
        EMAProgress(2, fast=0.1, slow=0.2)


def test_delta_tracker_against_a_loop():
    rng = np.random.default_rng(3)
    arms, values = _batch(rng, n_arms=3, n=30)
    d = DeltaTracker(3)
    got = np.concatenate([d.push(arms[:11], values[:11]), d.push(arms[11:], values[11:])])
    last = [0.0, 0.0, 0.0]
    expected = []
    for a, v in zip(arms, values, strict=True):
        expected.append(v - last[a])
        last[a] = v
    np.testing.assert_allclose(got, expected, rtol=0, atol=0)
    assert d.last.tolist() == last


# ----------------------------------------------------------------- advantage
def test_group_advantages_hand_cases():
    r, g = [1.0, 0.0, 1.0, 1.0, 0.3], [7, 7, 9, 9, 4]
    assert group_advantages(r, g, normalize=False).tolist() == [0.5, -0.5, 0.0, 0.0, 0.0]
    # group 7: mean 0.5, sample std sqrt(0.5) -> +-0.5 / 0.70711; a lone rollout gets 0
    got = group_advantages(r, g, normalize=True, eps=0.0)
    np.testing.assert_allclose(got, [0.5**0.5, -(0.5**0.5), 0.0, 0.0, 0.0])


def test_mean_abs_advantage_of_binary_groups_is_twice_learnability():
    rng = np.random.default_rng(4)
    p, size = 0.3, 200_000
    rewards = (rng.random(size) < p).astype(float)
    adv = group_advantages(rewards, np.arange(size) // 1000, normalize=False)
    assert np.abs(adv).mean() == pytest.approx(2 * learnability(p), rel=0.02)


def test_read_abs_advantage_forms_and_errors():
    a, g = read_abs_advantage({"abs_advantage": np.array([0.5, 0.25])}, owner="X")
    assert a.tolist() == [0.5, 0.25]
    assert g is None
    a, g = read_abs_advantage({"advantage": np.array([-1.0])}, owner="X")
    assert a.tolist() == [1.0]
    a, g = read_abs_advantage({"group": np.array([3, 3])}, owner="X")
    assert a is None
    assert g.tolist() == [3, 3]
    # |advantage| given by the trainer wins over group ids.
    a, g = read_abs_advantage({"group": np.array([3]), "advantage": np.array([-2.0])}, owner="X")
    assert (a.tolist(), g) == ([2.0], None)
    with pytest.raises(ValueError, match=r"X needs an \|advantage\| signal: signals has keys"):
        read_abs_advantage({"value_loss": np.array([1.0])}, owner="X")


def test_advantage_step_groups_may_span_updates():
    one, split = AdvantageStep(normalize=False), AdvantageStep(normalize=False)
    arms = np.array([0, 0, 1, 1])
    scores = np.array([1.0, 0.0, 1.0, 1.0])
    groups = np.array([5, 5, 6, 6])
    one.add(arms, scores, {"group": groups}, owner="t")
    for i in range(4):
        split.add(arms[i : i + 1], scores[i : i + 1], {"group": groups[i : i + 1]}, owner="t")
    a1, v1 = one.flush()
    a2, v2 = split.flush()
    assert a1.tolist() == a2.tolist() == [0, 0, 1, 1]
    assert v1.tolist() == v2.tolist() == [0.5, 0.5, 0.0, 0.0]
    assert len(one) == 0
    assert mean_by_arm(a1, v1)[1].tolist() == [0.5, 0.0]


def test_learnability_values_and_range_check():
    assert learnability([0.0, 0.5, 1.0, 0.2]).tolist() == [0.0, 0.25, 0.0, 0.2 * 0.8]
    with pytest.raises(ValueError, match=r"1\.5"):
        learnability([0.5, 1.5])


# ----------------------------------------------------------------- reservoir
def test_reservoir_quantiles_match_numpy_and_rescale_by_hand():
    rng = np.random.default_rng(5)
    res = QuantileReservoir(capacity=50, low_quantile=0.2, high_quantile=0.8)
    values = rng.normal(size=40)
    for v in values:
        res.add(v, rng)
    for q in (0.0, 0.2, 0.5, 0.8, 1.0):
        assert res.quantile(q) == pytest.approx(np.quantile(values, q))
    lo, hi = np.quantile(values, [0.2, 0.8])
    mid = (lo + hi) / 2
    assert res.rescale(mid) == pytest.approx(0.0, abs=1e-12)
    assert res.rescale(lo - 1) == -1.0
    assert res.rescale(hi + 1) == 1.0
    assert res.rescale(lo + 0.25 * (hi - lo)) == pytest.approx(-0.5)


def test_reservoir_is_bounded_and_a_uniform_sample():
    rng = np.random.default_rng(6)
    res = QuantileReservoir(capacity=100)
    for v in range(10_000):
        res.add(float(v), rng)
    assert len(res) == len(res.sorted) == 100
    assert res.seen == 10_000
    assert res.sorted == sorted(res.slots)
    # A uniform sample of 0..9999 has its median near 5000 (sd ~ 500).
    assert 3000 < res.quantile(0.5) < 7000


def test_reservoir_with_one_value_maps_it_to_zero():
    res = QuantileReservoir(capacity=10)
    assert res.rescale(3.0) == 0.0
    res.add(3.0, np.random.default_rng(0))
    assert (res.rescale(3.0), res.rescale(2.0), res.rescale(4.0)) == (0.0, -1.0, 1.0)


# ----------------------------------------------------------------- staleness
def test_staleness_matches_a_naive_clock():
    rng = np.random.default_rng(7)
    s = Staleness(6)
    last = {}
    clock = 0
    for _ in range(5):
        arms = rng.integers(0, 5, size=rng.integers(1, 9))  # arm 5 is never played
        s.play(arms)
        for a in arms:
            clock += 1
            last[int(a)] = clock
    expected = [clock - last[a] if a in last else 0 for a in range(6)]
    assert s.staleness().tolist() == expected
    assert s.total() == sum(expected)
    assert s.n_seen == len(last)


def test_staleness_draws_are_proportional_to_staleness():
    s = Staleness(5)
    s.play([0, 1, 2, 3, 4, 4, 4, 4, 2])  # staleness 8, 7, 0, 5, 1
    expected = np.array([8, 7, 0, 5, 1]) / 21
    draws = s.draw(np.random.default_rng(8), 40_000)
    freq = np.bincount(draws, minlength=5) / 40_000
    np.testing.assert_allclose(freq, expected, atol=0.01)
    assert freq[2] == 0.0


def test_staleness_falls_back_to_uniform_over_seen_and_refuses_when_empty():
    s = Staleness(4)
    with pytest.raises(ValueError, match="no arm"):
        s.draw(np.random.default_rng(0), 1)
    s.play([2])
    assert s.draw(np.random.default_rng(0), 5).tolist() == [2] * 5


def test_unseen_arms_draws_only_unseen_and_refuses_when_exhausted():
    pool = UnseenArms(5)
    pool.mark_seen([3, 0, 3])
    assert sorted(pool.unseen().tolist()) == [1, 2, 4]
    draws = pool.draw(np.random.default_rng(0), 200)
    assert set(draws.tolist()) == {1, 2, 4}
    pool.mark_seen([1, 2, 4])
    with pytest.raises(ValueError, match="every arm"):
        pool.draw(np.random.default_rng(0), 1)


# -------------------------------------------------------------------- policy
def test_policies_by_hand():
    np.testing.assert_allclose(boltzmann([0.0, np.log(3.0)], 1.0), [0.25, 0.75])
    low = 1 / (1 + np.e**2)
    np.testing.assert_allclose(boltzmann([0.0, 0.2], 0.1), [low, 1 - low])
    np.testing.assert_allclose(epsilon_greedy([1.0, 3.0, 3.0], 0.3), [0.1, 0.45, 0.45])
    assert entropy([0.25] * 4) == pytest.approx(np.log(4))
    with pytest.raises(ValueError, match="temperature"):
        boltzmann([0.0], 0.0)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy([0.0], 1.5)


def test_draws_follow_the_distribution():
    rng = np.random.default_rng(9)
    p = np.array([0.0, 0.5, 0.0, 0.3, 0.2])
    freq = np.bincount(draw(rng, p, 50_000), minlength=5) / 50_000
    np.testing.assert_allclose(freq, p, atol=0.01)
    values = np.array([1.0, 3.0, 3.0, 0.0])
    freq = np.bincount(draw_epsilon_greedy(rng, values, 0.2, 50_000), minlength=4) / 50_000
    np.testing.assert_allclose(freq, epsilon_greedy(values, 0.2), atol=0.01)


# ------------------------------------------------------------- plain state
def _states():
    rng = np.random.default_rng(10)
    arms, values = _batch(rng, n_arms=6, n=50)
    ema = ArmEMA(6, 0.3, start_at_first=True)
    ema.update(arms, values)
    lp = EMAProgress(6)
    lp.update(arms, values)
    delta = DeltaTracker(6)
    delta.push(arms, values)
    window = ArmWindow(6, 4, dtype=np.float32)
    window.push(arms, values)
    slope = WindowSlope(6, 5)
    slope.push(arms, np.arange(50), values)
    res = QuantileReservoir(8, low_quantile=0.1, high_quantile=0.7)
    for v in values:
        res.add(v, rng)
    stale = Staleness(6)
    stale.play(arms[:20])
    unseen = UnseenArms(6)
    unseen.mark_seen(arms[:3])
    step = AdvantageStep(normalize=False)
    step.add(arms[:4], values[:4], {"group": np.array([1, 1, 2, 2])}, owner="t")
    step.add(arms[4:6], values[4:6], {"abs_advantage": np.array([0.5, 0.1])}, owner="t")
    return [ema, lp, delta, window, slope, res, stale, unseen, step]


@pytest.mark.parametrize("obj", _states(), ids=lambda o: type(o).__name__)
def test_learned_state_helpers_are_plain_data_and_round_trip(obj):
    plain = to_plain(obj, "helper")
    assert is_plain(plain)
    back = from_plain(plain, "helper")
    assert type(back) is type(obj)
    assert _fields_equal(vars(back), vars(obj))
    # The copy behaves as the original: it is independent and continues identically.
    rng = np.random.default_rng(11)
    arms, values = _batch(rng, n_arms=6, n=12)
    for o in (obj, back):
        if isinstance(o, ArmEMA | EMAProgress):
            o.update(arms, values)
        elif isinstance(o, DeltaTracker | ArmWindow):
            o.push(arms, values)
        elif isinstance(o, WindowSlope):
            o.push(arms, np.arange(50, 62), values)
        elif isinstance(o, QuantileReservoir):
            for v in values:
                o.offer(v, 0.3)
        elif isinstance(o, Staleness):
            o.play(arms)
        elif isinstance(o, UnseenArms):
            o.mark_seen(arms[:2])
    assert _fields_equal(vars(back), vars(obj))
    if isinstance(obj, AdvantageStep):
        a1, v1 = obj.flush()
        a2, v2 = back.flush()
        assert a1.tolist() == a2.tolist()
        assert len(a1) == 6
        np.testing.assert_array_equal(v1, v2)


def _fields_equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_fields_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_fields_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return type(a) is type(b) and _fields_equal(vars(a), vars(b))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return a == b


@pytest.mark.parametrize(("make", "match"), [
    (lambda: ArmWindow(3, 10**12), r"window must be an int in \[1, 100000000\]"),
    (lambda: ArmWindow(1000, 10**6), "window=1000000 with 1000 arms"),
    (lambda: ArmWindow(10**12, 2), "n_arms must be an int in"),
    (lambda: WindowSlope(3, 1), r"window must be an int in \[2, 100000000\]"),
    (lambda: ArmWindow(3, 10**12, name="buffer"), "buffer must be an int"),
    (lambda: QuantileReservoir(10**7), r"capacity must be an int in \[1, 1000000\]"),
    (lambda: QuantileReservoir(10, low_quantile=0.5, high_quantile=0.5),
     "low_quantile must be < high_quantile"),
    (lambda: Staleness(0), "n_arms"),
    (lambda: UnseenArms(10**9), "n_arms"),
    (lambda: ArmEMA(3, 0.5, start_at_first="yes"), "start_at_first must be True or False"),
    (lambda: EMAProgress(3, fast=0.1, slow=0.1), "slow must be < fast"),
    (lambda: AdvantageStep(normalize="no"), "normalize must be True or False"),
])
def test_sizes_and_flags_fail_at_construction_naming_the_parameter(make, match):
    with pytest.raises(InvalidParameterError, match=match):
        make()
