"""Parameter checks: one error class, messages that name the parameter, value and constraint."""

from __future__ import annotations

import numpy as np
import pytest

from autocurriculum.params import (
    MAX_SIZE,
    InvalidParameterError,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    check_rate,
    check_real,
    check_seed,
    check_size,
)


def test_the_error_is_both_a_value_error_and_a_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_int("window", 2.5, low=1), r"window must be an int >= 1, got 2.5"),
        (lambda: check_int("window", True, low=1), "got True"),
        (lambda: check_size("window", 10**12), rf"window must be an int in \[1, {MAX_SIZE}\]"),
        (lambda: check_real("lr", np.nan, low=0.0), r"lr must be a real number in \[0, inf\)"),
        (lambda: check_rate("lr", 0.0), r"lr must be a real number in \(0, 1\], got 0.0"),
        (lambda: check_probability("p", 1.5), r"p must be a real number in \[0, 1\]"),
        (lambda: check_positive("temperature", -1), r"temperature .* \(0, inf\)"),
        (lambda: check_bool("auto_step", "no"), "auto_step must be True or False, got 'no'"),
        (lambda: check_bool("flag", 1), "got 1"),
        (lambda: check_choice("mode", "fast", ("exact", "approx")), r"\['exact', 'approx'\]"),
        (lambda: check_seed(True), "seed must be an int"),
        (lambda: check_seed(-1), r"seed must be an int in \[0, "),
    ],
)
def test_messages_name_parameter_value_and_constraint(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()


def test_valid_values_pass_through():
    assert check_int("n", np.int64(3), low=0) == 3
    assert check_real("x", 2, low=0.0, high=2.0) == 2.0
    assert check_bool("b", np.bool_(False)) is False
    assert check_seed(None) is None
    assert check_choice("mode", "exact", ("exact",)) == "exact"
