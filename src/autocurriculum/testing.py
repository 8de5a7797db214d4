"""The teacher conformance suite, :func:`check_teacher`.

In the spirit of scikit-learn's ``check_estimator`` and Gymnasium's ``check_env``: one call
checks that a teacher honours the whole protocol, so a new algorithm is either conformant or
told exactly where it is not.
"""

from __future__ import annotations

import copy
import functools
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autocurriculum._state import is_plain
from autocurriculum.checkpoint import decode, encode
from autocurriculum.signals import SIGNALS, Signals
from autocurriculum.spaces import Box, Discrete
from autocurriculum.teachers.base import Teacher

__all__ = ["ConformanceError", "check_teacher", "default_score_fn", "every_signal"]

ScoreFn = Callable[[NDArray[Any], int], NDArray[np.float64]]
SignalFn = Callable[[NDArray[Any], NDArray[np.float64]], Signals]


class ConformanceError(AssertionError):
    """A teacher broke the protocol; the message says which check and how."""


def default_score_fn(space: Box | Discrete) -> ScoreFn:
    """A deterministic synthetic score that depends on the task and drifts with time.

    It gives teachers something to learn from (scores differ across the space and change as
    the run goes on), without any randomness of its own.
    """
    if isinstance(space, Box):

        def box_score(tasks: NDArray[Any], step: int) -> NDArray[np.float64]:
            u = space.to_unit(tasks)
            phase = u @ np.linspace(1.0, 2.0, space.ndim) + 0.01 * step
            return 0.5 + 0.5 * np.sin(3.0 * phase) * np.clip(u[:, 0] + 0.1, 0.0, 1.0)

        return box_score

    def arm_score(tasks: NDArray[Any], step: int) -> NDArray[np.float64]:
        return ((tasks * 7 + step) % 11) / 10.0

    return arm_score


