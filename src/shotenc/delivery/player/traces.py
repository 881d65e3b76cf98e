"""Throughput traces: Sabre JSON, Pensieve text (the two formats the shared data uses) and Mahimahi.

Each becomes one :class:`Trace`: a list of constant-bandwidth periods, so the network model
does not care where a trace came from.
"""

from __future__ import annotations

import json
import math
import os
import re
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


PENSIEVE_LATENCY_S = 0.08  # Pensieve models an 80 ms RTT per chunk (and runs Mahimahi with it)
MAHIMAHI_PACKET_BITS = 1500 * 8  # one delivery opportunity: an MTU-sized packet
MAHIMAHI_BIN_S = 0.1  # opportunities are counted in bins of this length


def _numeric_rows(path: Path) -> list[list[float]]:
    """The numbers of every line (whitespace, commas or semicolons between them); blank lines, ``#``
    comments and a header line before the first numbers are skipped, any other line is an error."""
    rows: list[list[float]] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            rows.append([float(x) for x in re.split(r"[\s,;]+", text)])
        except ValueError:
            if rows:
                raise TraceError(f"{path}: line {n} is not numbers ({text[:40]!r})") from None
    return rows


def load_pensieve(path: Path, latency_s: float = PENSIEVE_LATENCY_S) -> Trace:
    """Pensieve "cooked" trace: lines ``<time_s> <Mbit/s>``; each sample holds until the next one."""
    return _pensieve(path, _numeric_rows(path), latency_s)


def _pensieve(path: Path, rows: list[list[float]], latency_s: float) -> Trace:
    samples = [(r[0], r[1]) for r in rows if len(r) >= 2]
    if len(samples) < 2:
        raise TraceError(f"{path}: fewer than two samples")
    periods = []
    for (t0, mbps), (t1, _) in zip(samples, samples[1:], strict=False):
        if t1 < t0:
            raise TraceError(f"{path}: time goes back from {t0:g} s to {t1:g} s")
        if t1 > t0:
            periods.append(Period(t1 - t0, mbps * 1000, latency_s))
    # the last sample lasts as long as the typical gap
    gaps = sorted(p.duration_s for p in periods) or [1.0]
    periods.append(Period(gaps[len(gaps) // 2], samples[-1][1] * 1000, latency_s))
    return Trace(path.name, periods)


def load_mahimahi(path: Path, latency_s: float = PENSIEVE_LATENCY_S, rows: list[list[float]] | None = None) -> Trace:
    """Mahimahi packet-delivery trace: one line per opportunity to deliver an MTU-sized packet, at the
    millisecond it names (a line repeated: several packets); the trace repeats after its last one.

    Opportunities are counted per 100 ms into constant-bandwidth periods.
    """
    rows = _numeric_rows(path) if rows is None else rows
    stamps = [r[0] for r in rows]
    if not stamps or any(t != int(t) or t < 0 for t in stamps):
        raise TraceError(f"{path}: not a Mahimahi trace (whole milliseconds, one per line)")
    for a, b in zip(stamps, stamps[1:], strict=False):
        if b < a:
            raise TraceError(f"{path}: time goes back from {a:g} ms to {b:g} ms")
    end_s = max(stamps[-1] / 1000, MAHIMAHI_BIN_S)
    bins = [0] * math.ceil(end_s / MAHIMAHI_BIN_S - 1e-9)
    for t in stamps:  # the packet at millisecond t arrives in (t - 1, t]: the last one falls in the last bin
        bins[min(len(bins) - 1, max(0, int((t - 1) / 1000 / MAHIMAHI_BIN_S)))] += 1
    kbps = [n * MAHIMAHI_PACKET_BITS / MAHIMAHI_BIN_S / 1000 for n in bins]
    return Trace(path.name, [Period(MAHIMAHI_BIN_S, k, latency_s) for k in kbps])


def load_trace(path: str | Path) -> Trace:
    """Read a trace in either format (JSON → Sabre, anything else → Pensieve text)."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such trace file")
    try:
        head = path.read_text()[:64].lstrip()
        if head.startswith("["):
            trace = load_sabre(path)
        else:  # one column: Mahimahi's packet times; two or more: Pensieve's time and Mbit/s
            rows = _numeric_rows(path)
            one_column = bool(rows) and all(len(r) == 1 for r in rows)
            trace = load_mahimahi(path, rows=rows) if one_column else _pensieve(path, rows, PENSIEVE_LATENCY_S)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: not a readable trace ({exc})") from None
    bad = next((p for p in trace.periods if p.kbps < 0 or p.latency_s < 0), None)
    if bad:
        raise TraceError(
            f"{path}: a period has a negative bandwidth or latency ({bad.kbps:g} kbps, {bad.latency_s:g} s)"
        )
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
