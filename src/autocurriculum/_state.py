"""Learned state as plain data: what ``state_dict()`` returns and checkpoints store.

Plain data is ``None``, ``bool``, ``int``, ``float``, ``str``, lists, dicts with ``str`` keys and
numpy arrays of numbers, bools or strings. Everything else a teacher learns is encoded into that
by :func:`to_plain` and decoded by :func:`from_plain`, each as a dict with one marker key:

- ``{"__tuple__": [...]}``, ``{"__deque__": [...], "maxlen": n}``, ``{"__items__": [[k, v]]}``
  (a dict whose keys are not all plain strings);
- ``{"__numpy__": array}``: a numpy scalar, kept as its 0-d array so its type survives;
- ``{"__generator__": state}``: a ``numpy.random.Generator``, by its bit generator's state;
- ``{"__object__": name, "fields": {...}}``: an instance of a class registered with
  :func:`state_class` (the progress trackers, for example), rebuilt without calling its
  constructor;
- ``{"__teacher__": state_dict}``: a nested teacher (``binned``'s inner teacher), rebuilt by the
  registry from its spec name, space and parameters.

Decoding only ever builds those types and classes registered here, so a state from an untrusted
file cannot run code. A value of any other type is an error that names where it sits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["StateError", "from_plain", "is_plain", "state_class", "to_plain"]

C = TypeVar("C", bound=type)

_CLASSES: dict[str, type] = {}
_MARKERS = ("__tuple__", "__deque__", "__items__", "__numpy__", "__generator__", "__object__",
            "__teacher__", "__unsaved__")
#: numpy dtype kinds that hold data only: bool, ints, floats, complex, unicode strings.
PLAIN_KINDS = "biufcU"


class StateError(ValueError):
    """A state that is not plain data, or plain data that is not a valid state."""


def state_class(cls: C) -> C:
    """Class decorator: instances may be part of a teacher's learned state.

    Their attributes (``__dict__`` and ``__slots__``) must themselves be plain data or
    encodable. The class is found again by its name, so names must be unique.
    """
    name = cls.__qualname__
    if name in _CLASSES and _CLASSES[name] is not cls:
        raise ValueError(f"state class name {name!r} is already registered")
    _CLASSES[name] = cls
    return cls


def _fields(obj: Any) -> dict[str, Any]:
    out = dict(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                out[slot] = getattr(obj, slot)
    return out


def to_plain(value: Any, where: str = "state") -> Any:
    """Encode ``value`` as plain data (arrays copied); :class:`StateError` names ``where``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in PLAIN_KINDS:
            raise StateError(f"{where} is an array of dtype {value.dtype}, not plain data")
        return np.array(value, copy=True)
    if isinstance(value, np.generic):
        return {"__numpy__": to_plain(np.asarray(value), where)}
    if isinstance(value, list):
        return [to_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [to_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, deque):
        items = [to_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"__deque__": items, "maxlen": value.maxlen}
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _MARKERS for k in value):
            return {k: to_plain(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {"__items__": [[to_plain(k, f"{where} key"), to_plain(v, f"{where}[{k!r}]")]
                              for k, v in value.items()]}
    if isinstance(value, np.random.Generator):
        return {"__generator__": to_plain(value.bit_generator.state, where)}
    from autocurriculum.teachers.base import Teacher

    if isinstance(value, Teacher):
        return {"__teacher__": value.state_dict()}
    name = type(value).__qualname__
    if _CLASSES.get(name) is type(value):
        fields = {k: to_plain(v, f"{where}.{k}") for k, v in _fields(value).items()}
        return {"__object__": name, "fields": fields}
    raise StateError(
        f"{where} holds a {type(value).__module__}.{name}, which is not plain data; learned "
        "state must be numbers, strings, lists, dicts, numpy arrays, or classes registered with "
        "autocurriculum._state.state_class"
    )


def from_plain(value: Any, where: str = "state") -> Any:
    """Decode what :func:`to_plain` produced (arrays copied)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in PLAIN_KINDS:
            raise StateError(f"{where} is an array of dtype {value.dtype}, not plain data")
        return np.array(value, copy=True)
    if isinstance(value, list):
        return [from_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise StateError(f"{where} holds a {type(value).__name__}, not plain data")
    marker = next((k for k in _MARKERS if k in value), None)
    if marker is None:
        return {k: from_plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    decode = _DECODERS.get(marker)
    if decode is None:
        raise StateError(f"{where} holds {marker}, which a state cannot hold")
    try:
        return decode(value, where)
    except StateError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise StateError(f"{where} holds a malformed {marker} entry: {err}") from err


def _decode_numpy(value: dict[str, Any], where: str) -> Any:
    arr = from_plain(value["__numpy__"], where)
    if not isinstance(arr, np.ndarray) or arr.ndim != 0:
        raise StateError(f"{where}: a numpy scalar must be stored as a 0-d array")
    return arr[()]


def _decode_generator(value: dict[str, Any], where: str) -> np.random.Generator:
    state = from_plain(value["__generator__"], where)
    kinds = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
             "Philox": np.random.Philox, "SFC64": np.random.SFC64, "MT19937": np.random.MT19937}
    bit_generator = kinds[state["bit_generator"]]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _decode_object(value: dict[str, Any], where: str) -> Any:
    name = value["__object__"]
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise StateError(f"{where} holds an object of class {name!r}, which is not a state class")
    obj: Any = object.__new__(cls)  # a state class is rebuilt from its fields, not constructed
    for key, field in value["fields"].items():
        if not isinstance(key, str):
            raise StateError(f"{where}: field names must be strings, got {key!r}")
        object.__setattr__(obj, key, from_plain(field, f"{where}.{key}"))
    return obj


def _decode_teacher(value: dict[str, Any], where: str) -> Any:
    from autocurriculum.teachers.registry import teacher_from_state_dict

    return teacher_from_state_dict(value["__teacher__"])


_DECODERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "__tuple__": lambda v, w: tuple(from_plain(v["__tuple__"], w)),
    "__deque__": lambda v, w: deque(from_plain(v["__deque__"], w), maxlen=v["maxlen"]),
    "__items__": lambda v, w: {from_plain(k, w): from_plain(x, w) for k, x in v["__items__"]},
    "__numpy__": _decode_numpy,
    "__generator__": _decode_generator,
    "__object__": _decode_object,
    "__teacher__": _decode_teacher,
}


def is_plain(value: Any) -> bool:
    """Whether ``value`` is plain data: what a checkpoint file can hold."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in PLAIN_KINDS
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False
