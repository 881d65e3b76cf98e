"""Connection limits for the edge: header and idle timeouts, a connection cap, and a calm reaction
to running out of file descriptors.

aiohttp keeps a connection that trickles header bytes (slowloris) or never sends any for as long
as the client likes; at the descriptor limit asyncio's accept loop then fails and logs a traceback
per attempt. The guard wraps each connection's protocol: it knows when bytes arrive and (from the
edge's middleware) when a request is being handled, so a sweeper can drop connections whose
headers take longer than ``header_timeout_s`` or that sit idle past ``idle_timeout_s``; over
``max_connections`` a new connection gets a 503 at once; when accept runs out of descriptors the
idle connections are shed and the event is logged once per interval.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger("shotenc.edge")
EXHAUSTED = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
REFUSAL = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it to end."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def default_max_connections() -> int:
    """Leave a quarter of the descriptors (at least 32) for files, origins and the listener."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(8, min(10000, soft - max(32, soft // 4)))


class RateLimitedLog:
    """Logs a recurring condition at most once per ``interval_s``, with the count it held back."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warn(self, key: str, message: str) -> bool:
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        self._last[key] = now
        log.warning("%s%s", message, f" ({held} more since the last report)" if held else "")
        return True


@dataclass
class _Conn:
    transport: asyncio.Transport | None  # None until the connection is made
    opened: float
    last_done: float  # when the last response finished (or the connection opened)
    first_byte: float | None = None  # first byte of a request not yet being handled
    busy: int = 0


class _Watched(asyncio.Protocol):
    """Forwards to aiohttp's protocol and tells the guard when bytes arrive."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol):
        self.guard, self.inner = guard, inner
        self.conn = guard.opening(self)

    def connection_made(self, transport):
        self.guard.opened(self, transport)
        self.inner.connection_made(transport)

    def data_received(self, data):
        if self.conn is not None and self.conn.first_byte is None and not self.conn.busy:
            self.conn.first_byte = time.monotonic()
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self):
        self.inner.pause_writing()

    def resume_writing(self):
        self.inner.resume_writing()

    def connection_lost(self, exc):
        self.guard.closed(self)
        self.inner.connection_lost(exc)


class _Refuse(asyncio.Protocol):
    def connection_made(self, transport):
        transport.write(REFUSAL)
        transport.close()


class ConnectionGuard:
    """Tracks the edge's connections and enforces its limits (see the module docstring)."""

    def __init__(self, header_timeout_s: float, idle_timeout_s: float, max_connections: int | None):
        self.header_timeout_s = header_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_connections = max_connections or default_max_connections()
        self.conns: dict[_Watched, _Conn] = {}  # counted from the accept, before the connection is made
        self.by_transport: dict[asyncio.Transport, _Conn] = {}
        self.refused = 0
        self.timed_out = 0
        self.shed = 0
        self.log = RateLimitedLog()
        self._sweeper: asyncio.Task | None = None

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        def build() -> asyncio.Protocol:
            if len(self.conns) >= self.max_connections:
                self.refused += 1
                self.log.warn("limit", f"edge: {len(self.conns)} connections open (the limit); refusing new ones")
                return _Refuse()
            return _Watched(self, make())

        return build

    def opening(self, proto: _Watched) -> _Conn:
        now = time.monotonic()
        conn = self.conns[proto] = _Conn(None, now, now)
        return conn

    def opened(self, proto: _Watched, transport: asyncio.Transport) -> None:
        proto.conn.transport = transport
        self.by_transport[transport] = proto.conn

    def closed(self, proto: _Watched) -> None:
        self.conns.pop(proto, None)
        if proto.conn.transport is not None:
            self.by_transport.pop(proto.conn.transport, None)

    def request_started(self, transport) -> None:
        conn = self.by_transport.get(transport)
        if conn is not None:
            conn.busy += 1
            conn.first_byte = None

    def request_finished(self, transport) -> None:
        conn = self.by_transport.get(transport)
        if conn is not None:
            conn.busy = max(0, conn.busy - 1)
            conn.last_done = time.monotonic()

    def sweep(self) -> None:
        now = time.monotonic()
        for proto, conn in list(self.conns.items()):
            if conn.transport is None:
                if now - conn.opened > self.idle_timeout_s:
                    del self.conns[proto]  # accepted but never made (the transport failed)
                continue
            if conn.busy:
                continue
            if conn.first_byte is not None:
                late = now - conn.first_byte > self.header_timeout_s
            else:
                late = now - conn.last_done > self.idle_timeout_s
            if late:
                self.timed_out += 1
                conn.transport.close()

    def shed_idle(self) -> int:
        """Out of descriptors: close every connection that is not being served."""
        idle = [c for c in self.conns.values() if c.transport is not None and not c.busy]
        for c in idle:
            c.transport.close()
        self.shed += len(idle)
        return len(idle)

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """Loop exception handler: descriptor exhaustion is logged once per interval, not per accept."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in EXHAUSTED:
            self.exhausted(exc)
            return
        loop.default_exception_handler(context)

    def exhausted(self, exc: OSError) -> None:
        n = self.shed_idle()
        self.log.warn(
            "descriptors",
            f"edge: out of file descriptors or memory ({exc.strerror or exc}); "
            f"{len(self.conns)} connections open, closed {n} idle ones",
        )

    async def _sweep_forever(self) -> None:
        period = max(0.05, min(self.header_timeout_s, self.idle_timeout_s) / 4)
        while True:
            await asyncio.sleep(period)
            self.sweep()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self.on_loop_error)
        self._sweeper = loop.create_task(self._sweep_forever())

    async def stop(self) -> None:
        await stop_task(self._sweeper)
        self._sweeper = None

    def stats(self) -> dict:
        return {
            "connections": len(self.conns),
            "max_connections": self.max_connections,
            "connections_refused": self.refused,
            "connections_timed_out": self.timed_out,
            "connections_shed": self.shed,
        }


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a :class:`ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard, backlog: int = 128):
        super().__init__(runner, backlog=backlog)
        self._host, self._port, self._guard = host, port, guard

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            self._guard.factory(server), self._host, self._port, backlog=self._backlog, reuse_address=True
        )
        self._guard.start()

    async def stop(self) -> None:
        await self._guard.stop()
        await super().stop()
