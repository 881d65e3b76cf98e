"""What every ABR rule sees and answers, and the registry the CLI's choices come from.

A rule sees what a real player knows before a request (:class:`AbrContext`: ladder, segment
durations, buffer level, the session's throughput and latency estimates and raw samples, and the
segment sizes when the manifest publishes them) and answers a rung and an optional delay. The
session reports what happened (buffer-full waits, finished or abandoned downloads), and while a
download is in flight the rule may abandon it for a lower rung, as Sabre's and dash.js's rules do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..estimators import Sample
from ..qoe import QOE_LIN, QoEModel


@dataclass
class AbrContext:
    index: int  # 0-based index of the segment about to be requested
    bitrates_kbps: Sequence[float]  # declared, ascending
    segment_s: Sequence[float]  # duration of every segment of the title
    buffer_s: float
    max_buffer_s: float
    nominal_s: float  # the title's typical segment duration (Sabre's "segment time")
    throughput_kbps: float | None = None  # the session's EWMA estimate (None before a download)
    latency_s: float | None = None
    samples: Sequence[Sample] = field(default_factory=list)  # one per completed download
    last_rung: int | None = None  # rung of the last completed segment
    playing: bool = False
    size_bits: Callable[[int, int], float] | None = None  # (segment, rung) → bits, when published

    @property
    def n_segments(self) -> int:
        return len(self.segment_s)

    @property
    def next_s(self) -> float:
        return self.segment_s[self.index]

    def bits(self, index: int, rung: int) -> float:
        """A segment's size: published, else the declared bitrate times its duration."""
        if self.size_bits is not None:
            return self.size_bits(index, rung)
        return self.bitrates_kbps[rung] * 1000.0 * self.segment_s[index]


@dataclass
class Decision:
    rung: int
    delay_s: float = 0.0


@dataclass
class Progress:
    """A download in flight or finished (``abandon_to`` set when it was given up)."""

    index: int
    rung: int
    size_bits: float
    downloaded_bits: float
    time_s: float  # since the request
    ttfb_s: float  # time to the first byte
    abandon_to: int | None = None


class Abr:
    """Base class. ``choose`` is required; the hooks default to doing nothing."""

    name = "abr"
    summary = ""

    def first_rung(self, ctx: AbrContext) -> int:
        """The first segment's rung, before any throughput is known."""
        return 0

    def choose(self, ctx: AbrContext) -> Decision:  # pragma: no cover - interface
        raise NotImplementedError

    def report_delay(self, delay_s: float) -> None:
        """The session waited ``delay_s`` because the buffer was full."""

    def report_download(self, progress: Progress, buffer_s: float) -> None:
        """A download finished or was abandoned; ``buffer_s`` is the level now."""

    def check_abandon(self, ctx: AbrContext, progress: Progress, buffer_s: float) -> int | None:
        """A lower rung to switch to while a download is in flight, or None to continue."""
        return None


def quality_for_throughput(ctx: AbrContext, kbps: float, latency_s: float | None = None) -> int:
    """Highest rung whose segment (at its declared bitrate) downloads within one segment time
    at ``kbps`` after the latency (dash.js's and Sabre's rule)."""
    lat = ctx.latency_s if latency_s is None else latency_s
    seg = ctx.nominal_s
    q = 0
    while q + 1 < len(ctx.bitrates_kbps) and (lat or 0.0) + seg * ctx.bitrates_kbps[q + 1] / kbps <= seg:
        q += 1
    return q


RULES: dict[str, Callable[..., Abr]] = {}


def register(cls: type[Abr]) -> type[Abr]:
    RULES[cls.name] = cls
    return cls


def make(name: str, qoe: QoEModel = QOE_LIN) -> Abr:
    """A rule by name; rules that optimise a QoE take the session's model."""
    if name not in RULES:
        from ....errors import ShotencError

        raise ShotencError(f"unknown ABR {name!r}; choose from {', '.join(RULES)}")
    cls = RULES[name]
    return cls(qoe=qoe) if getattr(cls, "takes_qoe", False) else cls()
