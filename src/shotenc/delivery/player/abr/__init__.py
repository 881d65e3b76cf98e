"""ABR rules, one module each, behind :class:`~.base.Abr`; ``RULES`` is what the CLI offers."""

from . import bba, bola, bola_e, dynamic, hybrid, throughput  # noqa: F401 - registers the rules
from .base import RULES, Abr, AbrContext, Decision, Progress, make, quality_for_throughput, register
from .fixed import Fixed

DEFAULT_RULE = "hybrid"

__all__ = [
    "DEFAULT_RULE",
    "RULES",
    "Abr",
    "AbrContext",
    "Decision",
    "Fixed",
    "Progress",
    "make",
    "quality_for_throughput",
    "register",
]
