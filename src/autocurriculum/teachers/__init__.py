"""Teachers: one module per algorithm, all implementing :class:`Teacher`.

Importing this package registers every teacher with :func:`make`.
"""

from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.registry import list_teachers, make, register, teacher_summary

# --- teacher modules (each registers itself on import); keep one import per line ---
from autocurriculum.teachers.oracle import Oracle
from autocurriculum.teachers.schedule import Schedule, Stage
from autocurriculum.teachers.uniform import RandomTeacher
# --- end of teacher modules ---

__all__ = [
    "Oracle",
    "RandomTeacher",
    "Schedule",
    "Stage",
    "Teacher",
    "list_teachers",
    "make",
    "register",
    "teacher_summary",
]
