"""The DASH MPD over the CMAF segments.

Segment durations vary (they follow shots), so every Representation gets an exact
SegmentTimeline; @bandwidth is the measured peak segment bit rate.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from .. import codecs
from .cmaf import SEGMENT_NAME, Rendition

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
MEDIA_TEMPLATE = SEGMENT_NAME.replace("{:05d}", "$Number%05d$")


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


def _template(parent: ET.Element, r: Rendition) -> None:
    st = ET.SubElement(
        parent,
        "SegmentTemplate",
        {
            "timescale": str(r.timescale),
            "initialization": f"{r.directory}/init.mp4",
            "media": f"{r.directory}/{MEDIA_TEMPLATE}",
            "startNumber": "1",
        },
    )
    _timeline(st, r)


def _representation(aset: ET.Element, r: Rendition, extra: dict[str, str]) -> ET.Element:
    """A Representation; @bandwidth is the measured peak segment bit rate."""
    attrs = {"id": r.id, "codecs": r.codec_string, "bandwidth": str(round(r.peak_kbps * 1000)), **extra}
    return ET.SubElement(aset, "Representation", attrs)


def write_mpd(video: list[Rendition], audio: list[Rendition], duration_s: float) -> str:
    """A static MPD: one video AdaptationSet per codec (renditions by peak rate), one per audio rendition."""
    ET.register_namespace("", DASH_NS)
    max_seg = max((s.duration_s for r in video + audio for s in r.segments), default=1.0)
    mpd = ET.Element(
        "MPD",
        {
            "xmlns": DASH_NS,
            "profiles": "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019",
            "type": "static",
            "mediaPresentationDuration": _iso_duration(duration_s),
            "maxSegmentDuration": _iso_duration(max_seg),
            "minBufferTime": _iso_duration(min(4.0, max(2.0, max_seg))),
        },
    )
    period = ET.SubElement(mpd, "Period", {"id": "0", "start": "PT0S"})
    groups = [sorted((r for r in video if r.codec == c), key=lambda r: r.peak_kbps) for c in codecs.names()]
    groups = [g for g in groups if g]
    for set_id, reps in enumerate(groups):
        _video_set(period, set_id, reps)
    default = next((a for a in audio if a.default), audio[0] if audio else None)
    for set_id, r in enumerate(audio, len(groups)):
        _audio_set(period, set_id, r, r is default)
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _video_set(period: ET.Element, set_id: int, reps: list[Rendition]) -> None:
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
    for r in reps:
        size = {"width": str(r.width), "height": str(r.height), "frameRate": r.fps, "sar": "1:1"}
        _template(_representation(aset, r, size), r)


def _audio_set(period: ET.Element, set_id: int, r: Rendition, default: bool) -> None:
    """One audio rendition: its language, label, role (``main`` for the default) and channel layout."""
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
    if r.name:
        ET.SubElement(aset, "Label").text = r.name
    role = "main" if default else "alternate"
    ET.SubElement(aset, "Role", {"schemeIdUri": "urn:mpeg:dash:role:2011", "value": role})
    rep = _representation(aset, r, {"audioSamplingRate": str(r.sample_rate)})
    scheme = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
    ET.SubElement(rep, "AudioChannelConfiguration", {"schemeIdUri": scheme, "value": str(r.channels)})
    _template(rep, r)


def _par(w: int, h: int) -> str:
    f = Fraction(w, h)
    return f"{f.numerator}:{f.denominator}"
