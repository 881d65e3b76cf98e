"""The playback session model shared by the simulated and the real player.

It follows Sabre's conventions, so that a rule ported from Sabre reproduces Sabre's figures: the
first segment is fetched at the rule's first rung and playback starts when it arrives; before
each later request the session waits while the buffer is too full for another segment (telling
the rule), asks the rule for a rung and a delay, and downloads. While a download is in flight
the rule is shown its progress (every 50 ms and 12 000 bits, as Sabre checks) and may abandon it;
the rule is then asked again for the same segment. Throughput and latency estimates are updated
from every completed download. The buffer drains while time passes and stalls at zero. Time is
the model's, so a 10-minute trace replays in milliseconds; a :class:`Fetcher` gives the real
byte count of each segment (from a size table, or from an HTTP response).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from .abr.base import Abr, AbrContext, Progress
from .estimators import Ewma, Sample
from .network import Network
from .qoe import QOE_LIN, QoEModel, summarise

CHECK_BITS = 12_000  # Sabre's progress granularity: a check after this many bits and ...
CHECK_S = 0.05  # ... at least this long since the last one


@dataclass
class Title:
    """What a player knows about one title's video ladder."""

    name: str
    rung_ids: list[str]
    bitrates_kbps: list[float]  # declared (manifest) bitrates, ascending
    segment_s: list[float]
    sizes_bits: list[list[float]]  # [segment][rung]; exact for simulations and local titles
    vmaf: list[list[float | None]] | None = None  # [segment][rung] when report.json has it
    sizes_published: bool = False  # the manifest gives every segment's size: rules may plan on it

    @property
    def n_segments(self) -> int:
        return len(self.segment_s)

    @cached_property
    def nominal_s(self) -> float:
        return statistics.median(self.segment_s)


@dataclass
class Fetched:
    bits: float
    extra_s: float = 0.0  # time lost before this response (timeouts, retries)


class Fetcher:
    """Delivers a segment; the simulation only knows sizes, the real player does HTTP."""

    def init(self, rung: int) -> Fetched | None:
        return None

    def segment(self, index: int, rung: int, now_s: float = 0.0) -> Fetched:  # pragma: no cover - interface
        """Segment ``index`` at ``rung``, requested at session time ``now_s``."""
        raise NotImplementedError


class TableFetcher(Fetcher):
    def __init__(self, title: Title):
        self.title = title

    def segment(self, index: int, rung: int, now_s: float = 0.0) -> Fetched:
        return Fetched(self.title.sizes_bits[index][rung])


@dataclass
class SegmentLog:
    index: int
    rung: int
    kbps: float
    bits: float
    request_s: float
    download_s: float
    stall_s: float
    buffer_s: float  # after the segment arrived
    vmaf: float | None = None


@dataclass
class SessionConfig:
    max_buffer_s: float = 25.0
    qoe: QoEModel = QOE_LIN
    abandon: bool = True  # let the rule abandon a download in flight
    max_abandons: int = 1000  # per segment: a backstop against a rule that abandons its own choice forever


@dataclass
class Playback:
    """The buffer and the clock: time passing drains the buffer or stalls playback."""

    t: float = 0.0
    level: float = 0.0
    playing: bool = False
    rebuffer_s: float = 0.0
    stalls: list[float] = field(default_factory=list)

    def wait(self, dt: float) -> float:
        """Let ``dt`` pass; returns the stall it caused."""
        self.t += dt
        if not self.playing:
            return 0.0
        stall = max(0.0, dt - self.level)
        if stall > 0:
            if self.level > 0 or not self.stalls:
                self.stalls.append(0.0)
            self.stalls[-1] += stall
            self.rebuffer_s += stall
        self.level = max(0.0, self.level - dt)
        return stall


def download(
    net: Network,
    t: float,
    bits: float,
    progress: Progress,
    level: float,
    check: Callable[[Progress, float], int | None] | None,
) -> Progress:
    """Transfer ``bits`` requested at ``t``; ``check`` may abandon it at a progress point."""
    first = net.after_latency(t)
    progress.ttfb_s = first - t
    start_bits = net.cum(first)
    done = net.inv(start_bits + bits)
    if check is not None:
        got, earliest = 0.0, t + CHECK_S
        while True:
            at = max(net.inv(start_bits + got + CHECK_BITS), earliest)
            if done <= at:
                break
            got = min(bits, net.cum(at) - start_bits)
            progress.downloaded_bits, progress.time_s = got, at - t
            target = check(progress, max(0.0, level - progress.time_s))
            if target is not None:
                progress.abandon_to = target
                return progress
            earliest = at + CHECK_S
    progress.downloaded_bits, progress.time_s = bits, done - t
    return progress


