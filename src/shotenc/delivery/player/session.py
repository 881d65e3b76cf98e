"""The playback session model shared by the simulated and the real player.

A session asks its ABR rule for each segment, "downloads" it (a :class:`Fetcher` returns the
real byte count, from a size table or from an HTTP response), charges the transfer time the
network model gives for those bytes, and keeps the buffer: it drains while playing, stalls at
zero, waits at the cap. Time is the model's, so a 10-minute trace replays in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from .abr import Abr, AbrContext
from .network import Network
from .qoe import QOE_LIN, QoEModel, qoe_lin, sabre_score


@dataclass
class Title:
    """What a player knows about one title's video ladder."""

    name: str
    rung_ids: list[str]
    bitrates_kbps: list[float]  # declared (manifest) bitrates, ascending
    segment_s: list[float]
    sizes_bytes: list[list[int]]  # [segment][rung]; exact for simulations and local titles
    vmaf: list[list[float | None]] | None = None  # [segment][rung] when report.json has it

    @property
    def n_segments(self) -> int:
        return len(self.segment_s)


@dataclass
class Fetched:
    nbytes: int
    extra_s: float = 0.0  # time lost before this response (timeouts, retries)


class Fetcher:
    """Delivers a segment; the simulation only knows sizes, the real player does HTTP."""

    def init(self, rung: int) -> Fetched | None:
        return None

    def segment(self, index: int, rung: int) -> Fetched:  # pragma: no cover - interface
        raise NotImplementedError


class TableFetcher(Fetcher):
    def __init__(self, title: Title):
        self.title = title

    def segment(self, index: int, rung: int) -> Fetched:
        return Fetched(self.title.sizes_bytes[index][rung])


@dataclass
class SegmentLog:
    index: int
    rung: int
    kbps: float
    nbytes: int
    request_s: float
    download_s: float
    stall_s: float
    buffer_s: float  # after the segment arrived
    vmaf: float | None = None


@dataclass
class SessionResult:
    title: str
    trace: str
    abr: str
    startup_s: float
    rebuffer_count: int
    rebuffer_s: float
    avg_kbps: float
    avg_vmaf: float | None
    switches: int
    switch_kbps: float  # mean |Δ bitrate| per switch
    qoe_lin: float
    sabre_score: float
    segments: list[SegmentLog] = field(default_factory=list)
    optimum_qoe: float | None = None
    fraction_of_optimum: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self, with_segments: bool = True) -> dict:
        d = asdict(self)
        if not with_segments:
            d.pop("segments")
        return d


@dataclass
class SessionConfig:
    max_buffer_s: float = 25.0
    startup_segments: int = 1
    qoe: QoEModel = QOE_LIN
    abandon: bool = True  # give up a download that would stall, as dash.js's AbandonRequestsRule


def _abandon_check(
    network: Network,
    t: float,
    lat: float,
    nbytes: int,
    buf: float,
    seg_s: float,
    rung: int,
    title: Title,
    index: int,
) -> tuple[float, int] | None:
    """Watch a download as a player does: after a while, project its end from the bytes seen so
    far; if it would stall and a lower rung would not, return (seconds spent, rung to switch to).
    """
    watch = min(0.5 * seg_s, 0.5 * buf)
    if rung == 0 or watch <= 0.2:
        return None
    seen = network.bits_between(t + lat, t + lat + watch)
    rate = seen / watch  # bit/s observed so far
    if rate <= 0:
        projected = float("inf")
    else:
        projected = lat + nbytes * 8 / rate
    if projected <= buf:
        return None
    remaining = buf - lat - watch
    for lower in range(rung - 1, -1, -1):
        need = title.sizes_bytes[index][lower] * 8 / rate if rate > 0 else float("inf")
        if lat + need <= remaining or lower == 0:
            return lat + watch, lower
    return None


