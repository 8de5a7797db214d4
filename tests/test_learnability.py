"""Learnability: conformance, p(1-p) and the buffer by hand, the mix ratio, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.params import InvalidParameterError
from autocurriculum.testing import check_teacher


def test_conformance_small():
    check_teacher(ac.make("learnability", ac.Discrete(7), seed=0))


def test_conformance_large_space():
    check_teacher(ac.make("learnability", ac.Discrete(20_000), seed=0), episodes=320)


def test_learnability_and_buffer_by_hand():
    t = ac.make("learnability", ac.Discrete(5), window=4, buffer_size=2, seed=0)
    # Success windows: arm 0 {1, 1} p = 1; arm 1 {0, 1} p = .5; arm 2 {1, 1, 1, 0} p = .75;
    # arm 3 {1, 0, 0, 0, 0}: the window keeps the last 4, p = 0; arm 4 never played.
    t.update([0, 0, 1, 1, 2, 2, 2, 2], [1, 1, 0, 1, 1, 1, 1, 0])
    t.update([3] * 5, [1, 0, 0, 0, 0])
    np.testing.assert_allclose(t.learnability_scores(), [0.0, 0.25, 0.1875, 0.0, 0.0])
    assert t.buffer().tolist() == [1, 2]
    # With buffer_size 1 only the top arm stays.
    t1 = ac.make("learnability", ac.Discrete(5), window=4, buffer_size=1, seed=0)
    t1.update([0, 0, 1, 1, 2, 2, 2, 2], [1, 1, 0, 1, 1, 1, 1, 0])
    assert t1.buffer().tolist() == [1]


def test_buffer_and_random_mix_frequencies():
    # SFL's mix: half of the tasks from the buffer, half uniform over all arms.
    t = ac.make("learnability", ac.Discrete(4), buffer_size=1, seed=0)
    t.update([1, 1], [0.0, 1.0])
    freq = np.bincount(t.sample(80_000), minlength=4) / 80_000
    np.testing.assert_allclose(freq, [0.125, 0.5 + 0.125, 0.125, 0.125], atol=0.01)
    m = t.metrics()
    assert m["teacher/buffer_size"] == 1.0
    assert m["teacher/max_learnability"] == 0.25


def test_empty_buffer_samples_uniformly():
    t = ac.make("learnability", ac.Discrete(4), seed=0)
    t.update([0, 1], [1.0, 0.0])  # p = 1 and 0: nothing learnable yet
    freq = np.bincount(t.sample(40_000), minlength=4) / 40_000
    np.testing.assert_allclose(freq, [0.25] * 4, atol=0.01)
    assert t.buffer().tolist() == []


@pytest.mark.parametrize(
    ("params", "name"),
    [({"buffer_ratio": 1.5}, "buffer_ratio"), ({"buffer_ratio": -0.1}, "buffer_ratio"),
     ({"buffer_size": 0}, "buffer_size"), ({"window": 0}, "window")],
)
def test_bad_hyperparameters(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        ac.make("learnability", ac.Discrete(3), **params)


def test_sizes_have_upper_bounds_naming_the_parameter():
    match = r"buffer_size must be an int in \[1, 100000000\]"
    with pytest.raises(InvalidParameterError, match=match):
        ac.make("learnability", ac.Discrete(3), buffer_size=10**12)
    with pytest.raises(InvalidParameterError, match=r"window must be an int in \[1, 100000000\]"):
        ac.make("learnability", ac.Discrete(3), window=10**12)
    with pytest.raises(InvalidParameterError, match="window=1000000 with 1000 arms"):
        ac.make("learnability", ac.Discrete(1000), window=10**6)


def test_the_buffer_is_a_cache_not_learned_state():
    a = ac.make("learnability", ac.Discrete(6), buffer_size=2, seed=0)
    b = ac.make("learnability", ac.Discrete(6), buffer_size=2, seed=0)
    for t in (a, b):
        t.update([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 1])
    a.sample(5)  # ranks the buffer
    assert a.state_dict()["state"].keys() == b.state_dict()["state"].keys() == {
        "rng_", "n_updates_", "success_"
    }
    # A loaded state re-ranks from its own windows.
    c = ac.make("learnability", ac.Discrete(6), buffer_size=2, seed=0)
    c.update([5, 5], [0, 1])
    assert c.buffer().tolist() == [5]
    c.load_state_dict(a.state_dict())
    assert c.buffer().tolist() == a.buffer().tolist() == [0, 2]


def test_bad_input():
    t = ac.make("learnability", ac.Discrete(3), seed=0)
    with pytest.raises(ValueError, match="not an arm"):
        t.update([5], [1.0])
    with pytest.raises(ValueError, match="signals must be a mapping"):
        t.update([0, 1], [1.0, 0.0], signals=np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        t.update([0, 1], [1.0, 0.0], signals={"value_loss": np.ones(3)})
