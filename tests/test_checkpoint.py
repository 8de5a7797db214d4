"""Checkpoints: plain data with a checksum, atomic, self-describing, never unpickled."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum import checkpoint
from autocurriculum.teachers.random import Random
from autocurriculum.teachers.registry import list_teachers, register, teacher_spec, unregister
from teacher_cases import ARMS, BOX, drive, params_for

ROUNDS, REST, BATCH = 30, 20, 8


def _saveable_cases():
    for name in list_teachers():
        for space in (BOX, ARMS):
            if space.kind in teacher_spec(name).kinds:
                yield name, space


def test_every_teacher_resumes_exactly_in_a_fresh_process(tmp_path):
    expected = {}
    for name, space in _saveable_cases():
        teacher = ac.make(name, space, seed=3, **params_for(name, space))
        drive(teacher, ROUNDS)
        path = tmp_path / f"{name}-{space.kind}.ckpt"
        teacher.save(path)
        expected[path.name] = drive(teacher, REST, start=ROUNDS)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import autocurriculum as ac
        from teacher_cases import drive
        out = {{}}
        for name in sorted({sorted(expected)!r}):
            teacher = ac.load({str(tmp_path)!r} + "/" + name)
            out[name] = drive(teacher, {REST}, start={ROUNDS})
        print(json.dumps(out))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert set(got) == set(expected)
    for name in expected:
        assert got[name] == expected[name], f"{name} diverged after loading in a fresh process"


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "teacher.ckpt"
    path.write_bytes(pickle.dumps({"teacher": "random", "state": Exploit()}))
    with pytest.raises(ac.CheckpointError, match="not an autocurriculum checkpoint") as err:
        ac.load(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"hello, this is a text file\n", "not an autocurriculum checkpoint"),
        (checkpoint.MAGIC[:10], "truncated"),
        (np.zeros(3).tobytes(), "not an autocurriculum checkpoint"),
    ],
)
def test_unreadable_files_name_the_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(ac.CheckpointError, match=problem) as err:
        ac.load(path)
    assert str(path) in str(err.value)


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(ac.CheckpointError, match="cannot read checkpoint"):
        ac.load(tmp_path / "nothing.ckpt")


def _saved(tmp_path, name="zlp", space=ARMS):
    teacher = ac.make(name, space, seed=0)
    drive(teacher, 5)
    path = tmp_path / "teacher.ckpt"
    teacher.save(path)
    return teacher, path


def test_every_truncation_and_flipped_byte_is_detected(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 97)):
        with pytest.raises(ac.CheckpointError):
            checkpoint.decode(data[:cut], "cut")
    positions = np.random.default_rng(0).choice(len(data), size=200, replace=False)
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 0x5A
        with pytest.raises(ac.CheckpointError):
            checkpoint.decode(bytes(flipped), "flipped")


def _rewrite_header(data, change):
    """A checkpoint whose header was changed by ``change`` and whose checksum was recomputed."""
    start = len(checkpoint.MAGIC) + 8
    (length,) = checkpoint._LENGTH.unpack_from(data, len(checkpoint.MAGIC))
    header = json.loads(data[start : start + length])
    change(header)
    raw = json.dumps(header).encode()
    body = (checkpoint.MAGIC + checkpoint._LENGTH.pack(len(raw)) + raw
            + data[start + length : -32])
    import hashlib

    return body + hashlib.sha256(body).digest()


def test_newer_format_asks_for_an_upgrade(tmp_path):
    _, path = _saved(tmp_path)
    path.write_bytes(_rewrite_header(path.read_bytes(), lambda h: h.update(format=99)))
    with pytest.raises(ac.CheckpointError, match=r"format version 99.*upgrade"):
        ac.load(path)


def test_state_that_does_not_fit_the_teacher_is_refused(tmp_path):
    _, path = _saved(tmp_path)

    def drop_value(header):
        del header["teacher"]["state"]["value_"]

    path.write_bytes(_rewrite_header(path.read_bytes(), drop_value))
    with pytest.raises(ac.CheckpointError, match="missing \\['value_'\\]"):
        ac.load(path)

    def empty_state(header):
        header["teacher"]["state"] = {}

    _, path = _saved(tmp_path)
    path.write_bytes(_rewrite_header(path.read_bytes(), empty_state))
    with pytest.raises(ac.CheckpointError, match="does not fit"):
        ac.load(path)


def test_object_array_dtypes_are_refused(tmp_path):
    _, path = _saved(tmp_path)

    def object_dtype(header):
        header["arrays"][0]["dtype"] = "|O"

    path.write_bytes(_rewrite_header(path.read_bytes(), object_dtype))
    with pytest.raises(ac.CheckpointError, match="not plain data"):
        ac.load(path)


def test_unknown_teacher_spec_is_named(tmp_path):
    @register("short-lived")
    class ShortLived(Random):
        """A teacher that is unregistered before its checkpoint is loaded."""

    try:
        teacher = ac.make("short-lived", ARMS, seed=0)
        teacher.save(tmp_path / "t.ckpt")
    finally:
        unregister("short-lived")
    with pytest.raises(ac.CheckpointError, match=r"'short-lived'.*not registered"):
        ac.load(tmp_path / "t.ckpt")


def test_teachers_that_cannot_be_rebuilt_are_not_saved(tmp_path):
    class Unregistered(Random):
        """Not in the registry."""

    with pytest.raises(ValueError, match="not a registered teacher"):
        Unregistered(ARMS, seed=0).save(tmp_path / "a.ckpt")
    oracle = ac.make("oracle", ARMS, **params_for("oracle", ARMS))
    with pytest.raises(ValueError, match="student"):
        oracle.save(tmp_path / "b.ckpt")
    assert not list(tmp_path.iterdir())


def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    teacher, path = _saved(tmp_path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    drive(teacher, 2)
    with pytest.raises(OSError, match="disk full"):
        teacher.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["teacher.ckpt"]  # no temp file left


def test_save_fsyncs_the_directory_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def record(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    _saved(tmp_path)
    assert synced == [False, True]  # the file, then its directory


def test_saving_through_a_symlink_keeps_the_link(tmp_path):
    teacher, target = _saved(tmp_path)
    link = tmp_path / "latest.ckpt"
    link.symlink_to(target)
    drive(teacher, 3)
    teacher.save(link)
    assert link.is_symlink()
    assert ac.load(link).n_updates_ == teacher.n_updates_ == ac.load(target).n_updates_


def test_process_killed_mid_save_leaves_a_readable_checkpoint_and_no_litter(tmp_path):
    # A real process saves large checkpoints in a loop and is killed with SIGKILL at an
    # arbitrary moment; whatever is on disk must load, and the next save clears its temp file.
    path = tmp_path / "teacher.ckpt"
    script = textwrap.dedent(
        f"""
        import autocurriculum as ac
        teacher = ac.make("zlp", ac.Discrete(400_000), seed=0)
        teacher.save({str(path)!r})
        print("ready", flush=True)
        while True:
            teacher.update([1], [0.5])
            teacher.save({str(path)!r})
        """
    )
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            proc.stdout.close()
            time.sleep(0.8)
        finally:
            proc.kill()
            proc.wait()
    teacher = ac.load(path)
    assert teacher.sample(2).shape == (2,)
    teacher.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["teacher.ckpt"]


def test_pickling_a_live_teacher_keeps_working():
    teacher = ac.make("alp-gmm", BOX, seed=0, fit_rate=50)
    drive(teacher, 10)
    copy = pickle.loads(pickle.dumps(teacher))
    assert drive(copy, 5, start=10) == drive(teacher, 5, start=10)
