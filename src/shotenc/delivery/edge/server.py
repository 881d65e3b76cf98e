"""The edge's HTTP side: an aiohttp server in front of an :class:`~.node.Edge`.

It does what a CDN appliance does for this project's output: serves ``/<title>/<path>`` with
correct types, ranges and CORS, streams what the cache does not hold, refuses what it must
(paths outside a root, methods other than GET/HEAD/OPTIONS), and keeps slow or idle clients from
holding connections (``limits.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from .limits import GuardedSite
from .node import Edge, EdgeConfig
from .origins import NotFound, OriginFailed, Source, safe_relpath

WEB_DIR = Path(__file__).parents[1] / "web"
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
EDGE_KEY: web.AppKey[Edge] = web.AppKey("edge")  # type: ignore[name-defined]


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
    if raw.startswith("/_steer/"):
        return await _steered(request, edge, "") or _not_found()
    if raw.startswith("/_player/"):
        return _player_file(raw)
    rel = safe_relpath(raw)
    if rel is None:
        edge.stats.not_found += 1
        return _not_found()
    try:
        steered = await _steered(request, edge, rel)
        if steered is not None:
            return steered
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
    if path == "/_edge/probe":
        # a health probe for steering servers: fresh bytes through the media path (throttled alike)
        n = min(max(int(request.query.get("bytes", "65536") or 0), 0), 4 * 1024 * 1024)
        headers = {**CORS, "Content-Type": "application/octet-stream", "Cache-Control": "no-store"}
        return await _stream(request, edge, "_edge/probe.m4s", 200, headers, n, _one(bytes(n)))
    return _not_found()


async def _steered(request: web.Request, edge: Edge, rel: str) -> web.StreamResponse | None:
    """A steering server's answer: the steering manifest, or a title's manifest naming every edge."""
    steering = edge.steering
    if steering is None:
        return None
    path = request.raw_path.split("?", 1)[0]
    if path == "/_steer/steering.json":
        title = request.query.get("title", "")
        return web.json_response(steering.manifest(title), headers={**CORS, "Cache-Control": "no-store"})
    title, _, name = rel.partition("/")
    if name not in ("manifest.mpd", "master.m3u8"):
        return None
    body, src, _ = await edge.lookup(rel)
    if src is not None:
        body = await src.read_all()
    text = body.decode("utf-8")
    text = steering.steer_mpd(text, title) if name == "manifest.mpd" else steering.steer_master(text, title)
    headers = {**_headers(rel, False), "Cache-Control": "no-store"}
    return web.Response(text=text, headers=headers, charset=None)


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
        if edge.steering is not None:
            await edge.steering.stop()
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
    if edge.steering is not None:
        edge.steering.start()
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
