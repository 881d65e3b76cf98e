"""One edge node: a byte-bounded cache in front of one or more origins.

It keeps hot segments in memory (S3-FIFO by default, LRU as the baseline); pre-positions the
segments most likely to be asked for before taking traffic; fails over between origins
(active-active, round-robin with a short penalty for a failed one); and streams objects larger
than the cache's object limit instead of holding them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import manifests
from . import cache as cache_mod
from .limits import EXHAUSTED, ConnectionGuard
from .origins import HttpOrigin, LocalOrigin, NotFound, Origin, OriginFailed, Source
from .steering import Steering

FAIL_PENALTY_S = 5.0


@dataclass
class EdgeConfig:
    titles: dict[str, Path] = field(default_factory=dict)
    origins: list[str] = field(default_factory=list)
    cache_mb: float = 256
    policy: str = "s3fifo"
    prefetch: int = 0  # first N segments of every rendition before serving (0: none, or all
    # segments of the titles in ``popularity``)
    popularity: Path | None = None  # one title per line, most popular first
    origin_timeout_s: float = 2.0  # an upstream that sends no byte for this long has failed
    header_timeout_s: float = 10.0  # a request's headers must be complete this soon after its first byte
    idle_timeout_s: float = 30.0  # a connection with no request in progress is closed after this
    max_connections: int | None = None  # default: what the descriptor limit allows (limits.py)
    send_timeout_s: float = 30.0  # a client that reads nothing for this long is dropped
    max_object_mb: float | None = None  # larger objects are streamed, not cached (default: cache/8)
    steer: list[str] = field(default_factory=list)  # edges to steer players among (steering.py)
    steer_ttl_s: float = 10.0
    steer_probe_s: float = 2.0
    allow_throttle: bool = False
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass
class EdgeStats:
    requests: int = 0
    hits: int = 0
    misses: int = 0
    bytes_from_cache: int = 0
    bytes_from_origin: int = 0
    evictions: int = 0
    failovers: int = 0
    origin_errors: int = 0
    not_found: int = 0
    prefilled_objects: int = 0
    prefilled_bytes: int = 0


class Edge:
    """State of one edge server: cache, origins, stats, throttle, connection guard."""

    def __init__(self, cfg: EdgeConfig):
        self.cfg = cfg
        self.cache = cache_mod.make(cfg.policy, int(cfg.cache_mb * 1024 * 1024))
        mb = cfg.max_object_mb
        self.max_object = int(mb * 1024 * 1024) if mb is not None else self.cache.capacity // 8
        self.origins: list[Origin] = []
        if cfg.titles:
            self.origins.append(LocalOrigin(cfg.titles))
        self.origins += [HttpOrigin(u, cfg.origin_timeout_s) for u in cfg.origins]
        self.stats = EdgeStats()
        self.failed_until: dict[str, float] = {}
        self.throttle_kbps = 0.0
        self.guard = ConnectionGuard(cfg.header_timeout_s, cfg.idle_timeout_s, cfg.max_connections)
        self.steering = Steering(cfg.steer, cfg.steer_ttl_s, cfg.steer_probe_s) if cfg.steer else None
        self._rr = 0
        self._inflight: dict[str, asyncio.Future] = {}

    # --- origins -------------------------------------------------------------------------
    def _order(self) -> list[Origin]:
        n = len(self.origins)
        start = self._rr % n if n else 0
        self._rr += 1
        rotated = self.origins[start:] + self.origins[:start]
        now = time.monotonic()
        healthy = [o for o in rotated if self.failed_until.get(o.name, 0) <= now]
        return healthy + [o for o in rotated if o not in healthy]

    def origin_failed(self, origin: str, exc: OriginFailed) -> None:
        self.stats.origin_errors += 1
        self.failed_until[origin] = time.monotonic() + FAIL_PENALTY_S
        if exc.cause is not None and exc.cause.errno in EXHAUSTED:
            self.guard.exhausted(exc.cause)

    async def open(self, rel: str, start: int = 0) -> Source:
        """Open ``rel`` at the first origin that answers; a failure moves on to the next one."""
        missing = 0
        tried_failed = False
        for origin in self._order():
            try:
                src = await origin.open(rel, start)
            except NotFound:
                missing += 1
                continue
            except OriginFailed as exc:
                self.origin_failed(origin.name, exc)
                tried_failed = True
                continue
            if tried_failed:
                self.stats.failovers += 1
            return src
        if missing:
            raise NotFound(rel)  # a live replica says it does not exist: that is the answer
        raise OriginFailed(rel)

    async def read_whole(self, rel: str) -> bytes:
        """The whole object; a failure part-way moves on to the next origin."""
        for _ in range(max(1, len(self.origins))):
            src = await self.open(rel)
            try:
                body = await src.read_all()
            except OriginFailed as exc:
                self.origin_failed(src.origin, exc)
                continue
            self.stats.bytes_from_origin += len(body)
            return body
        raise OriginFailed(rel)

    async def lookup(self, rel: str) -> tuple[bytes | None, Source | None, bool]:
        """(body, None, hit) for what fits the cache, or (None, open source, False) for an object
        over the cache's object limit, which is streamed through. One origin fetch per key at a time.
        """
        body = self.cache.get(rel)
        if body is not None:
            self.stats.hits += 1
            self.stats.bytes_from_cache += len(body)
            return body, None, True
        self.stats.misses += 1
        pending = self._inflight.get(rel)
        if pending is not None:
            body = await asyncio.shield(pending)
            if body is not None:
                return body, None, False
            return None, await self.open(rel), False
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[rel] = fut
        try:
            src = await self.open(rel)
            if src.size is None or src.size > self.max_object:
                fut.set_result(None)
                return None, src, False
            await src.close()
            body = await self.read_whole(rel)
            fut.set_result(body)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved
            raise
        finally:
            del self._inflight[rel]
        self.cache.put(rel, body)
        return body, None, False

    # --- pre-positioning -----------------------------------------------------------------
    def _titles_to_fill(self) -> list[str]:
        if self.cfg.popularity:
            names = [
                ln.split()[0]
                for ln in Path(self.cfg.popularity).read_text().splitlines()
                if ln.strip() and not ln.startswith("#")
            ]
            return names
        return list(self.cfg.titles)

    async def prefill(self) -> None:
        """Fill the cache, before serving, with manifests, inits and the first N segments."""
        n = self.cfg.prefetch
        if n <= 0 and not self.cfg.popularity:
            return
        for title in self._titles_to_fill():
            rels = [f"{title}/manifest.mpd", f"{title}/master.m3u8"]
            try:
                text = (await self.read_whole(rels[0])).decode()
                pres = manifests.parse_mpd(text, f"/{title}/manifest.mpd")
            except (NotFound, OriginFailed, manifests.ManifestError, UnicodeDecodeError):
                continue
            for rend in pres.video + pres.audio:
                if rend.init_url:
                    rels.append(rend.init_url.lstrip("/"))
                rels += [s.url.lstrip("/") for s in (rend.segments[:n] if n > 0 else rend.segments)]
            for rel in rels:
                if rel in self.cache:
                    continue
                try:
                    body = await self.read_whole(rel)
                except (NotFound, OriginFailed):
                    continue
                if len(body) > self.max_object:
                    continue
                if self.cache.used + len(body) > self.cache.capacity:
                    return  # full: stop rather than evict what was just placed
                self.cache.put(rel, body)
                self.stats.prefilled_objects += 1
                self.stats.prefilled_bytes += len(body)

    def stats_dict(self) -> dict:
        d = asdict(self.stats)
        d.update(
            evictions=self.cache.stats.evictions,
            hit_ratio=self.stats.hits / max(1, self.stats.hits + self.stats.misses),
            cache_used_bytes=self.cache.used,
            cache_capacity_bytes=self.cache.capacity,
            max_object_bytes=self.max_object,
            policy=self.cache.name,
            origins=[o.name for o in self.origins],
            throttle_kbps=self.throttle_kbps,
            **self.guard.stats(),
        )
        if self.steering is not None:
            d["steering"] = {"priority": self.steering.priority(), "edges": self.steering.stats()}
        return d

    async def close(self) -> None:
        for o in self.origins:
            await o.close()
