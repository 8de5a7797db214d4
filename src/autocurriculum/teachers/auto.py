"""``make("auto", space)``: the recommended teacher for a space, chosen by the benchmark."""

from __future__ import annotations

from typing import Any

from autocurriculum.spaces import Space

# The recommended teachers register on import; auto's spec reads theirs.
from autocurriculum.teachers import lp_tree, zlp  # noqa: F401
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import SpaceT, make, register_factory, teacher_spec

__all__ = ["BOX_TEACHER", "DISCRETE_TEACHER", "make_auto", "recommended"]

#: The recommended teacher for Discrete spaces and its parameters: ZLP with its defaults, the
#: only teacher that masters both arms-chain (0.26x uniform's episodes) and arms-mixed (0.25x;
#: the published ones need 0.74x or more there). Numbers and reasons: docs/discrete.md.
DISCRETE_TEACHER: tuple[str, dict[str, Any]] = ("zlp", {})

#: The recommended teacher for Box spaces and its parameters: the best continuous teacher of
#: the grid benchmark in docs/discrete.md (lp-tree: 100% of grid-2d and grid-distractors at
#: 20k episodes). Provisional: lp-tree is still being designed; change this one line when the
#: benchmark of the continuous teachers settles.
BOX_TEACHER: tuple[str, dict[str, Any]] = ("lp-tree", {})


def recommended(kind: str) -> tuple[str, dict[str, Any]]:
    """``(registry name, parameters)`` of the teacher ``auto`` builds for a space ``kind``.

    Examples
    --------
    >>> recommended("discrete")[0]
    'zlp'
    """
    choices = {"discrete": DISCRETE_TEACHER, "box": BOX_TEACHER}
    if kind not in choices:
        raise ValueError(
            f"auto has no recommended teacher for space kind {kind!r}; it knows "
            f"{sorted(choices)}"
        )
    name, params = choices[kind]
    return name, dict(params)


def make_auto(space: SpaceT, **params: Any) -> Teacher[SpaceT]:
    """The recommended teacher for ``space``, built with its recommended parameters.

    ``params`` (``seed`` for one) are passed on and override the recommended ones.

    Parameters
    ----------
    space : Box or Discrete
        The task space; its kind picks the teacher.
    **params
        Keyword arguments of the chosen teacher.

    Returns
    -------
    Teacher
        An instance of the recommended class (``ac.make("auto", ...)`` returns a ``ZLP`` for
        a Discrete space), not a wrapper: its state, parameters and metrics are its own.

    Raises
    ------
    ValueError
        ``space`` is not a Space, or a space kind with no recommendation.

    Examples
    --------
    >>> import autocurriculum as ac
    >>> teacher = ac.make("auto", ac.Discrete(["easy", "medium", "hard"]), seed=0)
    >>> type(teacher).__name__, teacher.name
    ('ZLP', 'zlp')
    """
    if not isinstance(space, Space):
        raise ValueError(f"space must be an autocurriculum Box or Discrete, got {space!r}")
    name, defaults = recommended(space.kind)
    return make(name, space, **{**defaults, **params})


register_factory(
    "auto",
    make_auto,
    summary="The recommended teacher for the space, chosen by the benchmark: lp-tree "
    "(learning-progress tree) for a Box, zlp (z-scored learning progress) for a Discrete",
    kinds=("box", "discrete"),
    # What the recommended teachers read; auto returns one of them, whose own spec then applies.
    reads=frozenset().union(*(teacher_spec(name).reads for name, _ in (BOX_TEACHER,
                                                                        DISCRETE_TEACHER))),
)
