"""The edge: an asyncio HTTP server with a byte-bounded cache in front of one or more origins.

It does what a CDN appliance does for this project's output: serves ``/<title>/<path>`` with
correct types, ranges and CORS; keeps hot segments in memory (S3-FIFO by default, LRU as the
baseline); pre-positions the segments most likely to be asked for before taking traffic; and
fails over between origins (active-active, round-robin with a short penalty for a failed one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiohttp import web

from . import cache as cache_mod
from . import manifests
from .limits import EXHAUSTED, ConnectionGuard, GuardedSite
from .origins import HttpOrigin, LocalOrigin, NotFound, Origin, OriginFailed, Source, safe_relpath

WEB_DIR = Path(__file__).with_name("web")
LIBS = {
    "dash.all.min.js": WEB_DIR / "node_modules" / "dashjs" / "dist" / "dash.all.min.js",
    "hls.min.js": WEB_DIR / "node_modules" / "hls.js" / "dist" / "hls.min.js",
}
TYPES = {
    ".mpd": "application/dash+xml",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE)
ALLOW = "GET, HEAD, OPTIONS"
THROTTLE_CHUNK = 16 * 1024
FAIL_PENALTY_S = 5.0
EDGE_KEY: web.AppKey[Edge] = web.AppKey("edge")  # type: ignore[name-defined]


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


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".mp4" and "/audio/" in f"/{path}":
        return "audio/mp4"
    return TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end inclusive); None = serve whole; False = unsatisfiable or malformed (416)."""
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None  # other units are ignored, as RFC 9110 allows
    if "," in header:
        return None  # multiple ranges: answered with the whole object
    m = _RANGE.match(header.replace(" ", ""))
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return False
    first, last = m.group(1), m.group(2)
    if first == "":
        n = int(last)
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


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
        return d

    async def close(self) -> None:
        for o in self.origins:
            await o.close()


# --- HTTP handlers ---------------------------------------------------------------------------
def _not_found() -> web.Response:
    return web.Response(status=404, text="not found\n", headers=CORS)


def _headers(rel: str, hit: bool) -> dict[str, str]:
    return {
        **CORS,
        "Content-Type": content_type(rel),
        "Accept-Ranges": "bytes",
        "X-Cache": "HIT" if hit else "MISS",
        "Cache-Control": "public, max-age=3600",
    }


def _wanted(request: web.Request, size: int | None) -> tuple[int, int | None] | None | bool:
    """The byte range asked for: (start, end inclusive), None for all, False for 416."""
    rng = request.headers.get("Range")
    if rng is None or size is None:
        return None
    return parse_range(rng, size)


async def _stream(
    request: web.Request,
    edge: Edge,
    rel: str,
    status: int,
    headers: dict,
    length: int | None,
    chunks: AsyncIterator[bytes],
) -> web.StreamResponse:
    """Send ``chunks`` as they come, throttled when asked to; a client that stops reading for
    ``send_timeout_s`` or an origin that stalls mid-way ends the response (the connection closes)."""
    resp = web.StreamResponse(status=status, headers=headers)
    if length is not None:
        resp.content_length = length
    await resp.prepare(request)
    media = rel.endswith((".m4s", ".mp4"))
    try:
        async for data in chunks:
            throttle = edge.throttle_kbps if media else 0.0
            step = THROTTLE_CHUNK if throttle > 0 else max(1, len(data))
            for i in range(0, len(data), step):
                part = data[i : i + step]
                await asyncio.wait_for(resp.write(part), edge.cfg.send_timeout_s)
                if throttle > 0:
                    await asyncio.sleep(len(part) * 8 / (throttle * 1000))
    except (OriginFailed, asyncio.TimeoutError, ConnectionError):
        if request.transport is not None:
            request.transport.close()
        return resp
    await resp.write_eof()
    return resp


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _send(
    request: web.Request, edge: Edge, rel: str, body: bytes | None, src: Source | None, hit: bool
) -> web.StreamResponse:
    size = len(body) if body is not None else src.size
    headers = _headers(rel, hit)
    status, start, end = 200, 0, None
    r = _wanted(request, size)
    if r is False:
        if src is not None:
            await src.close()
        return web.Response(status=416, headers={**CORS, "Content-Range": f"bytes */{size}"})
    if r:
        start, end = r
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    length = (end - start + 1) if end is not None else size
    if request.method == "HEAD":
        if src is not None:
            await src.close()
        if length is not None:
            headers["Content-Length"] = str(length)
        return web.Response(status=status, headers=headers)
    if body is not None:
        view = memoryview(body)[start : end + 1 if end is not None else None]
        if edge.throttle_kbps <= 0 or not rel.endswith((".m4s", ".mp4")):
            return web.Response(status=status, body=view, headers=headers)
        return await _stream(request, edge, rel, status, headers, length, _one(bytes(view)))
    assert src is not None
    if start:
        await src.close()
        src = await edge.open(rel, start)
    return await _stream(request, edge, rel, status, headers, length, _counted(edge, src, length))


