"""verl 0.7's curriculum hook, against real DataProto batches.

verl 0.7.1 requires numpy<2, so this file runs in an environment of its own: ``make test-verl``
(part of ``make test``) builds ``.venv-verl`` and runs it there.
"""

from __future__ import annotations

import uuid

import datasets
import numpy as np
import torch


def test_verl_sampler_draws_and_credits_a_dataproto_batch() -> None:
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler

    from autocurriculum.verl import VerlCurriculumSampler

    sources = ["gsm8k", "math", "gsm8k", "aime", "math", "gsm8k"] * 4
    rows = datasets.Dataset.from_dict({"prompt": [f"q{i}" for i in range(24)],
                                       "data_source": sources})
    config = OmegaConf.create({"sampler": {
        "class_path": "pkg://autocurriculum.verl", "class_name": "VerlCurriculumSampler",
        "teacher": "sec", "teacher_params": {"temperature": 0.5}, "seed": 0,
        "key": "data_source", "reward_range": [0.0, 1.0]}})
    sampler = VerlCurriculumSampler(data_source=rows, data_config=config)
    assert isinstance(sampler, AbstractCurriculumSampler)
    assert sampler.curriculum.teacher.space.names == ("aime", "gsm8k", "math")

    stream = iter(sampler)
    batch_rows = [rows[next(stream)] for _ in range(4)]
    n, group_size, length = len(batch_rows), 2, 3
    uids = np.repeat([str(uuid.uuid4()) for _ in range(n)], group_size).astype(object)
    source = np.repeat([r["data_source"] for r in batch_rows], group_size).astype(object)
    reward = torch.tensor([1.0, 0.0] * n)
    scores = torch.zeros(n * group_size, length)
    scores[:, -1] = reward  # verl puts the sequence reward on the last response token
    mask = torch.ones(n * group_size, length)
    adv = (reward - 0.5).unsqueeze(-1).repeat(1, length)
    batch = DataProto.from_dict(
        tensors={"token_level_scores": scores, "advantages": adv, "response_mask": mask},
        non_tensors={"uid": uids, "data_source": source, "index": np.arange(n * group_size)},
    )
    before = sampler.curriculum.teacher.q_.copy()
    sampler.update(batch=batch)
    teacher = sampler.curriculum.teacher
    assert teacher.n_updates_ == n * group_size
    assert teacher.n_steps_ == 1
    # SEC: Q_arm = 0.5 * mean |advantage| of the arm's rollouts (0.5 each), absent arms 0.
    drawn = {r["data_source"] for r in batch_rows}
    expected = np.array([0.25 if a in drawn else 0.0 for a in teacher.space.names])
    np.testing.assert_allclose(teacher.q_, 0.5 * before + expected)
    restored = VerlCurriculumSampler(data_source=rows, data_config=config)
    restored.load_state_dict(sampler.state_dict())
    assert list(restored) == list(stream)  # the rest of the epoch, teacher state included
