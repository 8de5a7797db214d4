"""A name -> entry registry with "did you mean" errors, shared by teachers, scenarios, suites."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry", "UnknownNameError"]


class UnknownNameError(ValueError, KeyError):
    """An unknown registry name. It is a ``ValueError`` (bad input) and a ``KeyError`` (lookup)."""

    def __str__(self) -> str:  # KeyError would repr() the message, quoting it
        return str(self.args[0])


class Registry(Generic[T]):
    """Entries by name, with a one-line summary each.

    Parameters
    ----------
    what : str
        What the entries are ("teacher", "scenario"), used in error messages.
    """

    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, T] = {}
        self._summaries: dict[str, str] = {}

    def add(self, name: str, entry: T, summary: str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._entries[name] = entry
        self._summaries[name] = summary

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: object) -> str:
        known = sorted(self._entries)
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.what} {name!r}.{hint} Known {self.what}s: {', '.join(known)}"

    def remove(self, name: str) -> None:
        self.get(name)
        del self._entries[name], self._summaries[name]

    def summary(self, name: str) -> str:
        self.get(name)
        return self._summaries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