def run_session(
    title: Title,
    network: Network,
    abr: Abr,
    fetcher: Fetcher | None = None,
    config: SessionConfig | None = None,
    start_s: float = 0.0,
    on_segment: Callable[[SegmentLog], None] | None = None,
) -> SessionResult:
    """Play ``title`` over ``network`` with ``abr``; ``start_s`` is time already spent (manifest)."""
    cfg = config or SessionConfig()
    fetcher = fetcher or TableFetcher(title)
    t = start_s
    buf = 0.0
    playing = False
    startup = 0.0
    last: int | None = None
    have_init: set[int] = set()
    tput: list[float] = []
    weights: list[float] = []
    lats: list[float] = []
    logs: list[SegmentLog] = []
    stalls: list[float] = []
    notes: list[str] = []
    for n in range(title.n_segments):
        ctx = AbrContext(
            index=n,
            bitrates_kbps=title.bitrates_kbps,
            segment_s=title.segment_s,
            buffer_s=buf,
            max_buffer_s=cfg.max_buffer_s,
            last_rung=last,
            throughput_kbps=tput,
            download_s=weights,
            latency_s=lats,
            playing=playing,
        )
        dec = abr.choose(ctx)
        rung = max(0, min(dec.rung, len(title.bitrates_kbps) - 1))
        wait = max(0.0, buf + title.segment_s[n] - cfg.max_buffer_s) + (dec.delay_s if playing else 0.0)
        wait = min(wait, buf) if playing else 0.0
        t += wait
        buf -= wait
        request_t = t
        nbytes = 0
        extra = 0.0
        if rung not in have_init:
            got = fetcher.init(rung)
            if got is not None:
                nbytes += got.nbytes
                extra += got.extra_s
            have_init.add(rung)
        got = fetcher.segment(n, rung)
        nbytes += got.nbytes
        extra += got.extra_s
        lat = float(network.latency_at(t + extra))
        dt = extra + network.transfer_s(t + extra, nbytes)
        if cfg.abandon and playing and dt > buf:
            cut = _abandon_check(network, t + extra, lat, nbytes, buf, title.segment_s[n], rung, title, n)
            if cut is not None:
                first_choice = rung
                spent, rung = cut
                spent += extra
                notes.append(
                    f"segment {n + 1}: abandoned {title.rung_ids[first_choice]}"
                    f"->{title.rung_ids[rung]} download after {spent:.2f} s"
                )
                got = fetcher.segment(n, rung)
                nbytes = got.nbytes
                if rung not in have_init:
                    init = fetcher.init(rung)
                    nbytes += init.nbytes if init else 0
                    have_init.add(rung)
                dt = spent + got.extra_s + network.transfer_s(t + spent + got.extra_s, nbytes)
        if playing:
            stall = max(0.0, dt - buf)
            buf = max(0.0, buf - dt)
            if stall > 0:
                stalls.append(stall)
        else:
            stall = 0.0
        t += dt
        buf += title.segment_s[n]
        if not playing and n + 1 >= min(cfg.startup_segments, title.n_segments):
            playing = True
            startup = t
        pure = max(dt - extra - lat, 1e-6)
        tput.append(got.nbytes * 8 / 1000 / pure)
        weights.append(title.segment_s[n])
        lats.append(lat)
        vmaf = title.vmaf[n][rung] if title.vmaf else None
        log = SegmentLog(n, rung, title.bitrates_kbps[rung], got.nbytes, request_t, dt, stall, buf, vmaf)
        logs.append(log)
        if on_segment:
            on_segment(log)
        last = rung
    return summarise(title, network.trace.name, abr.name, logs, startup, stalls, cfg, notes)


def summarise(
    title: Title,
    trace_name: str,
    abr_name: str,
    logs: Sequence[SegmentLog],
    startup: float,
    stalls: Sequence[float],
    cfg: SessionConfig,
    notes: list[str],
) -> SessionResult:
    kbps = [s.kbps for s in logs]
    dur = [title.segment_s[s.index] for s in logs]
    total = sum(dur) or 1.0
    switches = [abs(b - a) for a, b in zip(kbps, kbps[1:], strict=False) if b != a]
    vm = [(s.vmaf, d) for s, d in zip(logs, dur, strict=False) if s.vmaf is not None]
    stall_s = sum(stalls)
    low = title.bitrates_kbps[0]
    seg_mean = total / len(dur) if dur else 1.0
    return SessionResult(
        title=title.name,
        trace=trace_name,
        abr=abr_name,
        startup_s=startup,
        rebuffer_count=len(stalls),
        rebuffer_s=stall_s,
        avg_kbps=sum(k * d for k, d in zip(kbps, dur, strict=False)) / total,
        avg_vmaf=(sum(v * d for v, d in vm) / sum(d for _, d in vm)) if vm else None,
        switches=len(switches),
        switch_kbps=sum(switches) / len(switches) if switches else 0.0,
        qoe_lin=qoe_lin(kbps, stall_s + startup, cfg.qoe, lowest_kbps=low),
        sabre_score=sabre_score(kbps, low, stall_s, seg_mean),
        segments=list(logs),
        notes=notes,
    )
