"""A served teacher on a real local Ray cluster: exact counts, a killed teacher, dead actors.

One small cluster (2 CPUs, no dashboard) serves the whole module. Clients run in Ray actors,
separate processes that get the client by pickling, as env runners would. Every wait is
bounded, so a regression fails instead of hanging.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any

import numpy as np
import pytest
import ray  # not importorskip: these tests are never skipped, a missing ray is a failure

import autocurriculum as ac
from autocurriculum.ray import TeacherUnavailableError, connect, serve

pytestmark = [pytest.mark.expensive, pytest.mark.xdist_group("ray-cluster")]

BOX = ac.Box([0.0, 0.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])


@pytest.fixture(scope="module")
def cluster():
    # The worker actors are classes of this module: Ray's workers import it by name, so they
    # need the tests directory on their path as the driver has it.
    path = os.pathsep.join(p for p in (os.path.dirname(__file__), os.environ.get("PYTHONPATH"))
                           if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             namespace="autocurriculum-tests", object_store_memory=100 * 1024**2,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        yield
    finally:
        ray.shutdown()


class _Worker:
    """An env-runner stand-in: one episode is sample(), a score, update()."""

    def __init__(self, client, seed):
        self.client = client  # unpickled here: a new client of the same actor
        self.rng = np.random.default_rng(seed)

    def run(self, episodes, pause=0.0):
        for _ in range(episodes):
            task = self.client.sample()
            score = float(np.clip(1.0 - task[0] / 3.0 + 0.1 * self.rng.random(), 0.0, 1.0))
            self.client.update(task, score)
            if pause:
                time.sleep(pause)
        return episodes

    def flush(self):
        self.client.flush()

    def counters(self):
        with self.client._cond:
            return {"client_id": self.client.client_id, "resent": self.client._resent,
                    "restarts_seen": self.client._restarts_seen,
                    "outcomes": self.client.outcomes}


# Ray's decorator returns an untyped actor class: Any keeps mypy quiet without an ignore.
Worker: Any = ray.remote(num_cpus=0, max_restarts=0)(_Worker)


def _wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


def test_n_clients_times_m_episodes_is_exactly_n_times_m(cluster):
    n_workers, episodes = 3, 400
    client = serve(ac.make("alp-gmm", BOX, seed=0), name="exact", timeout=30.0,
                   batch_size=16, linger=0.005, prefetch=32)
    try:
        workers = [Worker.remote(client, seed) for seed in range(n_workers)]
        done = ray.get([w.run.remote(episodes) for w in workers], timeout=120)
        client.update(client.sample(episodes), np.full(episodes, 0.5))  # the driver: a 4th
        ray.get([w.flush.remote() for w in workers], timeout=60)
        client.flush()
        metrics = client.metrics()
        ids = {c["client_id"] for c in ray.get([w.counters.remote() for w in workers])}
        print(f"\n[exact] {n_workers + 1} clients x {episodes} episodes: n_updates="
              f"{metrics['teacher/n_updates']:.0f}, duplicates="
              f"{metrics['served/duplicate_batches']:.0f}")
        assert sum(done) + episodes == (n_workers + 1) * episodes
        assert metrics["teacher/n_updates"] == (n_workers + 1) * episodes
        assert metrics["served/outcomes"] == (n_workers + 1) * episodes
        assert metrics["served/clients"] == n_workers + 1
        assert len(ids | {client.client_id}) == n_workers + 1  # every pickled copy is new
        assert metrics["served/duplicate_batches"] == 0  # no fault, nothing resent
    finally:
        client.close()
        ray.kill(client.actor)


def test_killed_teacher_restarts_from_checkpoint_and_loses_nothing(cluster, tmp_path):
    # No autosave during the run: the only checkpoints are the one at start and those the
    # phase-1 flushes ask for, so the restart provably rolls back to exactly phase 1.
    client = serve(ac.make("alp-gmm", BOX, seed=0), name="killed", checkpoint_dir=tmp_path,
                   checkpoint_every=10**6, checkpoint_seconds=3600.0, timeout=60.0,
                   batch_size=8, linger=0.005, prefetch=32)
    try:
        workers = [Worker.remote(client, seed) for seed in range(2)]
        phase1 = sum(ray.get([w.run.remote(200) for w in workers], timeout=120))
        ray.get([w.flush.remote() for w in workers], timeout=60)
        assert client.metrics()["served/outcomes"] == phase1 == 400
        runs = [w.run.remote(600, 0.002) for w in workers]
        _wait_for(lambda: client.metrics()["served/outcomes"] >= phase1 + 300, 60,
                  "300 phase-2 outcomes")
        applied_before_kill = client.metrics()["served/outcomes"]
        pid_before = ray.get(client.actor.info.remote(), timeout=30)["pid"]
        ray.kill(client.actor, no_restart=False)
        finished = sum(ray.get(runs, timeout=180))
        ray.get([w.flush.remote() for w in workers], timeout=60)
        metrics = client.metrics()
        info = ray.get(client.actor.info.remote(), timeout=30)
        counters = ray.get([w.counters.remote() for w in workers], timeout=30)
        resent = sum(c["resent"] for c in counters)
        print(f"\n[kill] episodes finished={phase1 + finished}, applied before the kill="
              f"{applied_before_kill:.0f}, checkpoint reloaded={info['loaded_outcomes']}, "
              f"final n_updates={metrics['teacher/n_updates']:.0f}, batches resent={resent}, "
              f"duplicates skipped={metrics['served/duplicate_batches']:.0f}, "
              f"restarts={metrics['served/restarts']:.0f}")
        assert info["pid"] != pid_before
        assert metrics["served/restarts"] == 1
        assert info["loaded_outcomes"] == phase1  # the rollback was real...
        assert applied_before_kill > phase1
        assert resent > 0  # ...and the clients filled it
        assert all(c["restarts_seen"] == 1 for c in counters)
        assert metrics["teacher/n_updates"] == phase1 + finished == 1600
        assert metrics["served/outcomes"] == 1600
        assert ac.load(tmp_path / "teacher.ckpt").n_updates_ == 1600  # flushed = durable
    finally:
        client.close()
        ray.kill(client.actor)


def test_client_of_a_dead_or_missing_actor_fails_fast_and_clearly(cluster):
    client = serve(ac.make("random", BOX, seed=0), name="doomed", timeout=30.0)
    client.update(client.sample(4), [0.5] * 4)
    client.flush()
    ray.kill(client.actor, no_restart=True)
    # ray.kill only sends the signal: wait until a call sees the actor dead, so that the flush
    # below cannot reach it first.
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(client.actor.info.remote(), timeout=30)
    start = time.monotonic()
    # The buffer still holds tasks and update() only queues: the death surfaces at flush.
    client.update(client.sample(4), [0.5] * 4)
    with pytest.raises(TeacherUnavailableError, match="doomed"):
        client.flush()
    with pytest.raises(TeacherUnavailableError, match="doomed"):
        client.metrics()
    with pytest.raises(TeacherUnavailableError, match="no served teacher named 'doomed'"):
        connect("doomed", timeout=30.0)
    with pytest.raises(TeacherUnavailableError, match="no served teacher named 'never'"):
        connect("never", timeout=30.0)
    elapsed = time.monotonic() - start
    print(f"\n[dead] four errors raised in {elapsed:.2f} s (client timeout 30 s)")
    assert elapsed < 10.0  # found dead, not waited out
    client.close()


def test_unresponsive_actor_bounds_every_wait(cluster):
    server = serve(ac.make("random", BOX, seed=0), name="frozen", timeout=30.0)
    client = connect("frozen", timeout=2.0, prefetch=4)  # the actor is up: this answers fast
    pid = ray.get(client.actor.info.remote(), timeout=30)["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        client.update(client.sample(4), [0.5] * 4)  # served from the buffer, queued locally
        start = time.monotonic()
        with pytest.raises(TeacherUnavailableError, match="within 2 s"):
            client.flush()
        flush_wait = time.monotonic() - start
        start = time.monotonic()
        with pytest.raises(TeacherUnavailableError):
            client.sample(100)  # more than the buffer holds
        sample_wait = time.monotonic() - start
        print(f"\n[frozen] flush raised after {flush_wait:.2f} s, sample after "
              f"{sample_wait:.2f} s (timeout 2 s)")
        assert 1.9 < flush_wait < 5.0
        assert sample_wait < 5.0
    finally:
        os.kill(pid, signal.SIGCONT)
        ray.kill(client.actor)
        for each in (client, server):
            with contextlib.suppress(TeacherUnavailableError):
                each.close(timeout=1.0)


def test_batch_from_another_space_is_refused_on_the_client(cluster):
    client = serve(ac.make("alp-gmm", BOX, seed=0), name="guarded", timeout=30.0)
    try:
        client.update(client.sample(5), [0.5] * 5)
        other = ac.Box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
        with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
            client.update(other.sample(np.random.default_rng(0), 3), [0.5] * 3)
        with pytest.raises(ValueError, match="outside"):
            client.update([[1.0, 2.0], [4.0, 2.0]], [0.5, 0.5])  # 4.0 > stump_height's 3
        with pytest.raises(ValueError, match="scores"):
            client.update(client.sample(2), [0.5, 1.5])
        with pytest.raises(ValueError, match="unknown signal"):
            client.update(client.sample(1), [0.5], signals={"valu_loss": [1.0]})
        client.flush()
        assert client.outcomes == 5
        assert client.metrics()["teacher/n_updates"] == 5  # nothing of the bad calls
    finally:
        client.close()
        ray.kill(client.actor)


def test_serve_fails_at_start_on_an_unwritable_checkpoint_dir(cluster, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    start = time.monotonic()
    with pytest.raises(TeacherUnavailableError, match=r"checkpoint_dir .* cannot be created"):
        serve(ac.make("random", BOX, seed=0), name="unwritable",
              checkpoint_dir=blocker / "sub", timeout=30.0)
    assert time.monotonic() - start < 20.0


def test_name_taken_by_another_teacher_is_an_error(cluster):
    client = serve(ac.make("random", BOX, seed=0), name="taken", timeout=30.0)
    try:
        with pytest.raises(ValueError, match="already serves teacher 'random'"):
            serve(ac.make("random", ac.Discrete(3), seed=0), name="taken", timeout=30.0)
        again = serve(ac.make("random", BOX, seed=1), name="taken", timeout=30.0)
        assert again.actor_name == "taken"
        assert again.client_id != client.client_id
        again.close()
    finally:
        client.close()
        ray.kill(client.actor)


def test_step_teacher_served_equals_the_same_teacher_in_process(cluster, tmp_path):
    # SEC learns once per training step, so its updates must arrive one by one, in order,
    # with end_step() where the caller put it: the served state equals the local one.
    space = ac.Discrete(4)
    local = ac.make("sec", space, seed=0)
    client = serve(ac.make("sec", space, seed=0), name="steps", timeout=30.0, batch_size=1000)
    rng = np.random.default_rng(0)
    try:
        for step in range(20):
            arms = rng.integers(0, 4, 6)
            scores = rng.random(6)
            signals = {"abs_advantage": rng.random(6)}
            for target in (local, client):
                target.update(arms[:3], scores[:3], signals={"abs_advantage":
                                                             signals["abs_advantage"][:3]})
                target.update(arms[3:], scores[3:], signals={"abs_advantage":
                                                             signals["abs_advantage"][3:]})
                if step % 4 == 3:
                    target.end_step()
        served = client.state_dict()
        mine = local.state_dict()
        assert served["state"].keys() == mine["state"].keys()
        for key in mine["state"]:
            if key != "rng_":  # the client's prefetch drew samples; learning never does
                assert repr(served["state"][key]) == repr(mine["state"][key]), key
        path = tmp_path / "served.ckpt"
        client.save(path)
        assert ac.load(path).n_updates_ == local.n_updates_ == 120
    finally:
        client.close()
        ray.kill(client.actor)


def test_the_vector_env_wrapper_takes_a_served_teacher_unchanged(cluster):
    # The RL wrappers duck-type the teacher (sample, update, space, metrics): a client fits.
    import autocurriculum.envs as ace

    client = serve(ac.make("alp-gmm", ace.PointMassGate.task_space, seed=0), name="vector-env",
                   timeout=30.0, prefetch=16)
    envs = ace.make_vec("autocurriculum/PointMassGate-v0", 2, client, vectorization="sync",
                        batch_size=2)
    try:
        envs.reset(seed=0)
        envs.action_space.seed(0)
        for step in range(1, 2001):
            envs.step(envs.action_space.sample())
            # metrics() asks the actor too: checked now and then, not every step
            if step % 25 == 0 and envs.metrics()["curriculum/episodes"] >= 6:
                break
        envs.flush()
        client.flush()
        metrics = envs.metrics()  # the served teacher's and the wrapper's counters together
        print(f"\n[vector-env] episodes={metrics['curriculum/episodes']:.0f}, served "
              f"n_updates={metrics['teacher/n_updates']:.0f}")
        assert metrics["curriculum/episodes"] >= 6
        assert metrics["teacher/n_updates"] == metrics["curriculum/episodes"]
    finally:
        envs.close()
        client.close()
        ray.kill(client.actor)
