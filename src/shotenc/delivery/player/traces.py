"""Throughput traces in the two formats the shared data uses (Sabre JSON, Pensieve text).

Both become one :class:`Trace`: a list of constant-bandwidth periods, so the network model
does not care where a trace came from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ShotencError

ENV_VAR = "SHOTENC_TRACES"


class TraceError(ShotencError):
    """A trace file is missing or cannot be read."""


@dataclass
class Period:
    duration_s: float
    kbps: float
    latency_s: float


@dataclass
class Trace:
    name: str
    periods: list[Period] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.periods)

    @property
    def mean_kbps(self) -> float:
        total = self.duration_s
        return sum(p.kbps * p.duration_s for p in self.periods) / total if total else 0.0


def repo_root() -> Path:
    """The checkout this package lives in (src/shotenc/delivery/player -> repo)."""
    return Path(__file__).resolve().parents[4]


def shared_dir() -> Path:
    """The shared data folder: ``shared/`` beside the checkout or beside one of its parents
    (a worktree may sit a level deeper than the main checkout)."""
    for parent in repo_root().parents:
        if (parent / "shared" / "traces").is_dir():
            return parent / "shared"
    return repo_root().parent / "shared"


def traces_dir() -> Path:
    """Where the shared traces are: ``$SHOTENC_TRACES`` or ``shared/traces`` (see :func:`shared_dir`)."""
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else shared_dir() / "traces"


def load_sabre(path: Path) -> Trace:
    """Sabre network trace: JSON array of {duration_ms, bandwidth_kbps, latency_ms}."""
    data = json.loads(path.read_text())
    if not isinstance(data, list) or not data or "bandwidth_kbps" not in data[0]:
        raise TraceError(f"{path}: not a Sabre network trace")
    periods = [
        Period(p["duration_ms"] / 1000, float(p["bandwidth_kbps"]), p.get("latency_ms", 0) / 1000)
        for p in data
        if p["duration_ms"] > 0
    ]
    return Trace(path.name, periods)


def load_pensieve(path: Path, latency_s: float = 0.08) -> Trace:
    """Pensieve "cooked" trace: lines ``<time_s> <Mbit/s>``; each sample holds until the next one.

    Pensieve models an 80 ms RTT per chunk; that is the default latency here.
    """
    samples: list[tuple[float, float]] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            samples.append((float(parts[0]), float(parts[1])))
    if len(samples) < 2:
        raise TraceError(f"{path}: fewer than two samples")
    periods = []
    for (t0, mbps), (t1, _) in zip(samples, samples[1:], strict=False):
        if t1 > t0:
            periods.append(Period(t1 - t0, mbps * 1000, latency_s))
    # the last sample lasts as long as the typical gap
    gaps = sorted(p.duration_s for p in periods)
    periods.append(Period(gaps[len(gaps) // 2], samples[-1][1] * 1000, latency_s))
    return Trace(path.name, periods)


def load_trace(path: str | Path) -> Trace:
    """Read a trace in either format (JSON → Sabre, anything else → Pensieve text)."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such trace file")
    try:
        head = path.read_text()[:64].lstrip()
        trace = load_sabre(path) if head.startswith("[") else load_pensieve(path)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: not a readable trace ({exc})") from None
    if trace.duration_s <= 0 or all(p.kbps <= 0 for p in trace.periods):
        raise TraceError(f"{path}: trace carries no bandwidth")
    return trace


def constant(kbps: float, latency_s: float = 0.02, name: str | None = None) -> Trace:
    """A flat trace (for tests and for a quick local play)."""
    return Trace(name or f"constant-{kbps:g}kbps", [Period(60.0, kbps, latency_s)])


def trace_set(name: str) -> list[Trace]:
    """All traces of one shared folder, e.g. ``sabre_json/hd_fs`` or ``pensieve_fmt/cooked_3gp``."""
    folder = traces_dir() / name
    if not folder.is_dir():
        raise TraceError(f"{folder}: no such trace folder (set {ENV_VAR}?)")
    return [load_trace(p) for p in sorted(folder.iterdir()) if p.is_file()]
