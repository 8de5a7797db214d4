"""The teacher registry: one frozen :class:`TeacherSpec` per name, ``make`` and ``list_teachers``.

A spec says everything a tool needs to know about a teacher without building it: what builds
it, the space kinds it serves, the signals it reads and needs, the parameters that carry expert
knowledge, whether it is for the benchmark only, and a one-line summary. The runner, the suites,
the CLI and the checkpoints read specs; nothing outside a teacher's own module branches on its
name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from autocurriculum._registry import Registry
from autocurriculum._state import from_plain
from autocurriculum.params import InvalidParameterError
from autocurriculum.signals import SIGNALS
from autocurriculum.spaces import Space, space_from_dict
from autocurriculum.teachers.base import Teacher

__all__ = [
    "TeacherSpec",
    "list_teachers",
    "make",
    "register",
    "register_factory",
    "teacher_from_state_dict",
    "teacher_spec",
    "unregister",
]

SpaceT = TypeVar("SpaceT", bound=Space)
T = TypeVar("T", bound=type[Teacher[Any]])

#: Constructor parameters every teacher takes, which are never expert knowledge.
_COMMON = ("self", "space", "seed")


@dataclass(frozen=True)
class TeacherSpec:
    """Everything known about a registered teacher, without building it.

    Attributes
    ----------
    name : str
        Registry name, as for :func:`make`.
    builder : callable
        ``builder(space, **params) -> Teacher``: the class, or a factory function (``auto``).
    kinds : tuple of str
        Space kinds served: ``"box"``, ``"discrete"``.
    reads : frozenset of str
        Signal names (:data:`autocurriculum.signals.SIGNALS`) the teacher reads.
    needs_one_of : frozenset of str
        ``update`` needs at least one of these signals; empty when it needs none.
    expert_params : tuple of str
        Constructor parameters that carry expert knowledge of the task space.
    required_params : tuple of str
        Constructor parameters without a default: ``make(name, space)`` alone cannot build it.
    benchmark_only : bool
        True for references that read the learner's internals (the oracle); no user builds them.
    summary : str
        One line, for listings.
    """

    name: str
    builder: Callable[..., Teacher[Any]]
    kinds: tuple[str, ...]
    reads: frozenset[str]
    needs_one_of: frozenset[str]
    expert_params: tuple[str, ...]
    required_params: tuple[str, ...]
    benchmark_only: bool
    summary: str

    def __post_init__(self) -> None:
        unknown = (self.reads | self.needs_one_of) - SIGNALS.keys()
        if unknown:
            raise ValueError(
                f"teacher {self.name!r} declares unknown signals {sorted(unknown)}; known: "
                f"{sorted(SIGNALS)}"
            )
        if not self.needs_one_of <= self.reads:
            raise ValueError(
                f"teacher {self.name!r} needs signals it does not read: "
                f"{sorted(self.needs_one_of - self.reads)}"
            )
        bad_kinds = set(self.kinds) - {"box", "discrete"}
        if not self.kinds or bad_kinds:
            raise ValueError(f"teacher {self.name!r}: kinds must be 'box'/'discrete', got "
                             f"{self.kinds!r}")

    @property
    def buildable_by_name(self) -> bool:
        """Whether ``make(name, space)`` alone builds it (no required parameter)."""
        return not self.required_params and not self.benchmark_only


_SPECS: Registry[TeacherSpec] = Registry("teacher")


def _required_params(builder: Callable[..., Any]) -> tuple[str, ...]:
    params = inspect.signature(builder).parameters.values()
    return tuple(
        p.name
        for p in params
        if p.name not in _COMMON
        and p.default is p.empty
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


def register(
    name: str,
    *,
    expert_params: tuple[str, ...] = (),
    benchmark_only: bool = False,
    summary: str | None = None,
) -> Callable[[T], T]:
    """Class decorator: register a teacher class under ``name``.

    The kinds and signals come from the class (``supported_spaces``, ``reads``,
    ``needs_one_of``); the summary defaults to the first line of the class docstring.
    """

    def decorate(cls: T) -> T:
        spec = TeacherSpec(
            name=name,
            builder=cls,
            kinds=tuple(cls.supported_spaces),
            reads=frozenset(cls.reads),
            needs_one_of=frozenset(cls.needs_one_of),
            expert_params=tuple(expert_params),
            required_params=_required_params(cls.__init__),
            benchmark_only=benchmark_only,
            summary=summary or (cls.__doc__ or "").strip().splitlines()[0],
        )
        _SPECS.add(name, spec, spec.summary)
        cls.spec = spec
        return cls

    return decorate


def register_factory(
    name: str,
    factory: Callable[..., Teacher[Any]],
    *,
    summary: str,
    kinds: tuple[str, ...],
    reads: frozenset[str] = frozenset(),
    needs_one_of: frozenset[str] = frozenset(),
    expert_params: tuple[str, ...] = (),
) -> TeacherSpec:
    """Register a function ``factory(space, **params) -> Teacher`` (for example ``auto``)."""
    spec = TeacherSpec(
        name=name,
        builder=factory,
        kinds=kinds,
        reads=reads,
        needs_one_of=needs_one_of,
        expert_params=expert_params,
        required_params=_required_params(factory),
        benchmark_only=False,
        summary=summary,
    )
    _SPECS.add(name, spec, summary)
    return spec


def teacher_spec(name: str) -> TeacherSpec:
    """The spec of the teacher registered as ``name``.

    Raises
    ------
    ValueError
        An unknown name; the message lists the known ones and suggests the closest.

    Examples
    --------
    >>> spec = teacher_spec("sec")
    >>> spec.kinds, sorted(spec.needs_one_of)
    (('discrete',), ['abs_advantage', 'advantage', 'group'])
    """
    return _SPECS.get(name)


def make(name: str, space: SpaceT, **params: Any) -> Teacher[SpaceT]:
    """Build the teacher registered as ``name`` for ``space``.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("random", ac.Box([0, 0], [1, 1]), seed=0)
    >>> teacher.sample(3).shape
    (3, 2)
    """
    spec = _SPECS.get(name)
    missing = [p for p in spec.required_params if p not in params]
    if missing:
        raise InvalidParameterError(
            f"teacher {name!r} needs the parameter(s) {', '.join(missing)}: "
            f"make({name!r}, space, {', '.join(f'{p}=...' for p in missing)})"
        )
    return spec.builder(space, **params)


def list_teachers(kind: str | None = None, *, benchmark_only: bool = False) -> list[str]:
    """Registered teacher names a user can build, optionally only those serving ``kind``.

    ``benchmark_only=True`` adds the benchmark's references (the oracle), which read the
    learner's internals. Teachers with required parameters (``schedule`` needs its stages) are
    listed; their spec's ``required_params`` says what they need.
    """
    if kind is not None and kind not in ("box", "discrete"):
        raise ValueError(f"kind must be 'box', 'discrete' or None, got {kind!r}")
    return [
        n
        for n in _SPECS.names()
        if (kind is None or kind in _SPECS.get(n).kinds)
        and (benchmark_only or not _SPECS.get(n).benchmark_only)
    ]


def unregister(name: str) -> None:
    """Remove a registered teacher (for plugins and tests that register temporary teachers)."""
    spec = _SPECS.get(name)
    _SPECS.remove(name)
    builder = spec.builder
    if isinstance(builder, type) and issubclass(builder, Teacher) and builder.spec is spec:
        builder.spec = None


def teacher_from_state_dict(state_dict: Mapping[str, Any]) -> Teacher[Any]:
    """Build the teacher a :meth:`Teacher.state_dict` describes, and load its state into it.

    Only registered teachers are built, by their spec's builder: nothing else runs.
    """
    if not isinstance(state_dict, Mapping) or "teacher" not in state_dict:
        raise ValueError("a teacher state must be a mapping with key 'teacher' (the spec name)")
    name = state_dict["teacher"]
    if name not in _SPECS:
        raise ValueError(
            f"the state is of teacher {name!r}, which is not registered here. "
            f"{_SPECS.unknown_message(name)}"
        )
    space = space_from_dict(state_dict["space"])
    params = dict(state_dict.get("params", {}))
    unsaved = sorted(k for k, v in params.items() if isinstance(v, dict) and "__unsaved__" in v)
    if unsaved:
        raise ValueError(
            f"teacher {name!r} cannot be rebuilt from its state: parameter(s) {unsaved} were not "
            "plain data and were not saved"
        )
    teacher = make(name, space, **from_plain(params, f"{name} parameters"))
    teacher.load_state_dict(state_dict)
    return teacher
