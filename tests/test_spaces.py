import pickle

import numpy as np
import pytest

from autocurriculum.spaces import Box, Discrete, space_from_dict


class TestBox:
    def test_sample_inside_and_shape(self):
        space = Box([0, -1], [3, 6], names=["h", "s"])
        tasks = space.sample(np.random.default_rng(0), 1000)
        assert tasks.shape == (1000, 2)
        assert space.contains(tasks)
        assert tasks[:, 1].min() < 0 < tasks[:, 1].max()

    def test_unit_cube_round_trip(self):
        space = Box([0, -1], [3, 6])
        x = np.array([[1.5, 2.5], [0.0, 6.0]])
        np.testing.assert_allclose(space.to_unit(x), [[0.5, 0.5], [0.0, 1.0]])
        np.testing.assert_allclose(space.from_unit(space.to_unit(x)), x)

    def test_dict_round_trip_equality_and_pickle(self):
        space = Box([0, 0], [3, 6], names=["stump_height", "stump_spacing"])
        assert space_from_dict(space.to_dict()) == space
        assert pickle.loads(pickle.dumps(space)) == space
        assert space != Box([0, 0], [3, 7], names=["stump_height", "stump_spacing"])
        assert space != Box([0, 0], [3, 6])
        assert "stump_height=[0, 3]" in repr(space)

    @pytest.mark.parametrize(
        ("low", "high", "match"),
        [
            ([0, 1], [1, 1], r"low\[1\]=1.0, high\[1\]=1.0"),
            ([2], [1], r"low\[0\]=2.0"),
            ([0, float("nan")], [1, 1], "must be finite"),
            ([0, 0], [1, float("inf")], "must be finite"),
            ([0, 0], [1, 1, 1], "same shape"),
            ([], [], "non-empty"),
            (["a"], ["b"], "real numbers"),
        ],
    )
    def test_bad_bounds(self, low, high, match):
        with pytest.raises(ValueError, match=match):
            Box(low, high)

    def test_bad_names(self):
        with pytest.raises(ValueError, match="one name per dimension"):
            Box([0, 0], [1, 1], names=["a"])
        with pytest.raises(ValueError, match="unique"):
            Box([0, 0], [1, 1], names=["a", "a"])

    def test_validate_tasks_messages(self):
        space = Box([0, 0], [3, 6], names=["h", "s"])
        expected = r"tasks\[1\].*'s' is 7.0, expected a value in \[0.0, 6.0\]"
        with pytest.raises(ValueError, match=expected):
            space.validate_tasks([[1, 1], [1, 7]])
        with pytest.raises(ValueError, match=r"shape \(n, 2\).*got shape \(2, 3\)"):
            space.validate_tasks(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="dtype"):
            space.validate_tasks([["a", "b"]])
        assert space.validate_tasks([1.0, 2.0]).shape == (1, 2)

    def test_contains(self):
        space = Box([0, 0], [1, 1])
        assert space.contains([0.5, 1.0])
        assert not space.contains([0.5, 1.01])
        assert not space.contains([0.5])


class TestDiscrete:
    def test_names_and_index(self):
        space = Discrete(["easy", "medium", "hard"])
        assert space.n == 3
        assert space.index("hard") == 2
        with pytest.raises(ValueError, match="'expert' is not an arm"):
            space.index("expert")
        assert Discrete(4).names == ("0", "1", "2", "3")

    def test_sample_and_contains(self):
        space = Discrete(5)
        arms = space.sample(np.random.default_rng(1), 2000)
        assert arms.dtype == np.int64
        assert set(arms.tolist()) == set(range(5))
        assert space.contains(arms)
        assert not space.contains(5)
        assert not space.contains(1.0)

    @pytest.mark.parametrize(
        ("arg", "match"),
        [
            (0, "at least one arm, got n=0"),
            ([], "empty list"),
            (["a", "b", "a"], r"duplicated: \['a'\]"),
            ("abc", "not a single string"),
            (True, "number of arms"),
        ],
    )
    def test_bad_arms(self, arg, match):
        with pytest.raises(ValueError, match=match):
            Discrete(arg)

    def test_validate_tasks_messages(self):
        space = Discrete(3)
        with pytest.raises(ValueError, match=r"tasks\[2\] = 3 is not an arm.*\[0, 2\]"):
            space.validate_tasks([0, 1, 3])
        with pytest.raises(ValueError, match="integer arm indices"):
            space.validate_tasks([0.5])
        with pytest.raises(ValueError, match=r"shape \(n,\)"):
            space.validate_tasks([[0, 1]])

    def test_round_trip(self):
        space = Discrete(["a", "b"])
        assert space_from_dict(space.to_dict()) == space
        copy = pickle.loads(pickle.dumps(space))
        assert copy == space
        assert copy.index("b") == 1
        assert space != Discrete(["a", "c"])

    def test_unknown_kind(self):
        with pytest.raises(ValueError, match="unknown space kind 'ring'"):
            space_from_dict({"kind": "ring"})


def test_box_range_must_be_finite():
    with pytest.raises(ValueError, match=r"high - low must be finite.*1e\+308"):
        Box([-1e308], [1e308])


def test_box_names_must_be_a_sequence_not_a_string():
    with pytest.raises(ValueError, match=r"names must be a sequence of str.*'ab'"):
        Box([0, 0], [1, 1], names="ab")


def test_discrete_rejects_a_float_count_by_value():
    with pytest.raises(ValueError, match=r"a number of arms .* got 1.5"):
        Discrete(1.5)
