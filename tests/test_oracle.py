"""The oracle: a benchmark-only spec with the student as expert parameter, unsaved state."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.bench.students import GridStudent
from autocurriculum.params import InvalidParameterError
from autocurriculum.teachers.oracle import Oracle


def test_spec_is_benchmark_only_with_the_student_as_expert_parameter():
    spec = ac.teacher_spec("oracle")
    assert spec.benchmark_only
    assert spec.expert_params == ("student",)
    assert spec.required_params == ("student",)
    assert not spec.buildable_by_name
    assert "oracle" not in ac.list_teachers()
    assert "oracle" in ac.list_teachers(benchmark_only=True)


def test_state_records_the_student_as_unsaved_and_saving_is_refused(tmp_path):
    student = GridStudent(seed=0)
    teacher = ac.make("oracle", student.space, student=student, seed=0)
    assert teacher.get_params()["student"] is student
    state = teacher.state_dict()
    assert state["params"]["student"] == {"__unsaved__": "GridStudent"}
    path = tmp_path / "oracle.ckpt"
    with pytest.raises(ValueError, match="student"):
        teacher.save(path)
    assert not path.exists()
    # A live oracle built with the same student takes the state back; pickling works.
    other = ac.make("oracle", student.space, student=student, seed=9)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.sample(5), teacher.sample(5))
    copy_ = pickle.loads(pickle.dumps(teacher))
    assert isinstance(copy_, Oracle)


def test_samples_inside_the_students_frontier():
    # (The docstring's example masters the grid student at the physical limit, 7,600 episodes.)
    student = GridStudent(seed=0)
    teacher = ac.make("oracle", student.space, student=student, seed=0)
    boxes = np.asarray(student.frontier())
    tasks = teacher.sample(500)
    low, high = boxes[None, :, 0, :], boxes[None, :, 1, :]
    inside = (tasks[:, None, :] >= low) & (tasks[:, None, :] <= high)
    assert inside.all(axis=2).any(axis=1).all()


@pytest.mark.parametrize(("student", "match"), [
    (object(), "student must have a frontier"),
    (GridStudent(seed=0), "must equal the student's space"),
])
def test_bad_students(student, match):
    with pytest.raises(InvalidParameterError, match=match):
        Oracle(ac.Box([0.0, 0.0], [2.0, 2.0]), student=student)
