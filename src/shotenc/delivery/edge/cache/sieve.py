"""SIEVE (Zhang et al., NSDI'24), written here because the PyPI package counts items, not bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import ByteCache, register


@register
class Sieve(ByteCache):
    """SIEVE: one FIFO queue, a visited bit, and a hand that sweeps from tail to head.

    Hits only set a bit (no list moves), and the hand evicts the first unvisited object it meets,
    so new objects that are never re-requested leave quickly while popular ones stay.
    """

    name = "sieve"

    def __init__(self, capacity: int, sizeof: Callable[[Any], int] = len):
        super().__init__(capacity, sizeof)
        self._data: dict = {}
        self._visited: dict = {}
        self._queue: list = []  # index 0 = oldest (tail); new objects appended at the head
        self._hand = 0
        self._used = 0

    def __contains__(self, key):
        return key in self._data

    @property
    def used(self) -> int:
        return self._used

    def _get(self, key):
        value = self._data.get(key)
        if value is not None:
            self._visited[key] = True
        return value

    def _evict(self) -> None:
        q = self._queue
        while True:
            if self._hand >= len(q):
                self._hand = 0
            key = q[self._hand]
            if self._visited[key]:
                self._visited[key] = False
                self._hand += 1
                continue
            q.pop(self._hand)
            self._used -= self.sizeof(self._data.pop(key))
            del self._visited[key]
            self.stats.evictions += 1
            return

    def _put(self, key, value):
        if key in self._data:
            self._used -= self.sizeof(self._data[key])
            self._data[key] = value
            self._used += self.sizeof(value)
            self._visited[key] = True
        else:
            size = self.sizeof(value)
            while self._used + size > self.capacity and self._queue:
                self._evict()
            self._data[key] = value
            self._visited[key] = False
            self._queue.append(key)
            self._used += size
        while self._used > self.capacity and self._queue:
            self._evict()
