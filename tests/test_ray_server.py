"""The served teacher's protocol without a cluster: dedup, gaps, checkpoints, restarts.

The Ray tests (tests/test_ray.py) run the same code in actors; these pin down each rule with
exact counts in milliseconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum import checkpoint
from autocurriculum.ray._client import _merge
from autocurriculum.ray._server import (
    CHECKPOINT_NAME,
    Op,
    TeacherServer,
    pack_teacher,
    unpack_teacher,
)

SPACE = ac.Box([0.0, 0.0], [1.0, 1.0])


def _batch(seq, n=4, seed=None, end_step=False):
    rng = np.random.default_rng(seq if seed is None else seed)
    return seq, [(rng.random((n, 2)), rng.random(n), None, end_step)]


def _server(tmp_path=None, **kw):
    teacher = ac.make("alp-gmm", SPACE, seed=0)
    directory = None if tmp_path is None else str(tmp_path)
    return TeacherServer(teacher, checkpoint_dir=directory, **kw)


def _crash(server):
    """Stop a server as a killed process would: no last checkpoint."""
    server._stop = True
    with server._wake:
        server._wake.notify()


def test_import_autocurriculum_does_not_import_ray():
    code = "import sys, autocurriculum, autocurriculum.ray; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_each_batch_is_applied_once_whatever_is_resent():
    server = _server()
    b1, b2, b3 = _batch(1), _batch(2), _batch(3)
    assert server.apply("a", [b1])["last"] == 1
    # A retry of batch 1 and a resend of 1 and 2 together: only batch 2 is new.
    assert server.apply("a", [b1])["last"] == 1
    assert server.apply("a", [b1, b2])["last"] == 2
    assert server.apply("a", [b3, b3])["last"] == 3
    assert server.teacher.n_updates_ == 12
    assert server.duplicates == 3
    # Another client's sequence numbers are its own.
    assert server.apply("b", [_batch(1)])["last"] == 1
    assert server.teacher.n_updates_ == 16


def test_a_batch_after_a_gap_is_refused_until_the_missing_one_arrives():
    server = _server()
    reply = server.apply("a", [_batch(2), _batch(3)])
    assert reply["last"] == 0
    assert server.teacher.n_updates_ == 0
    assert server.refused == 1
    assert server.apply("a", [_batch(1), _batch(2), _batch(3)])["last"] == 3
    assert server.teacher.n_updates_ == 12


def test_without_checkpoints_applied_is_durable():
    server = _server()
    reply = server.apply("a", [_batch(1)])
    assert (reply["last"], reply["durable"]) == (1, 1)


def test_checkpoint_holds_teacher_and_dedup_table_in_one_core_file(tmp_path):
    server = _server(tmp_path, checkpoint_every=10**6, checkpoint_seconds=3600.0)
    reply = server.apply("a", [_batch(1), _batch(2)])
    assert (reply["last"], reply["durable"]) == (2, 0)  # applied, not yet in a checkpoint
    reply = server.apply("a", [], checkpoint=True)
    assert (reply["last"], reply["durable"]) == (2, 2)
    path = tmp_path / CHECKPOINT_NAME
    state = checkpoint.read_state(path)
    assert state["served"]["clients"] == {"a": 2}
    assert state["served"]["outcomes"] == 8
    # The file is an ordinary checkpoint: ac.load rebuilds the teacher from it.
    assert ac.load(path).n_updates_ == 8


def test_restart_reloads_the_checkpoint_and_resends_count_exactly_once(tmp_path):
    server = _server(tmp_path, checkpoint_every=10**6, checkpoint_seconds=3600.0)
    server.apply("a", [_batch(1), _batch(2)], checkpoint=True)
    server.apply("a", [_batch(3)])  # applied, lost with the process below
    server.apply("b", [_batch(1)])
    assert server.teacher.n_updates_ == 16
    _crash(server)

    again = _server(tmp_path, restarted=True)
    assert again.teacher.n_updates_ == 8
    assert again.loaded_outcomes == 8
    assert again.restarts == 1
    # The clients resend everything the checkpoint did not confirm; "a" also its old batches.
    assert again.apply("a", [_batch(2), _batch(3)])["last"] == 3
    assert again.apply("b", [_batch(1)])["last"] == 1
    assert again.teacher.n_updates_ == 16
    assert again.duplicates == 1


def test_existing_checkpoint_needs_resume(tmp_path):
    _server(tmp_path).close()
    with pytest.raises(FileExistsError, match="resume=True"):
        _server(tmp_path)
    resumed = _server(tmp_path, resume=True)
    assert resumed.restarts == 0


def test_checkpoint_of_another_teacher_is_refused(tmp_path):
    _server(tmp_path).close()
    other = ac.make("riac", SPACE, seed=0)
    with pytest.raises(checkpoint.CheckpointError, match="alp-gmm"):
        TeacherServer(other, checkpoint_dir=str(tmp_path), resume=True)


def test_unwritable_checkpoint_dir_fails_at_start(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PermissionError, match="checkpoint_dir"):
        _server(blocker / "sub")
    if os.geteuid() != 0:  # root writes anywhere; the case above covers it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError, match="not writable"):
            _server(locked)


def test_a_batch_the_teacher_rejects_is_consumed_and_reported():
    server = TeacherServer(ac.make("sec", ac.Discrete(3), seed=0))
    ok = (np.array([0, 1]), np.array([0.5, 1.0]),
          {"abs_advantage": np.array([0.1, 0.2]), "step": np.array([5, 5])}, False)
    old = (np.array([2]), np.array([0.5]),
           {"abs_advantage": np.array([0.3]), "step": np.array([4])}, False)
    reply = server.apply("a", [(1, [ok, old])])
    assert reply["last"] == 1
    assert len(reply["errors"]) == 1
    assert "operation 1" in reply["errors"][0]
    assert server.teacher.n_updates_ == 2  # the first operation, not the rejected one
    assert server.apply("a", [(1, [ok, old])])["errors"] == []  # never retried


def test_autosave_by_count(tmp_path):
    server = _server(tmp_path, checkpoint_every=8, checkpoint_seconds=3600.0)
    server.apply("a", [_batch(1), _batch(2)])
    for _ in range(500):
        if server.status("a")["durable"] == 2:
            break
        time.sleep(0.01)
    assert server.status("a")["durable"] == 2
    assert server.checkpoints == 2  # the one at start, and the one after 8 outcomes
    _crash(server)


def test_merged_updates_equal_the_separate_updates():
    rng = np.random.default_rng(0)
    space = ac.Discrete(5)
    ops: list[Op] = []
    for i in range(30):
        n = int(rng.integers(1, 4))
        signals = {"value_loss": rng.random(n)} if i % 3 else None
        ops.append((rng.integers(0, 5, n), rng.random(n), signals, i == 20))
    merged = _merge(ops)
    assert len(merged) < len(ops)
    one, two = ac.make("plr", space, seed=1), ac.make("plr", space, seed=1)
    for teacher, sequence in ((one, ops), (two, merged)):
        for tasks, scores, signals, end in sequence:
            assert tasks is not None
            assert scores is not None
            teacher.update(tasks, scores, signals)
            if end:
                teacher.end_step()
    assert one.sample(50).tolist() == two.sample(50).tolist()
    assert one.n_updates_ == two.n_updates_ == sum(len(op[1]) for op in ops if op[1] is not None)


def test_packed_teacher_is_writable_and_small():
    teacher = ac.make("alp-gmm", SPACE, seed=0)
    blob = pack_teacher(teacher)
    assert len(blob) < 100_000  # Ray sends arguments below 100 KB inline
    copy = unpack_teacher(blob)
    copy.update(copy.sample(4), [0.5] * 4)
    assert copy.n_updates_ == 4
