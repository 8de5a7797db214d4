"""Parameter checks: one module, one error class, messages that name the parameter.

Every constructor argument of the library goes through these functions, so a bad value always
raises :class:`InvalidParameterError`, whose message says which parameter, what value it got and
what was expected. The class is both a ``ValueError`` and a ``TypeError`` (as scikit-learn's
``InvalidParameterError`` is), so callers may catch either. Every function takes the
parameter's name first, then its value, then the constraint.

Sizes (window lengths, buffer capacities, split attempts) are bounded above by
:data:`MAX_SIZE` unless a tighter bound is given: a larger value is a typo, not a request, and
failing at construction beats a ``MemoryError`` minutes later.

Examples
--------
>>> check_real("lr", 0.5, low=0.0, high=1.0, include_low=False)
0.5
>>> check_size("window", 10**12)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
autocurriculum.params.InvalidParameterError: window must be an int in [1, 100000000], got 1000...
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "MAX_SIZE",
    "InvalidParameterError",
    "check_bool",
    "check_choice",
    "check_int",
    "check_positive",
    "check_probability",
    "check_rate",
    "check_real",
    "check_seed",
    "check_size",
]

#: The largest size parameter accepted by default (1e8 float64 values are 800 MB).
MAX_SIZE = 10**8

#: The largest seed accepted: numpy's SeedSequence takes any non-negative int, but a seed is
#: recorded in JSON configs and checkpoints, which hold 64-bit ints exactly.
MAX_SEED = 2**63 - 1

S = TypeVar("S", bound=str)


class InvalidParameterError(ValueError, TypeError):
    """A constructor argument of the wrong type or out of range."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An int (not a bool) in ``[low, high]``; either bound may be ``None`` for unbounded."""
    ok = not isinstance(value, bool | np.bool_) and isinstance(value, int | np.integer)
    if ok:
        out = int(value)
        ok = (low is None or out >= low) and (high is None or out <= high)
        if ok:
            return out
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    expected = f"an int >= {low}" if high is None and low is not None else f"an int in [{lo}, {hi}]"
    raise InvalidParameterError(f"{name} must be {expected}, got {_describe(value)}")


def check_size(name: str, value: Any, *, low: int = 1, high: int = MAX_SIZE) -> int:
    """A size: an int in ``[low, high]``, by default ``[1, MAX_SIZE]``."""
    return check_int(name, value, low=low, high=high)


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> float:
    """A finite real number (not a bool) between ``low`` and ``high``, bounds included or not."""
    ok = not isinstance(value, bool | np.bool_) and isinstance(
        value, int | float | np.integer | np.floating
    )
    out = float(value) if ok else math.nan
    if ok and math.isfinite(out):
        above = low is None or (out >= low if include_low else out > low)
        below = high is None or (out <= high if include_high else out < high)
        if above and below:
            return out
    if low is None and high is None:
        expected = "a finite real number"
    else:
        left = "-inf" if low is None else f"{low:g}"
        right = "inf" if high is None else f"{high:g}"
        open_ = "[" if include_low and low is not None else "("
        close = "]" if include_high and high is not None else ")"
        expected = f"a real number in {open_}{left}, {right}{close}"
    raise InvalidParameterError(f"{name} must be {expected}, got {_describe(value)}")


def check_positive(name: str, value: Any) -> float:
    """A finite real number > 0 (temperatures, step sizes, scales)."""
    return check_real(name, value, low=0.0, include_low=False)


def check_rate(name: str, value: Any) -> float:
    """A learning rate or mixing weight in (0, 1]."""
    return check_real(name, value, low=0.0, high=1.0, include_low=False)


def check_probability(name: str, value: Any) -> float:
    """A probability in [0, 1]."""
    return check_real(name, value, low=0.0, high=1.0)


def check_bool(name: str, value: Any) -> bool:
    """A bool: ``True`` or ``False`` (numpy bools too); ``"no"`` or ``1`` are errors, not truthy."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise InvalidParameterError(f"{name} must be True or False, got {_describe(value)}")


def check_choice(name: str, value: Any, choices: Sequence[S]) -> S:
    """One of a fixed set of strings."""
    for choice in choices:
        if isinstance(value, str) and value == choice:
            return choice
    raise InvalidParameterError(f"{name} must be one of {list(choices)}, got {_describe(value)}")


def check_seed(value: Any, name: str = "seed") -> int | None:
    """A seed: ``None`` (fresh entropy) or an int in ``[0, 2**63 - 1]``."""
    if value is None:
        return None
    return check_int(name, value, low=0, high=MAX_SEED)
