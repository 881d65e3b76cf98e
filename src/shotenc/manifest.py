"""DASH MPD and HLS playlists over the same CMAF segments.

Segment durations vary (they follow shots), so DASH gets a SegmentTimeline and HLS exact EXTINFs.
BANDWIDTH is the measured peak segment bit rate (RFC 8216), AVERAGE-BANDWIDTH the mean. Per-shot
segments are far from constant bit rate, so each segment's size is published too: DASH lists every
segment (SegmentList) with its byte range (the whole file: ``mediaRange="0-<size-1>"``), HLS gives
each segment's bit rate (EXT-X-BITRATE, RFC 8216bis).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from fractions import Fraction

from .package import SEGMENT_NAME, Rendition

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _timeline(parent: ET.Element, rendition: Rendition) -> None:
    tl = ET.SubElement(parent, "SegmentTimeline")
    runs: list[list[int]] = []  # [t, d, repeat]
    for seg in rendition.segments:
        if runs and runs[-1][1] == seg.duration and runs[-1][0] + runs[-1][1] * (runs[-1][2] + 1) == seg.start:
            runs[-1][2] += 1
        else:
            runs.append([seg.start, seg.duration, 0])
    expected = None
    for t, d, r in runs:
        attrs = {"d": str(d)}
        if expected is None or t != expected:
            attrs = {"t": str(t), **attrs}
        if r:
            attrs["r"] = str(r)
        ET.SubElement(tl, "S", attrs)
        expected = t + d * (r + 1)


def _segment_list(parent: ET.Element, r: Rendition) -> None:
    """Every segment by URL with its byte range, so a player knows each segment's size."""
    sl = ET.SubElement(parent, "SegmentList", {"timescale": str(r.timescale)})
    ET.SubElement(sl, "Initialization", {"sourceURL": f"{r.directory}/init.mp4"})
    _timeline(sl, r)
    for s in r.segments:
        media = f"{r.directory}/{SEGMENT_NAME.format(s.number)}"
        ET.SubElement(sl, "SegmentURL", {"media": media, "mediaRange": f"0-{s.bytes - 1}"})


def _representation(aset: ET.Element, r: Rendition, extra: dict[str, str]) -> ET.Element:
    """A Representation; @bandwidth is the measured peak segment bit rate."""
    attrs = {"id": r.id, "codecs": r.codec_string, "bandwidth": str(round(r.peak_kbps * 1000)), **extra}
    return ET.SubElement(aset, "Representation", attrs)


def write_mpd(video: list[Rendition], audio: list[Rendition], duration_s: float) -> str:
    ET.register_namespace("", DASH_NS)
    max_seg = max((s.duration_s for r in video + audio for s in r.segments), default=1.0)
    mpd = ET.Element(
        "MPD",
        {
            "xmlns": DASH_NS,
            "profiles": "urn:mpeg:dash:profile:isoff-main:2011",
            "type": "static",
            "mediaPresentationDuration": _iso_duration(duration_s),
            "maxSegmentDuration": _iso_duration(max_seg),
            "minBufferTime": _iso_duration(min(4.0, max(2.0, max_seg))),
        },
    )
    period = ET.SubElement(mpd, "Period", {"id": "0", "start": "PT0S"})
    set_id = 0
    for codec in ("h264", "hevc", "vp9", "av1"):
        reps = sorted((r for r in video if r.codec == codec), key=lambda r: r.peak_kbps)
        if not reps:
            continue
        aset = ET.SubElement(
            period,
            "AdaptationSet",
            {
                "id": str(set_id),
                "contentType": "video",
                "mimeType": "video/mp4",
                "segmentAlignment": "true",
                "startWithSAP": "1",
                "maxWidth": str(max(r.width for r in reps)),
                "maxHeight": str(max(r.height for r in reps)),
                "par": _par(reps[-1].width, reps[-1].height),
            },
        )
        set_id += 1
        for r in reps:
            size = {"width": str(r.width), "height": str(r.height), "frameRate": r.fps, "sar": "1:1"}
            _segment_list(_representation(aset, r, size), r)
    for r in audio:
        aset = ET.SubElement(
            period,
            "AdaptationSet",
            {
                "id": str(set_id),
                "contentType": "audio",
                "mimeType": "audio/mp4",
                "lang": r.language,
                "segmentAlignment": "true",
                "startWithSAP": "1",
            },
        )
        set_id += 1
        rep = _representation(aset, r, {"audioSamplingRate": str(r.sample_rate)})
        ET.SubElement(
            rep,
            "AudioChannelConfiguration",
            {
                "schemeIdUri": "urn:mpeg:dash:23003:3:audio_channel_configuration:2011",
                "value": str(r.channels),
            },
        )
        _segment_list(rep, r)
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _par(w: int, h: int) -> str:
    f = Fraction(w, h)
    return f"{f.numerator}:{f.denominator}"


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
        lines.append(f"#EXT-X-BITRATE:{max(1, round(s.bytes * 8 / 1000 / s.duration_s))}")
        lines.append(f"#EXTINF:{s.duration_s:.5f},")
        lines.append(SEGMENT_NAME.format(s.number))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def master_playlist(video: list[Rendition], audio: list[Rendition]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for i, a in enumerate(audio):
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="{a.id}",LANGUAGE="{a.language}",'
            f'CHANNELS="{a.channels}",DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,'
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
