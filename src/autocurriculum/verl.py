"""verl 0.7: a curriculum sampler for ``RayPPOTrainer`` (``data.sampler`` in the config).

verl 0.7.x builds the training sampler itself, from ``data.sampler.class_path`` /
``class_name``, as ``cls(data_source=dataset, data_config=config.data)``, and after every step
calls ``sampler.update(batch=batch)`` with the step's ``DataProto``. verl 0.8 removed this hook;
0.7.1 is the last release with it. verl 0.7.1 requires ``numpy<2``, so it lives in an
environment of its own (see ``docs/data.md``).

Configuration (keys of ``data.sampler`` besides ``class_path``/``class_name``)::

    data:
      dataloader_num_workers: 0            # verl asserts it for curriculum samplers
      sampler:
        class_path: pkg://autocurriculum.verl
        class_name: VerlCurriculumSampler
        teacher: sec                       # any discrete teacher
        teacher_params: {temperature: 0.5}
        key: data_source                   # the column whose values are the arms
        seed: 0
        reward_range: [0.0, 1.0]           # sequence score -> teacher score in [0, 1]

Credit. Each rollout's arm is read from the batch's own ``key`` column, its score from
``token_level_scores`` summed over the response, its group from ``uid`` (one uuid per prompt and
step) and its ``abs_advantage`` from ``advantages`` averaged over ``response_mask``. verl's
``index`` comes from the user's ``extra_info`` and is not the row position after verl filters
long prompts, so the sampler never maps rollouts back to rows: it credits arms, and leaves the
per-item pending count of :class:`~autocurriculum.torch.CurriculumSampler` aside.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import autocurriculum as ac
from autocurriculum.params import check_real
from autocurriculum.torch import CurriculumSampler, _encode_keys, _key_name

__all__ = ["VerlCurriculumSampler"]

# Imported by name so that type checkers in an environment without verl (numpy 2) pass; verl is
# required at runtime and the class below is verl's own abstract base.
_verl_sampler: Any = importlib.import_module("verl.experimental.dataset.sampler")


class VerlCurriculumSampler(_verl_sampler.AbstractCurriculumSampler):
    """verl's curriculum sampler interface over a :class:`CurriculumSampler`.

    Parameters
    ----------
    data_source : verl RLHFDataset or datasets.Dataset
        The training set (an ``RLHFDataset``'s rows are read from its ``dataframe``).
    data_config : mapping
        verl's ``config.data``; this class reads ``data_config.sampler`` (see the module doc).

    Attributes
    ----------
    curriculum : CurriculumSampler
        The sampler that draws the indices.
    """

    def __init__(self, data_source: Any, data_config: Any):
        cfg = _get(data_config, "sampler", None) or {}
        rows = getattr(data_source, "dataframe", data_source)
        self.key: str = str(_get(cfg, "key", "data_source"))
        _, values = _encode_keys(self.key, rows)
        arms = sorted({_key_name(v) for v in values})
        low, high = (float(x) for x in _get(cfg, "reward_range", (0.0, 1.0)))
        check_real("reward_range[1]", high, low=low, include_low=False)
        self._low, self._high = low, high
        params = dict(_get(cfg, "teacher_params", None) or {})
        seed = _get(cfg, "seed", None)
        teacher = ac.make(str(_get(cfg, "teacher", "sec")), ac.Discrete(arms), seed=seed,
                          **params)
        self.curriculum = CurriculumSampler(
            self.key, teacher, dataset=rows, seed=seed,
            draw_size=int(_get(cfg, "draw_size", 256)), gather_updates=False,
        )
        self.n_steps = 0

    def __iter__(self) -> Iterator[int]:
        return iter(self.curriculum)

    def __len__(self) -> int:
        return len(self.curriculum)

    def update(self, batch: Any) -> None:
        """Credit one PPO/GRPO step's rollouts (a verl ``DataProto``) to their arms."""
        non_tensor, tensors = batch.non_tensor_batch, batch.batch
        space = self.curriculum.teacher.space
        keys = np.asarray(non_tensor[self.key])
        arms = np.array([space.index(_key_name(k)) for k in keys.tolist()], dtype=np.int64)
        scores = tensors["token_level_scores"].sum(-1).double().cpu().numpy()
        scores = (scores - self._low) / (self._high - self._low)
        signals: dict[str, Any] = {"step": np.full(len(arms), self.n_steps, dtype=np.int64)}
        if "uid" in non_tensor:
            _, group = np.unique(np.asarray(non_tensor["uid"]).astype(str), return_inverse=True)
            signals["group"] = group.reshape(-1).astype(np.int64) + self.n_steps * len(arms)
        if "advantages" in tensors.keys():  # noqa: SIM118  (TensorDict has no __contains__)
            mask = tensors["response_mask"].double()
            adv = (tensors["advantages"].double().abs() * mask).sum(-1)
            signals["abs_advantage"] = (adv / mask.sum(-1).clamp(min=1.0)).cpu().numpy()
        self.curriculum.teacher.update(arms, scores, signals)
        self.curriculum.teacher.end_step()
        self.n_steps += 1

    def state_dict(self) -> dict[str, Any]:
        """For verl's StatefulDataLoader checkpoints."""
        return {"curriculum": self.curriculum.state_dict(), "n_steps": self.n_steps}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.curriculum.load_state_dict(state["curriculum"])
        self.n_steps = int(state["n_steps"])


def _get(config: Any, key: str, default: Any) -> Any:
    if isinstance(config, Mapping):
        return config.get(key, default)
    getter = getattr(config, "get", None)  # omegaconf DictConfig
    return getter(key, default) if getter is not None else getattr(config, key, default)