async def _counted(edge: Edge, src: Source, length: int | None) -> AsyncIterator[bytes]:
    """An origin's bytes, at most ``length`` of them, counted in the stats; closes the source."""
    left = length
    try:
        async for data in src.chunks:
            if left is not None:
                data = data[:left]
                left -= len(data)
            edge.stats.bytes_from_origin += len(data)
            if data:
                yield data
            if left == 0:
                return
    except OriginFailed as exc:
        edge.origin_failed(src.origin, exc)
        raise
    finally:
        await src.close()


async def handle(request: web.Request) -> web.StreamResponse:
    edge: Edge = request.app[EDGE_KEY]
    edge.stats.requests += 1
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS)
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, text="method not allowed\n", headers={**CORS, "Allow": ALLOW})
    raw = request.raw_path
    if raw in ("/", ""):
        return web.json_response({"titles": sorted(edge.cfg.titles), "player": "/_player/"}, headers=CORS)
    if raw.startswith("/_edge/"):
        return await _admin(request, edge)
    if raw.startswith("/_player/"):
        return _player_file(raw)
    rel = safe_relpath(raw)
    if rel is None:
        edge.stats.not_found += 1
        return _not_found()
    try:
        body, src, hit = await edge.lookup(rel)
        return await _send(request, edge, rel, body, src, hit)
    except NotFound:
        edge.stats.not_found += 1
        return _not_found()
    except OriginFailed:
        return web.Response(status=502, text="all origins failed\n", headers=CORS)


async def _admin(request: web.Request, edge: Edge) -> web.Response:
    path = request.raw_path.split("?", 1)[0]
    if path == "/_edge/stats":
        return web.json_response(edge.stats_dict(), headers=CORS)
    if path == "/_edge/throttle" and edge.cfg.allow_throttle:
        try:
            edge.throttle_kbps = max(0.0, float(request.query.get("kbps", "0")))
        except ValueError:
            return web.Response(status=400, text="kbps must be a number\n", headers=CORS)
        return web.json_response({"throttle_kbps": edge.throttle_kbps}, headers=CORS)
    return _not_found()


def _player_file(raw: str) -> web.Response:
    path = raw.split("?", 1)[0]
    if path in ("/_player/", "/_player/index.html"):
        f = WEB_DIR / "index.html"
    elif path.startswith("/_player/lib/") and path[13:] in LIBS:
        f = LIBS[path[13:]]
    else:
        return _not_found()
    if not f.is_file():
        return web.Response(status=404, text="player library missing: run scripts/setup-browser.sh\n")
    return web.Response(body=f.read_bytes(), headers={**CORS, "Content-Type": TYPES[f.suffix]})


@web.middleware
async def _guard(request: web.Request, handler):
    """Nothing a client sends may take the server down: any failure becomes a 500. The connection
    guard learns when a request is being handled (so it is not timed out meanwhile)."""
    guard = request.app[EDGE_KEY].guard
    guard.request_started(request.transport)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:  # noqa: BLE001 - the server must keep serving
        return web.Response(status=500, text="internal error\n")
    finally:
        guard.request_finished(request.transport)


def make_app(edge: Edge) -> web.Application:
    app = web.Application(middlewares=[_guard])
    app[EDGE_KEY] = edge
    app.router.add_route("*", "/{tail:.*}", handle)

    async def _cleanup(_app):
        await edge.close()

    app.on_cleanup.append(_cleanup)
    return app


HANDLER_LIMITS = {"max_line_size": 4096, "max_field_size": 8190}


async def start(cfg: EdgeConfig) -> tuple[web.AppRunner, Edge, int]:
    """Pre-position, then listen. Returns the runner, the edge and the bound port."""
    # malformed requests are answered 400 by aiohttp's parser; their tracebacks are not news
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    edge = Edge(cfg)
    await edge.prefill()
    runner = web.AppRunner(make_app(edge), access_log=None, **HANDLER_LIMITS)
    await runner.setup()
    site = GuardedSite(runner, cfg.host, cfg.port, edge.guard)
    await site.start()
    port = runner.addresses[0][1]
    return runner, edge, port


class EdgeThread:
    """An edge running in a background thread (for ``play``/``validate`` on a folder, and tests)."""

    def __init__(self, cfg: EdgeConfig):
        self.cfg = cfg
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.edge: Edge | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._runner, self.edge, self.port = self.loop.run_until_complete(start(self.cfg))
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    def __enter__(self) -> EdgeThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.port}"

    def stats(self) -> dict:
        assert self.edge is not None
        return json.loads(json.dumps(self.edge.stats_dict()))

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def __exit__(self, *exc) -> None:
        self.stop()
