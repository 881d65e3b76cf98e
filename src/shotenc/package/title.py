"""Package a title: every video rendition stitched from its chunks, every audio and subtitle rendition,
the thumbnails, and both manifests."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from ..allocators.base import EncodePlan
from ..analysis.analyze import Analysis
from ..encode.chunk import Chunk
from ..progress import Reporter
from .audio import AudioSpec, package_audio
from .cmaf import Rendition
from .dash import write_mpd
from .hls import image_playlist, master_playlist, media_playlist
from .subtitles import SubtitleSpec, package_subtitles
from .thumbnails import ThumbnailOptions, make_thumbnails
from .video import package_video


@dataclass
class PackagedTitle:
    video: list[Rendition]
    audio: list[Rendition]
    duration_s: float
    subtitles: list[Rendition] = field(default_factory=list)
    thumbnails: Rendition | None = None
    left_out: list[str] = field(default_factory=list)


@dataclass
class Tracks:
    """What goes beside the video: audio and subtitles prepared in the work folder (futures), thumbnail options."""

    audio: list[tuple[AudioSpec, Future]] = field(default_factory=list)
    subtitles: list[tuple[SubtitleSpec, Future]] = field(default_factory=list)
    thumbnails: ThumbnailOptions = field(default_factory=ThumbnailOptions)
    left_out: list[str] = field(default_factory=list)  # one line per source track that cannot be published


def package_title(
    analysis: Analysis,
    plan: EncodePlan,
    chunks: dict[tuple[str, int], Chunk],
    tracks: Tracks,
    dest: Path,
    scratch: Path,
    executor: Executor,
    reporter: Reporter | None = None,
) -> PackagedTitle:
    """Write ``dest``'s renditions, playlists and manifests; video and thumbnails are tasks on ``executor``."""
    reporter = reporter or Reporter()
    media, shots = analysis.media, plan.shots
    reporter.stage("package", len(plan.rungs) + len(tracks.audio) + len(tracks.subtitles))
    thumbs = None
    if tracks.thumbnails.enabled:
        thumbs = executor.submit(make_thumbnails, media, shots, dest, tracks.thumbnails)
    stitched = [
        executor.submit(
            package_video,
            rung,
            [chunks[(rung.id, s.index)].path for s in shots],
            shots,
            media,
            dest,
            scratch,
            [plan.size(rung, s.index) for s in shots],
        )
        for rung in plan.rungs
    ]
    video: list[Rendition] = []
    for fut in stitched:
        video.append(_with_playlist(fut.result(), dest, reporter))
    duration = sum(s.duration_s for s in shots)
    sound = [
        _with_playlist(package_audio(spec, encoded.result(), video[0].segments, dest), dest, reporter)
        for spec, encoded in tracks.audio
    ]
    subtitles, left_out = [], list(tracks.left_out)
    for spec, prepared in tracks.subtitles:
        rend = package_subtitles(spec, prepared.result(), video[0].segments, duration, dest)
        if rend is None:
            left_out.append(f"subtitle track {spec.id} has no cue within the title; it is left out")
            reporter.warn(left_out[-1])
        else:
            subtitles.append(_with_playlist(rend, dest, None))
        reporter.advance("package")
    thumbnails = thumbs.result() if thumbs else None
    if thumbnails is not None:
        (dest / thumbnails.directory / "playlist.m3u8").write_text(image_playlist(thumbnails), encoding="utf-8")
    (dest / "manifest.mpd").write_text(write_mpd(video, sound, duration, subtitles, thumbnails), encoding="utf-8")
    (dest / "master.m3u8").write_text(master_playlist(video, sound, subtitles, thumbnails), encoding="utf-8")
    return PackagedTitle(video, sound, duration, subtitles, thumbnails, left_out)


def _with_playlist(rend: Rendition, dest: Path, reporter: Reporter | None) -> Rendition:
    (dest / rend.directory / "playlist.m3u8").write_text(media_playlist(rend), encoding="utf-8")
    if reporter is not None:
        reporter.advance("package")
    return rend
