"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from autocurriculum.teachers import registry as teacher_registry


@pytest.fixture
def register_teacher() -> Iterator[Callable[[str, type, str], str]]:
    """Register test-only teacher classes for one test (the registry is global)."""
    names: list[str] = []

    def register(name: str, cls: type, summary: str) -> str:
        teacher_registry.register(name, summary=summary)(cls)
        names.append(name)
        return name

    yield register
    for name in names:
        teacher_registry.unregister(name)
