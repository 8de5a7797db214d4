import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import autocurriculum as ac


def test_save_and_load_resumes_exactly(tmp_path):
    space = ac.Box([0, 0], [1, 1])
    teacher = ac.make("random", space, seed=0)
    teacher.sample(10)
    ac.save_checkpoint(teacher, tmp_path / "ckpt" / "teacher.pkl")
    resumed = ac.make("random", space, seed=99)
    ac.load_checkpoint(resumed, tmp_path / "ckpt" / "teacher.pkl")
    np.testing.assert_array_equal(resumed.sample(3), teacher.sample(3))


def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    space = ac.Discrete(3)
    teacher = ac.make("random", space, seed=0)
    path = tmp_path / "teacher.pkl"
    ac.save_checkpoint(teacher, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    teacher.sample(5)
    with pytest.raises(OSError, match="disk full"):
        ac.save_checkpoint(teacher, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["teacher.pkl"]  # no temp file left


def test_process_killed_mid_save_leaves_a_readable_checkpoint(tmp_path):
    # A real process saves large checkpoints in a loop and is killed with SIGKILL at an
    # arbitrary moment; whatever is on disk must load.
    path = tmp_path / "teacher.pkl"
    script = textwrap.dedent(
        f"""
        import autocurriculum as ac, sys
        stages = [{{"tasks": list(range(200_000))}}]
        teacher = ac.make("schedule", ac.Discrete(200_000), seed=0, stages=stages)
        ac.save_checkpoint(teacher, {str(path)!r})
        print("ready", flush=True)
        while True:
            teacher.update([1], [0.5])
            ac.save_checkpoint(teacher, {str(path)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.stdout.close()
        import time

        time.sleep(0.7)
    finally:
        proc.kill()
        proc.wait()
    teacher = ac.make("schedule", ac.Discrete(200_000), stages=[{"tasks": list(range(200_000))}])
    state = ac.load_checkpoint(teacher, path)
    assert state["state"]["n_updates_"] >= 0
    assert teacher.sample(2).shape == (2,)
