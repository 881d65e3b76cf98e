"""LRU, cachetools' (with ``getsizeof`` for a byte budget): the baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cachetools

from .base import ByteCache, register


class _CountingLRU(cachetools.LRUCache):
    def __init__(self, owner: LRU, *args, **kw):
        super().__init__(*args, **kw)
        self._owner = owner

    def popitem(self):
        item = super().popitem()
        self._owner.stats.evictions += 1
        return item


@register
class LRU(ByteCache):
    name = "lru"

    def __init__(self, capacity: int, sizeof: Callable[[Any], int] = len):
        super().__init__(capacity, sizeof)
        self._c = _CountingLRU(self, maxsize=self.capacity, getsizeof=sizeof)

    def __contains__(self, key):
        return key in self._c

    @property
    def used(self) -> int:
        return int(self._c.currsize)

    def _get(self, key):
        return self._c.get(key)

    def _put(self, key, value):
        self._c[key] = value
