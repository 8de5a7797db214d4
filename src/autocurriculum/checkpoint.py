"""Safe, self-describing teacher checkpoints: ``teacher.save(path)`` and ``ac.load(path)``.

A checkpoint file is plain data, never a pickle, so loading one cannot run code from it::

    MAGIC (26 bytes)  b"AUTOCURRICULUM-CHECKPOINT\\n"
    header length     8 bytes, unsigned little-endian
    header            UTF-8 JSON: format version, library version, the teacher's state dict
                      (spec name, space, parameters, learned state) with each numpy array
                      replaced by {"__ndarray__": i}, and the arrays' dtype, shape and offset
    payload           the arrays' raw bytes, one after another
    checksum          32 bytes: SHA-256 of everything before it

Why a format of our own: numpy's ``.npz`` refuses pickled objects but holds flat arrays only and
checks no whole-file digest; safetensors holds flat tensors with string metadata. The state of a
teacher is a nested tree of small values and a few arrays, and a digest over the whole file turns
every truncation or flipped byte into an error instead of a different state. Reading it needs
only ``json`` and ``numpy.frombuffer`` with an allow-list of dtypes.

Writes are atomic: a temporary file in the same directory is written and fsynced, renamed over
the target, and the directory is fsynced, so a process killed at any point leaves the previous
checkpoint readable. Saving through a symlink writes the file the link points to. Temporary
files of a writer that was killed are removed by the next save to the same path.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum._state import PLAIN_KINDS
from autocurriculum.teachers.base import Teacher

__all__ = [
    "FORMAT_VERSION",
    "CheckpointError",
    "atomic_write_bytes",
    "load",
    "read_state",
    "save",
]

#: The checkpoint format this library writes; it reads this version and older ones.
FORMAT_VERSION = 1
MAGIC = b"AUTOCURRICULUM-CHECKPOINT\n"
_LENGTH = struct.Struct("<Q")
_DIGEST_BYTES = 32
_ARRAY_KEY = "__ndarray__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read; the message names the file and the problem."""


