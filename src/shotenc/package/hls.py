"""HLS playlists over the same CMAF segments as DASH.

Exact EXTINFs, TARGETDURATION at least every rounded EXTINF (RFC 8216); BANDWIDTH is the measured
peak segment bit rate, AVERAGE-BANDWIDTH the mean.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .cmaf import SEGMENT_NAME, Rendition


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
        '#EXT-X-MAP:URI="init.mp4"',
    ]
    for s in r.segments:
        lines.append(f"#EXTINF:{s.duration_s:.5f},")
        lines.append(SEGMENT_NAME.format(s.number))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """An HLS quoted-string may not hold a double quote or a line break."""
    return text.replace('"', "'").replace("\n", " ").replace("\r", " ")


def master_playlist(video: list[Rendition], audio: list[Rendition]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    default = next((a for a in audio if a.default), audio[0] if audio else None)
    for a in audio:
        lang = f',LANGUAGE="{a.language}"' if a.language != "und" else ""
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="{_quoted(a.name or a.id)}"{lang},'
            f'CHANNELS="{a.channels}",DEFAULT={"YES" if a is default else "NO"},AUTOSELECT=YES,'
            f'URI="{a.directory}/playlist.m3u8"'
        )
    peak_audio = max((a.peak_kbps for a in audio), default=0.0)
    avg_audio = max((a.avg_kbps for a in audio), default=0.0)
    audio_codecs = sorted({a.codec_string for a in audio})
    for r in sorted(video, key=lambda r: (r.codec, r.peak_kbps)):
        fps = float(Fraction(r.fps))
        attrs = [
            f"BANDWIDTH={math.ceil((r.peak_kbps + peak_audio) * 1000)}",
            f"AVERAGE-BANDWIDTH={math.ceil((r.avg_kbps + avg_audio) * 1000)}",
            f'CODECS="{",".join([r.codec_string, *audio_codecs])}"',
            f"RESOLUTION={r.width}x{r.height}",
            f"FRAME-RATE={fps:.3f}",
        ]
        if audio:
            attrs.append('AUDIO="aud"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        lines.append(f"{r.directory}/playlist.m3u8")
    return "\n".join(lines) + "\n"
