"""Audio renditions: every track of the source, AAC stereo and 5.1 (and E-AC-3 5.1 on request), grouped
at the video's segment instants.

Dolby Atmos is not offered: it needs an object-audio (JOC) encoder, which FFmpeg does not have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ShotencError
from ..jobs.receipts import temp_name
from ..media import ffmpeg
from ..media.probe import AudioStream, MediaInfo
from ..media.streams import language_name
from .cmaf import Rendition, Segment, split_fragments
from .codec_strings import codec_string, dolby_channel_config


@dataclass(frozen=True)
class AudioFormat:
    """An audio codec shotenc publishes: FFmpeg's encoder, its rate per channel layout, how it is fragmented."""

    name: str
    encoder: str
    kbps: dict[int, int]  # channels -> kbps; the layouts it is made in
    movflags: str
    summary: str
    # samples the encoder puts before the first one it was given (at 48 kHz); fragments carry no edit list
    # to hide them, so they are cut from the input instead, and a decoded sample plays when it did
    priming: int = 0


# E-AC-3's headers must be parsed before the moov can be written: its moov waits for the first fragment
AUDIO_FORMATS = {
    "aac": AudioFormat("aac", "aac", {2: 128, 6: 384}, "+empty_moov+default_base_moof+cmaf",
                       "AAC-LC stereo of every track, and 5.1 where the track has 6 channels or more (always)", 1024),
    "eac3": AudioFormat("eac3", "eac3", {6: 448}, "+delay_moov+default_base_moof+cmaf",
                        "E-AC-3 5.1 (ec-3) of every track with 6 channels or more", 256),
}  # fmt: skip
REQUIRED_FORMAT = "aac"


def check_formats(formats: list[str]) -> list[str]:
    """``formats`` as the registry knows them, AAC always first; ShotencError for an unknown one."""
    unknown = [f for f in formats if f not in AUDIO_FORMATS]
    if unknown:
        raise ShotencError(f"unknown audio format(s) {', '.join(unknown)}; choose from {', '.join(AUDIO_FORMATS)}")
    return [REQUIRED_FORMAT] + [f for f in dict.fromkeys(formats) if f != REQUIRED_FORMAT]


@dataclass(frozen=True)
class AudioSpec:
    id: str
    stream: AudioStream
    channels: int
    kbps: int
    default: bool = False  # the rendition players pick first: the stereo one of the source's default track
    codec: str = "aac"  # a key of AUDIO_FORMATS

    @property
    def name(self) -> str:
        """What a player lists: the track's title or its language's name, and the channel layout."""
        base = self.stream.title or language_name(self.stream.language) or f"Audio {self.stream.index + 1}"
        return base if self.channels == 2 else f"{base} ({'5.1' if self.channels == 6 else self.channels})"


def audio_renditions(media: MediaInfo, formats: tuple[str, ...] = (REQUIRED_FORMAT,)) -> list[AudioSpec]:
    """Every audio track of the source: AAC stereo always, AAC 5.1 too where the track has 5.1 or more,
    and the 5.1 of each other format in ``formats`` (``eac3``) where the track has 5.1 or more.

    Ids name the codec, the channels and, with several tracks, the language (``aac-2ch-fr``,
    ``eac3-6ch-en``); the source's default track (the first when none is marked) gives the default
    rendition.
    """
    if not media.audio:
        return []
    default = next((a for a in media.audio if a.default), media.audio[0])
    tags = [f"-{a.language}" if len(media.audio) > 1 else "" for a in media.audio]
    tags = [t + (f"-{a.index + 1}" if tags.count(t) > 1 else "") for t, a in zip(tags, media.audio, strict=True)]
    out = []
    for track, tag in zip(media.audio, tags, strict=True):
        for fmt in check_formats(list(formats)):
            for channels, kbps in AUDIO_FORMATS[fmt].kbps.items():
                if channels == 2 or track.channels >= 6:
                    default_one = fmt == REQUIRED_FORMAT and channels == 2 and track is default
                    out.append(AudioSpec(f"{fmt}-{channels}ch{tag}", track, channels, kbps, default_one, fmt))
    return out


def encode_audio(spec: AudioSpec, media: MediaInfo, duration_s: float, dest: Path) -> Path:
    """The whole title in ``spec``'s codec, in fragments of about half a second, padded or cut to ``duration_s``.

    Its time 0 is the picture's first frame: a track that starts later is padded with silence, one that
    starts earlier is cut, and a gap in it (over a tenth of a second: libswresample's ``async``) is filled,
    so sound stays where it was against the picture; the encoder's priming is cut from the start (see
    :class:`AudioFormat`)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    layout = "stereo" if spec.channels == 2 else "5.1"
    fmt = AUDIO_FORMATS[spec.codec]
    trim = f"atrim=start_sample={fmt.priming},asetpts=PTS-STARTPTS," if fmt.priming else ""
    try:
        ffmpeg.run(
            [
                "-y",
                "-v",
                "error",
                *media.track_input(),
                "-map",
                f"0:a:{spec.stream.index}",
                "-vn",
                "-sn",
                "-dn",
                "-af",
                f"aresample=48000:async=1:first_pts=0,{trim}aformat=channel_layouts={layout},apad",
                "-t",
                f"{duration_s:.6f}",
                "-c:a",
                fmt.encoder,
                "-b:a",
                f"{spec.kbps}k",
                "-movflags",
                fmt.movflags,
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
    config = dolby_channel_config(init)
    return Rendition(
        spec.id,
        "audio",
        spec.codec,
        codec_string(init),
        ts,
        segs,
        init_len,
        channels=spec.channels,
        sample_rate=48000,
        language=spec.stream.language,
        name=spec.name,
        default=spec.default,
        extra={"dolby_channel_config": config} if config else {},
    )
