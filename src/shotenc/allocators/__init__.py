"""Allocators, one file each: every module here that defines an :class:`Allocator` subclass registers it.

``create("hull", options)`` builds one; ``names()`` is what ``shotenc encode --mode`` offers.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import ShotencError
from .base import Allocator, AllocatorOptions, EncodePlan

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

DEFAULT = "crf"


def names() -> tuple[str, ...]:
    """Every allocator, the default first."""
    return tuple(sorted(Allocator._registry, key=lambda n: (n != DEFAULT, n)))


def get(name: str) -> type[Allocator]:
    try:
        return Allocator._registry[name]
    except KeyError:
        raise ShotencError(f"unknown mode {name!r}; choose from {', '.join(names())}") from None


def create(name: str, options: AllocatorOptions | None = None) -> Allocator:
    """The allocator ``name`` set up from ``options``; refuses options it cannot honour."""
    options = options or AllocatorOptions()
    cls = get(name)
    if options.auto_ladder and not cls.chooses_sizes:
        able = ", ".join(n for n in names() if get(n).chooses_sizes)
        raise ShotencError(f"--ladder auto needs a mode that chooses sizes from hulls ({able}), not {name}")
    if options.target_vmaf is not None and not cls.takes_quality_target:
        able = ", ".join(n for n in names() if get(n).takes_quality_target)
        raise ShotencError(f"--target-vmaf needs a mode that aims at a quality ({able}), not {name}")
    return cls.from_options(options)


__all__ = ["DEFAULT", "Allocator", "AllocatorOptions", "EncodePlan", "create", "get", "names"]
