"""autocurriculum: automatic curriculum learning.

A *teacher* decides what a *learner* practises next from the learner's own progress.

>>> import autocurriculum as ac
>>> space = ac.Box(low=[0, 0], high=[3, 6], names=["stump_height", "stump_spacing"])
>>> teacher = ac.make("random", space, seed=0)
>>> tasks = teacher.sample(64)
>>> teacher.update(tasks, scores=[0.5] * 64)
"""

from autocurriculum.checkpoint import CheckpointError, load
from autocurriculum.params import InvalidParameterError
from autocurriculum.signals import SIGNALS
from autocurriculum.spaces import Box, Discrete, Space
from autocurriculum.teachers import Teacher, TeacherSpec, list_teachers, make, teacher_spec

__version__ = "0.2.0"

__all__ = [
    "SIGNALS",
    "Box",
    "CheckpointError",
    "Discrete",
    "InvalidParameterError",
    "Space",
    "Teacher",
    "TeacherSpec",
    "__version__",
    "list_teachers",
    "load",
    "make",
    "teacher_spec",
]
