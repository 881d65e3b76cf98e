"""Byte-bounded object caches for the edge: LRU (baseline), SIEVE and S3-FIFO, one module each,
behind :class:`ByteCache`; Belady's MIN as the offline reference."""

from . import lru, s3fifo, sieve  # noqa: F401 - registers the policies
from .base import POLICIES, ByteCache, CacheStats, make, register
from .belady import belady_hits

__all__ = ["POLICIES", "ByteCache", "CacheStats", "belady_hits", "make", "register"]
