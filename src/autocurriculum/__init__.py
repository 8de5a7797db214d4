"""autocurriculum: automatic curriculum learning.

A *teacher* decides what a *learner* practises next from the learner's own progress.

>>> import autocurriculum as ac
>>> space = ac.Box(low=[0, 0], high=[3, 6], names=["stump_height", "stump_spacing"])
>>> teacher = ac.make("random", space, seed=0)
>>> tasks = teacher.sample(64)
>>> teacher.update(tasks, scores=[0.5] * 64)
"""

from autocurriculum.checkpoint import load_checkpoint, save_checkpoint
from autocurriculum.spaces import Box, Discrete, Space
from autocurriculum.teachers import Teacher, list_teachers, make

__version__ = "0.1.0"

__all__ = [
    "Box",
    "Discrete",
    "Space",
    "Teacher",
    "__version__",
    "list_teachers",
    "load_checkpoint",
    "make",
    "save_checkpoint",
]
