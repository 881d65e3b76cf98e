"""Audio renditions: every track of the source, AAC stereo and 5.1, grouped at the video's segment instants."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..jobs.receipts import temp_name
from ..media import ffmpeg
from ..media.probe import AudioStream, MediaInfo
from .cmaf import Rendition, Segment, split_fragments
from .codec_strings import codec_string


@dataclass(frozen=True)
class AudioSpec:
    id: str
    stream: AudioStream
    channels: int
    kbps: int
    default: bool = False  # the rendition players pick first: the stereo one of the source's default track

    @property
    def name(self) -> str:
        """What a player lists: the track's title or its language's name, and the channel layout."""
        base = self.stream.title or language_name(self.stream.language) or f"Audio {self.stream.index + 1}"
        return base if self.channels == 2 else f"{base} ({'5.1' if self.channels == 6 else self.channels})"


def language_name(tag: str) -> str:
    """The language's own English name (``fr`` → ``French``); empty for ``und``."""
    if tag == "und":
        return ""
    import langcodes

    try:
        return langcodes.Language.get(tag).display_name()
    except (ImportError, LookupError, ValueError):
        return tag


def audio_renditions(media: MediaInfo) -> list[AudioSpec]:
    """Every audio track of the source: AAC stereo always, AAC 5.1 too where the track has 5.1 or more.

    Ids name the channels and, with several tracks, the language (``aac-2ch-fr``); the source's
    default track (the first when none is marked) gives the default rendition.
    """
    if not media.audio:
        return []
    default = next((a for a in media.audio if a.default), media.audio[0])
    tags = [f"-{a.language}" if len(media.audio) > 1 else "" for a in media.audio]
    tags = [t + (f"-{a.index + 1}" if tags.count(t) > 1 else "") for t, a in zip(tags, media.audio, strict=True)]
    out = []
    for track, tag in zip(media.audio, tags, strict=True):
        out.append(AudioSpec(f"aac-2ch{tag}", track, 2, 128, default=track is default))
        if track.channels >= 6:
            out.append(AudioSpec(f"aac-6ch{tag}", track, 6, 384))
    return out


def encode_audio(spec: AudioSpec, media: MediaInfo, duration_s: float, dest: Path) -> Path:
    """AAC-LC of the whole title in fragments of about half a second, padded or cut to ``duration_s``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    layout = "stereo" if spec.channels == 2 else "5.1"
    try:
        ffmpeg.run(
            [
                "-y",
                "-v",
                "error",
                "-i",
                media.audio_path or media.path,
                "-map",
                f"0:a:{spec.stream.index}",
                "-vn",
                "-sn",
                "-dn",
                "-af",
                f"aresample=48000,aformat=channel_layouts={layout},apad",
                "-t",
                f"{duration_s:.6f}",
                "-c:a",
                "aac",
                "-b:a",
                f"{spec.kbps}k",
                "-movflags",
                "+empty_moov+default_base_moof+cmaf",
                "-frag_duration",
                "480000",
                "-f",
                "mp4",
                tmp,
            ],
            what=f"audio {spec.id}",
        )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def package_audio(spec: AudioSpec, encoded: Path, video_segments: list[Segment], out_root: Path) -> Rendition:
    """Group the audio fragments into segments at the video's segment instants."""
    out_dir = out_root / "audio" / spec.id

    def bounds(ts: int) -> list[int]:
        return [round(s.start_s * ts) for s in video_segments]

    ts, segs, init_len = split_fragments(encoded, bounds, out_dir, 0.24)
    init = (out_dir / "init.mp4").read_bytes()
    return Rendition(
        spec.id,
        "audio",
        "aac",
        codec_string(init),
        ts,
        segs,
        init_len,
        channels=spec.channels,
        sample_rate=48000,
        language=spec.stream.language,
        name=spec.name,
        default=spec.default,
    )
