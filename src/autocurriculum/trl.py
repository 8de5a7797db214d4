"""TRL: GRPO post-training whose prompts a teacher chooses.

:class:`CurriculumGRPOTrainer` is TRL's ``GRPOTrainer`` with two overrides, the hook TRL's
maintainers point to (trl#2801):

- ``_get_train_sampler`` returns :class:`GroupedCurriculumSampler`, which keeps
  ``RepeatSampler``'s layout — each generation batch holds ``generation_batch_size //
  num_generations`` prompts, each repeated ``num_generations`` times, the whole block repeated
  ``num_iterations * steps_per_generation`` times, the same on every rank — but asks the
  curriculum for the block's prompts;
- ``_generate_and_score_completions`` credits each generation's rewards (and ``|advantage|``) to
  the prompts that were scored, with one ``group`` id per prompt and the generation as ``step``.

The DataLoader reads ahead (accelerate fetches one batch early, workers prefetch more), so the
curriculum has already drawn the next block when a block's rewards arrive. Credit therefore
never relies on the order of draws: the trainer adds a column holding each row's index
(:data:`INDEX_COLUMN`) and reads it back from the rollouts it scores. With several processes,
TRL gathers rewards across ranks; the trainer gathers the indices the same way, so every rank
applies the same update and the ranks' curricula stay identical.

Scores: the teacher takes scores in [0, 1]. The trainer maps the summed, weighted reward with
``reward_range=(low, high)``; a reward outside it is an error unless ``clip_rewards=True``.
Rollouts whose every reward function returned ``None`` (unscorable) are not credited.

Examples
--------
Sketch (see ``examples/trl_grpo_curriculum.py`` for a full, runnable script)::

    teacher = ac.make("sec", ac.Discrete(["easy", "medium", "hard"]), seed=0)
    curriculum = CurriculumSampler("difficulty", teacher, dataset=train_dataset, seed=0)
    trainer = CurriculumGRPOTrainer(
        model=model, reward_funcs=reward, args=GRPOConfig(...), train_dataset=train_dataset,
        processing_class=tokenizer, curriculum=curriculum,
    )
    trainer.train()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from accelerate.utils import gather_object
from torch.utils.data import Sampler
from trl import GRPOTrainer

from autocurriculum.params import check_bool, check_real, check_size
from autocurriculum.torch import CurriculumSampler

__all__ = ["INDEX_COLUMN", "CurriculumGRPOTrainer", "GroupedCurriculumSampler"]

#: The column :class:`CurriculumGRPOTrainer` adds to the training set: each row's index, read
#: back from the scored rollouts. Reward functions receive it as a keyword argument too.
INDEX_COLUMN = "curriculum_index"


class GroupedCurriculumSampler(Sampler[int]):
    """``RepeatSampler``'s layout, with each block's prompts drawn by a curriculum.

    Parameters
    ----------
    curriculum : CurriculumSampler
        Draws the prompts; each drawn prompt owes ``group_size`` outcomes.
    groups : int
        Distinct prompts per generation batch (``generation_batch_size // num_generations``).
    group_size : int
        Copies of each prompt in a row (``num_generations``).
    repeat : int
        Copies of each whole block (``num_iterations * steps_per_generation``): the trainer
        reads one batch per micro-step and generates from the first copy only.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> from autocurriculum.torch import CurriculumSampler
    >>> teacher = ac.make("random", ac.Discrete(["a", "b"]), seed=0)
    >>> curriculum = CurriculumSampler(["a", "b", "a", "b"], teacher, seed=0)
    >>> sampler = GroupedCurriculumSampler(curriculum, groups=2, group_size=3, repeat=2)
    >>> order = list(sampler)
    >>> len(order) == len(sampler) == 2 * 2 * 3 * 2
    True
    >>> order[:6] == [order[0]] * 3 + [order[3]] * 3 and order[6:12] == order[:6]
    True
    """

    def __init__(self, curriculum: CurriculumSampler, *, groups: int, group_size: int,
                 repeat: int = 1):
        if not isinstance(curriculum, CurriculumSampler):
            raise ValueError(
                f"curriculum must be an autocurriculum.torch.CurriculumSampler, got {curriculum!r}"
            )
        check_size("groups", groups, high=1 << 20)
        check_size("group_size", group_size, high=1 << 16)
        check_size("repeat", repeat, high=1 << 16)
        self.curriculum = curriculum
        self.groups = groups
        self.group_size = group_size
        self.repeat = repeat

    def __len__(self) -> int:
        return (len(self.curriculum) // self.groups) * self.groups * self.group_size * self.repeat

    def __iter__(self) -> Iterator[int]:
        for _ in range(len(self.curriculum) // self.groups):
            # One teacher call per generation batch; drawn lazily, so each block follows the
            # rewards that came back before the DataLoader asked for it.
            block = self.curriculum.draw(self.groups, outcomes=self.group_size).tolist()
            for _ in range(self.repeat):
                for index in block:
                    for _ in range(self.group_size):
                        yield index

    def set_epoch(self, epoch: int) -> None:
        """Accepted for accelerate/Trainer compatibility; the teacher decides the order."""


class CurriculumGRPOTrainer(GRPOTrainer):
    """TRL's ``GRPOTrainer`` drawing prompts through a curriculum and feeding rewards back.

    Takes every argument of ``trl.GRPOTrainer`` (``train_dataset`` must be a map-style
    ``datasets.Dataset``), plus:

    Parameters
    ----------
    curriculum : CurriculumSampler
        Built over the same ``train_dataset`` (same rows, same order), with one replica
        (accelerate shards the batches). Any teacher over its arms works (SEC, DUMP,
        learnability, ``auto``, ...); it receives per-rollout scores with the signals
        ``group`` (one id per prompt and generation), ``step`` (the generation number) and
        ``abs_advantage`` (TRL's advantages).
    reward_range : tuple of float
        ``(low, high)``: the total reward maps to the score ``(reward - low) / (high - low)``.
    clip_rewards : bool
        Clip rewards outside ``reward_range`` instead of raising ``ValueError``.

    Attributes
    ----------
    n_generations_credited : int
        Generation batches whose rewards reached the teacher.
    """

    def __init__(
        self,
        model: Any,
        reward_funcs: Any,
        args: Any = None,
        train_dataset: Any = None,
        *,
        curriculum: CurriculumSampler,
        reward_range: tuple[float, float] = (0.0, 1.0),
        clip_rewards: bool = False,
        **kwargs: Any,
    ):
        if not isinstance(curriculum, CurriculumSampler):
            raise ValueError(
                f"curriculum must be an autocurriculum.torch.CurriculumSampler, got {curriculum!r}"
            )
        if curriculum.num_replicas not in (None, 1):
            raise ValueError(
                "build the curriculum with num_replicas=None: accelerate shards TRL's batches "
                f"over the ranks itself (got num_replicas={curriculum.num_replicas})"
            )
        if not isinstance(reward_range, tuple | list) or len(reward_range) != 2:
            raise ValueError(f"reward_range must be (low, high), got {reward_range!r}")
        low = check_real("reward_range[0]", reward_range[0])
        high = check_real("reward_range[1]", reward_range[1], low=low, include_low=False)
        check_bool("clip_rewards", clip_rewards)
        if train_dataset is None or not hasattr(train_dataset, "add_column"):
            raise ValueError(
                "CurriculumGRPOTrainer needs a map-style datasets.Dataset as train_dataset, got "
                f"{type(train_dataset).__name__}"
            )
        if len(train_dataset) != curriculum.num_items:
            raise ValueError(
                f"the curriculum has keys for {curriculum.num_items} items, train_dataset has "
                f"{len(train_dataset)} rows: build it over the same dataset"
            )
        if INDEX_COLUMN in train_dataset.column_names:
            raise ValueError(f"train_dataset already has a column {INDEX_COLUMN!r}")
        train_dataset = train_dataset.add_column(INDEX_COLUMN, np.arange(len(train_dataset)))
        self.curriculum = curriculum
        self.reward_range = reward_range
        self.clip_rewards = clip_rewards
        self.n_generations_credited = 0
        self._low, self._high = low, high
        self._scored_rewards: torch.Tensor | None = None
        super().__init__(model, reward_funcs, args=args, train_dataset=train_dataset, **kwargs)

    # --------------------------------------------------------------- sampling
    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        # With remove_unused_columns=True the index column must survive to be read back.
        columns: list[str] = list(self._signature_columns or [])
        if INDEX_COLUMN not in columns:
            # transformers declares the attribute as None only; it holds a list once set.
            self._signature_columns = [*columns, INDEX_COLUMN]  # type: ignore[assignment]

    def _get_train_sampler(self, dataset: Any = None) -> Sampler[int]:
        args: Any = self.args  # a GRPOConfig
        size = int(self.num_generations or 1)
        return GroupedCurriculumSampler(
            self.curriculum,
            groups=args.generation_batch_size // size,
            group_size=size,
            repeat=self.num_iterations * args.steps_per_generation,
        )

    # ---------------------------------------------------------------- credit
    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any,
                           completion_ids_list: Any) -> torch.Tensor:
        rewards: torch.Tensor = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        self._scored_rewards = rewards  # (all ranks' rollouts, reward functions), gathered
        return rewards

    def _generate_and_score_completions(self, inputs: Any) -> Any:
        self._scored_rewards = None
        output = super()._generate_and_score_completions(inputs)
        model: Any = self.model
        if model.training and self._scored_rewards is not None:
            self._credit(inputs, output["advantages"], self._scored_rewards)
        return output

    def _credit(self, inputs: Any, advantages: torch.Tensor, per_func: torch.Tensor) -> None:
        """Give the teacher the scored rollouts' rewards, as TRL summed and grouped them."""
        weights = self.reward_weights.to(per_func.device)
        unscorable = torch.isnan(per_func).all(dim=1)
        rewards = (per_func * weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable] = torch.nan
        # TRL gathers rewards in rank order; gathering the indices and advantages the same way
        # lines them up with the rewards on every rank.
        indices = np.asarray(gather_object([int(x[INDEX_COLUMN]) for x in inputs]), np.int64)
        abs_adv = self.accelerator.gather(advantages.detach()).abs().cpu().numpy()
        reward_arr = rewards.detach().cpu().double().numpy()
        size = int(self.num_generations or 1)
        if len(indices) != len(reward_arr) or len(indices) % size:
            raise RuntimeError(
                f"{len(indices)} scored prompts for {len(reward_arr)} rewards in groups of {size}"
            )
        groups = indices.reshape(-1, size)
        if (groups != groups[:, :1]).any():
            raise RuntimeError(
                "a GRPO group holds different prompts; the sampler's layout was not kept "
                f"(prompt indices {groups.tolist()})"
            )
        step = self.n_generations_credited
        group_ids = step * len(groups) + np.arange(len(indices)) // size
        scores = (reward_arr - self._low) / (self._high - self._low)
        keep = ~np.isnan(scores)
        outside = keep & ((scores < 0) | (scores > 1))
        if outside.any() and not self.clip_rewards:
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"reward {reward_arr[i]!r} of prompt {int(indices[i])} is outside reward_range="
                f"{self.reward_range}: widen the range, or pass clip_rewards=True"
            )
        signals = {
            "group": group_ids[keep],
            "step": np.full(int(keep.sum()), step, dtype=np.int64),
            "abs_advantage": abs_adv[keep],
        }
        self.curriculum._apply(indices[keep], np.clip(scores[keep], 0.0, 1.0), signals)
        self.curriculum.end_step()
        self.n_generations_credited += 1
        for key, value in self.curriculum.metrics().items():
            self._metrics["train"][key].append(value)
