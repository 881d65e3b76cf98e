"""HLS playlists over the same CMAF segments as DASH, the WebVTT subtitle segments and the thumbnails.

Exact EXTINFs, TARGETDURATION at least every rounded EXTINF (RFC 8216); BANDWIDTH is the measured
peak segment bit rate, AVERAGE-BANDWIDTH the mean; each media segment's own rate is given too
(``EXT-X-BITRATE``, RFC 8216bis), since per-shot segments are far from constant bit rate. A title
with HDR renditions says VIDEO-RANGE on every variant (PQ, HLG or SDR).
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..media.colour import SDR
from .cmaf import Rendition

SUBTITLE_GROUP = "subs"


def target_duration(r: Rendition) -> int:
    """RFC 8216: every EXTINF rounded to the nearest integer is at most EXT-X-TARGETDURATION."""
    return max(1, max((math.floor(s.duration_s + 0.5) for s in r.segments), default=1))


def media_playlist(r: Rendition) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target_duration(r)}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    if r.init_bytes:
        lines.append('#EXT-X-MAP:URI="init.mp4"')
    for s in r.segments:
        if r.kind in ("video", "audio"):  # each segment's own rate (RFC 8216bis): per-shot segments vary a lot
            lines.append(f"#EXT-X-BITRATE:{max(1, round(s.bytes * 8 / 1000 / s.duration_s))}")
        lines.append(f"#EXTINF:{s.duration_s:.5f},")
        lines.append(r.segment_name(s.number))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def image_playlist(r: Rendition) -> str:
    """An image media playlist (the ``EXT-X-IMAGES-ONLY`` / ``EXT-X-TILES`` form Roku and others read):
    one 1x1 tile per thumbnail, each with its own span."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{target_duration(r)}",
             "#EXT-X-MEDIA-SEQUENCE:1", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-IMAGES-ONLY"]  # fmt: skip
    for s in r.segments:
        lines.append(f"#EXT-X-TILES:RESOLUTION={r.width}x{r.height},LAYOUT=1x1,DURATION={s.duration_s:.3f}")
        lines.append(f"#EXTINF:{s.duration_s:.5f},")
        lines.append(r.segment_name(s.number))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """An HLS quoted-string may not hold a double quote or a line break."""
    return text.replace('"', "'").replace("\n", " ").replace("\r", " ")


def audio_groups(audio: list[Rendition]) -> dict[str, list[Rendition]]:
    """Audio renditions by HLS group: one codec per group (``aud`` is AAC), so a variant's CODECS names
    exactly what its group holds and a player without E-AC-3 keeps the AAC variants."""
    groups: dict[str, list[Rendition]] = {}
    for a in audio:
        groups.setdefault("aud" if a.codec == "aac" else f"aud-{a.codec}", []).append(a)
    return groups


def _audio_media(group: str, renditions: list[Rendition]) -> list[str]:
    default = next((a for a in renditions if a.default), renditions[0])
    lines = []
    for a in renditions:
        lang = f',LANGUAGE="{a.language}"' if a.language != "und" else ""
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="{_quoted(a.name or a.id)}"{lang},'
            f'CHANNELS="{a.channels}",DEFAULT={"YES" if a is default else "NO"},AUTOSELECT=YES,'
            f'URI="{a.directory}/playlist.m3u8"'
        )
    return lines


def _subtitle_media(s: Rendition) -> str:
    """A subtitle rendition; SDH says what it transcribes (Apple's CHARACTERISTICS), forced ones are FORCED."""
    lang = f',LANGUAGE="{s.language}"' if s.language != "und" else ""
    forced = bool(s.extra.get("forced"))
    sdh = (',CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,'
           'public.accessibility.describes-music-and-sound"') if s.extra.get("sdh") else ""  # fmt: skip
    return (
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLE_GROUP}",NAME="{_quoted(s.name or s.id)}"{lang},'
        f"DEFAULT={'YES' if s.default else 'NO'},AUTOSELECT=YES,FORCED={'YES' if forced else 'NO'}{sdh},"
        f'URI="{s.directory}/playlist.m3u8"'
    )


def master_playlist(
    video: list[Rendition],
    audio: list[Rendition],
    subtitles: list[Rendition] | None = None,
    thumbnails: Rendition | None = None,
) -> str:
    """The master: audio groups, the subtitle group, one variant per video rendition and audio group."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    groups = audio_groups(audio)
    for name, members in groups.items():
        lines += _audio_media(name, members)
    lines += [_subtitle_media(s) for s in subtitles or []]
    ranges = any(r.extra.get("video_range", SDR) != SDR for r in video)
    for group, members in (groups or {"": []}).items():
        peak_audio = max((a.peak_kbps for a in members), default=0.0)
        avg_audio = max((a.avg_kbps for a in members), default=0.0)
        audio_codecs = sorted({a.codec_string for a in members})
        for r in sorted(video, key=lambda r: (r.codec, r.peak_kbps)):
            fps = float(Fraction(r.fps))
            attrs = [
                f"BANDWIDTH={math.ceil((r.peak_kbps + peak_audio) * 1000)}",
                f"AVERAGE-BANDWIDTH={math.ceil((r.avg_kbps + avg_audio) * 1000)}",
                f'CODECS="{",".join([r.codec_string, *audio_codecs])}"',
                f"RESOLUTION={r.width}x{r.height}",
                f"FRAME-RATE={fps:.3f}",
            ]
            if ranges:
                attrs.append(f"VIDEO-RANGE={r.extra.get('video_range', SDR)}")
            if group:
                attrs.append(f'AUDIO="{group}"')
            if subtitles:
                attrs.append(f'SUBTITLES="{SUBTITLE_GROUP}"')
            lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
            lines.append(f"{r.directory}/playlist.m3u8")
    if thumbnails is not None:
        lines.append(
            f"#EXT-X-IMAGE-STREAM-INF:BANDWIDTH={math.ceil(thumbnails.peak_kbps * 1000)},"
            f'RESOLUTION={thumbnails.width}x{thumbnails.height},CODECS="jpeg",URI="{thumbnails.directory}/playlist.m3u8"'
        )
    return "\n".join(lines) + "\n"
