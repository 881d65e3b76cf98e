"""Where the edge gets objects: local output folders, or upstream HTTP origins.

Paths reaching here have been checked by :func:`safe_relpath`; local origins check again that
the resolved file stays under its root (symlinks included), so no request escapes a root.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import aiohttp


class NotFound(Exception):
    """The origin has no such object (authoritative: try the next origin, then 404)."""


class OriginFailed(Exception):
    """The origin erred or timed out: fail over."""


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


@dataclass
class Fetched:
    body: bytes
    origin: str


class Origin:
    name = "origin"

    async def fetch(self, rel: str) -> bytes:  # pragma: no cover - interface
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

    async def fetch(self, rel: str) -> bytes:
        path = self.resolve(rel)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise OriginFailed(f"{self.name}: {exc}") from None


class HttpOrigin(Origin):
    """An upstream server holding the same ``/<title>/<path>`` tree (another edge or an origin)."""

    def __init__(self, base: str, timeout_s: float = 2.0):
        self.base = base.rstrip("/")
        self.name = self.base
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, 1.0))
        self._session: aiohttp.ClientSession | None = None

    async def fetch(self, rel: str) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        url = f"{self.base}/{rel}"
        try:
            async with self._session.get(url) as resp:
                if resp.status == 404:
                    raise NotFound(rel)
                if resp.status != 200:
                    raise OriginFailed(f"{url}: HTTP {resp.status}")
                return await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise OriginFailed(f"{url}: {type(exc).__name__} {exc}".strip()) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
