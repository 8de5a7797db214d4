"""PLR: conformance, the replay distribution by hand, new vs replay, exact ranks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.params import InvalidParameterError
from autocurriculum.testing import check_teacher


def test_conformance_small():
    check_teacher(ac.make("plr", ac.Discrete(7), seed=0))


def test_conformance_with_value_loss_signals():
    check_teacher(
        ac.make("plr", ac.Discrete(7), seed=0),
        signal_fn=lambda tasks, scores: {"value_loss": np.abs(scores - 0.3)},
    )


def test_conformance_large_space():
    check_teacher(ac.make("plr", ac.Discrete(20_000), seed=0), episodes=320)


def test_replay_distribution_by_hand_with_published_constants():
    # β = 0.1, ρ = 0.1. Levels 3, 7, 5 are played in episodes 1..4 with value losses; a level's
    # score is its last episode's.
    t = ac.make("plr", ac.Discrete(10), seed=0)
    t.update([3, 7, 3, 5], [0.0, 1.0, 1.0, 0.5], signals={"value_loss": [0.2, 0.9, 0.4, 0.4]})
    np.testing.assert_allclose(t.level_score_[[3, 5, 7]], [0.4, 0.4, 0.9])
    # Ranks: 7 (0.9) first; 3 and 5 tie at 0.4, broken by index: 3 second, 5 third.
    w = np.array([1.0, 2.0**-10, 3.0**-10])
    p_score = w / w.sum()
    # Staleness at clock 4: level 7 last played at 2 -> 2; level 3 at 3 -> 1; level 5 -> 0.
    p_stale = np.array([2.0, 1.0, 0.0]) / 3.0
    expected = 0.9 * p_score + 0.1 * p_stale
    got = t.replay_probabilities()
    np.testing.assert_allclose(got[[7, 3, 5]], expected)
    assert got.sum() == pytest.approx(1.0)
    assert got[[0, 1, 2, 4, 6, 8, 9]].sum() == 0.0


def test_replay_draws_follow_the_distribution():
    t = ac.make("plr", ac.Discrete(6), temperature=1.0, staleness_coef=0.3, replay_prob=1.0,
                seed=0)
    losses = [0.1, 0.5, 0.3, 0.2, 0.6, 0.05, 0.35, 0.15]
    t.update([0, 1, 2, 3, 4, 5, 2, 0], [0.0] * 8, signals={"value_loss": losses})
    freq = np.bincount(t.sample(100_000), minlength=6) / 100_000
    np.testing.assert_allclose(freq, t.replay_probabilities(), atol=0.006)


def test_performance_score_is_the_l1_loss_of_a_value_baseline():
    # value_lr = 0.1: the baseline starts at 0. Level 4 scores 0, 1, 1.
    t = ac.make("plr", ac.Discrete(8), seed=0)
    t.update([4, 4], [0.0, 1.0])
    assert t.level_score_[4] == pytest.approx(1.0)  # |1 - 0|, baseline now 0.1
    t.update([4], [1.0])
    assert t.level_score_[4] == pytest.approx(0.9)  # |1 - 0.1|
    assert t.value_.values[4] == pytest.approx(0.19)
    # score_alpha < 1 smooths the episode scores.
    s = ac.make("plr", ac.Discrete(8), score_alpha=0.5, seed=0)
    s.update([4, 4], [0.0, 1.0])
    assert s.level_score_[4] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)


def test_new_versus_replay_on_a_large_level_set():
    t = ac.make("plr", ac.Discrete(100_000), seed=0)
    first = t.sample(50)  # nothing played: all fresh
    t.update(first, np.full(50, 0.5))
    played = set(first.tolist())
    draws = t.sample(20_000)
    replayed = np.isin(draws, list(played))
    assert 0.47 < replayed.mean() < 0.53  # replay_prob = 0.5; fresh levels are unplayed ones


def test_does_not_crash_once_every_level_was_played():
    t = ac.make("plr", ac.Discrete(30), seed=0)
    t.update(np.arange(30), np.linspace(0, 1, 30))
    assert t.unseen_.n_unseen == 0
    draws = t.sample(20_000)
    assert draws.min() >= 0
    assert draws.max() < 30
    # Half of the draws are replays, half fresh draws from the whole (exhausted) level set.
    p = 0.5 * t.replay_probabilities() + 0.5 / 30
    np.testing.assert_allclose(np.bincount(draws, minlength=30) / 20_000, p, atol=0.012)


def test_ranks_stay_exact_after_incremental_merges():
    rng = np.random.default_rng(0)
    t = ac.make("plr", ac.Discrete(500), seed=0)
    for i in range(30):
        tasks = rng.integers(0, 500, size=rng.integers(1, 40))
        losses = np.round(rng.random(len(tasks)), 1)
        t.update(tasks, rng.random(len(tasks)), signals={"value_loss": losses})
        if i % 3:
            t.sample(4)
        seen = np.flatnonzero(t.staleness_.seen)
        expected = seen[np.lexsort((seen, -t.level_score_[seen]))]
        assert t.ranked_levels().tolist() == expected.tolist()
    # A loaded state starts the rank cache over from its own scores.
    other = ac.make("plr", ac.Discrete(500), seed=1)
    other.sample(3)
    other.update([1, 2], [0.0, 1.0])
    other.sample(3)
    other.load_state_dict(t.state_dict())
    assert other.ranked_levels().tolist() == t.ranked_levels().tolist()
    np.testing.assert_array_equal(other.sample(64), t.sample(64))


def test_the_rank_cache_is_not_learned_state():
    # sample() merges the rank cache; the learned state must not depend on when it ran.
    a, b = ac.make("plr", ac.Discrete(50), seed=0), ac.make("plr", ac.Discrete(50), seed=0)
    a.update([3, 4, 5], [0.0, 0.5, 1.0])
    b.update([3, 4, 5], [0.0, 0.5, 1.0])
    a.sample(8)
    state_a, state_b = a.state_dict()["state"], b.state_dict()["state"]
    assert state_a.keys() == state_b.keys()
    assert not any(key in state_a for key in ("order_", "keys_", "rerank_", "needs_rerank_"))


def test_a_misspelt_signal_is_an_error_not_a_different_algorithm():
    # Probe: signals={"valu_loss": ...} was accepted, and PLR silently fell back to its
    # score-based proxy.
    t = ac.make("plr", ac.Discrete(5), seed=0)
    with pytest.raises(ValueError, match=r"unknown signal 'valu_loss'\. Did you mean 'value_loss'"):
        t.update([0, 1], [0.0, 1.0], signals={"valu_loss": [0.3, 0.2]})
    assert t.n_updates_ == 0
    assert not t.staleness_.seen.any()
    # Known signals PLR does not read are ignored; value_loss is read.
    t.update([0, 1], [0.0, 1.0], signals={"value_loss": [0.3, 0.2], "abs_advantage": [9, 9]})
    np.testing.assert_allclose(t.level_score_[[0, 1]], [0.3, 0.2])


@pytest.mark.parametrize(
    ("params", "name"),
    [({"temperature": 0.0}, "temperature"), ({"temperature": -1.0}, "temperature"),
     ({"staleness_coef": 1.1}, "staleness_coef"), ({"replay_prob": -0.1}, "replay_prob"),
     ({"score_alpha": 0.0}, "score_alpha"), ({"value_lr": 2.0}, "value_lr")],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        ac.make("plr", ac.Discrete(3), **params)


def test_bad_input():
    t = ac.make("plr", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="not an arm"):
        t.update([3], [1.0])
    with pytest.raises(ValueError, match="signals must be a mapping"):
        t.update([0, 1], [1.0, 0.0], signals=np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals={"value_loss": np.ones(1)})
    with pytest.raises(ValueError, match=">= 0"):
        t.update([0, 1], [1.0, 0.0], signals={"value_loss": [0.5, -0.5]})
