"""Belady's MIN for sized objects: the offline reference the policies are measured against."""

from __future__ import annotations

from collections.abc import Hashable


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
