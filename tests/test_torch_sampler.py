"""CurriculumSampler: a real torch Sampler driven by a teacher (DataLoader, workers, resume)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
datasets = pytest.importorskip("datasets")

from torch.utils.data import Dataset  # noqa: E402

import autocurriculum as ac  # noqa: E402
from autocurriculum.teachers.base import Teacher  # noqa: E402
from autocurriculum.torch import CurriculumSampler  # noqa: E402

ARMS = ["easy", "medium", "hard"]


def make_keys(n: int = 60) -> list[str]:
    return [ARMS[i % 3] for i in range(n)]


class Items(Dataset):
    """A map-style dataset whose items are their own indices (picklable for workers)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class OnlyArm(Teacher[ac.Discrete]):
    """A test teacher that always proposes one arm and records its updates."""

    supported_spaces = ("discrete",)

    def __init__(self, space: ac.Discrete, *, arm: int = 0, seed: int | None = None):
        super().__init__(space, seed=seed)
        self.arm = arm
        self.received_: list[tuple[list[int], list[float]]] = []

    def _sample(self, n: int) -> np.ndarray:
        return np.full(n, self.arm, dtype=np.int64)

    def _update(self, tasks, scores, signals) -> None:
        self.received_.append((tasks.tolist(), scores.tolist()))


def test_import_autocurriculum_does_not_import_torch() -> None:
    code = "import sys, autocurriculum; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_is_a_torch_sampler_and_draws_from_the_teachers_arm() -> None:
    keys = make_keys()
    sampler = CurriculumSampler(keys, OnlyArm(ac.Discrete(ARMS), arm=2), seed=0)
    assert isinstance(sampler, torch.utils.data.Sampler)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 60
    assert {keys[i] for i in drawn} == {"hard"}
    # Without replacement, an arm's 20 items all come before any repeats.
    assert sorted(drawn[:20]) == [i for i in range(60) if keys[i] == "hard"]


def test_update_maps_items_to_arms_and_checks_pending_outcomes() -> None:
    keys = make_keys()
    teacher = OnlyArm(ac.Discrete(ARMS), arm=1)
    sampler = CurriculumSampler(keys, teacher, num_samples=6, draw_size=6, seed=0)
    drawn = list(sampler)
    sampler.update(drawn[:3], [0.0, 0.5, 1.0])
    assert teacher.received_ == [([1, 1, 1], [0.0, 0.5, 1.0])]
    with pytest.raises(ValueError, match=f"index {sorted(drawn[:3])[0]} appears 1 time"):
        sampler.update(drawn[:3], [0.0, 0.5, 1.0])  # already updated
    never = next(i for i in range(60) if keys[i] == "easy")
    with pytest.raises(ValueError, match=f"index {never} .* never drew it"):
        sampler.update([never], [1.0])
    with pytest.raises(ValueError, match="not an item of this sampler"):
        sampler.update([60], [1.0])
    with pytest.raises(ValueError, match="scores has shape"):
        sampler.update(drawn[3:], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"signals\['group'\] has shape \(2,\) for 3 indices"):
        sampler.update(drawn[3:], [1.0] * 3, signals={"group": [0, 0]})
    assert len(teacher.received_) == 1  # nothing changed on the errors above
    sampler.update(torch.tensor(drawn[3:]), torch.tensor([1.0, 0.0, 1.0]))
    assert sampler.pending() == 0


