"""Real GRPO steps on CPU: the teacher receives exactly the rewards of the prompts it chose."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing is downloaded: model and tokenizer are built here
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

import autocurriculum as ac  # noqa: E402
from autocurriculum.teachers.sec import SEC  # noqa: E402
from autocurriculum.torch import CurriculumSampler  # noqa: E402

LEVELS = ["1", "2", "3"]
N_PROMPTS = 12


def tiny_model_and_tokenizer() -> tuple[Any, Any]:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<pad>", "<eos>", "<unk>", *[f"w{i}" for i in range(N_PROMPTS)], *LEVELS,
             "x", "y", "z"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(words), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32,
        pad_token_id=0, eos_token_id=1, bos_token_id=1,
    )
    return LlamaForCausalLM(config), tokenizer


class RecordingSEC(SEC):
    """SEC that also records what it was given (instrumentation for the test)."""

    def __init__(self, space: ac.Discrete, **kwargs: Any):
        super().__init__(space, **kwargs)
        self.log: list[dict[str, Any]] = []
        self.draws_at_update: list[int] = []

    def update(self, tasks: Any, scores: Any, signals: Any = None) -> None:
        self.log.append({"tasks": np.asarray(tasks).tolist(),
                         "scores": np.asarray(scores).tolist(),
                         "signals": {k: np.asarray(v).tolist() for k, v in signals.items()}})
        super().update(tasks, scores, signals)


def test_grpo_steps_credit_each_generation_to_the_prompts_scored(tmp_path: Path) -> None:
    from trl import GRPOConfig

    from autocurriculum.trl import INDEX_COLUMN, CurriculumGRPOTrainer

    model, tokenizer = tiny_model_and_tokenizer()
    levels = [LEVELS[i % 3] for i in range(N_PROMPTS)]
    train = datasets.Dataset.from_dict(
        {"prompt": [f"w{i} {levels[i]}" for i in range(N_PROMPTS)], "level": levels}
    )
    teacher = RecordingSEC(ac.Discrete(LEVELS), seed=0)
    curriculum = CurriculumSampler("level", teacher, dataset=train, num_samples=48, seed=0)
    blocks: list[list[int]] = []
    draw = curriculum.draw

    def recording_draw(n: int, *, outcomes: int = 1) -> Any:
        out = draw(n, outcomes=outcomes)
        blocks.append(out.tolist())
        return out

    curriculum.draw = recording_draw  # type: ignore[method-assign]
    scored: list[tuple[str, float]] = []

    def reward(prompts: list[str], completions: list[str], **kwargs: Any) -> list[float]:
        assert INDEX_COLUMN in kwargs  # the index column reaches reward functions too
        out = [(sum(map(ord, c)) % 11) / 10 for c in completions]
        scored.extend(zip(prompts, out, strict=True))
        teacher.draws_at_update.append(len(blocks))
        return out

    args = GRPOConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_steps=3,
        per_device_train_batch_size=8, num_generations=2, steps_per_generation=1,
        max_completion_length=3, learning_rate=1e-3, beta=0.0, logging_steps=1,
        save_strategy="no", seed=0, disable_tqdm=True,
    )
    trainer = CurriculumGRPOTrainer(
        model=model, reward_funcs=reward, args=args, train_dataset=train,
        processing_class=tokenizer, curriculum=curriculum,
    )
    trainer.train()

    # 3 optimiser steps, one generation batch of 8 rollouts (4 prompts x 2 generations) each.
    assert trainer.n_generations_credited == 3
    assert len(teacher.log) == 3
    assert len(scored) == 24
    for g, update in enumerate(teacher.log):
        rollouts = scored[8 * g : 8 * (g + 1)]
        rows = [int(p.split()[0][1:]) for p, _ in rollouts]
        # The prompts scored are the block the curriculum drew for this generation...
        assert rows == [i for i in blocks[g] for _ in range(2)]
        # ...although the DataLoader had already drawn the next block: the choice lags.
        assert teacher.draws_at_update[g] == g + 2
        # The teacher got those prompts' arms and exactly their rewards, in order.
        assert update["tasks"] == [LEVELS.index(levels[r]) for r in rows]
        np.testing.assert_allclose(update["scores"], [r for _, r in rollouts])
        groups = update["signals"]["group"]
        assert groups == [4 * g + k // 2 for k in range(8)]  # one id per prompt and generation
        assert update["signals"]["step"] == [g] * 8
        assert len(update["signals"]["abs_advantage"]) == 8
    assert teacher.n_steps_ == 3  # SEC learned once per generation
    assert curriculum.pending() == 4 * 2  # the block drawn ahead owes its 8 rollouts


def test_bad_reward_range_and_curriculum_are_rejected(tmp_path: Path) -> None:
    from trl import GRPOConfig

    from autocurriculum.trl import CurriculumGRPOTrainer

    model, tokenizer = tiny_model_and_tokenizer()
    train = datasets.Dataset.from_dict({"prompt": ["w0 1", "w1 2"], "level": ["1", "2"]})
    teacher = ac.make("sec", ac.Discrete(["1", "2"]), seed=0)
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none",
                      per_device_train_batch_size=2, num_generations=2, max_steps=1)
    other = CurriculumSampler(["1", "2", "2"], teacher)
    with pytest.raises(ValueError, match="keys for 3 items, train_dataset has 2 rows"):
        CurriculumGRPOTrainer(model=model, reward_funcs=lambda **k: [0.0], args=args,
                              train_dataset=train, processing_class=tokenizer, curriculum=other)
    good = CurriculumSampler("level", teacher, dataset=train)
    with pytest.raises(ValueError, match=r"reward_range\[1\] must be"):
        CurriculumGRPOTrainer(model=model, reward_funcs=lambda **k: [0.0], args=args,
                              train_dataset=train, processing_class=tokenizer, curriculum=good,
                              reward_range=(1.0, 0.0))
