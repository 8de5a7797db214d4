"""The signal vocabulary: unknown names are errors, unread known names are ignored."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.signals import SIGNALS, validate_signals

READS = frozenset({"value_loss", "group"})


def test_every_signal_documents_its_meaning_and_dtype():
    for name, info in SIGNALS.items():
        assert info.meaning, name
        assert info.dtype in ("float", "int"), name


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown signal 'valu_loss'. Did you mean 'value_loss'"):
        validate_signals({"valu_loss": [0.1]}, 1, reads=READS)


def test_known_unread_names_are_checked_then_dropped():
    out = validate_signals({"value_loss": [0.5], "abs_advantage": [0.2]}, 1, reads=READS)
    assert list(out) == ["value_loss"]
    with pytest.raises(ValueError, match="abs_advantage"):  # checked even though unread
        validate_signals({"abs_advantage": [-0.2]}, 1, reads=READS)


@pytest.mark.parametrize(
    ("signals", "problem"),
    [
        ({"group": [0.5, 1.5]}, "integer ids"),
        ({"value_loss": [0.1]}, r"shape \(1,\) for 2 tasks"),
        ({"value_loss": [0.1, np.inf]}, "finite"),
        ({"step": [-1, 0]}, ">= 0"),
        ({"value_loss": ["a", "b"]}, "real numbers"),
        ([0.1, 0.2], "must be a mapping"),
    ],
)
def test_bad_values_are_named(signals, problem):
    with pytest.raises(ValueError, match=problem):
        validate_signals(signals, 2, reads=READS)


def test_needed_signal_missing_names_what_is_needed():
    needs = frozenset({"abs_advantage", "group"})
    with pytest.raises(ValueError, match="'abs_advantage' or 'group'"):
        validate_signals({"value": [0.0]}, 1, reads=needs, needs_one_of=needs, owner="SEC")
    with pytest.raises(ValueError, match="needs the signal"):
        validate_signals(None, 1, reads=needs, needs_one_of=needs)


def test_a_typo_leaves_the_teacher_unchanged():
    teacher = ac.make("plr", ac.Discrete(4), seed=0)
    teacher.update([0, 1], [0.2, 0.9], signals={"value_loss": [0.3, 0.1]})
    before = teacher.state_dict()
    with pytest.raises(ValueError, match="valu_loss"):
        teacher.update([2], [0.5], signals={"valu_loss": [0.7]})
    after = teacher.state_dict()
    assert after["state"]["n_updates_"] == before["state"]["n_updates_"] == 2


def test_an_integration_may_pass_every_signal_to_any_teacher():
    everything = {
        name: np.zeros(2, dtype=np.int64) if info.dtype == "int" else np.full(2, 0.5)
        for name, info in SIGNALS.items()
    }
    for name in ac.list_teachers("discrete"):
        spec = ac.teacher_spec(name)
        if spec.required_params:
            continue
        teacher = ac.make(name, ac.Discrete(3), seed=0)
        teacher.update([0, 1], [0.0, 1.0], signals=everything)
        teacher.end_step()
        assert teacher.n_updates_ == 2
