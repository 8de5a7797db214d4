"""Learned state as plain data: encoding, decoding, and refusing what is not plain."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from autocurriculum._state import StateError, from_plain, is_plain, state_class, to_plain


@state_class
class _Tracker:
    def __init__(self):
        self.counts = np.arange(3)
        self.history = deque([1, 2], maxlen=4)
        self.pair = (1.5, "a")
        self.by_arm = {0: 1.0, 2: 3.0}


def test_round_trip_of_every_encoded_kind():
    rng = np.random.default_rng(0)
    rng.random(3)
    value = {"rng": rng, "tracker": _Tracker(), "scalar": np.float32(2.5), "n": np.int64(7),
             "nested": [None, True, "x", {"__tuple__": 1}]}
    plain = to_plain(value)
    assert is_plain(plain)
    back = from_plain(plain)
    assert back["rng"].random() == rng.random()
    assert isinstance(back["tracker"], _Tracker)
    assert back["tracker"].history == deque([1, 2], maxlen=4)
    assert back["tracker"].pair == (1.5, "a")
    assert back["tracker"].by_arm == {0: 1.0, 2: 3.0}
    assert type(back["scalar"]) is np.float32
    assert type(back["n"]) is np.int64
    assert back["nested"][3] == {"__tuple__": 1}  # a user dict with a marker key survives


def test_unregistered_objects_are_refused_with_their_location():
    class Opaque:
        pass

    with pytest.raises(StateError, match=r"state\['inner'\]\[0\] holds a .*Opaque"):
        to_plain({"inner": [Opaque()]})
    with pytest.raises(StateError, match="not plain data"):
        to_plain(np.array([object()]))


def test_decoding_refuses_unknown_classes_and_malformed_entries():
    with pytest.raises(StateError, match="not a state class"):
        from_plain({"__object__": "os.system", "fields": {}})
    with pytest.raises(StateError, match="malformed __deque__"):
        from_plain({"__deque__": [1]})
    with pytest.raises(StateError, match="cannot hold"):
        from_plain({"__unsaved__": "GridStudent"})
