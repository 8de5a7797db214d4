"""Teachers: one module per algorithm, all implementing :class:`Teacher`.

Importing this package registers every teacher with :func:`make`.
"""

# --- teacher modules (each registers itself on import); keep one import per line ---
from autocurriculum.teachers.adr import ADR
from autocurriculum.teachers.alp_gmm import ALPGMM
from autocurriculum.teachers.auto import make_auto
from autocurriculum.teachers.base import Teacher
from autocurriculum.teachers.binned import Binned
from autocurriculum.teachers.covar_gmm import CovarGMM
from autocurriculum.teachers.cyclical import Cyclical
from autocurriculum.teachers.dump import DUMP
from autocurriculum.teachers.easy_to_hard import EasyToHard
from autocurriculum.teachers.exp3s import Exp3S
from autocurriculum.teachers.learnability import Learnability
from autocurriculum.teachers.lp_tree import LPTree
from autocurriculum.teachers.oracle import Oracle
from autocurriculum.teachers.plr import PLR
from autocurriculum.teachers.random import Random
from autocurriculum.teachers.registry import (
    TeacherSpec,
    list_teachers,
    make,
    register,
    teacher_spec,
)
from autocurriculum.teachers.riac import RIAC
from autocurriculum.teachers.schedule import Schedule, Stage
from autocurriculum.teachers.sec import SEC
from autocurriculum.teachers.self_paced import SelfPaced
from autocurriculum.teachers.spdl import SPDL
from autocurriculum.teachers.tscl import TSCL
from autocurriculum.teachers.zlp import ZLP

# --- end of teacher modules ---

__all__ = [
    "ADR",
    "ALPGMM",
    "DUMP",
    "PLR",
    "RIAC",
    "SEC",
    "SPDL",
    "TSCL",
    "ZLP",
    "Binned",
    "CovarGMM",
    "Cyclical",
    "EasyToHard",
    "Exp3S",
    "LPTree",
    "Learnability",
    "Oracle",
    "Random",
    "Schedule",
    "SelfPaced",
    "Stage",
    "Teacher",
    "TeacherSpec",
    "list_teachers",
    "make",
    "make_auto",
    "register",
    "teacher_spec",
]