def check_teacher(
    teacher: Teacher,
    *,
    episodes: int = 640,
    batch_size: int = 16,
    score_fn: ScoreFn | None = None,
    signal_fn: SignalFn | None = None,
) -> None:
    """Check that ``teacher`` honours the teacher protocol.

    The teacher passed in is not modified: every check works on fresh copies built from its
    class, space and parameters.

    Checks
    ------
    - samples lie in the space, with the right dtype and shape, batch and single;
    - the same seed gives the same stream;
    - ``get_params()`` returns the constructor's arguments unchanged (the same objects);
    - ``sample`` learns nothing: a teacher given extra ``sample`` calls between the same
      updates behaves identically once its sampling generator is synchronised;
    - ``state_dict()`` is plain data, and every learned attribute exists from construction;
    - a ``state_dict`` round trip mid-run, through the checkpoint file format (and for a
      registered teacher, rebuilt from the state alone), continues identically;
    - the teacher pickles mid-run and continues identically;
    - ``clone`` gives a fresh, unfitted copy with the same parameters;
    - ``sample()`` equals ``sample(1)[0]``, and one batch update equals one-by-one updates;
    - ``metrics`` returns finite floats;
    - bad input raises ``ValueError`` and leaves the teacher unchanged: tasks outside the
      space, wrong dtype or shape, NaN, infinite or out-of-range scores, mismatched lengths,
      bad ``n``, unknown, missing, malformed or bare-array signals, and a ``state_dict`` from
      another teacher or space, or with missing, unexpected or mistyped entries.

    Signals: by default every other round passes every signal of the vocabulary (so teachers
    read theirs and ignore the rest) and the other rounds pass none; a teacher that needs a
    signal gets them every round. A ``step`` signal (the round number) is added to whatever
    ``signal_fn`` returns when the teacher reads ``step``.

    Parameters
    ----------
    teacher : Teacher
        An instance; its class, space and parameters define what is checked.
    episodes : int
        Episodes per simulated run; long enough to pass the teacher's bootstrap and refits.
    batch_size : int
        Tasks per ``sample``/``update`` round.
    score_fn : callable, optional
        ``score_fn(tasks, step) -> scores`` in [0, 1]. Defaults to :func:`default_score_fn`.
    signal_fn : callable, optional
        ``signal_fn(tasks, scores) -> signals``, a mapping of signal names to values.
        Defaults to the rule described under Signals.

    Raises
    ------
    AssertionError
        A ``ConformanceError`` naming the failed check.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> from autocurriculum.testing import check_teacher
    >>> check_teacher(ac.make("random", ac.Box([0, 0], [1, 2]), seed=0))
    """
    space = teacher.space
    if not isinstance(space, Box | Discrete):
        raise ValueError(f"check_teacher supports Box and Discrete spaces, got {space!r}")
    score = score_fn or default_score_fn(space)
    run = _Run(teacher, score, signal_fn, batch_size)
    rounds = max(2, episodes // batch_size)
    half = rounds // 2

    _check_params_unchanged(run)
    _check_samples_in_space(run, rounds)
    _check_seed_reproducible(run, rounds)
    _check_sample_does_not_learn(run, half, rounds - half)
    _check_state_is_plain(run, half)
    _check_state_round_trip(run, half, rounds - half)
    _check_pickle(run, half, rounds - half)
    _check_clone(run, half)
    _check_single_matches_batch(run, half)
    _check_metrics(run, half)
    _check_bad_input(run, half)


def every_signal(tasks: NDArray[Any], scores: NDArray[np.float64]) -> dict[str, NDArray[Any]]:
    """A value for every signal of the vocabulary, derived from the scores.

    Group ids pair consecutive tasks, as a GRPO step with two rollouts per prompt would.
    """
    n = len(scores)
    values: dict[str, NDArray[Any]] = {
        "abs_advantage": np.abs(scores - 0.5),
        "advantage": scores - 0.5,
        "group": np.arange(n, dtype=np.int64) // 2,
        "value_loss": np.abs(scores - 0.3),
        "value": scores.copy(),
        "progress": scores - 0.5,
        "cost": 1.0 + scores,
    }
    missing = SIGNALS.keys() - values.keys() - {"step"}
    assert not missing, f"every_signal has no value for {sorted(missing)}"
    return values


# ----------------------------------------------------------------- harness
class _Run:
    """Builds fresh teachers like the one under test and drives them with synthetic scores."""

    def __init__(
        self,
        prototype: Teacher,
        score_fn: ScoreFn,
        signal_fn: SignalFn | None,
        batch_size: int,
    ):
        self.prototype = prototype
        self.score_fn = score_fn
        self.signal_fn = signal_fn
        self.batch_size = batch_size
        self.name = type(prototype).__name__

    def fresh(self, seed: int = 12345) -> Teacher:
        params = copy.deepcopy(self.prototype.get_params())
        params["seed"] = seed
        return type(self.prototype)(self.prototype.space, **params)

    def feedback(self, tasks: NDArray[Any], step: int) -> tuple[NDArray[np.float64], Signals]:
        scores = np.asarray(self.score_fn(tasks, step), dtype=np.float64)
        reads, needs = self.prototype._signal_names()
        signals: Signals
        if self.signal_fn is not None:
            signals = self.signal_fn(tasks, scores)
        elif needs or step % 2 == 0:
            signals = every_signal(tasks, scores)
        else:
            signals = None
        if "step" in reads and (signals is None or "step" not in signals):
            signals = {**(signals or {}), "step": np.full(len(scores), step, dtype=np.int64)}
        return scores, signals

    def drive(
        self,
        teacher: Teacher,
        rounds: int,
        start: int = 0,
        inspect: Callable[[int, NDArray[Any]], None] | None = None,
    ) -> list[NDArray[Any]]:
        """Run ``rounds`` sample/update rounds; return every sampled batch.

        ``inspect(round, batch)`` sees each batch before the teacher is told its outcome.
        """
        stream = []
        for step in range(start, start + rounds):
            tasks = teacher.sample(self.batch_size)
            stream.append(np.array(tasks, copy=True))
            if inspect is not None:
                inspect(step - start, stream[-1])
            scores, signals = self.feedback(tasks, step)
            teacher.update(tasks, scores, signals)
        return stream

    def fail(self, check: str, detail: str) -> None:
        raise ConformanceError(f"{self.name} fails check '{check}': {detail}")

    def same_stream(
        self, check: str, a: list[NDArray[Any]], b: list[NDArray[Any]], *, exact: bool = True
    ) -> None:
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same = np.array_equal(x, y) if exact else np.allclose(x, y, rtol=1e-9, atol=1e-12)
            if not same:
                self.fail(check, f"streams diverge at round {i}: {x[:3]!r} vs {y[:3]!r}")


# ------------------------------------------------------------------ checks
def _check_samples_in_space(run: _Run, rounds: int) -> None:
    teacher = run.fresh()
    space = teacher.space

    def inspect(i: int, batch: NDArray[Any]) -> None:
        expected = (run.batch_size, *space.task_shape)
        if batch.shape != expected:
            run.fail("samples in space", f"sample({run.batch_size}) has shape {batch.shape}, "
                     f"expected {expected}")
        if isinstance(space, Discrete) and batch.dtype.kind not in "iu":
            run.fail("samples in space", f"arm indices must be integers, got {batch.dtype}")
        if not space.contains(batch):
            run.fail("samples in space", f"round {i} sampled tasks outside {space!r}: {batch!r}")

    run.drive(teacher, rounds, inspect=inspect)
    one = teacher.sample()
    if isinstance(space, Discrete):
        if not isinstance(one, int) or not space.contains(one):
            run.fail("samples in space", f"sample() must return an int arm in range, got {one!r}")
    elif np.shape(one) != space.task_shape or not space.contains(one):
        run.fail("samples in space", f"sample() returned {one!r}, expected one task in {space!r}")


def _check_seed_reproducible(run: _Run, rounds: int) -> None:
    run.same_stream("same seed, same stream", run.drive(run.fresh(), rounds),
                    run.drive(run.fresh(), rounds))


def _check_params_unchanged(run: _Run) -> None:
    params = copy.deepcopy(run.prototype.get_params())
    teacher = type(run.prototype)(run.prototype.space, **params)
    got = teacher.get_params()
    if set(got) != set(params):
        run.fail("parameters unchanged", f"get_params() keys {sorted(got)} differ from the "
                 f"constructor's {sorted(params)}")
    for key, value in params.items():
        if got[key] is not value:
            run.fail("parameters unchanged", f"get_params()[{key!r}] is {got[key]!r}, not the "
                     f"object passed to the constructor ({value!r}): store parameters as given")


def _check_sample_does_not_learn(run: _Run, first: int, rest: int) -> None:
    plain, busy = run.fresh(), run.fresh()
    extra = np.random.default_rng(7)
    for step in range(first):
        for _ in range(int(extra.integers(0, 3))):
            busy.sample(int(extra.integers(1, run.batch_size + 1)))
        tasks = plain.sample(run.batch_size)
        scores, signals = run.feedback(tasks, step)
        plain.update(tasks, scores, signals)
        busy.update(tasks, scores, signals)
    busy.rng_.bit_generator.state = plain.rng_.bit_generator.state
    run.same_stream("sample learns nothing", run.drive(plain, rest, start=first),
                    run.drive(busy, rest, start=first))


def _check_state_is_plain(run: _Run, first: int) -> None:
    teacher = run.fresh()
    at_start = set(teacher._learned_attributes())
    run.drive(teacher, first)
    later = set(teacher._learned_attributes())
    if later != at_start:
        run.fail("state is plain data", f"learned attributes {sorted(later ^ at_start)} do not "
                 "exist from construction; create every learned attribute in __init__")
    state = teacher.state_dict()
    if not is_plain(state):
        run.fail("state is plain data", "state_dict() holds values that are not numbers, "
                 "strings, lists, dicts or numpy arrays")


def _check_state_round_trip(run: _Run, first: int, rest: int) -> None:
    original = run.fresh()
    run.drive(original, first)
    state = decode(encode(original.state_dict()), "check_teacher")
    frozen = pickle.dumps(state)
    resumed = run.fresh(seed=999)
    resumed.load_state_dict(state)
    rebuilt = None
    unsaved = any(isinstance(v, dict) and "__unsaved__" in v for v in state["params"].values())
    if type(original).registered_spec() is not None and not unsaved:
        from autocurriculum.teachers.registry import teacher_from_state_dict

        rebuilt = teacher_from_state_dict(state)
    expected = run.drive(original, rest, start=first)
    run.same_stream("state_dict round trip", expected, run.drive(resumed, rest, start=first))
    if rebuilt is not None:
        run.same_stream("rebuilt from its state alone", expected,
                        run.drive(rebuilt, rest, start=first))
    if pickle.dumps(state) != frozen:
        run.fail("state_dict round trip", "the loaded state dict was mutated by the teacher "
                 "(load_state_dict must copy, not alias)")


def _check_pickle(run: _Run, first: int, rest: int) -> None:
    original = run.fresh()
    run.drive(original, first)
    try:
        copy_ = pickle.loads(pickle.dumps(original))
    except Exception as err:  # re-raised with context: which teacher, which check
        raise ConformanceError(f"{run.name} fails check 'pickle': {err!r}") from err
    run.same_stream("pickle", run.drive(original, rest, start=first),
                    run.drive(copy_, rest, start=first))


def _check_clone(run: _Run, first: int) -> None:
    trained = run.fresh()
    run.drive(trained, first)
    clone = trained.clone()
    if type(clone) is not type(trained):
        run.fail("clone", f"clone() returned {type(clone).__name__}")
    if clone.n_updates_ != 0:
        run.fail("clone", f"clone() must be unfitted, has n_updates_={clone.n_updates_}")
    params, cloned = trained.get_params(), clone.get_params()
    if set(params) != set(cloned):
        run.fail("clone", f"clone() parameters {sorted(cloned)} differ from {sorted(params)}")
    run.same_stream("clone", run.drive(clone, first), run.drive(run.fresh(), first))


def _check_single_matches_batch(run: _Run, first: int) -> None:
    a, b = run.fresh(), run.fresh()
    run.drive(a, first)
    run.drive(b, first)
    single, batch = a.sample(), b.sample(1)[0]
    if not np.array_equal(np.asarray(single), np.asarray(batch)):
        run.fail("batch and single agree", f"sample() gave {single!r}, sample(1)[0] gave {batch!r}")
    tasks = a.sample(run.batch_size)
    b.sample(run.batch_size)
    scores, signals = run.feedback(tasks, first)
    b.update(tasks, scores, signals)
    for i in range(len(tasks)):
        one_signal = _index_signals(signals, i)
        a.update(tasks[i : i + 1], scores[i : i + 1], one_signal)
    run.same_stream("batch and single agree", run.drive(a, first, start=first + 1),
                    run.drive(b, first, start=first + 1), exact=False)


def _index_signals(signals: Signals, i: int) -> Signals:
    if signals is None:
        return None
    return {k: np.asarray(v)[i : i + 1] for k, v in signals.items()}


def _check_metrics(run: _Run, first: int) -> None:
    teacher = run.fresh()
    run.drive(teacher, first)
    metrics = teacher.metrics()
    if not isinstance(metrics, dict):
        run.fail("metrics", f"metrics() must return a dict, got {type(metrics).__name__}")
    for key, value in metrics.items():
        if not isinstance(key, str) or not isinstance(value, float) or not np.isfinite(value):
            run.fail("metrics", f"metrics() entries must be str -> finite float, got {key!r}: "
                     f"{value!r}")


def _bad_updates(run: _Run, teacher: Teacher) -> dict[str, tuple[Any, Any, Any]]:
    space = teacher.space
    tasks = teacher.space.sample(np.random.default_rng(0), 3)
    good = np.full(3, 0.5)
    if isinstance(space, Box):
        outside = tasks.copy()
        outside[1, -1] = space.high[-1] + 1.0
        wrong_dtype: Any = np.array([["a"] * space.ndim] * 3)
        wrong_shape: Any = np.zeros((3, space.ndim + 1))
    else:
        outside = tasks.copy()
        outside[1] = space.n
        wrong_dtype = tasks + 0.5
        wrong_shape = np.zeros((3, 2), dtype=np.int64)
    return {
        "task outside the space": (outside, good, None),
        "tasks of the wrong dtype": (wrong_dtype, good, None),
        "tasks of the wrong shape": (wrong_shape, good, None),
        "NaN score": (tasks, np.array([0.5, np.nan, 0.5]), None),
        "infinite score": (tasks, np.array([0.5, np.inf, 0.5]), None),
        "score above 1": (tasks, np.array([0.5, 1.5, 0.5]), None),
        "negative score": (tasks, np.array([0.5, -0.1, 0.5]), None),
        "fewer scores than tasks": (tasks, good[:2], None),
        "scores as strings": (tasks, np.array(["a", "b", "c"]), None),
        "signals of the wrong length": (tasks, good, {"value": np.zeros(4)}),
        "an unknown signal": (tasks, good, {"valu_loss": np.zeros(3)}),
        "signals as a bare array": (tasks, good, np.zeros(3)),
        "group ids that are not integers": (tasks, good, {"group": np.full(3, 0.5)}),
        "a NaN signal": (tasks, good, {"value": np.array([0.0, np.nan, 0.0])}),
    }


def _check_bad_input(run: _Run, first: int) -> None:
    teacher, twin = run.fresh(), run.fresh()
    run.drive(teacher, first)
    run.drive(twin, first)
    needs = teacher._signal_names()[1]
    bad = _bad_updates(run, teacher)
    valid_tasks = teacher.space.sample(np.random.default_rng(1), 3)
    if needs:
        bad["no signals, though one of " + ", ".join(sorted(needs)) + " is needed"] = (
            bad["NaN score"][0], np.full(3, 0.5), {"value": np.zeros(3)})
    for what, (tasks, scores, signals) in bad.items():
        if signals is None:
            # Valid signals, so that the bad tasks or scores are what gets rejected.
            signals = run.feedback(valid_tasks, first)[1]
        _expect_value_error(run, what, functools.partial(teacher.update, tasks, scores, signals))
    for n in (0, -1, 1.5, "3"):
        _expect_value_error(run, f"sample({n!r})", functools.partial(teacher.sample, n))

    state = teacher.state_dict()
    foreign = dict(state, teacher="some.other.Teacher")
    _expect_value_error(run, "state_dict from another class",
                        lambda: teacher.load_state_dict(foreign))
    other_space = dict(state, space=_other_space(teacher.space).to_dict())
    _expect_value_error(run, "state_dict from another space",
                        lambda: teacher.load_state_dict(other_space))
    _expect_value_error(run, "state_dict that is not a state dict",
                        lambda: teacher.load_state_dict({"weights": [1, 2]}))
    inner = dict(state["state"])
    some_key = sorted(inner)[0]
    missing = dict(state, state={k: v for k, v in inner.items() if k != some_key})
    _expect_value_error(run, f"state_dict without {some_key!r}",
                        lambda: teacher.load_state_dict(missing))
    extra = dict(state, state={**inner, "surprise_": 1})
    _expect_value_error(run, "state_dict with an unexpected entry",
                        lambda: teacher.load_state_dict(extra))
    mistyped = dict(state, state={**inner, "n_updates_": "many"})
    _expect_value_error(run, "state_dict with a value of the wrong kind",
                        lambda: teacher.load_state_dict(mistyped))
    run.same_stream("bad input leaves the teacher unchanged", run.drive(teacher, first, first),
                    run.drive(twin, first, first))


def _other_space(space: Box | Discrete) -> Box | Discrete:
    if isinstance(space, Box):
        return Box(space.low, space.high + 1.0, names=space.names)
    return Discrete(space.n + 1)


def _expect_value_error(run: _Run, what: str, call: Callable[[], object]) -> None:
    try:
        call()
    except ValueError as err:
        if not str(err):
            run.fail("bad input", f"{what} raised a ValueError with an empty message")
        return
    except Exception as err:  # re-raised with context: which teacher, which input
        raise ConformanceError(
            f"{run.name} fails check 'bad input': {what} raised {type(err).__name__}: {err} "
            "instead of ValueError"
        ) from err
    run.fail("bad input", f"{what} was accepted; expected a ValueError")
