"""A video rendition: its chunks stitched without re-encoding, cut at the shot starts."""

from __future__ import annotations

from pathlib import Path

from .. import codecs
from ..analysis.shots import Shot
from ..errors import ShotencError
from ..ladder import Rung
from ..media.probe import MediaInfo
from .cmaf import Rendition, split_fragments, stitch_chunks
from .codec_strings import codec_string


def package_video(
    rung: Rung,
    chunk_paths: list[str],
    shots: list[Shot],
    media: MediaInfo,
    out_root: Path,
    scratch: Path,
    sizes: list[tuple[int, int]] | None = None,
) -> Rendition:
    """One video rendition: stitched from its chunks, cut at shot starts.

    ``sizes`` are the chunks' picture sizes when they differ (the plan chose a size per shot): the
    stream then carries its parameter sets in band (one init segment for every size, as ``avc3``/
    ``hev1``/``vp09``/``av01``), and its CODECS value is the largest chunk's, the one that needs
    the highest level; the rendition's size is the rung's, the largest any shot uses.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    stitched = scratch / f"{rung.id}.mp4"
    in_band = bool(sizes) and len(set(sizes)) > 1
    stitch_chunks(chunk_paths, stitched, rung.codec, fragmented=True, in_band=in_band)
    out_dir = out_root / "video" / rung.id
    fps = media.fps

    def bounds(ts: int) -> list[int]:
        return [round(s.start_frame * ts * fps.denominator / fps.numerator) for s in shots]

    ts, segs, init_len = split_fragments(stitched, bounds, out_dir, 0.5 / float(fps))
    if len(segs) != len(shots):
        raise ShotencError(f"packaging {rung.id}: {len(segs)} segments for {len(shots)} shots")
    # exact durations from frame counts (the fragment sums say the same, up to rounding)
    for seg, shot in zip(segs, shots, strict=True):
        seg.start_s, seg.duration_s = shot.start_s, shot.duration_s
    stitched.unlink()
    init = (out_dir / "init.mp4").read_bytes()
    if in_band:  # the configuration record of the largest picture
        largest = max(range(len(chunk_paths)), key=lambda i: sizes[i][0] * sizes[i][1])
        init = Path(chunk_paths[largest]).read_bytes()
    w, h = rung.width, rung.height
    colour = codecs.get(rung.codec).rendition_colour(media.colour, rung.bit_depth)
    return Rendition(
        rung.id,
        "video",
        rung.codec,
        codec_string(init, w, h, float(fps)),
        ts,
        segs,
        init_len,
        width=w,
        height=h,
        fps=f"{fps.numerator}/{fps.denominator}" if fps.denominator != 1 else str(fps.numerator),
        extra=colour.rendition_info() if colour else {},
    )
