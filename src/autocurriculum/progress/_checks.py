"""Hyperparameter checks with messages that name the value and what was expected."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "check_choice",
    "check_int",
    "check_positive",
    "check_probability",
    "check_rate",
]


def _as_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def check_positive(value: Any, name: str) -> float:
    """A finite number > 0 (temperatures, step sizes)."""
    out = _as_real(value, name)
    if out <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return out


def check_rate(value: Any, name: str) -> float:
    """A learning rate or mixing weight in (0, 1]."""
    out = _as_real(value, name)
    if not 0.0 < out <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return out


def check_probability(value: Any, name: str) -> float:
    """A probability in [0, 1]."""
    out = _as_real(value, name)
    if not 0.0 <= out <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return out


def check_int(value: Any, name: str, minimum: int) -> int:
    """An int >= ``minimum`` (window lengths, buffer sizes)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)