# ------------------------------------------------------------------------ writing
def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, whole.

    A temporary file in the target's directory is written, fsynced and renamed over the target,
    then the directory is fsynced so that the rename itself survives a crash. If ``path`` is a
    symlink, the file it points to is replaced and the link is kept. On any error the temporary
    file is removed and the previous file is untouched.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_orphans(target: Path) -> None:
    """Delete temporary files left by writers of ``target`` whose process no longer exists."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        pid_text = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _library_version() -> str:
    from autocurriculum import __version__

    return __version__


def encode(state_dict: dict[str, Any]) -> bytes:
    """The bytes of a checkpoint holding ``state_dict`` (plain data, as ``state_dict()`` gives)."""
    arrays: list[np.ndarray] = []

    def extract(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            arrays.append(np.ascontiguousarray(value))
            return {_ARRAY_KEY: len(arrays) - 1}
        if isinstance(value, dict):
            return {k: extract(v) for k, v in value.items()}
        if isinstance(value, list):
            return [extract(v) for v in value]
        return value

    tree = extract(state_dict)
    table, offset = [], 0
    for arr in arrays:
        table.append({"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset})
        offset += arr.nbytes
    header = {
        "format": FORMAT_VERSION,
        "library": "autocurriculum",
        "library_version": _library_version(),
        "arrays": table,
        "teacher": tree,
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body = b"".join([MAGIC, _LENGTH.pack(len(header_bytes)), header_bytes,
                     *(arr.tobytes() for arr in arrays)])
    return body + hashlib.sha256(body).digest()


def save(teacher: Teacher[Any], path: str | os.PathLike[str]) -> None:
    """Save ``teacher`` to ``path`` atomically, with everything :func:`load` needs to rebuild it.

    Raises
    ------
    ValueError
        The teacher is not registered, or a parameter is not plain data (an oracle's student),
        so the checkpoint could not rebuild it.
    """
    state = teacher.state_dict()
    if type(teacher).registered_spec() is None:
        raise ValueError(
            f"{type(teacher).__name__} is not a registered teacher, so a checkpoint could not "
            "rebuild it; register it with autocurriculum.teachers.register"
        )
    unsaved = sorted(k for k, v in state["params"].items()
                     if isinstance(v, dict) and "__unsaved__" in v)
    if unsaved:
        raise ValueError(
            f"cannot checkpoint {teacher.name!r}: parameter(s) {unsaved} are not plain data "
            f"(numbers, strings, lists, arrays), so a checkpoint could not rebuild the teacher"
        )
    atomic_write_bytes(path, encode(state))


# ------------------------------------------------------------------------ reading
def read_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state dict stored in a checkpoint, checked and decoded, without building a teacher.

    Raises
    ------
    CheckpointError
        The file is empty, truncated, corrupt (checksum), of another format or a newer version,
        or not an autocurriculum checkpoint. The message names the file.
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {name!r}: {err.strerror or err}") from err
    return decode(data, name)


def decode(data: bytes, name: str = "<bytes>") -> dict[str, Any]:
    """Inverse of :func:`encode`; ``name`` is used in error messages."""
    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {name!r} {problem}")

    if not data:
        raise fail("is empty")
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise fail(f"is truncated ({len(data)} bytes)")
        raise fail("is not an autocurriculum checkpoint (it does not start with the "
                   "checkpoint marker; pickles and other formats are never loaded)")
    minimum = len(MAGIC) + _LENGTH.size + _DIGEST_BYTES
    if len(data) < minimum:
        raise fail(f"is truncated ({len(data)} bytes, at least {minimum} expected)")
    body, digest = data[:-_DIGEST_BYTES], data[-_DIGEST_BYTES:]
    if hashlib.sha256(body).digest() != digest:
        raise fail("is corrupt or truncated: its SHA-256 checksum does not match its content")
    (header_len,) = _LENGTH.unpack_from(body, len(MAGIC))
    start = len(MAGIC) + _LENGTH.size
    try:
        header = json.loads(body[start : start + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise fail(f"has an unreadable header: {err}") from err
    if not isinstance(header, dict) or header.get("library") != "autocurriculum":
        raise fail("was not written by autocurriculum")
    version = header.get("format")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise fail(
            f"has format version {version!r}; this autocurriculum "
            f"({_library_version()}) reads versions 1 to {FORMAT_VERSION}: upgrade the library "
            f"(it was written by {header.get('library_version')!r})"
        )
    payload = body[start + header_len :]
    arrays = []
    try:
        for entry in header["arrays"]:
            dtype = np.dtype(entry["dtype"])
            if dtype.kind not in PLAIN_KINDS:
                raise fail(f"holds an array of dtype {dtype}, which is not plain data")
            shape = tuple(int(s) for s in entry["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            offset = int(entry["offset"])
            if offset < 0 or offset + count * dtype.itemsize > len(payload):
                raise fail("has an array that runs past the end of the file")
            flat = np.frombuffer(payload, dtype=dtype, count=count, offset=offset)
            arrays.append(flat.reshape(shape).copy())
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise fail(f"has a malformed array table: {err}") from err

    def restore(value: Any) -> Any:
        if isinstance(value, dict):
            if _ARRAY_KEY in value:
                index = value[_ARRAY_KEY]
                if not isinstance(index, int) or not 0 <= index < len(arrays):
                    raise fail(f"refers to array {index!r}, which it does not hold")
                return arrays[index]
            return {k: restore(v) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v) for v in value]
        return value

    state = restore(header.get("teacher"))
    if not isinstance(state, dict) or not {"teacher", "space", "params", "state"} <= set(state):
        raise fail("holds no teacher state (expected keys teacher, space, params, state)")
    return state


def load(path: str | os.PathLike[str]) -> Teacher[Any]:
    """Rebuild the teacher saved at ``path``, in the state it was saved in.

    The teacher is built by the registry from the spec name, space and parameters the file
    records; nothing in the file is executed.

    Raises
    ------
    CheckpointError
        The file is unreadable, empty, truncated, corrupt, foreign or of a newer format, its
        teacher is not registered here, or its state does not fit the teacher.

    Examples
    --------
    >>> import tempfile, os, autocurriculum as ac
    >>> teacher = ac.make("zlp", ac.Discrete(4), seed=0)
    >>> teacher.update([0, 1], [0.0, 1.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "teacher.ckpt")
    >>> teacher.save(path)
    >>> restored = ac.load(path)
    >>> restored.sample(5).tolist() == teacher.sample(5).tolist()
    True
    """
    from autocurriculum.teachers.registry import teacher_from_state_dict

    state = read_state(path)
    try:
        return teacher_from_state_dict(state)
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"checkpoint {os.fspath(path)!r}: {err}") from err