@dataclass
class _State:
    title: Title
    cfg: SessionConfig
    est: Ewma
    samples: list[Sample] = field(default_factory=list)
    last: int | None = None

    def context(self, index: int, play: Playback) -> AbrContext:
        title = self.title
        return AbrContext(
            index=index,
            bitrates_kbps=title.bitrates_kbps,
            segment_s=title.segment_s,
            buffer_s=play.level,
            max_buffer_s=self.cfg.max_buffer_s,
            nominal_s=title.nominal_s,
            throughput_kbps=self.est.throughput_kbps,
            latency_s=self.est.latency_s,
            samples=self.samples,
            last_rung=self.last,
            playing=play.playing,
            size_bits=(lambda i, r: title.sizes_bits[i][r]) if title.sizes_published else None,
        )

    def completed(self, prog: Progress) -> None:
        """A finished download: one throughput and latency sample."""
        transfer = prog.time_s - prog.ttfb_s
        sample = Sample(prog.size_bits / 1000.0 / max(transfer, 1e-9), transfer, prog.ttfb_s)
        self.samples.append(sample)
        self.est.push(sample)


def run_session(
    title: Title,
    network: Network,
    abr: Abr,
    fetcher: Fetcher | None = None,
    config: SessionConfig | None = None,
    start_s: float = 0.0,
    on_segment: Callable[[SegmentLog], None] | None = None,
):
    """Play ``title`` over ``network`` with ``abr``; ``start_s`` is time already spent (manifest)."""
    cfg = config or SessionConfig()
    fetcher = fetcher or TableFetcher(title)
    st = _State(title, cfg, Ewma(title.nominal_s))
    play = Playback(t=start_s)
    have_init: set[int] = set()
    logs: list[SegmentLog] = []
    notes: list[str] = []
    startup = 0.0
    n = abandons = 0
    while n < title.n_segments:
        seg = title.segment_s[n]
        ctx, rung = _ask(abr, st, play, n)
        got, extra = _fetch(fetcher, n, rung, have_init, play.t)
        request_t, level = play.t, play.level
        may_abandon = cfg.abandon and n > 0 and abandons < cfg.max_abandons
        check = (lambda p, b, c=ctx: abr.check_abandon(c, p, b)) if may_abandon else None
        prog = download(network, request_t + extra, got, Progress(n, rung, got, 0.0, 0.0, 0.0), level, check)
        prog.time_s += extra
        prog.ttfb_s += extra
        stall = play.wait(prog.time_s)
        if prog.abandon_to is not None:
            notes.append(
                f"segment {n + 1}: abandoned {title.rung_ids[rung]} after {prog.time_s:.2f} s "
                f"({prog.downloaded_bits / max(prog.size_bits, 1):.0%} fetched)"
            )
            abr.report_download(prog, play.level)
            abandons += 1
            continue
        play.level += seg
        if not play.playing:
            play.playing, startup = True, play.t
        if n > 0:
            abr.report_download(prog, play.level)
        st.completed(prog)
        vmaf = title.vmaf[n][rung] if title.vmaf else None
        log = SegmentLog(n, rung, title.bitrates_kbps[rung], got, request_t, prog.time_s, stall, play.level, vmaf)
        logs.append(log)
        if on_segment:
            on_segment(log)
        st.last = rung
        n, abandons = n + 1, 0
    return summarise(title, network.trace.name, abr.name, logs, startup, play, cfg.qoe, notes)


def _ask(abr: Abr, st: _State, play: Playback, n: int) -> tuple[AbrContext, int]:
    """Wait while the buffer has no room (telling the rule), then take the rule's rung and delay."""
    title = st.title
    if n > 0:
        full = play.level + title.segment_s[n] - st.cfg.max_buffer_s
        if full > 0:
            play.wait(full)
            abr.report_delay(full)
    ctx = st.context(n, play)
    if n == 0:
        return ctx, abr.first_rung(ctx)
    dec = abr.choose(ctx)
    if dec.delay_s > 0:
        play.wait(dec.delay_s)
    return ctx, max(0, min(dec.rung, len(title.bitrates_kbps) - 1))


def _fetch(fetcher: Fetcher, n: int, rung: int, have_init: set[int], now_s: float) -> tuple[float, float]:
    """Bits to transfer for segment ``n`` at ``rung`` (with the rung's init segment the first
    time) and the seconds lost to failed attempts before them."""
    bits, extra = 0.0, 0.0
    if rung not in have_init:
        init = fetcher.init(rung)
        if init is not None:
            bits, extra = init.bits, init.extra_s
        have_init.add(rung)
    got = fetcher.segment(n, rung, now_s)
    return bits + got.bits, extra + got.extra_s
