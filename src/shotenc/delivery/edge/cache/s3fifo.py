"""S3-FIFO (Yang et al., SOSP'23), written here because the PyPI package counts items, not bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .base import ByteCache, register


@register
class S3Fifo(ByteCache):
    """S3-FIFO: a small FIFO (10% of bytes) filters one-hit wonders, a main FIFO with 2-bit
    frequency keeps the rest, a ghost FIFO of recently dropped keys lets them straight into main.
    """

    name = "s3fifo"

    def __init__(self, capacity: int, sizeof: Callable[[Any], int] = len, small_ratio: float = 0.1):
        super().__init__(capacity, sizeof)
        self.small_cap = max(1, int(capacity * small_ratio))
        self._small: OrderedDict = OrderedDict()
        self._main: OrderedDict = OrderedDict()
        self._freq: dict = {}
        self._ghost: OrderedDict = OrderedDict()
        self._ghost_bytes = 0
        self._small_used = 0
        self._main_used = 0

    def __contains__(self, key):
        return key in self._small or key in self._main

    @property
    def used(self) -> int:
        return self._small_used + self._main_used

    def _get(self, key):
        value = self._small.get(key)
        if value is None:
            value = self._main.get(key)
        if value is not None:
            self._freq[key] = min(self._freq[key] + 1, 3)
        return value

    def _remember(self, key, size: int) -> None:
        self._ghost[key] = size
        self._ghost_bytes += size
        while self._ghost_bytes > self.capacity - self.small_cap and self._ghost:
            _, s = self._ghost.popitem(last=False)
            self._ghost_bytes -= s

    def _evict_main(self) -> None:
        while self._main:
            key, value = self._main.popitem(last=False)
            if self._freq[key] > 0:
                self._freq[key] -= 1
                self._main[key] = value  # reinsert at the head
                continue
            self._main_used -= self.sizeof(value)
            del self._freq[key]
            self.stats.evictions += 1
            return

    def _evict_small(self) -> None:
        key, value = self._small.popitem(last=False)
        size = self.sizeof(value)
        self._small_used -= size
        if self._freq[key] > 0:
            self._main[key] = value
            self._main_used += size
            self._freq[key] = 0
            while self.used > self.capacity and self._main:
                self._evict_main()
        else:
            del self._freq[key]
            self._remember(key, size)
            self.stats.evictions += 1

    def _make_room(self, size: int) -> None:
        while self.used + size > self.capacity and (self._small or self._main):
            if self._small_used >= self.small_cap or not self._main:
                self._evict_small()
            else:
                self._evict_main()

    def _put(self, key, value):
        size = self.sizeof(value)
        if key in self._small:
            self._small_used -= self.sizeof(self._small.pop(key))
        elif key in self._main:
            self._main_used -= self.sizeof(self._main.pop(key))
        self._make_room(size)
        if key in self._ghost:
            self._ghost_bytes -= self._ghost.pop(key)
            self._main[key] = value
            self._main_used += size
        else:
            self._small[key] = value
            self._small_used += size
        self._freq.setdefault(key, 0)
