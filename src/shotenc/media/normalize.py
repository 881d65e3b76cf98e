"""One definition of "the source as shotenc sees it": upright, progressive, constant frame rate, 4:2:0 8-bit SDR.

Analysis, chunk encodes, and quality references all use these filters, so frame N means the same
picture everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..jobs.receipts import temp_name
from . import ffmpeg
from .colour import RGB, Colour, tonemap_filter
from .probe import MediaInfo, probe


def video_filters(
    media: MediaInfo,
    width: int | None = None,
    height: int | None = None,
    scaler: str = "bicubic",
    pix_fmt: str = "yuv420p",
    colour: Colour | None = None,
) -> str:
    """The filter chain from a decoded source frame to a normalized frame of ``width`` x ``height``.

    Rotation is applied by FFmpeg's autorotate before this chain; interlaced sources are
    deinterlaced (one frame per frame, yadif); pixel aspect is squared by the scale, which also brings
    the colour to what renditions carry (:attr:`Colour.delivered`: video range, RGB converted). An HDR source
    is tone-mapped to SDR unless ``colour`` (what a rendition carries) is HDR; ``colour`` also
    decides the bit depth (else ``pix_fmt``).
    """
    chain: list[str] = []
    if media.interlaced:
        chain.append("yadif=mode=send_frame:parity=auto:deint=all")
    w = width or media.width - media.width % 2
    h = height or media.height - media.height % 2
    chain.append(media.colour.converted(f"scale={w}:{h}:flags={scaler}"))
    chain.append("setsar=1")
    if media.colour.hdr and not (colour and colour.hdr):
        chain.append(tonemap_filter(media.colour.delivered))
    chain.append(f"format={colour.pix_fmt if colour else pix_fmt}")
    return ",".join(chain)


def seek_args(media: MediaInfo, start_frame: int) -> list[str]:
    """Input options that land exactly on ``start_frame`` (see :meth:`MediaInfo.seek_s`)."""
    return ["-ss", f"{media.seek_s(start_frame):.6f}"] if start_frame > 0 else []


def read_source(media: MediaInfo, start_frame: int = 0, vf: str | None = None) -> list[str]:
    """Input options of every FFmpeg run that reads the source's picture: from ``start_frame``,
    its video stream only, through the filter chain ``vf``."""
    args = [*seek_args(media, start_frame), "-i", media.path, "-map", f"0:v:{media.video_stream}"]
    return args + ["-an", "-sn", "-dn"] + (["-vf", vf] if vf else [])


def source_pad(media: MediaInfo, input_index: int = 0) -> str:
    """The source's picture as a filter-graph input (``[1:v:0]``) when it is FFmpeg's ``input_index``-th input."""
    return f"[{input_index}:v:{media.video_stream}]"


def make_mezzanine(media: MediaInfo, dest: Path, on_progress: Callable[[float], None] | None = None) -> MediaInfo:
    """Constant-frame-rate, lossless copy of a variable-frame-rate source.

    Per-shot seeking on a VFR source does not give the same frames as a whole-file decode; on
    this intermediate it does. Audio is left in the original (it is encoded from there).
    """
    tmp = temp_name(dest)
    fps = media.fps
    pre = "yadif=mode=send_frame:parity=auto:deint=all," if media.interlaced else ""
    if media.colour.delivered != media.colour:  # its pictures are what renditions carry (adopt_tracks says so)
        pre += f"{media.colour.converted('scale=iw:ih')},format={_lossless_pix_fmt(media)},"
    try:
        ffmpeg.run(
            [
                "-y",
                *read_source(media, vf=f"{pre}fps={fps.numerator}/{fps.denominator}"),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-qp",
                "0",
                "-g",
                str(max(1, round(float(fps)))),
                "-pix_fmt",
                _lossless_pix_fmt(media),
                "-f",
                "mp4",
                tmp,
            ],
            what="constant-frame-rate intermediate",
            duration_s=media.duration_s,
            on_progress=on_progress,
        )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return adopt_tracks(probe(dest, check_seek=False), media)


def adopt_tracks(mezz: MediaInfo, media: MediaInfo) -> MediaInfo:
    """The intermediate ``mezz`` of ``media`` with the source's audio and subtitles (read from the source) and
    the colour its pictures were converted to."""
    mezz.audio, mezz.subtitles, mezz.colour = media.audio, media.subtitles, media.colour.delivered
    mezz.audio_path, mezz.video_start_s = media.path, media.video_start_s
    return mezz


def _lossless_pix_fmt(media: MediaInfo) -> str:
    """The source's chroma (RGB as 4:4:4) at 8 or 10 bits."""
    rgb = media.colour.matrix == RGB
    chroma = "444" if rgb or "444" in media.pix_fmt else "422" if "422" in media.pix_fmt else "420"
    return f"yuv{chroma}p" + ("10le" if media.colour.bit_depth > 8 else "")
