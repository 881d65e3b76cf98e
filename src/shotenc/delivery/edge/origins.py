"""Where the edge gets objects: local output folders, or upstream HTTP origins.

Paths reaching here have been checked by :func:`safe_relpath`; local origins check again that
the resolved file stays under its root (symlinks included), so no request escapes a root.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import aiohttp


class NotFound(Exception):
    """The origin has no such object (authoritative: try the next origin, then 404)."""


class OriginFailed(Exception):
    """The origin erred or timed out: fail over. ``cause`` keeps an OSError (e.g. out of descriptors)."""

    def __init__(self, message: str, cause: OSError | None = None):
        super().__init__(message)
        self.cause = cause


_BAD_RAW = re.compile(r"%2e|%2f|%5c|%00|\\|\x00", re.IGNORECASE)


def safe_relpath(raw_path: str) -> str | None:
    """The request path as a clean relative path, or None if it could reach outside a root.

    Checks the raw (undecoded) path: encoded dots, slashes and backslashes are refused outright
    rather than decoded, so no later decoding step can turn them into traversal.
    """
    path = raw_path.split("?", 1)[0]
    if not path.startswith("/") or _BAD_RAW.search(path):
        return None
    parts = path[1:].split("/")
    if not parts or any(p in ("", ".", "..") for p in parts):
        return None
    decoded = [unquote(p) for p in parts]
    if any(("\x00" in p or "/" in p or "\\" in p or p in (".", "..")) for p in decoded):
        return None
    return "/".join(decoded)


CHUNK = 256 * 1024


@dataclass
class Source:
    """An object being read from an origin: its size (when known), the offset its bytes start
    at, and the bytes as they arrive. ``close`` must be awaited when done with it."""

    origin: str
    size: int | None
    start: int
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]

    async def read_all(self) -> bytes:
        try:
            return b"".join([c async for c in self.chunks])
        finally:
            await self.close()


class Origin:
    name = "origin"

    async def open(self, rel: str, start: int = 0) -> Source:  # pragma: no cover - interface
        """Start reading ``rel`` from byte ``start``; raises NotFound or OriginFailed."""
        raise NotImplementedError

    async def close(self) -> None:
        return None


class LocalOrigin(Origin):
    """Title folders mounted by name: ``/<title>/<path>`` → ``folder/<path>``."""

    def __init__(self, titles: dict[str, Path]):
        self.titles = {k: Path(v).resolve() for k, v in titles.items()}
        self.name = "local:" + ",".join(sorted(self.titles))

    def resolve(self, rel: str) -> Path:
        title, _, rest = rel.partition("/")
        root = self.titles.get(title)
        if root is None or not rest:
            raise NotFound(rel)
        try:
            target = (root / rest).resolve(strict=True)
        except (OSError, RuntimeError):
            raise NotFound(rel) from None
        if not target.is_relative_to(root) or not target.is_file():
            raise NotFound(rel)
        return target

    async def open(self, rel: str, start: int = 0) -> Source:
        path = self.resolve(rel)
        try:
            f = await asyncio.to_thread(path.open, "rb")
            size = os.fstat(f.fileno()).st_size
            if start:
                f.seek(start)
        except OSError as exc:
            raise OriginFailed(f"{self.name}: {exc}", exc) from None

        async def chunks() -> AsyncIterator[bytes]:
            while True:
                try:
                    data = await asyncio.to_thread(f.read, CHUNK)
                except OSError as exc:
                    raise OriginFailed(f"{self.name}: {exc}", exc) from None
                if not data:
                    return
                yield data

        async def close() -> None:
            f.close()

        return Source(self.name, size, min(start, size), chunks(), close)


_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class HttpOrigin(Origin):
    """An upstream server holding the same ``/<title>/<path>`` tree (another edge or an origin).

    Times out on connecting (``connect_s``) and on stalls (no bytes for ``stall_s``), never on the
    length of a transfer: a large object from a slow but steady origin arrives whole.
    """

    def __init__(self, base: str, stall_s: float = 2.0, connect_s: float | None = None):
        self.base = base.rstrip("/")
        self.name = self.base
        connect = connect_s if connect_s is not None else min(stall_s, 1.0)
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=stall_s)
        self._session: aiohttp.ClientSession | None = None

    async def open(self, rel: str, start: int = 0) -> Source:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout, auto_decompress=False)
        url = f"{self.base}/{rel}"
        headers = {"Range": f"bytes={start}-"} if start else {}
        try:
            resp = await self._session.get(url, headers=headers)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise OriginFailed(f"{url}: {type(exc).__name__} {exc}".strip()) from None
        size, skip = resp.content_length, start
        if resp.status == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            size, skip = (int(m.group(3)), 0) if m else (None, start)
        elif resp.status == 416:
            size, skip = start, 0  # asked from the end of the object: nothing left to read
        elif resp.status != 200:
            resp.release()
            if resp.status == 404:
                raise NotFound(rel)
            raise OriginFailed(f"{url}: HTTP {resp.status}")

        async def chunks() -> AsyncIterator[bytes]:
            if resp.status == 416:
                return
            left = skip
            try:
                async for data in resp.content.iter_chunked(CHUNK):
                    if left:
                        cut, left = min(left, len(data)), left - min(left, len(data))
                        data = data[cut:]
                    if data:
                        yield data
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise OriginFailed(f"{url}: {type(exc).__name__} {exc}".strip()) from None

        async def close() -> None:
            resp.release()

        return Source(self.name, size, start, chunks(), close)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
