"""Manual curricula: a list of stages, each with a distribution and an exit condition."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum._state import state_class
from autocurriculum.params import (
    InvalidParameterError,
    check_int,
    check_probability,
    check_size,
)
from autocurriculum.spaces import Box, Discrete, Space
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import register

__all__ = ["Schedule", "Stage"]


@state_class
@dataclass(frozen=True, eq=False)
class Stage:
    """One stage of a :class:`Schedule`.

    A stage is plain data (numbers, lists, dicts, arrays), so a schedule's ``state_dict`` and
    checkpoints record its stages and :func:`autocurriculum.load` rebuilds it. Two stages are
    equal when every field holds the same values (a list and an array of the same numbers
    included).

    Exit condition (at most one; the last stage needs none and never ends):

    - ``episodes``: the stage lasts this many episodes;
    - ``threshold``: the stage ends once the mean score of its last ``window`` episodes
      reaches ``threshold``.

    Distribution (at most one; none means uniform over the whole space):

    - ``tasks``: a list of fixed tasks (Box vectors or arm indices), drawn uniformly;
    - ``low``/``high``: a sub-box of a Box space, sampled uniformly;
    - ``weights``: arm weights for a Discrete space, a sequence of ``n`` values or a mapping
      from arm name to weight (missing arms weigh 0).
    """

    episodes: int | None = None
    threshold: float | None = None
    window: int = 100
    tasks: Sequence[Any] | None = None
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    weights: Sequence[float] | Mapping[str, float] | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return all(
            _same_value(getattr(self, f.name), getattr(other, f.name)) for f in fields(Stage)
        )

    __hash__ = None  # type: ignore[assignment]  # fields may be lists: stages are unhashable


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return (
            isinstance(a, Mapping)
            and isinstance(b, Mapping)
            and a.keys() == b.keys()
            and all(_same_value(a[k], b[k]) for k in a)
        )
    try:
        x, y = np.asarray(a), np.asarray(b)
    except ValueError:  # ragged sequences: compare as Python objects
        return bool(a == b)
    return x.shape == y.shape and bool(np.array_equal(x, y))


class _CompiledStage:
    """A validated stage, ready to sample from."""

    def __init__(self, stage: Stage, space: Space, index: int, last: bool):
        where = f"stages[{index}]"
        if stage.episodes is not None and stage.threshold is not None:
            raise InvalidParameterError(
                f"{where} sets both episodes and threshold; choose one exit condition"
            )
        if stage.episodes is not None:
            check_int(f"{where}.episodes", stage.episodes, low=1)
        if stage.threshold is not None:
            check_probability(f"{where}.threshold", stage.threshold)
        check_size(f"{where}.window", stage.window)
        if not last and stage.episodes is None and stage.threshold is None:
            raise InvalidParameterError(
                f"{where} has no exit condition (episodes or threshold); only the last stage may "
                "run forever"
            )
        self.episodes = stage.episodes
        self.threshold = stage.threshold
        self.window = stage.window
        given = [k for k in ("tasks", "low", "weights") if getattr(stage, k) is not None]
        if stage.high is not None and stage.low is None:
            given.append("high")
        if len(given) > 1:
            raise InvalidParameterError(f"{where} sets several distributions {given}; choose one")
        self.tasks: NDArray[Any] | None = None
        self.low: NDArray[np.float64] | None = None
        self.high: NDArray[np.float64] | None = None
        self.probs: NDArray[np.float64] | None = None
        if stage.tasks is not None:
            self.tasks = space.validate_tasks(np.asarray(stage.tasks), name=f"{where}.tasks")
            if len(self.tasks) == 0:
                raise InvalidParameterError(f"{where}.tasks is empty")
        elif stage.low is not None or stage.high is not None:
            if not isinstance(space, Box):
                raise InvalidParameterError(
                    f"{where} gives a sub-box (low/high) but the space is {space!r}"
                )
            sub = Box(stage.low if stage.low is not None else space.low,
                      stage.high if stage.high is not None else space.high, names=space.names)
            space.validate_tasks(np.stack([sub.low, sub.high]), name=f"{where} sub-box bounds")
            self.low, self.high = sub.low, sub.range
        elif stage.weights is not None:
            if not isinstance(space, Discrete):
                raise InvalidParameterError(
                    f"{where} gives arm weights but the space is {space!r}"
                )
            self.probs = _arm_probs(stage.weights, space, where)

    def sample(self, space: Space, rng: np.random.Generator, n: int) -> NDArray[Any]:
        if self.tasks is not None:
            return self.tasks[rng.integers(0, len(self.tasks), size=n)].copy()
        if self.low is not None and self.high is not None:
            return self.low + rng.random((n, self.low.size)) * self.high
        if self.probs is not None:
            return rng.choice(self.probs.size, size=n, p=self.probs).astype(np.int64)
        return space.sample(rng, n)


def _arm_probs(
    weights: Sequence[float] | Mapping[str, float], space: Discrete, where: str
) -> NDArray[np.float64]:
    if isinstance(weights, Mapping):
        arr = np.zeros(space.n)
        for name, w in weights.items():
            arr[space.index(str(name))] = w
    else:
        arr = np.asarray(weights, dtype=np.float64)
        if arr.shape != (space.n,):
            raise InvalidParameterError(
                f"{where}.weights must give one weight per arm ({space.n}), got shape {arr.shape}"
            )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise InvalidParameterError(
            f"{where}.weights must be finite, non-negative and not all zero, got {arr.tolist()!r}"
        )
    return arr / arr.sum()


@register("schedule", expert_params=("stages",))
class Schedule(Teacher[Space]):
    """A manual curriculum: stages in order, each ending after a duration or a score threshold.

    The stages are expert knowledge of the task space: which tasks come first, and when to
    move on. They are plain data, so :meth:`save` records them and :func:`autocurriculum.load`
    rebuilds the schedule.

    Parameters
    ----------
    space : Box or Discrete
        The task space.
    stages : sequence of Stage or dict
        The stages in order (dicts take :class:`Stage`'s fields). The last stage never ends.
    seed : int or None
        Seed of the teacher's generator.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> space = ac.Discrete(["easy", "medium", "hard"])
    >>> teacher = ac.make("schedule", space, seed=0, stages=[
    ...     {"threshold": 0.8, "window": 10, "weights": {"easy": 1.0}},
    ...     {"episodes": 500, "weights": {"easy": 0.2, "medium": 0.8}},
    ...     {},  # then uniform over every arm
    ... ])
    >>> teacher.sample(4).tolist()
    [0, 0, 0, 0]
    >>> teacher.update([0] * 10, [0.9] * 10)
    >>> teacher.metrics()["teacher/stage"]
    1.0

    References
    ----------
    .. [1] Bengio et al., "Curriculum learning", ICML 2009.
    """

    def __init__(
        self,
        space: Space,
        *,
        stages: Sequence[Stage | Mapping[str, Any]],
        seed: int | None = None,
    ):
        super().__init__(space, seed=seed)
        if isinstance(stages, str | bytes) or not isinstance(stages, Sequence) or not stages:
            raise InvalidParameterError(
                f"stages must be a non-empty list of stages, got {stages!r}"
            )
        self.stages = stages
        self._stages = [
            _CompiledStage(_as_stage(s, i), space, i, last=i == len(stages) - 1)
            for i, s in enumerate(stages)
        ]
        self.stage_ = 0
        self.stage_episodes_ = 0
        self.recent_scores_: deque[float] = deque(maxlen=self._stages[0].window)

    def _sample(self, n: int) -> NDArray[Any]:
        return self._stages[self.stage_].sample(self.space, self.rng_, n)

    def _update(
        self, tasks: NDArray[Any], scores: NDArray[np.float64], signals: Mapping[str, Any]
    ) -> None:
        # Stage ends are decided episode by episode, so a batch acts like one-by-one updates.
        for score in scores.tolist():
            stage = self._stages[self.stage_]
            self.stage_episodes_ += 1
            if stage.threshold is not None:
                self.recent_scores_.append(score)
            if self.stage_ < len(self._stages) - 1 and _stage_done(
                stage, self.stage_episodes_, self.recent_scores_
            ):
                self.stage_ += 1
                self.stage_episodes_ = 0
                self.recent_scores_ = deque(maxlen=self._stages[self.stage_].window)

    def _metrics(self) -> dict[str, float]:
        return {"stage": float(self.stage_), "stage_episodes": float(self.stage_episodes_)}


def _stage_done(stage: _CompiledStage, episodes: int, recent: deque[float]) -> bool:
    if stage.episodes is not None:
        return episodes >= stage.episodes
    if stage.threshold is not None:
        return len(recent) >= stage.window and sum(recent) / len(recent) >= stage.threshold
    return False


def _as_stage(stage: Stage | Mapping[str, Any], index: int) -> Stage:
    if isinstance(stage, Stage):
        return stage
    if isinstance(stage, Mapping):
        unknown = set(stage) - set(Stage.__dataclass_fields__)
        if unknown:
            raise InvalidParameterError(
                f"stages[{index}] has unknown keys {sorted(unknown)}; known: "
                f"{sorted(Stage.__dataclass_fields__)}"
            )
        return Stage(**stage)
    raise InvalidParameterError(f"stages[{index}] must be a Stage or a dict, got {stage!r}")
