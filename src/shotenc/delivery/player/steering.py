"""The player's side of content steering: ask the steering server for the pathway order at the
start and again every TTL (in session time), and follow it (fetch.Http.prefer)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin

from ..manifests import SteeringInfo
from .fetch import Http, Pathway


@dataclass
class SteeringClient:
    info: SteeringInfo
    http: Http
    kind: str  # dash | hls: the query parameter names differ
    timeout_s: float = 2.0
    ttl_s: float = 10.0
    next_s: float = 0.0
    uri: str = ""
    history: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls, info: SteeringInfo, kind: str, timeout_s: float) -> SteeringClient:
        pathways = [Pathway(name, prefix) for name, prefix in info.prefixes.items()]
        pathways.sort(key=lambda p: p.name != info.default)
        http = Http(pathways, timeout_s, origin=info.prefixes[info.default])
        client = cls(info, http, kind, min(timeout_s, 2.0), uri=info.server_uri)
        client.reload(0.0)
        return client

    def reload(self, now_s: float, kbps: float | None = None) -> None:
        """Fetch the steering manifest (with the current pathway and throughput) and follow it."""
        prefix = "_HLS" if self.kind == "hls" else "_DASH"
        query = {f"{prefix}_pathway": self.http.active.name}
        if kbps:
            query[f"{prefix}_throughput"] = str(int(kbps * 1000))
        url = self.uri + ("&" if "?" in self.uri else "?") + urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:
                doc = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            self.next_s = now_s + self.ttl_s  # keep the last order; try again later
            return
        order = [p for p in doc.get("PATHWAY-PRIORITY", []) if isinstance(p, str)]
        if order:
            self.http.prefer(order)
        self.ttl_s = float(doc.get("TTL", self.ttl_s) or self.ttl_s)
        if doc.get("RELOAD-URI"):
            self.uri = urljoin(url, doc["RELOAD-URI"])
        self.next_s = now_s + self.ttl_s
        self.history.append({"at_s": round(now_s, 2), "priority": order, "using": self.http.active.name})

    def tick(self, now_s: float, kbps: float | None = None) -> None:
        if now_s >= self.next_s:
            self.reload(now_s, kbps)
