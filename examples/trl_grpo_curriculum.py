"""GRPO post-training with TRL where a teacher chooses the prompts' difficulty.

The task: copy the last ``level`` words of the prompt (level 1, 2 or 3: the arms). The reward is
the fraction of them the completion reproduces, in order. A teacher (SEC by default, any
discrete teacher works) picks the level of every prompt from the rewards and |advantages| of
the previous generations; `CurriculumGRPOTrainer` does the plumbing.

By default the policy is a tiny Llama built from a config with a word-level tokenizer built
here, so the script runs on a CPU in seconds and downloads nothing. Pass ``--model`` to train a
real (hub or local) causal LM instead.

Run: python examples/trl_grpo_curriculum.py --teacher sec --steps 50
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
from trl import GRPOConfig

import autocurriculum as ac
from autocurriculum.torch import CurriculumSampler
from autocurriculum.trl import CurriculumGRPOTrainer

LEVELS = ["1", "2", "3"]
WORDS = [f"t{i}" for i in range(8)]


@dataclass
class Args:
    teacher: str = "sec"
    steps: int = 50
    prompts_per_step: int = 4
    num_generations: int = 4
    n_prompts: int = 300
    model: str = ""  # empty: a tiny Llama built from a config
    seed: int = 0


TINY_ARGS = ["--steps", "2", "--n-prompts", "24", "--num-generations", "2"]


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__)
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return Args(**vars(parser.parse_args(argv)))


def make_dataset(n: int, seed: int) -> datasets.Dataset:
    """Prompts ``"copy t3 t1 t6 : t1 t6"`` style: the level says how many words to copy."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[Any]] = {"prompt": [], "level": [], "target": []}
    for i in range(n):
        level = LEVELS[i % len(LEVELS)]
        words = rng.choice(WORDS, size=4).tolist()
        target = words[-int(level):]
        rows["prompt"].append(f"copy {' '.join(words)} :")
        rows["level"].append(level)
        rows["target"].append(" ".join(target))
    return datasets.Dataset.from_dict(rows)


def copy_reward(completions: list[str], target: list[str], **kwargs: Any) -> list[float]:
    """Fraction of the target words reproduced at the start of the completion, in order."""
    out = []
    for completion, want in zip(completions, target, strict=True):
        got, expected = completion.split(), want.split()
        out.append(sum(g == w for g, w in zip(got, expected, strict=False)) / len(expected))
    return out


def tiny_policy(seed: int) -> tuple[Any, Any]:
    """A 2-layer Llama and a word-level tokenizer, built locally (nothing downloaded)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = ["<pad>", "<eos>", "<unk>", "copy", ":", *WORDS]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32,
        pad_token_id=0, eos_token_id=1, bos_token_id=1,
    )
    return LlamaForCausalLM(config), tokenizer


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    if args.model:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model, tokenizer = (AutoModelForCausalLM.from_pretrained(args.model),
                            AutoTokenizer.from_pretrained(args.model))
    else:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        model, tokenizer = tiny_policy(args.seed)

    train = make_dataset(args.n_prompts, args.seed)
    teacher = ac.make(args.teacher, ac.Discrete(LEVELS), seed=args.seed)
    # The stream is as long as the run needs; the teacher decides each prompt's level.
    curriculum = CurriculumSampler(
        "level", teacher, dataset=train, seed=args.seed,
        num_samples=max(args.n_prompts, (args.steps + 2) * args.prompts_per_step),
    )
    with tempfile.TemporaryDirectory() as out_dir:
        config = GRPOConfig(
            output_dir=out_dir, max_steps=args.steps, seed=args.seed,
            per_device_train_batch_size=args.prompts_per_step * args.num_generations,
            num_generations=args.num_generations, max_completion_length=4,
            learning_rate=1e-3, beta=0.0, use_cpu=True, bf16=False, report_to="none",
            save_strategy="no", logging_steps=max(1, args.steps // 5), disable_tqdm=True,
        )
        trainer = CurriculumGRPOTrainer(
            model=model, reward_funcs=copy_reward, args=config, train_dataset=train,
            processing_class=tokenizer, curriculum=curriculum, reward_range=(0.0, 1.0),
        )
        trainer.train()

    metrics = curriculum.metrics()
    probs = getattr(teacher, "probabilities", None)
    print(f"teacher {teacher.name}: {trainer.n_generations_credited} generations credited, "
          f"{int(metrics['teacher/n_updates'])} rollouts")
    if probs is not None:
        shares = dict(zip(LEVELS, np.round(probs(), 3).tolist(), strict=True))
        print(f"level probabilities now: {shares}")
    return metrics


if __name__ == "__main__":
    main()
