"""Teachers built from their registry specs, and a driver with every signal: shared by tests."""

from __future__ import annotations

import inspect

import numpy as np

import autocurriculum as ac
from autocurriculum.teachers.registry import teacher_spec
from autocurriculum.testing import default_score_fn, every_signal

BOX = ac.Box([0.0, -1.0], [3.0, 6.0], names=["stump_height", "stump_spacing"])
ARMS = ac.Discrete(7)


class _FrontierStudent:
    """A fixed frontier for the oracle's conformance run (the real students have their own
    oracle tests)."""

    def __init__(self, space):
        self.space = space

    def frontier(self):
        if isinstance(self.space, ac.Box):
            return np.array([[[0.0, -1.0], [1.0, 0.0]], [[1.0, 0.0], [3.0, 6.0]]])
        return np.array([1, 4])


# Values for required parameters, by parameter name: the spec says which a teacher needs, so
# a newly registered teacher with a required parameter not listed here fails, never skips.
REQUIRED = {
    "stages": lambda space: [{"episodes": 100}, {"threshold": 0.4, "window": 20}, {}],
    "student": lambda space: _FrontierStudent(space),
    "start": lambda space: space.low + 0.3 * space.range,
    "low_threshold": lambda space: 0.2,
    "high_threshold": lambda space: 0.7,
}
# Short refit and split schedules, by parameter name, so the run exercises fitted models.
FAST = {"fit_rate": 50, "max_region_size": 40}


def params_for(name, space):
    spec = teacher_spec(name)
    accepted = inspect.signature(spec.builder).parameters
    params = {p: REQUIRED[p](space) for p in spec.required_params}
    params.update({p: v for p, v in FAST.items() if p in accepted})
    return params



def drive(teacher, rounds, start=0, batch=8):
    """Sample/update rounds with every signal of the vocabulary; returns the sampled batches."""
    score = default_score_fn(teacher.space)
    out = []
    for step in range(start, start + rounds):
        tasks = teacher.sample(batch)
        out.append(np.asarray(tasks).tolist())
        scores = np.asarray(score(tasks, step), dtype=np.float64)
        signals = {**every_signal(tasks, scores), "step": np.full(batch, step)}
        teacher.update(tasks, scores, signals)
    return out
