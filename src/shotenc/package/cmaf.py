"""Stitch shot chunks into one CMAF track per rung and cut it into init + media segments.

The chunks are joined once per rendition by FFmpeg's concat demuxer (which rebases timestamps),
written as a fragmented MP4 with a fragment at every keyframe, and then cut at the shot starts,
so every rendition has the same segment instants and every segment starts with an IDR.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import codecs
from ..errors import ShotencError
from ..media import ffmpeg
from ..media.mp4box import Fragment, read_layout, timescale

FRAG_FLAGS = "+frag_keyframe+empty_moov+default_base_moof+cmaf"
SEGMENT_NAME = "seg-{:05d}.m4s"
# segment file names by kind of rendition (the DASH template and the HLS playlists follow them)
SEGMENT_NAMES = {"video": SEGMENT_NAME, "audio": SEGMENT_NAME, "subtitles": "seg-{:05d}.vtt",
                 "thumbnails": "tile-{:05d}.jpg"}  # fmt: skip


@dataclass
class Segment:
    number: int  # 1-based, as in $Number$
    start: int  # in the track timescale
    duration: int
    bytes: int
    start_s: float
    duration_s: float

    @property
    def kbps(self) -> float:
        return self.bytes * 8 / self.duration_s / 1000 if self.duration_s else 0.0


@dataclass
class Rendition:
    id: str
    kind: str  # video | audio | subtitles | thumbnails
    codec: str  # h264 | hevc | vp9 | av1 | aac | eac3 | webvtt | jpeg
    codec_string: str
    timescale: int
    segments: list[Segment]
    init_bytes: int
    width: int = 0
    height: int = 0
    fps: str = ""
    channels: int = 0
    sample_rate: int = 0
    language: str = "und"
    name: str = ""
    default: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return f"{self.kind}/{self.id}"

    def segment_name(self, number: int) -> str:
        return SEGMENT_NAMES[self.kind].format(number)

    @property
    def media_template(self) -> str:
        """The DASH SegmentTemplate@media of this rendition's segments."""
        return f"{self.directory}/" + SEGMENT_NAMES[self.kind].replace("{:05d}", "$Number%05d$")

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)

    @property
    def avg_kbps(self) -> float:
        total = sum(s.bytes for s in self.segments) * 8
        return total / self.duration_s / 1000 if self.duration_s else 0.0

    @property
    def peak_kbps(self) -> float:
        return max((s.kbps for s in self.segments), default=0.0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d["segments"] = [
            {"number": s.number, "start_s": round(s.start_s, 6), "duration_s": round(s.duration_s, 6), "bytes": s.bytes}
            for s in self.segments
        ]
        d.update(avg_kbps=round(self.avg_kbps, 2), peak_kbps=round(self.peak_kbps, 2), **self.extra)
        return d


def _concat_list(paths: list[str], dest: Path) -> None:
    def quote(p: str) -> str:
        return "'" + os.path.abspath(p).replace("'", "'\\''") + "'"

    dest.write_text("ffconcat version 1.0\n" + "".join(f"file {quote(p)}\n" for p in paths), encoding="utf-8")


def split_fragments(
    stitched: Path, boundaries: Callable[[int], list[int]], out_dir: Path, tolerance_s: float
) -> tuple[int, list[Segment], int]:
    """Write init.mp4 and the segment files of ``stitched``.

    ``boundaries(timescale)`` gives the segment starts in track ticks from 0; a fragment that
    begins within ``tolerance_s`` before a boundary already belongs to the next segment.
    """
    try:
        init, frags = read_layout(stitched)
    except (OSError, ValueError) as exc:
        raise ShotencError(f"packaging {stitched.name}: {exc}") from None
    if b"moov" not in init or not frags:
        raise ShotencError(f"packaging {stitched.name}: not a fragmented MP4")
    ts = timescale(init)
    bounds = boundaries(ts)
    slack = round(tolerance_s * ts)
    base = frags[0].decode_time
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "init.mp4").write_bytes(init)
    groups: list[list[Fragment]] = []
    bi = 0
    for frag in frags:
        rel = frag.decode_time - base
        while bi < len(bounds) and rel >= bounds[bi] - slack:
            groups.append([])
            bi += 1
        if not groups:
            groups.append([])
        groups[-1].append(frag)
    segments: list[Segment] = []
    with stitched.open("rb") as src:
        for n, group in enumerate((g for g in groups if g), 1):
            first, last = group[0], group[-1]
            src.seek(first.start)
            with (out_dir / SEGMENT_NAME.format(n)).open("wb") as dst:
                remaining = last.end - first.start
                while remaining:
                    block = src.read(min(remaining, 1 << 20))
                    if not block:
                        raise ShotencError(f"packaging {stitched.name}: file ends inside a fragment")
                    dst.write(block)
                    remaining -= len(block)
            start = first.decode_time - base
            dur = sum(f.duration for f in group)
            segments.append(Segment(n, start, dur, last.end - first.start, start / ts, dur / ts))
    return ts, segments, len(init)


def stitch_chunks(paths: Sequence[str], dest: Path, codec: str, fragmented: bool, in_band: bool = False) -> None:
    """Join chunks without re-encoding; the concat demuxer rebases their timestamps."""
    listing = dest.with_suffix(".ffconcat")
    _concat_list(list(paths), listing)
    flags = ["-movflags", FRAG_FLAGS] if fragmented else []
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            listing,
            "-map",
            "0:v:0",
            "-c",
            "copy",
            *codecs.get(codec).mux_args(in_band),
            *flags,
            "-f",
            "mp4",
            dest,
        ],
        what=f"stitch {dest.stem}",
    )
    listing.unlink(missing_ok=True)
