"""Package a title: every video rendition stitched from its chunks, every audio rendition, both manifests."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

from ..allocators.base import EncodePlan
from ..analysis.analyze import Analysis
from ..encode.chunk import Chunk
from ..progress import Reporter
from .audio import AudioSpec, package_audio
from .cmaf import Rendition
from .dash import write_mpd
from .hls import master_playlist, media_playlist
from .video import package_video


@dataclass
class PackagedTitle:
    video: list[Rendition]
    audio: list[Rendition]
    duration_s: float


def package_title(
    analysis: Analysis,
    plan: EncodePlan,
    chunks: dict[tuple[str, int], Chunk],
    audio: list[tuple[AudioSpec, Future]],
    dest: Path,
    scratch: Path,
    executor: Executor,
    reporter: Reporter | None = None,
) -> PackagedTitle:
    """Write ``dest``'s renditions, playlists and manifests; video renditions are tasks on ``executor``."""
    reporter = reporter or Reporter()
    media, shots = analysis.media, plan.shots
    reporter.stage("package", len(plan.rungs) + len(audio))
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
        rend = fut.result()
        (dest / rend.directory / "playlist.m3u8").write_text(media_playlist(rend), encoding="utf-8")
        reporter.advance("package")
        video.append(rend)
    sound: list[Rendition] = []
    for spec, encoded in audio:
        rend = package_audio(spec, encoded.result(), video[0].segments, dest)
        (dest / rend.directory / "playlist.m3u8").write_text(media_playlist(rend), encoding="utf-8")
        sound.append(rend)
        reporter.advance("package")
    duration = sum(s.duration_s for s in shots)
    (dest / "manifest.mpd").write_text(write_mpd(video, sound, duration), encoding="utf-8")
    (dest / "master.m3u8").write_text(master_playlist(video, sound), encoding="utf-8")
    return PackagedTitle(video, sound, duration)
