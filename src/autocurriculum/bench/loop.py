"""The training loop: a teacher teaches a learner under a step protocol, with callbacks.

:func:`run_loop` is the one loop of the benchmark. The runner's jobs call it, and so do the
scripts in ``benchmarks/`` that need more than the runner records (they add
:class:`Callback` objects). One call:

1. evaluates the learner (``learner.evaluate()``) at x = 0;
2. plays training steps of its protocol (:mod:`autocurriculum.bench.protocols`) until x reaches
   the next eval point, evaluates, and so on to the last point. x counts the tasks trained on
   (``axis="episodes"``) or the learner's own unit (``axis="units"``: ``learner.consumed()``,
   environment steps or examples). A step that cannot be split (grpo, or any step on the units
   axis) runs past the point, and the evaluation records the x actually reached;
3. records the first x at which ``evaluate() >= best_possible()`` (full mastery): checked after
   every step (``mastery="step"``, exact) or at the eval points only (``mastery="eval"``, for
   learners whose evaluation is not cheap).

Timing: CPU time from ``time.process_time_ns`` (all threads of the process). Three clock reads
per step attribute the time to the teacher (``sample``, ``update`` and ``end_step``) and the
learner (``train``; under grpo also the repeat of the prompts). Each read costs about 0.6 µs of
CPU on Linux; it is measured once per call and subtracted from each timed interval. Callbacks and
mastery checks run between a clock read and a fresh one, so neither side is charged for them.

The published one-task-at-a-time protocol (:class:`~autocurriculum.bench.protocols.Plain` with
``batch_size=1`` on the episodes axis) goes through the single-task calls (``sample()``,
``learner.train_one(task)``, ``update(task, score)``) in a loop kept free of attribute lookups:
there the runner's own cost is measured against the student's (``benchmarks/bench_runner.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autocurriculum.bench.learner import Learner
from autocurriculum.bench.protocols import Plain, StepProtocol

__all__ = ["AXES", "Callback", "LoopResult", "LoopState", "run_loop"]

#: What the x-axis of a loop counts: tasks trained on, or the learner's own unit.
AXES = ("episodes", "units")
Clock = Callable[[], int]


@dataclass
class LoopState:
    """What callbacks see: the live teacher and learner, and the loop's counters.

    Callbacks may read the teacher and learner (``learner.evaluate()``, ``teacher.metrics()``)
    but must not train either: anything they change breaks the run's reproducibility.

    Attributes
    ----------
    teacher, learner, protocol
        The objects of the run.
    episodes : int
        Tasks trained on so far.
    steps : int
        Training steps played so far.
    tasks, scores : numpy.ndarray or None
        In :meth:`Callback.on_step`: the batch the learner just trained on, as played (after a
        grpo repeat; ``(1, ...)`` on the single-task path), and its scores.
    evaluation : float
        The last ``learner.evaluate()``.
    evaluations : int
        Evaluations made so far; in :meth:`Callback.on_eval`, the index of the current one + 1.
    first_best : int or None
        Episodes at the first full mastery, once found.
    teacher_ns, learner_ns : int
        Raw CPU ns of the teacher and the learner so far, clock reads included (see
        :meth:`teacher_cpu_ns`); current in ``on_step`` and ``on_eval``.
    timer_ns : float
        The measured cost of one clock read.
    stop : bool
        Set when a callback asked to stop.
    """

    teacher: Any
    learner: Learner
    protocol: StepProtocol
    episodes: int = 0
    steps: int = 0
    tasks: NDArray[Any] | None = None
    scores: NDArray[np.float64] | None = None
    evaluation: float = math.nan
    evaluations: int = 0
    first_best: int | None = None
    teacher_ns: int = 0
    learner_ns: int = 0
    timer_ns: float = 0.0
    stop: bool = False

    def teacher_cpu_ns(self) -> float:
        """Teacher CPU ns so far, the clock reads subtracted (two intervals per step)."""
        return max(0.0, self.teacher_ns - 2 * self.steps * self.timer_ns)

    def learner_cpu_ns(self) -> float:
        """Learner CPU ns so far, the clock reads subtracted (one interval per step)."""
        return max(0.0, self.learner_ns - self.steps * self.timer_ns)


class Callback:
    """Hooks into :func:`run_loop`, in the style of Stable-Baselines3's callbacks.

    Override what you need; the defaults do nothing. ``on_step`` and ``on_eval`` may return
    ``False`` to stop the run (after that step, or at that eval point); anything else continues.
    A step that stops the run but reaches an eval point is still evaluated there.
    Only callbacks that override ``on_step`` are called after every step, so a run whose callbacks
    only watch the eval points keeps the loop's fast path.

    Examples
    --------
    Stop as soon as the learner has mastered everything it can:

    >>> import autocurriculum as ac
    >>> from autocurriculum.bench.loop import Callback, run_loop
    >>> from autocurriculum.bench.students import ArmsStudent
    >>> class StopWhenMastered(Callback):
    ...     def on_step(self, state):
    ...         return state.first_best is None
    >>> student = ArmsStudent(n_arms=3, learn_rate=0.5, shuffle=False, seed=0)
    >>> teacher = ac.make("oracle", student.space, student=student, seed=0)
    >>> result = run_loop(teacher, student, eval_at=[0, 100], mastery="step",
    ...                   callbacks=[StopWhenMastered()])
    >>> result.first_best, result.episodes, result.stopped
    (6, 6, True)
    """

    def on_start(self, state: LoopState) -> None:
        """Before the first step, after the evaluation at x = 0."""

    def on_step(self, state: LoopState) -> bool | None:
        """After every training step (``state.tasks``/``state.scores`` hold its batch)."""
        return None

    def on_eval(self, state: LoopState) -> bool | None:
        """After every evaluation, the one at x = 0 included."""
        return None

    def on_end(self, state: LoopState) -> None:
        """When the loop ends, at the last eval point or where a callback stopped it."""


@dataclass
class LoopResult:
    """What :func:`run_loop` measured.

    Attributes
    ----------
    eval_episodes, eval_units : numpy.ndarray of int64
        Episodes and learner units at each evaluation (the first is the start).
    evaluations : numpy.ndarray of float64
        ``learner.evaluate()`` at each evaluation.
    best_possible : float
        ``learner.best_possible()``, read once.
    first_best : int or None
        Episodes at the first full mastery; ``None`` if never within the run.
    first_best_units : int or None
        Learner units at that point.
    episodes, units, steps : int
        Totals of the run.
    teacher_ns, learner_ns : float
        CPU ns, the clock reads subtracted.
    teacher_ns_raw, learner_ns_raw : int
        The same, clock reads included.
    timer_ns : float
        The measured cost of one clock read.
    stopped : bool
        Whether a callback ended the run before its last eval point.
    tasks : numpy.ndarray or None
        Every task trained on, in order (``log_tasks=True``).
    """

    eval_episodes: NDArray[np.int64]
    eval_units: NDArray[np.int64]
    evaluations: NDArray[np.float64]
    best_possible: float
    first_best: int | None
    first_best_units: int | None
    episodes: int
    units: int
    steps: int
    teacher_ns: float
    learner_ns: float
    teacher_ns_raw: int
    learner_ns_raw: int
    timer_ns: float
    stopped: bool
    tasks: NDArray[Any] | None = field(default=None, repr=False)


def run_loop(
    teacher: Any,
    learner: Learner,
    protocol: StepProtocol | None = None,
    *,
    eval_at: ArrayLike,
    axis: Literal["episodes", "units"] = "episodes",
    mastery: Literal["step", "eval"] = "eval",
    callbacks: Sequence[Callback] = (),
    log_tasks: bool = False,
) -> LoopResult:
    """Teach ``learner`` with ``teacher`` under ``protocol`` up to the last of ``eval_at``.

    Parameters
    ----------
    teacher : Teacher
        Built for ``learner.space``.
    learner : Learner
        What is taught; a :class:`~autocurriculum.bench.learner.SingleTaskLearner` takes the
        fast path under ``Plain(batch_size=1)`` on the episodes axis.
    protocol : Plain or GRPO, optional
        The step protocol; ``Plain()`` (one task at a time) by default.
    eval_at : array_like of int
        Increasing x values at which to evaluate, starting at 0; the last ends the run.
    axis : {"episodes", "units"}
        What x counts: tasks trained on, or ``learner.consumed()``.
    mastery : {"step", "eval"}
        Check full mastery after every step, or at the eval points only.
    callbacks : sequence of Callback
    log_tasks : bool
        Keep every task trained on (``LoopResult.tasks``).

    Returns
    -------
    LoopResult

    Raises
    ------
    ValueError
        Bad ``eval_at``, ``axis`` or ``mastery`` (the message names the value).
    """
    protocol = Plain() if protocol is None else protocol
    points = _check_points(eval_at)
    if axis not in AXES:
        raise ValueError(f"axis must be one of {list(AXES)}, got {axis!r}")
    if mastery not in ("step", "eval"):
        raise ValueError(f"mastery must be 'step' or 'eval', got {mastery!r}")
    clock = time.process_time_ns
    state = LoopState(teacher, learner, protocol, timer_ns=_timer_cost_ns(clock))
    best = float(learner.best_possible())
    step_cbs = [cb for cb in callbacks if type(cb).on_step is not Callback.on_step]
    evals: list[tuple[int, int, float]] = []
    first_best_units: int | None = None

    def evaluate() -> None:
        nonlocal first_best_units
        state.evaluation = value = float(learner.evaluate())
        units = int(learner.consumed())
        evals.append((state.episodes, units, value))
        state.evaluations += 1
        if state.first_best is None and value >= best:
            state.first_best = state.episodes
            first_best_units = units
        for cb in callbacks:
            if cb.on_eval(state) is False:
                state.stop = True

    def after_step(tasks: Any, scores: Any, t_ns: int, s_ns: int) -> bool:
        """Between steps (untimed): mastery check and step callbacks; True leaves the chunk."""
        nonlocal first_best_units
        state.teacher_ns = t_ns
        state.learner_ns = s_ns
        leave = False
        if check and learner.evaluate() >= best:
            state.first_best = state.episodes
            first_best_units = int(learner.consumed())
            leave = True  # the chunk goes on without the check
        if step_cbs:
            state.tasks = tasks
            state.scores = scores
            for cb in step_cbs:
                if cb.on_step(state) is False:
                    state.stop = True
            leave = leave or state.stop
        return leave

    log: list[Any] | None = [] if log_tasks else None
    single = (
        isinstance(protocol, Plain)
        and protocol.batch_size == 1
        and axis == "episodes"
        and callable(getattr(learner, "train_one", None))
    )
    evaluate()
    for cb in callbacks:
        cb.on_start(state)
    check = mastery == "step" and state.first_best is None
    for point in points[1:]:
        if state.stop:
            break
        target = int(point)
        while not state.stop and _x(state, learner, axis) < target:
            hook = after_step if (check or step_cbs) else None
            if single:
                _single_steps(state, target - state.episodes, clock, log, hook)
            else:
                _generic_step(state, target - state.episodes, axis, clock, log, hook)
            if check and state.first_best is not None:
                check = False
        if _x(state, learner, axis) >= target:  # reached, even by a step that asked to stop
            evaluate()
    for cb in callbacks:
        cb.on_end(state)

    arr = np.array(evals, dtype=np.float64).reshape(-1, 3)
    return LoopResult(
        eval_episodes=arr[:, 0].astype(np.int64),
        eval_units=arr[:, 1].astype(np.int64),
        evaluations=arr[:, 2].copy(),
        best_possible=best,
        first_best=state.first_best,
        first_best_units=first_best_units,
        episodes=state.episodes,
        units=int(learner.consumed()),
        steps=state.steps,
        teacher_ns=state.teacher_cpu_ns(),
        learner_ns=state.learner_cpu_ns(),
        teacher_ns_raw=state.teacher_ns,
        learner_ns_raw=state.learner_ns,
        timer_ns=state.timer_ns,
        stopped=state.evaluations < len(points),
        tasks=None if log is None else _stack(log, single, learner),
    )


Hook = Callable[[Any, Any, int, int], bool]


def _single_steps(
    state: LoopState, n: int, clock: Clock, log: list[Any] | None, hook: Hook | None
) -> None:
    """Up to ``n`` one-task steps through the single-task calls; stops early when ``hook`` says.

    The hot path of the published protocol: no attribute lookups in the loop, and one test of
    ``hook`` per step when there is none.
    """
    sample = state.teacher.sample
    update = state.teacher.update
    play = state.learner.train_one  # type: ignore[attr-defined]
    record = log.append if log is not None else _ignore
    t_ns = state.teacher_ns
    s_ns = state.learner_ns
    t0 = clock()
    for _ in range(n):
        task = sample()
        t1 = clock()
        record(task)
        score = play(task)
        t2 = clock()
        update(task, score)
        t3 = clock()
        t_ns += (t1 - t0) + (t3 - t2)
        s_ns += t2 - t1
        if hook is None:
            t0 = t3
            continue
        state.episodes += 1
        state.steps += 1
        if hook(np.asarray(task)[None], np.array([score]), t_ns, s_ns):
            return
        t0 = clock()
    if hook is None:  # then all n steps ran
        state.episodes += n
        state.steps += n
    state.teacher_ns = t_ns
    state.learner_ns = s_ns


def _ignore(task: Any) -> None:
    return None


def _generic_step(
    state: LoopState,
    remaining: int,
    axis: str,
    clock: Clock,
    log: list[Any] | None,
    hook: Hook | None,
) -> None:
    """One step of the protocol: sample, expand, train, update (and end the step)."""
    teacher = state.teacher
    protocol = state.protocol
    # On the units axis the episodes left to a point are unknown: steps are never cut short.
    k = protocol.n_sample(remaining if axis == "episodes" else protocol.step_episodes)
    t0 = clock()
    tasks = teacher.sample(k)
    t1 = clock()
    batch = protocol.expand(tasks)
    if log is not None:
        log.append(batch)
    scores = state.learner.train(batch)
    t2 = clock()
    teacher.update(batch, scores, protocol.step_signals(state.steps, len(batch)))
    if protocol.ends_steps:
        teacher.end_step()
    t3 = clock()
    state.teacher_ns += (t1 - t0) + (t3 - t2)
    state.learner_ns += t2 - t1
    state.episodes += len(batch)
    state.steps += 1
    if hook is not None:
        hook(batch, scores, state.teacher_ns, state.learner_ns)


def _x(state: LoopState, learner: Learner, axis: str) -> int:
    return state.episodes if axis == "episodes" else int(learner.consumed())


def _check_points(eval_at: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(eval_at)
    if (
        arr.ndim != 1
        or len(arr) < 2
        or arr.dtype.kind not in "iu"
        or arr[0] != 0
        or np.any(np.diff(arr) <= 0)
    ):
        raise ValueError(
            "eval_at must be increasing ints starting at 0, with at least one more point, got "
            f"{np.asarray(eval_at).tolist()!r}"
        )
    return arr.astype(np.int64)


def _timer_cost_ns(clock: Clock, n: int = 2000) -> float:
    deltas = np.empty(n, dtype=np.int64)
    for i in range(n):
        a = clock()
        b = clock()
        deltas[i] = b - a
    return float(np.median(deltas))


def _stack(log: list[Any], single: bool, learner: Learner) -> NDArray[Any]:
    if not log:
        return np.empty((0, *learner.space.task_shape))
    if single:
        return np.asarray(log)
    return np.concatenate([np.asarray(x) for x in log], axis=0)