def test_bad_keys_raise_errors_naming_the_key() -> None:
    space = ac.Discrete(ARMS)
    with pytest.raises(ValueError, match="key 'expert' \\(item 2\\) is not an arm"):
        CurriculumSampler(["easy", "hard", "expert"], ac.make("random", space))
    with pytest.raises(ValueError, match="arm 'medium' of the teacher's space has no item"):
        CurriculumSampler(["easy", "hard"], ac.make("random", space))
    ds = datasets.Dataset.from_dict({"level": ["easy", "medium", "hard"], "q": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="no column 'difficulty'; its columns: \\['level', 'q'\\]"):
        CurriculumSampler("difficulty", ac.make("random", space), dataset=ds)
    with pytest.raises(ValueError, match="key column has 4 values for a dataset of 3 items"):
        CurriculumSampler(["easy", "medium", "hard", "hard"], ac.make("random", space), dataset=ds)
    with pytest.raises(ValueError, match="Discrete space"):
        CurriculumSampler([0.5], ac.make("random", ac.Box([0], [1])))


def test_datasets_column_of_a_shuffled_dataset_is_read_through_arrow() -> None:
    levels = [1, 2, 3, 1, 2, 3, 3, 3]
    ds = datasets.Dataset.from_dict({"level": levels, "q": list("abcdefgh")})
    ds = ds.shuffle(seed=1).select(range(6))  # an indices mapping over the table
    space = ac.Discrete(["1", "2", "3"])
    for keys in ("level", ds["level"]):
        sampler = CurriculumSampler(keys, ac.make("random", space), dataset=ds)
        assert sampler.arm_of.tolist() == [int(v) - 1 for v in ds["level"]]


def test_dataloader_with_workers_and_feedback() -> None:
    keys = make_keys(90)
    teacher = ac.make("learnability", ac.Discrete(ARMS), seed=0)
    sampler = CurriculumSampler(keys, teacher, num_samples=120, draw_size=8, seed=1)
    loader = torch.utils.data.DataLoader(
        Items(90), batch_size=8, sampler=sampler, num_workers=2, prefetch_factor=2
    )
    seen = []
    for epoch in range(2):
        for batch in loader:
            # "hard" is never solved, "easy" always, "medium" half the time.
            scores = [{"easy": 1.0, "medium": float(i % 2), "hard": 0.0}[keys[i]] for i in batch]
            sampler.update(batch, scores)
            seen.extend(batch.tolist())
        assert sampler.pending() == 0, epoch  # every drawn index was delivered and updated
    assert len(seen) == 240
    late = [keys[i] for i in seen[120:]]
    # Learnability p(1 - p) prefers the arm that is solved half of the time.
    assert late.count("medium") > max(late.count("easy"), late.count("hard"))


def test_resume_mid_epoch_with_prefetching_workers_continues_the_same_stream() -> None:
    def build() -> CurriculumSampler:
        teacher = ac.make("exp3s", ac.Discrete(ARMS), seed=3)
        return CurriculumSampler(make_keys(), teacher, num_samples=96, draw_size=5, seed=4)

    def loop(sampler: CurriculumSampler, batches, stop: int | None = None):
        out = []
        for k, batch in enumerate(batches):
            out.append(batch.tolist())
            sampler.update(batch, [((i * 7) % 10) / 10 for i in batch.tolist()])
            if stop is not None and k + 1 == stop:
                return out, sampler.state_dict(consumed=(k + 1) * 4)
        return out, None

    def loader(sampler: CurriculumSampler):
        return torch.utils.data.DataLoader(
            Items(60), batch_size=4, sampler=sampler, num_workers=2, prefetch_factor=2
        )

    first = build()
    head, state = loop(first, loader(first), stop=7)  # workers have pulled ~4 batches more
    assert first._delivered_now() > 7 * 4
    resumed = build()
    resumed.load_state_dict(state)
    tail, _ = loop(resumed, loader(resumed))
    ref_sampler = build()
    reference, _ = loop(ref_sampler, loader(ref_sampler))  # uninterrupted
    assert len(reference) == 24
    assert head + tail == reference
    assert resumed.pending() == ref_sampler.pending() == 0


def test_state_dict_round_trip_is_plain_data_and_exact_without_workers() -> None:
    def build() -> CurriculumSampler:
        return CurriculumSampler(
            make_keys(), ac.make("tscl", ac.Discrete(ARMS), seed=0), replacement=True, seed=2
        )

    a = build()
    it = iter(a)
    head = [next(it) for _ in range(25)]
    a.update(head, [0.25] * 25)
    state = a.state_dict()
    rest = list(it)
    b = build()
    b.load_state_dict(state)
    assert list(b) == rest
    assert ac.checkpoint is not None  # plain data: the library's own checker accepts it
    from autocurriculum._state import is_plain

    assert is_plain(state)
    other = CurriculumSampler(make_keys(30), ac.make("tscl", ac.Discrete(ARMS), seed=0))
    with pytest.raises(ValueError, match="other keys"):
        other.load_state_dict(state)


def test_pickles_and_reports_metrics() -> None:
    import pickle

    sampler = CurriculumSampler(make_keys(), ac.make("sec", ac.Discrete(ARMS), seed=0), seed=0)
    drawn = sampler.draw(4, outcomes=2)
    group = np.repeat(np.arange(4), 2)
    sampler.update(np.repeat(drawn, 2), [1, 0, 1, 1, 0, 0, 1, 0], signals={"group": group})
    sampler.end_step()
    clone = pickle.loads(pickle.dumps(sampler))
    assert clone.draw(6).tolist() == sampler.draw(6).tolist()
    metrics = sampler.metrics()
    assert metrics["sampler/pending"] == 6.0
    assert metrics["teacher/n_steps"] == 1.0


@pytest.mark.parametrize("draw_size", [1, 7, 64])
def test_without_replacement_each_arm_cycles_through_all_its_items(draw_size: int) -> None:
    keys = [ARMS[i % 3] if i < 45 else "hard" for i in range(50)]  # arms of 15, 15 and 20
    sampler = CurriculumSampler(
        keys, ac.make("random", ac.Discrete(ARMS), seed=5), num_samples=900,
        draw_size=draw_size, seed=5,
    )
    stream = list(sampler)
    for arm in ARMS:
        items = [i for i in stream if keys[i] == arm]
        size = keys.count(arm)
        cycles = [items[c * size : (c + 1) * size] for c in range(len(items) // size)]
        assert len(cycles) >= 10
        assert all(sorted(c) == sorted(set(c)) and len(c) == size for c in cycles), arm
