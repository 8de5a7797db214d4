"""The runner's training-step protocols: how one step samples, trains and updates.

*plain* (:class:`Plain`, the default)::

    tasks = teacher.sample(b); scores = learner.train(tasks); teacher.update(tasks, scores)

``b = 1`` is the faithful published protocol, one task at a time; the loop runs it through the
single-task calls (``sample()``, ``train_one(task)``, ``update(task, score)``). With ``b > 1``
a step may be cut short so that it ends on an eval point.

*grpo* (:class:`GRPO`, a GRPO-style trainer, for teachers that learn from |advantages|)::

    tasks = teacher.sample(prompts)                  # one task per prompt
    batch = np.repeat(tasks, group, axis=0)          # each rolled out `group` times
    scores = learner.train(batch)
    teacher.update(batch, scores, signals={"group": ids, "step": step_ids})
    teacher.end_step()

``ids`` give each rollout its prompt (``np.repeat(np.arange(prompts), group)``) and ``step_ids``
the index of the training step (the same for every rollout of a step), so a teacher computes
each rollout's advantage within its group and closes its step at ``end_step`` (or when a newer
step id arrives). Teachers that read neither signal ignore them. A step cannot be split: an eval
point is read at the end of the step that reaches or crosses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_GROUP",
    "DEFAULT_PROMPTS",
    "GRPO",
    "PROTOCOLS",
    "Plain",
    "StepProtocol",
    "check_positive",
    "check_protocol",
    "make_protocol",
]

#: The protocol names, as the CLI and the runner take them.
PROTOCOLS = ("plain", "grpo")
#: Defaults of the grpo protocol: tasks sampled per step, rollouts per task.
DEFAULT_PROMPTS = 8
DEFAULT_GROUP = 4


def check_positive(value: Any, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is an int >= 1 (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True)
class Plain:
    """Up to ``batch_size`` tasks per step, rewards only (no signals).

    Parameters
    ----------
    batch_size : int
        Tasks per ``sample``/``update`` call; 1 is the published protocol.
    """

    batch_size: int = 1

    name: ClassVar[str] = "plain"
    #: Signal names its updates carry.
    signals: ClassVar[frozenset[str]] = frozenset()
    #: A step may be cut short to end on an eval point.
    splittable: ClassVar[bool] = True
    #: The loop calls ``teacher.end_step()`` after each update.
    ends_steps: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_positive(self.batch_size, "batch_size")

    @property
    def step_episodes(self) -> int:
        """Tasks trained on per (full) step."""
        return self.batch_size

    def n_sample(self, remaining: int) -> int:
        """Tasks to sample for a step that must not go past ``remaining`` more tasks."""
        return min(self.batch_size, remaining)

    def expand(self, tasks: NDArray[Any]) -> NDArray[Any]:
        """The batch the learner trains on: the sampled tasks themselves."""
        return tasks

    def step_signals(self, step: int, n: int) -> Mapping[str, NDArray[Any]] | None:
        """The signals of step number ``step`` (of ``n`` rollouts): none."""
        return None

    def text(self) -> str:
        """The protocol in one token, for tables: ``plain`` or ``plain(batch=16)``."""
        return "plain" if self.batch_size == 1 else f"plain(batch={self.batch_size})"

    def config(self) -> dict[str, Any]:
        """The protocol's description in a run's ``config.json``."""
        return {"name": "plain", "batch_size": self.batch_size}


@dataclass(frozen=True)
class GRPO:
    """``prompts`` tasks per step, each trained on ``group`` times, with group and step ids.

    Parameters
    ----------
    prompts : int
        Tasks sampled per step.
    group : int
        Rollouts per task.
    """

    prompts: int = DEFAULT_PROMPTS
    group: int = DEFAULT_GROUP

    name: ClassVar[str] = "grpo"
    signals: ClassVar[frozenset[str]] = frozenset({"group", "step"})
    splittable: ClassVar[bool] = False
    ends_steps: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_positive(self.prompts, "prompts")
        check_positive(self.group, "group")

    @property
    def step_episodes(self) -> int:
        return self.prompts * self.group

    def n_sample(self, remaining: int) -> int:
        return self.prompts

    def expand(self, tasks: NDArray[Any]) -> NDArray[Any]:
        return np.repeat(tasks, self.group, axis=0)

    def step_signals(self, step: int, n: int) -> Mapping[str, NDArray[Any]]:
        # Fresh arrays every step (a teacher may keep what it is given); a few µs per step.
        ids = np.repeat(np.arange(self.prompts, dtype=np.int64), self.group)
        return {"group": ids, "step": np.full(n, step, dtype=np.int64)}

    def text(self) -> str:
        return f"grpo({self.prompts}x{self.group})"

    def config(self) -> dict[str, Any]:
        return {
            "name": "grpo",
            "prompts": self.prompts,
            "group": self.group,
            "step_episodes": self.step_episodes,
            "signals": "{'group': numpy.repeat(numpy.arange(prompts), group), "
            "'step': the step index, one per rollout}; teacher.end_step() after each update",
            "eval": "each eval point is read at the end of the step that reaches or crosses it; "
            "eval_episodes hold those steps' episode counts",
        }


#: Either protocol.
StepProtocol = Plain | GRPO


def check_protocol(protocol: Any, prompts: Any, group: Any, batch_size: Any = 1) -> None:
    """Raise ``ValueError`` naming the bad value of a protocol name and its parameters."""
    if not isinstance(protocol, str) or protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, got {protocol!r}")
    check_positive(prompts, "prompts")
    check_positive(group, "group")
    check_positive(batch_size, "batch_size")
    if protocol == "grpo" and batch_size != 1:
        raise ValueError(
            f"batch_size applies to the plain protocol only, got batch_size={batch_size!r} with "
            "protocol 'grpo' (a grpo step is prompts x group episodes)"
        )


def make_protocol(
    protocol: str = "plain",
    *,
    batch_size: int = 1,
    prompts: int = DEFAULT_PROMPTS,
    group: int = DEFAULT_GROUP,
) -> StepProtocol:
    """The protocol object of a name and its parameters (checked, see :func:`check_protocol`)."""
    check_protocol(protocol, prompts, group, batch_size)
    if protocol == "grpo":
        return GRPO(prompts, group)
    return Plain(batch_size)
