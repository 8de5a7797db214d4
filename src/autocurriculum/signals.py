"""The signal vocabulary: every name ``update(..., signals={...})`` accepts, and what it means.

A trainer knows more than the episode's score: the |advantage| of each rollout, the value loss,
the group of rollouts a prompt belongs to, the training step. It passes what it has as
``signals``, a mapping from names of this vocabulary to one value per task. The vocabulary is
closed, so that a typo is an error instead of a silently different algorithm:

- a name outside :data:`SIGNALS` raises ``ValueError`` naming it, with a suggestion;
- a known name that a teacher does not read is ignored, so an integration can pass everything
  it has to any teacher;
- a teacher declares in its registry spec the names it reads and, where it cannot learn without
  one, the names of which it needs at least one.

Examples
--------
>>> import autocurriculum as ac
>>> teacher = ac.make("plr", ac.Discrete(3), seed=0)
>>> teacher.update([0, 1], [0.0, 1.0], signals={"value_loss": [0.2, 0.4], "group": [0, 0]})
>>> teacher.update([0], [0.5], signals={"valu_loss": [0.1]})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: unknown signal 'valu_loss'. Did you mean 'value_loss'? Known signals: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SIGNALS", "SignalInfo", "Signals", "validate_signals"]

#: What ``update(..., signals=...)`` accepts: named values, one per task, or nothing.
Signals = Mapping[str, ArrayLike] | None


@dataclass(frozen=True)
class SignalInfo:
    """One name of the vocabulary.

    Attributes
    ----------
    meaning : str
        What the value is, for documentation and error messages.
    dtype : str
        ``"float"`` (finite reals) or ``"int"`` (integer ids).
    minimum : float or None
        The smallest valid value, or ``None`` for unbounded.
    """

    meaning: str
    dtype: str
    minimum: float | None = None


#: Every signal the library knows. Each value has shape ``(n,)``, one per task of the update.
SIGNALS: dict[str, SignalInfo] = {
    "abs_advantage": SignalInfo(
        "|advantage| of each rollout, as the trainer computed it (SEC, DUMP)", "float", 0.0
    ),
    "advantage": SignalInfo(
        "signed advantage of each rollout; teachers that read it use its absolute value",
        "float",
    ),
    "group": SignalInfo(
        "group id of each rollout: the rollouts of one prompt in a GRPO step share an id, so a "
        "teacher can compute group-relative advantages from the scores",
        "int",
    ),
    "step": SignalInfo(
        "id of the training step each outcome belongs to, non-decreasing across updates; "
        "teachers that learn once per step close a step when a newer id arrives",
        "int",
        0.0,
    ),
    "value_loss": SignalInfo(
        "the learner's value loss (or mean |GAE|) on the task's episode (PLR)", "float", 0.0
    ),
    "value": SignalInfo("the learner's value estimate of the task's episode (SPDL)", "float"),
    "progress": SignalInfo(
        "a progress measure of the task's episode, for example a loss drop (Exp3.S)", "float"
    ),
    "cost": SignalInfo(
        "the cost of the task's episode, > 0, for example its length (Exp3.S)", "float", 0.0
    ),
}


def validate_signals(
    signals: Signals,
    n: int,
    *,
    reads: frozenset[str],
    needs_one_of: frozenset[str] = frozenset(),
    owner: str = "teacher",
) -> dict[str, NDArray[Any]]:
    """Check ``signals`` against the vocabulary; return the ones ``reads`` names, as arrays.

    Parameters
    ----------
    signals : mapping of str to array_like, or None
        What the caller passed to ``update``.
    n : int
        Number of tasks in the update: every signal needs one value per task.
    reads : frozenset of str
        The names the teacher reads; other known names are checked, then dropped.
    needs_one_of : frozenset of str
        If not empty, at least one of these names must be present.
    owner : str
        Who is asking, for error messages.

    Returns
    -------
    dict of str to numpy.ndarray
        Float arrays for ``"float"`` signals and int64 arrays for ``"int"`` ones.

    Raises
    ------
    ValueError
        A name outside the vocabulary, a value of the wrong length, type or range, a bare array
        instead of a mapping, or a needed signal missing.
    """
    if signals is None:
        signals = {}
    if not isinstance(signals, Mapping):
        raise ValueError(
            f"signals must be a mapping of signal names to one value per task (for example "
            f"signals={{'abs_advantage': values}}), got {type(signals).__name__}. Known "
            f"signals: {', '.join(sorted(SIGNALS))}"
        )
    out: dict[str, NDArray[Any]] = {}
    for key, value in signals.items():
        info = SIGNALS.get(key) if isinstance(key, str) else None
        if info is None:
            raise ValueError(_unknown_message(key))
        arr = _signal_array(key, value, n, info)
        if key in reads:
            out[key] = arr
    if needs_one_of and not needs_one_of & out.keys():
        names = " or ".join(repr(k) for k in sorted(needs_one_of))
        got = sorted(signals) if signals else "none"
        raise ValueError(
            f"{owner}.update needs the signal {names}, got signals: {got}. See "
            "autocurriculum.signals.SIGNALS for what each one means"
        )
    return out


def _unknown_message(key: object) -> str:
    known = sorted(SIGNALS)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown signal {key!r}.{hint} Known signals: {', '.join(known)}"


def _signal_array(key: str, value: ArrayLike, n: int, info: SignalInfo) -> NDArray[Any]:
    arr = np.atleast_1d(np.asarray(value))
    name = f"signals[{key!r}]"
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} has shape {arr.shape} for {n} tasks: expected shape ({n},)")
    if info.dtype == "int":
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must be integer ids ({info.meaning}), got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
    else:
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be real numbers ({info.meaning}), got dtype {arr.dtype}")
        arr = arr.astype(np.float64, copy=False)
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"{name}[{i}] = {float(arr[i])!r}: signals must be finite")
    if info.minimum is not None:
        below = arr < info.minimum
        if below.any():
            i = int(np.flatnonzero(below)[0])
            raise ValueError(
                f"{name}[{i}] = {arr[i].item()!r}: expected a value >= {info.minimum:g} "
                f"({info.meaning})"
            )
    return arr
