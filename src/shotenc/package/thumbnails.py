"""Thumbnails for seeking: one at the first frame of every shot, and every N seconds inside long shots.

One FFmpeg pass over the normalized source (tone-mapped when it is HDR) picks those frames by
number and writes each as a JPEG and, through ``tile``, into sprite sheets. The sprites and a
WebVTT track of ``sprite.jpg#xywh=x,y,w,h`` cues serve web players' seek bars; the single JPEGs
are the DASH image AdaptationSet (tiles of 1x1 on a SegmentTimeline, so every thumbnail keeps its
exact span: a DASH tile grid spreads a sheet's thumbnails evenly over its segment, which a shot
boundary does not do) and the HLS image playlist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..analysis.shots import Shot
from ..errors import ShotencError
from ..media import ffmpeg
from ..media.normalize import source_pad, video_filters
from ..media.probe import MediaInfo
from .cmaf import Rendition, Segment
from .subtitles import vtt_clock

TIMESCALE = 1000
VTT_NAME = "thumbnails.vtt"
SPRITE_NAME = "sprite-{:03d}.jpg"


@dataclass(frozen=True)
class ThumbnailOptions:
    enabled: bool = True
    interval_s: float = 10.0  # a thumbnail at least this often inside a long shot
    width: int = 240
    columns: int = 5  # sprite sheet grid
    rows: int = 5

    def check(self) -> None:
        if self.interval_s <= 0 or self.width < 16 or self.columns < 1 or self.rows < 1:
            raise ShotencError("thumbnails: interval must be > 0, width >= 16, a grid of at least 1x1")


def thumbnail_frames(shots: list[Shot], frame_count: int, fps: float, interval_s: float) -> list[int]:
    """The first frame of every shot (a cut, not a split of a long shot), then one every ``interval_s``
    inside it, none closer than a quarter interval to the next shot."""
    starts = [s.start_frame for s in shots if s.index == 0 or s.starts_at_cut]
    step = max(1, round(interval_s * fps))
    frames: list[int] = []
    for a, b in zip(starts, [*starts[1:], frame_count], strict=True):
        frames += list(range(a, max(a + 1, b - step // 4), step))
    return frames


def thumbnail_size(media: MediaInfo, width: int) -> tuple[int, int]:
    w = min(width, media.width) // 2 * 2
    return w, max(2, round(w * media.height / media.width / 2) * 2)


def make_thumbnails(media: MediaInfo, shots: list[Shot], out_root: Path, opts: ThumbnailOptions) -> Rendition:
    """Write the JPEGs, sprites, WebVTT track and image playlist; the DASH/HLS image rendition."""
    w, h = thumbnail_size(media, opts.width)
    frames = thumbnail_frames(shots, media.frame_count, float(media.fps), opts.interval_s)
    rend = Rendition(f"{w}x{h}", "thumbnails", "jpeg", "jpeg", TIMESCALE, [], 0, width=w, height=h)
    out_dir = out_root / rend.directory
    out_dir.mkdir(parents=True, exist_ok=True)
    picks = "+".join(f"eq(n,{f})" for f in frames)
    graph = (
        f"{source_pad(media)}{video_filters(media, w, h)},select='{picks}',split=2[one][many];"
        f"[many]tile={opts.columns}x{opts.rows}[sheet]"
    )
    jpeg = ["-fps_mode", "passthrough", "-q:v", "5", "-start_number", "1"]
    ffmpeg.run(
        ["-y", "-v", "error", "-i", media.path, "-filter_complex", graph,
         "-map", "[one]", *jpeg, out_dir / "tile-%05d.jpg", "-map", "[sheet]", *jpeg, out_dir / "sprite-%03d.jpg"],
        what="thumbnails",
    )  # fmt: skip
    per_sheet = opts.columns * opts.rows
    ends = [*frames[1:], media.frame_count]
    cues = ["WEBVTT", ""]
    for i, (a, b) in enumerate(zip(frames, ends, strict=True)):
        tile = out_dir / rend.segment_name(i + 1)
        if not tile.is_file():
            raise ShotencError(f"thumbnails: FFmpeg wrote {i} of {len(frames)} thumbnails")
        start, end = round(a / float(media.fps) * 1000), round(b / float(media.fps) * 1000)
        span = end - start
        rend.segments.append(Segment(i + 1, start, span, tile.stat().st_size, start / 1000, span / 1000))
        sheet, k = divmod(i, per_sheet)
        xywh = f"{(k % opts.columns) * w},{(k // opts.columns) * h},{w},{h}"
        cues += [f"{vtt_clock(start)} --> {vtt_clock(end)}", f"{SPRITE_NAME.format(sheet + 1)}#xywh={xywh}", ""]
    (out_dir / VTT_NAME).write_text("\n".join(cues), encoding="utf-8")
    rend.extra.update(
        thumbnails=len(frames), sprites=math.ceil(len(frames) / per_sheet), grid=f"{opts.columns}x{opts.rows}",
        webvtt=f"{rend.directory}/{VTT_NAME}",
    )  # fmt: skip
    return rend
