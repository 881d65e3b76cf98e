"""Byte-bounded object caches for the edge: LRU (baseline), SIEVE and S3-FIFO.

LRU is cachetools' (with ``getsizeof`` for a byte budget). SIEVE (NSDI'24) and S3-FIFO (SOSP'23)
are written here because the PyPI packages for them count items, not bytes; an edge budget is
bytes, and segment sizes vary 100×. Each policy counts its evictions for the stats endpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import cachetools


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


class _CountingLRU(cachetools.LRUCache):
    def __init__(self, owner: LRU, *args, **kw):
        super().__init__(*args, **kw)
        self._owner = owner

    def popitem(self):
        item = super().popitem()
        self._owner.stats.evictions += 1
        return item


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


POLICIES: dict[str, type[ByteCache]] = {"lru": LRU, "sieve": Sieve, "s3fifo": S3Fifo}


def make(policy: str, capacity: int, sizeof: Callable[[Any], int] = len) -> ByteCache:
    if policy not in POLICIES:
        from ..errors import ShotencError

        raise ShotencError(f"unknown cache policy {policy!r}; choose from {', '.join(POLICIES)}")
    return POLICIES[policy](capacity, sizeof)


def belady_hits(requests: list[Hashable], sizes: dict, capacity: int) -> int:
    """Hits of Belady's MIN (evict what is needed furthest in the future) over a known stream.

    With unequal sizes exact MIN is NP-hard; this is the usual furthest-next-use heuristic with
    bypass (an object needed later than everything cached is not admitted), the standard
    offline reference in cache papers.
    """
    import heapq

    nxt = [0] * len(requests)
    last_seen: dict = {}
    for i in range(len(requests) - 1, -1, -1):
        nxt[i] = last_seen.get(requests[i], len(requests) + i)
        last_seen[requests[i]] = i
    cached: dict = {}  # key -> next use
    heap: list = []  # (-next_use, key)
    used = 0
    hits = 0
    for i, key in enumerate(requests):
        size = sizes[key]
        if key in cached:
            hits += 1
        elif size > capacity:
            continue
        else:
            used += size
        cached[key] = nxt[i]
        heapq.heappush(heap, (-nxt[i], key))
        while used > capacity:
            neg, victim = heapq.heappop(heap)
            if cached.get(victim) != -neg:
                continue  # stale heap entry
            del cached[victim]
            used -= sizes[victim]
    return hits
