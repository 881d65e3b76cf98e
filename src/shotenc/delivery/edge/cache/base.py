"""The cache interface every eviction policy implements, and the registry of policies.

A budget is bytes, not items: segment sizes vary 100×. Each policy counts its evictions for the
stats endpoint. Policies live one per module here and register themselves by name.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes_hit: int = 0


class ByteCache:
    """Interface: ``get``/``put`` by key; values are sized by ``sizeof`` (``len`` for bytes)."""

    name = "cache"

    def __init__(self, capacity: int, sizeof: Callable[[Any], int] = len):
        self.capacity = int(capacity)
        self.sizeof = sizeof
        self.stats = CacheStats()

    def get(self, key: Hashable) -> Any | None:
        value = self._get(key)
        if value is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
            self.stats.bytes_hit += self.sizeof(value)
        return value

    def put(self, key: Hashable, value: Any) -> bool:
        """Insert; returns False when the object alone is larger than the cache."""
        if self.sizeof(value) > self.capacity:
            return False
        self._put(key, value)
        return True

    def __contains__(self, key: Hashable) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def used(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _get(self, key):  # pragma: no cover - overridden
        raise NotImplementedError

    def _put(self, key, value):  # pragma: no cover - overridden
        raise NotImplementedError


POLICIES: dict[str, type[ByteCache]] = {}


def register(cls: type[ByteCache]) -> type[ByteCache]:
    POLICIES[cls.name] = cls
    return cls


def make(policy: str, capacity: int, sizeof: Callable[[Any], int] = len) -> ByteCache:
    if policy not in POLICIES:
        from ...errors import ShotencError

        raise ShotencError(f"unknown cache policy {policy!r}; choose from {', '.join(POLICIES)}")
    return POLICIES[policy](capacity, sizeof)
