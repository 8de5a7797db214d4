import pickle
import threading

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import teacher_spec


def test_make_unknown_name_suggests_closest():
    expected = r"unknown teacher 'randon'\. Did you mean 'random'\?"
    with pytest.raises(ValueError, match=expected) as err:
        ac.make("randon", ac.Discrete(3))
    assert "oracle" in str(err.value)  # the message lists the known names
    assert isinstance(err.value, KeyError)


def test_list_teachers_by_kind():
    assert "random" in ac.list_teachers()
    assert "random" in ac.list_teachers("box")
    assert "random" in ac.list_teachers("discrete")
    assert teacher_spec("random").kinds == ("box", "discrete")


class _BoxOnly(Teacher):
    supported_spaces = ("box",)

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)

    def _sample(self, n):
        return self.space.sample(self.rng_, n)

    def _update(self, tasks, scores, signals):
        pass


def test_unsupported_space_names_teachers_that_can():
    with pytest.raises(ValueError, match=r"cannot serve a discrete space.*Teachers for discrete "
                       r"spaces: .*random"):
        _BoxOnly(ac.Discrete(3))


def test_single_task_is_sugar_over_a_batch():
    teacher = ac.make("random", ac.Box([0, 0], [1, 1]), seed=3)
    twin = ac.make("random", ac.Box([0, 0], [1, 1]), seed=3)
    one = teacher.sample()
    assert one.shape == (2,)
    np.testing.assert_array_equal(one, twin.sample(1)[0])
    teacher.update(one, 0.5)
    assert teacher.n_updates_ == 1
    arm_teacher = ac.make("random", ac.Discrete(4), seed=0)
    arm = arm_teacher.sample()
    assert isinstance(arm, int)
    arm_teacher.update(arm, 1.0)


def test_update_errors_name_the_value():
    teacher = ac.make("random", ac.Box([0, 0], [1, 2], names=["a", "b"]), seed=0)
    with pytest.raises(ValueError, match=r"'b' is 2.5, expected a value in \[0.0, 2.0\]"):
        teacher.update([[0.5, 2.5]], [0.5])
    with pytest.raises(ValueError, match=r"scores\[1\] = 1.2"):
        teacher.update([[0.5, 0.5], [0.1, 0.1]], [0.5, 1.2])
    with pytest.raises(ValueError, match="2 values for 1 tasks"):
        teacher.update([[0.5, 0.5]], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"signals\['value'\] has shape \(2,\) for 1 tasks"):
        teacher.update([[0.5, 0.5]], [0.5], signals={"value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="signals must be a mapping"):
        teacher.update([[0.5, 0.5]], [0.5], signals=[1.0])
    with pytest.raises(ValueError, match=r"signals\['group'\]"):
        teacher.update([[0.5, 0.5]], [0.5], signals={"group": [1, 2]})
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 100000000\], got 0"):
        teacher.sample(0)
    with pytest.raises(ValueError, match="got 9223372036854775808"):
        teacher.sample(2**63)


def test_state_dict_round_trip_and_errors():
    space = ac.Box([0, 0], [1, 1])
    teacher = ac.make("random", space, seed=0)
    teacher.sample(5)
    state = pickle.loads(pickle.dumps(teacher.state_dict()))
    resumed = ac.make("random", space, seed=123)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(resumed.sample(4), teacher.sample(4))
    schedule_state = ac.make("schedule", space, stages=[{}]).state_dict()
    with pytest.raises(ValueError, match=r"from teacher 'schedule', cannot load it into 'random'"):
        resumed.load_state_dict(schedule_state)
    with pytest.raises(ValueError, match="is for space"):
        ac.make("random", ac.Box([0, 0], [1, 2]), seed=0).load_state_dict(state)


def test_clone_is_unfitted_with_same_params():
    teacher = ac.make("schedule", ac.Discrete(3), stages=[{"episodes": 2}, {}], seed=4)
    teacher.update([0, 1, 2], [0.1, 0.2, 0.3])
    assert teacher.stage_ == 1
    clone = teacher.clone()
    assert clone.stage_ == 0
    assert clone.n_updates_ == 0
    assert clone.get_params() == teacher.get_params()


def test_metrics_are_floats():
    teacher = ac.make("schedule", ac.Discrete(3), stages=[{}])
    assert teacher.metrics() == {
        "teacher/n_updates": 0.0, "teacher/stage": 0.0, "teacher/stage_episodes": 0.0
    }


@pytest.mark.parametrize(("name", "space"), [("alp-gmm", ac.Box([0, 0], [1, 1])),
                                             ("lp-tree", ac.Box([0, 0], [1, 1])),
                                             ("zlp", ac.Discrete(50))])
def test_threads_sharing_a_teacher_leave_it_consistent(name, space):
    # Several threads sample and update one teacher, as the clients of a served teacher do.
    teacher = ac.make(name, space, seed=0)
    errors = []

    def client(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(150):
                tasks = teacher.sample(4)
                teacher.update(tasks, rng.random(4))
        except Exception as err:  # collected, then asserted on in the main thread
            errors.append(err)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert teacher.n_updates_ == 4 * 150 * 4
    teacher.update(teacher.sample(8), np.full(8, 0.5))


def test_a_subclass_of_a_registered_teacher_is_not_registered():
    class Mine(ac.teachers.Random):
        """Not registered."""

    assert ac.teachers.Random.registered_spec() is teacher_spec("random")
    assert Mine.registered_spec() is None
    assert Mine(ac.Discrete(2), seed=0).name == "Mine"


def test_sample_is_typed_by_space():
    box_tasks = ac.make("random", ac.Box([0], [1]), seed=0).sample(3)
    arms = ac.make("random", ac.Discrete(3), seed=0).sample(3)
    assert box_tasks.dtype == np.float64
    assert arms.dtype == np.int64
