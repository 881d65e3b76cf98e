"""Content steering: this server tells players which of several edges to fetch from.

Several edges carry the same titles; players start at the steering server, which answers the
title's manifests rewritten to name every edge (DASH: one ``BaseURL`` per edge with a
``serviceLocation`` and a ``ContentSteering`` element, DASH-IF / ETSI TS 103 998; HLS: every variant
and audio rendition once per edge with a ``PATHWAY-ID`` and an ``EXT-X-CONTENT-STEERING`` tag,
RFC 8216bis) and a steering manifest (``PATHWAY-PRIORITY``, ``TTL``, ``RELOAD-URI``) that orders
the edges by what it measures: every ``probe_s`` it fetches a small object through each edge's
media path (so a throttled edge measures slow) and reads its connection count. A dead edge goes
last; edges within a factor of two of the best, or fast enough for any stream, keep their configured
order; slower ones follow by measured throughput discounted by load.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp

from .limits import stop_task

PROBE_BYTES = 64 * 1024
SIMILAR = 0.5  # an edge measuring at least half the best edge's throughput counts as as good
# ... and so does one measuring this much (kbit/s; 4x the default ladder's top rung): ranking edges that
# all carry every stream by speed only makes players flap between them on measurement noise
FAST_ENOUGH_KBPS = 25_000.0
DASH_NS = "urn:mpeg:dash:schema:mpd:2011"


@dataclass
class EdgeHealth:
    pathway: str
    url: str
    alive: bool = True
    kbps: float = 0.0
    connections: int = 0
    checked: float = 0.0
    failures: int = 0

    @property
    def score(self) -> float:
        return self.kbps / (1 + self.connections / 50) if self.alive else -1.0


@dataclass
class Steering:
    """The edges to steer among (``edge0``, ``edge1``, ... in the order given) and their health."""

    urls: list[str]
    ttl_s: float = 10.0
    probe_s: float = 2.0
    timeout_s: float = 2.0
    edges: list[EdgeHealth] = field(default_factory=list)
    _task: asyncio.Task | None = None

    def __post_init__(self) -> None:
        self.edges = [EdgeHealth(f"edge{i}", u.rstrip("/")) for i, u in enumerate(self.urls)]

    def priority(self) -> list[str]:
        """Alive edges first; among them, those within ``SIMILAR`` of the best or ``FAST_ENOUGH_KBPS`` in
        the order given (so players do not flap between equally good edges), then the rest by score."""
        best = max((e.score for e in self.edges), default=0.0)

        def key(ie: tuple[int, EdgeHealth]) -> tuple:
            i, e = ie
            if not e.alive:
                return (2, i)
            good = e.score >= SIMILAR * best or e.score >= FAST_ENOUGH_KBPS
            return (0, i) if good else (1, -e.score, i)

        return [e.pathway for _, e in sorted(enumerate(self.edges), key=key)]

    def manifest(self, title: str) -> dict:
        """The steering manifest (the same JSON answers HLS and DASH players)."""
        return {
            "VERSION": 1,
            "TTL": int(round(self.ttl_s)) or 1,
            "RELOAD-URI": f"/_steer/steering.json?title={quote(title)}",
            "PATHWAY-PRIORITY": self.priority(),
        }

    async def probe(self, session: aiohttp.ClientSession, edge: EdgeHealth) -> None:
        t0 = time.monotonic()
        try:
            async with session.get(f"{edge.url}/_edge/probe?bytes={PROBE_BYTES}") as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise aiohttp.ClientError(f"HTTP {resp.status}")
            took = max(time.monotonic() - t0, 1e-3)
            async with session.get(f"{edge.url}/_edge/stats") as resp:
                stats = await resp.json()
            kbps = len(body) * 8 / 1000 / took
            # smoothed in ratio (geometric mean of the running value and the new probe): one slow probe
            # of a fast edge under load costs it a factor, not its rank; an edge that slows shows it at once
            edge.kbps = kbps if not edge.alive or not edge.kbps else math.sqrt(edge.kbps * kbps)
            edge.alive, edge.failures = True, 0
            edge.connections = int(stats.get("connections", 0))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
            edge.failures += 1
            edge.alive = False
        edge.checked = time.monotonic()

    async def probe_all(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(*(self.probe(session, e) for e in self.edges))

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self.probe_all(session)
                await asyncio.sleep(self.probe_s)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    def stats(self) -> list[dict]:
        return [
            {"pathway": e.pathway, "url": e.url, "alive": e.alive, "kbps": round(e.kbps), "connections": e.connections}
            for e in self.edges
        ]

    # --- manifests -----------------------------------------------------------------------
    def steer_mpd(self, text: str, title: str) -> str:
        """The MPD with one BaseURL per edge and a ContentSteering element."""
        ET.register_namespace("", DASH_NS)
        root = ET.fromstring(text)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        for old in root.findall(f"{ns}BaseURL"):
            root.remove(old)
        at = 0
        for e in self.edges:
            base = ET.Element(f"{ns}BaseURL", {"serviceLocation": e.pathway})
            base.text = f"{e.url}/{quote(title)}/"
            root.insert(at, base)
            at += 1
        steering = ET.Element(
            f"{ns}ContentSteering",
            {"defaultServiceLocation": self.edges[0].pathway, "queryBeforeStart": "true"},
        )
        steering.text = f"/_steer/steering.json?title={quote(title)}"
        root.insert(at, steering)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def steer_master(self, text: str, title: str) -> str:
        """The HLS master with every variant and audio rendition once per edge."""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        head = [ln for ln in lines if not ln.startswith(("#EXT-X-MEDIA:", "#EXT-X-STREAM-INF:")) and ln.startswith("#")]
        media = [ln for ln in lines if ln.startswith("#EXT-X-MEDIA:")]
        variants = [(ln, lines[i + 1]) for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM-INF:")]
        out = head + [
            f'#EXT-X-CONTENT-STEERING:SERVER-URI="/_steer/steering.json?title={quote(title)}",'
            f'PATHWAY-ID="{self.edges[0].pathway}"'
        ]
        for e in self.edges:
            base = f"{e.url}/{quote(title)}/"
            for ln in media:
                ln = _GROUP.sub(lambda m, p=e.pathway: f'GROUP-ID="{m.group(1)}-{p}"', ln)
                out.append(_URI.sub(lambda m, b=base: f'URI="{b}{m.group(1)}"', ln))
            for inf, uri in variants:
                inf = _AUDIO.sub(lambda m, p=e.pathway: f'AUDIO="{m.group(1)}-{p}"', inf)
                out += [f'{inf},PATHWAY-ID="{e.pathway}"', base + uri]
        return "\n".join(out) + "\n"


_GROUP = re.compile(r'GROUP-ID="([^"]*)"')
_AUDIO = re.compile(r'AUDIO="([^"]*)"')
_URI = re.compile(r'URI="([^"]*)"')
