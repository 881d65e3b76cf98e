"""Video codecs, one file each: every module here that defines a :class:`Codec` subclass registers it.

``get("hevc")`` answers every per-codec question; ``names()`` is the list the CLI and ladders accept.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import ShotencError
from .base import Codec, RatePoint

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

_CODECS: dict[str, Codec] = {
    name: cls() for name, cls in sorted(Codec._registry.items(), key=lambda item: item[1].order)
}


def names() -> tuple[str, ...]:
    """Every codec, in ladder order."""
    return tuple(_CODECS)


def get(name: str) -> Codec:
    try:
        return _CODECS[name]
    except KeyError:
        raise ShotencError(f"unknown codec {name!r}; choose from {', '.join(_CODECS)}") from None


def for_sample_entry(entry: str) -> Codec | None:
    """The codec an MP4 sample entry (``avc1``, ``hvc1``, ``vp09`` ...) belongs to."""
    return next((c for c in _CODECS.values() if entry in c.sample_entries), None)


__all__ = ["Codec", "RatePoint", "for_sample_entry", "get", "names"]
