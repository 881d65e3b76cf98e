"""HTTP for the player: GETs over several equivalent edges (pathways), leaving one that fails or
is too slow.

A pathway is a name and a URL prefix; every URL the manifest gives is on the first pathway and is
fetched at the same path on the chosen one. The order comes from the command line (``--edge``) or
from a content-steering server. An edge that errs, times out, or takes longer than a request's
deadline (a media segment must arrive within half its duration, or the edge is the bottleneck)
is left for the next one and skipped for a few seconds; bytes are counted per edge.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from ...errors import ShotencError

PENALTY_S = 5.0  # wall seconds a failed or slow edge is skipped
CHUNK = 64 * 1024


class PlayError(ShotencError):
    """A session could not be completed (every edge failed for some object)."""


class TooSlow(OSError):
    """The edge did not deliver within the request's deadline."""


@dataclass
class Pathway:
    name: str
    prefix: str
    bytes: int = 0
    requests: int = 0
    failed_until: float = 0.0


@dataclass
class Http:
    """GET with a timeout over ordered pathways, failing over in turn."""

    pathways: list[Pathway]
    timeout_s: float = 5.0
    origin: str = ""  # the prefix the manifest's URLs are on (default: the first pathway's)
    current: int = 0
    events: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.origin = self.origin or self.pathways[0].prefix

    @classmethod
    def for_urls(cls, manifest_urls: list[str], timeout_s: float) -> Http:
        """Pathways from equivalent manifest URLs (the same title on several edges)."""
        dirs = [u.rsplit("/", 1)[0] + "/" for u in manifest_urls]
        return cls([Pathway(f"edge{i}", d) for i, d in enumerate(dirs)], timeout_s)

    @property
    def active(self) -> Pathway:
        return self.pathways[self.current]

    def url_on(self, url: str, p: Pathway) -> str:
        return p.prefix + url[len(self.origin) :] if url.startswith(self.origin) else url

    def prefer(self, order: list[str]) -> None:
        """Reorder by a steering server's priority; switch to its first usable choice."""
        rank = {name: i for i, name in enumerate(order)}
        now_name = self.active.name
        self.pathways.sort(key=lambda p: rank.get(p.name, len(rank)))
        self.current = next(i for i, p in enumerate(self.pathways) if p.name == now_name)
        now = time.monotonic()
        best = next((i for i, p in enumerate(self.pathways) if p.failed_until <= now), self.current)
        if best != self.current:
            self.events.append(
                {
                    "object": "steering",
                    "failed": self.active.name,
                    "error": "steering priority",
                    "served_by": self.pathways[best].name,
                }
            )
            self.current = best

    def _order(self) -> list[int]:
        n, now = len(self.pathways), time.monotonic()
        rotated = [(self.current + k) % n for k in range(n)]
        return [i for i in rotated if self.pathways[i].failed_until <= now] + [
            i for i in rotated if self.pathways[i].failed_until > now
        ]

    def get(self, url: str, what: str, deadline_s: float | None = None) -> tuple[bytes, float]:
        """Body and the seconds lost to failed or abandoned attempts before it."""
        lost, last_error = 0.0, ""
        for _round in range(2):
            for i in self._order():
                p = self.pathways[i]
                t0 = time.monotonic()
                try:
                    body = self._fetch(self.url_on(url, p), deadline_s)
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    lost += time.monotonic() - t0
                    last_error = (
                        "too slow"
                        if isinstance(exc, TooSlow)
                        else (f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")
                    )
                    p.failed_until = time.monotonic() + PENALTY_S
                    continue
                p.bytes += len(body)
                p.requests += 1
                if i != self.current:
                    self.events.append(
                        {
                            "object": what,
                            "failed": self.url_on(url, self.active),
                            "error": last_error,
                            "served_by": p.prefix,
                            "pathway": p.name,
                        }
                    )
                    self.current = i
                return body, lost
            time.sleep(0.05)  # every edge failed once: brief pause before going round again
            deadline_s = None  # the second round takes what it can get
        raise PlayError(f"{what}: every edge failed ({last_error})")

    def _fetch(self, url: str, deadline_s: float | None) -> bytes:
        t0 = time.monotonic()
        with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:
            if deadline_s is None:
                return resp.read()
            parts = []
            while chunk := resp.read1(CHUNK):
                parts.append(chunk)
                if time.monotonic() - t0 > deadline_s:
                    raise TooSlow(f"{url}: more than {deadline_s:.2f} s")
            return b"".join(parts)

    def text(self, url: str) -> str:
        body, _ = self.get(url, url.rsplit("/", 1)[-1])
        return body.decode("utf-8", "replace")

    def bytes_by_edge(self) -> dict[str, int]:
        return {p.name: p.bytes for p in self.pathways}
