"""The teacher registry: ``make(name, space, **params)`` and ``list_teachers()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from autocurriculum._registry import Registry
from autocurriculum.spaces import Space
from autocurriculum.teachers.base import Teacher

__all__ = [
    "list_teachers",
    "make",
    "register",
    "register_factory",
    "teacher_factory",
    "teacher_kinds",
    "teacher_summary",
    "unregister",
]

_TEACHERS: Registry[Callable[..., Teacher]] = Registry("teacher")
_KINDS: dict[str, tuple[str, ...]] = {}

T = TypeVar("T", bound=type[Teacher])


def register(
    name: str, *, summary: str | None = None, kinds: tuple[str, ...] | None = None
) -> Callable[[T], T]:
    """Class decorator: register a teacher under ``name``.

    The summary defaults to the first line of the class docstring; the space kinds default to
    the class's ``supported_spaces``.
    """

    def decorate(cls: T) -> T:
        doc = summary or (cls.__doc__ or "").strip().splitlines()[0]
        cls.name = name
        _TEACHERS.add(name, cls, doc)
        _KINDS[name] = kinds or cls.supported_spaces
        return cls

    return decorate


def register_factory(
    name: str, factory: Callable[..., Teacher], *, summary: str, kinds: tuple[str, ...]
) -> None:
    """Register a function ``factory(space, **params) -> Teacher`` (for example ``auto``)."""
    _TEACHERS.add(name, factory, summary)
    _KINDS[name] = kinds


def make(name: str, space: Space, **params: Any) -> Teacher:
    """Build the teacher registered as ``name`` for ``space``.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("random", ac.Box([0, 0], [1, 1]), seed=0)
    >>> teacher.sample(3).shape
    (3, 2)
    """
    return _TEACHERS.get(name)(space, **params)


def list_teachers(kind: str | None = None) -> list[str]:
    """Registered teacher names, optionally only those serving a space ``kind``."""
    return [n for n in _TEACHERS.names() if kind is None or kind in _KINDS[n]]


def teacher_factory(name: str) -> Callable[..., Teacher]:
    """What ``make(name, ...)`` calls: the teacher class, or a factory function such as auto's."""
    return _TEACHERS.get(name)


def unregister(name: str) -> None:
    """Remove a registered teacher (for plugins and tests that register temporary teachers)."""
    _TEACHERS.remove(name)
    del _KINDS[name]


def teacher_summary(name: str) -> str:
    """The one-line description of a registered teacher."""
    return _TEACHERS.summary(name)


def teacher_kinds(name: str) -> tuple[str, ...]:
    """The space kinds a registered teacher serves."""
    _TEACHERS.get(name)
    return _KINDS[name]
