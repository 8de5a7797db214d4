"""The binning adapter: grid bins of a Box as the arms of a discrete teacher."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum as ac
from autocurriculum._state import is_plain
from autocurriculum.bench.students import GridStudent
from autocurriculum.teachers.binned import Binned
from autocurriculum.teachers.learnability import Learnability
from autocurriculum.teachers.tscl import TSCL
from autocurriculum.testing import check_teacher

BOX = ac.Box([0.0, 0.0], [1.0, 2.0])


@pytest.mark.parametrize("inner", ["tscl", "learnability", "plr", "exp3s"])
def test_conformance_with_score_only_teachers(inner):
    check_teacher(ac.make("binned", BOX, teacher=inner, bins=4, seed=0), episodes=320)


def test_conformance_with_signal_teachers():
    # SEC needs an |advantage| per task; DUMP computes it from GRPO group ids.
    check_teacher(
        ac.make("binned", BOX, teacher="sec", bins=[3, 2], seed=1),
        episodes=320,
        signal_fn=lambda tasks, scores: {"abs_advantage": np.abs(scores - 0.5)},
    )
    check_teacher(
        ac.make("binned", ac.Box([0.0], [1.0]), teacher="dump", bins=5, seed=2),
        episodes=320,
        signal_fn=lambda tasks, scores: {"group": np.arange(len(scores)) // 2},
    )


def test_bins_are_arms_in_c_order():
    teacher = Binned(BOX, teacher="tscl", bins=4, seed=0)
    assert teacher.n_arms == 16
    assert isinstance(teacher.inner_, TSCL)
    assert teacher.inner_.space == ac.Discrete(16)
    # cell (row along x0, column along x1) -> row * 4 + column; x1 spans [0, 2], so 0.5 per bin.
    tasks = [[0.1, 0.1], [0.99, 1.99], [0.5, 1.0], [0.3, 0.6], [0.0, 0.0], [1.0, 2.0]]
    assert teacher.arms_of(tasks).tolist() == [0, 15, 10, 1 * 4 + 1, 0, 15]


def test_per_dimension_bins():
    teacher = Binned(ac.Box([0.0, 0.0], [1.0, 3.0]), teacher="tscl", bins=[2, 3], seed=0)
    assert teacher.n_arms == 6
    assert teacher.bins_shape == (2, 3)
    # [0.5, 1.0] is in cell (1, 1) -> 1 * 3 + 1; [0.49, 2.5] in (0, 2) -> 2.
    assert teacher.arms_of([[0.5, 1.0], [0.49, 2.5]]).tolist() == [4, 2]
    low, high = teacher.bin_bounds([4])
    np.testing.assert_allclose(low, [[0.5, 1.0]])
    np.testing.assert_allclose(high, [[1.0, 2.0]])


def test_samples_uniformly_inside_the_chosen_bin():
    # Learnability with buffer_ratio 1 draws only from its buffer; making bin 6 the only arm of
    # non-zero learnability (p = 0.5 from scores 0 and 1) pins every draw to bin 6.
    teacher = Binned(
        BOX, teacher="learnability", bins=4, teacher_params={"buffer_ratio": 1.0}, seed=0
    )
    low, high = teacher.bin_bounds([6])  # cell (1, 2): x0 in [0.25, 0.5], x1 in [1.0, 1.5]
    np.testing.assert_allclose(low[0], [0.25, 1.0])
    np.testing.assert_allclose(high[0], [0.5, 1.5])
    centre = (low[0] + high[0]) / 2
    teacher.update([centre, centre], [0.0, 1.0])
    assert isinstance(teacher.inner_, Learnability)
    assert teacher.inner_.learnability_scores()[6] == pytest.approx(0.25)
    tasks = teacher.sample(4000)
    assert teacher.arms_of(tasks).tolist() == [6] * 4000
    assert np.all((tasks >= low[0]) & (tasks <= high[0]))
    # Uniform inside the cell: mean at the centre, variance width^2 / 12 per dimension.
    np.testing.assert_allclose(tasks.mean(axis=0), centre, atol=0.01)
    np.testing.assert_allclose(tasks.var(axis=0), (high[0] - low[0]) ** 2 / 12, rtol=0.1)


def test_update_passes_outcomes_to_the_inner_teacher():
    teacher = Binned(BOX, teacher="tscl", bins=2, teacher_params={"variant": "online"}, seed=0)
    # Bin 3 (x0 >= 0.5, x1 >= 1): online Q = 0.1 * 0.2, then += 0.1 * ((0.6 - 0.2) - 0.02).
    teacher.update([[0.7, 1.5], [0.9, 1.1], [0.1, 0.1]], [0.2, 0.6, 0.0])
    np.testing.assert_allclose(teacher.inner_.q_values(), [0.0, 0.0, 0.0, 0.058])
    assert teacher.outcomes_.tolist() == [1, 0, 0, 2]
    assert teacher.metrics()["teacher/bins_visited"] == 2.0


def test_state_dict_holds_the_inner_teacher_as_plain_data():
    # Probe: the state held a live teacher object, so state_dict() was not plain data.
    teacher = Binned(BOX, teacher="tscl", bins=3, teacher_params={"variant": "online"}, seed=4)
    for step in range(20):
        tasks = teacher.sample(8)
        teacher.update(tasks, (np.arange(8) + step) % 3 / 2)
    state = teacher.state_dict()
    assert is_plain(state)
    inner = state["state"]["inner_"]["__teacher__"]
    assert inner["teacher"] == "tscl"
    assert inner["params"]["variant"] == "online"
    assert inner["space"] == ac.Discrete(9).to_dict()
    resumed = Binned(BOX, teacher="tscl", bins=3, teacher_params={"variant": "online"}, seed=99)
    resumed.load_state_dict(state)
    assert isinstance(resumed.inner_, TSCL)
    np.testing.assert_array_equal(resumed.inner_.q_values(), teacher.inner_.q_values())
    np.testing.assert_array_equal(resumed.sample(16), teacher.sample(16))
    other = Binned(BOX, teacher="tscl", bins=3, seed=4)  # other inner parameters
    with pytest.raises(ValueError, match="teacher_params"):
        other.load_state_dict(state)


@pytest.mark.parametrize(("inner", "signals"), [
    ("tscl", None),
    ("exp3s", {"progress": [0.1, -0.2, 0.3]}),
    ("sec", {"group": [0, 0, 1], "step": [4, 4, 4]}),
])
def test_saved_and_loaded_by_ac_load(tmp_path, inner, signals):
    teacher = ac.make("binned", BOX, teacher=inner, bins=[2, 3], seed=5)
    rng = np.random.default_rng(0)
    for step in range(5):
        tasks = teacher.sample(3)
        step_signals = signals
        if signals is not None and "step" in signals:
            step_signals = {**signals, "step": [step] * 3}
        teacher.update(tasks, rng.random(3), step_signals)
    path = tmp_path / "binned.ckpt"
    teacher.save(path)
    loaded = ac.load(path)
    assert isinstance(loaded, Binned)
    assert type(loaded.inner_) is type(teacher.inner_)
    assert loaded.get_params() == teacher.get_params()
    np.testing.assert_array_equal(loaded.sample(32), teacher.sample(32))
    last = {**signals, "step": [9] * 3} if signals and "step" in signals else signals
    for t in (loaded, teacher):
        t.update(t.sample(3), [0.0, 0.5, 1.0], last)
        t.end_step()
    np.testing.assert_array_equal(loaded.sample(32), teacher.sample(32))


def test_signals_are_those_of_the_inner_teacher():
    sec = Binned(BOX, teacher="sec", bins=2, seed=0)
    spec = ac.teacher_spec("sec")
    assert sec._signal_names() == (spec.reads, spec.needs_one_of)
    task = [[0.1, 0.1]]
    with pytest.raises(ValueError, match=r"Binned\.update needs the signal 'abs_advantage' or "):
        sec.update(task, [1.0])
    with pytest.raises(ValueError, match="Did you mean 'group'"):
        sec.update(task, [1.0], signals={"groups": [0]})
    assert sec.n_updates_ == sec.inner_.n_updates_ == 0
    # A step is closed by a newer step id, or by the adapter's end_step.
    sec.update(task, [1.0], signals={"abs_advantage": [0.8], "step": [0]})
    assert sec.inner_.n_steps_ == 0
    sec.end_step()
    assert sec.inner_.n_steps_ == 1
    # Known signals the inner teacher does not read are ignored.
    tscl = Binned(BOX, teacher="tscl", bins=2, seed=0)
    assert tscl._signal_names() == (frozenset(), frozenset())
    tscl.update(task, [1.0], signals={"value_loss": [0.3]})
    with pytest.raises(ValueError, match="unknown signal"):
        tscl.update(task, [1.0], signals={"loss": [0.3]})


def test_sample_leaves_the_inner_teacher_unchanged():
    # The inner teacher draws with the adapter's generator: its own state depends only on
    # the outcomes it was told.
    teacher = Binned(BOX, teacher="tscl", bins=3, seed=2)
    teacher.update([[0.1, 0.1], [0.9, 1.9]], [0.0, 1.0])
    before = teacher.inner_.state_dict()
    teacher.sample(50)
    teacher.sample()
    after = teacher.inner_.state_dict()
    assert before["state"]["rng_"] == after["state"]["rng_"]


def test_the_seed_fixes_the_inner_teacher():
    a, b = Binned(BOX, bins=5, seed=7), Binned(BOX, bins=5, seed=7)
    assert a.inner_.seed == b.inner_.seed is not None
    assert Binned(BOX, bins=5, seed=8).inner_.seed != a.inner_.seed


def test_arm_count_explosion_is_refused_with_a_clear_error():
    box10 = ac.Box([0.0] * 10, [1.0] * 10)
    with pytest.raises(ValueError, match=r"bins=10 per dimension of a 10-D box make 10000000000"):
        Binned(box10, bins=10)
    with pytest.raises(ValueError, match="max_arms=1000"):
        Binned(box10, bins=2, max_arms=1000)
    assert Binned(box10, bins=2).n_arms == 1024
    assert Binned(box10, bins=[10, 10] + [1] * 8).n_arms == 100


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"teacher": "no-such-teacher"}, "known: .*tscl"),
        ({"teacher": "alp-gmm"}, "teacher for discrete spaces"),
        ({"bins": 0}, r"bins must be an int in \[1, 100000000\]"),
        ({"bins": 10**9}, r"bins must be an int in \[1, 100000000\]"),
        ({"max_arms": 10**12}, r"max_arms must be an int in \[1, 100000000\]"),
        ({"bins": [3]}, r"one count per dimension \(2\)"),
        ({"bins": "3"}, "bins must be"),
        ({"bins": [3, 0]}, r"bins\[1\]"),
        ({"max_arms": 0}, "max_arms"),
        ({"teacher_params": {"seed": 3}}, "must not hold 'seed'"),
        ({"teacher_params": [("epsilon", 0.1)]}, "teacher_params must be a mapping"),
        ({"teacher_params": {"epsilon": 2.0}}, r"epsilon must be a real number in \[0, 1\]"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Binned(BOX, **kwargs)


def test_only_box_spaces():
    with pytest.raises(ValueError, match="cannot serve a discrete space"):
        ac.make("binned", ac.Discrete(4))


def test_model_snapshot_boxes_cover_the_space():
    teacher = Binned(BOX, bins=[2, 3], seed=0)
    teacher.update([[0.1, 0.1], [0.1, 0.2]], [0.0, 1.0])
    boxes = teacher.model_snapshot()["boxes"]
    assert len(boxes) == 6
    assert boxes[0] == {"low": [0.0, 0.0], "high": [0.5, 2 / 3], "value": 2.0}
    assert sum((np.prod(np.subtract(b["high"], b["low"]))) for b in boxes) == pytest.approx(2.0)
    assert Binned(ac.Box([0.0] * 3, [1.0] * 3), bins=8).model_snapshot() == {}


def test_binned_tscl_beats_uniform_on_the_grid_student():
    # 10x10 bins are the grid student's cells: TSCL's |slope| finds the cells being learned,
    # where uniform sampling spreads 5,000 episodes over 100 cells and masters few of them.
    scores = {}
    for name, params in (("random", {}), ("binned", {"teacher": "tscl", "bins": 10})):
        student = GridStudent(seed=0)
        teacher = ac.make(name, student.space, seed=0, **params)
        for _ in range(50):
            tasks = teacher.sample(100)
            teacher.update(tasks, student.episodes(tasks))
        scores[name] = student.score()
    assert scores["binned"] > scores["random"] + 5.0
