"""The DASH MPD over the CMAF segments, the subtitles and the thumbnails.

Segment durations vary (they follow shots), so every Representation gets an exact
SegmentTimeline; @bandwidth is the measured peak segment bit rate. Subtitles are WebVTT
sidecars: one whole-title file per language, the Representation's single segment (dash.js reads
``text/vtt`` that way, and so does FFmpeg's DASH demuxer; FFmpeg can neither write nor read
``wvtt`` in MP4). HDR AdaptationSets carry their ITU-T H.273 code points as CICP properties;
thumbnails are an ``image/jpeg`` AdaptationSet of 1x1 tiles on a timeline (DASH-IF IOP 6.2.6).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from .. import codecs
from ..media.colour import PQ, SDR
from .cmaf import Rendition

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
ROLE = "urn:mpeg:dash:role:2011"
CICP = "urn:mpeg:mpegB:cicp:"
CHANNELS = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
DOLBY_CHANNELS = "tag:dolby.com,2014:dash:audio_channel_configuration:2011"
THUMBNAIL_TILE = "http://dashif.org/thumbnail_tile"


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
    attrs = {"timescale": str(r.timescale), "initialization": f"{r.directory}/init.mp4", "media": r.media_template}
    if not r.init_bytes:
        del attrs["initialization"]
    st = ET.SubElement(parent, "SegmentTemplate", {**attrs, "startNumber": "1"})
    _timeline(st, r)


def _segment_list(parent: ET.Element, r: Rendition) -> None:
    """Every segment by URL with its byte range (the whole file), so a player knows each segment's size
    from the MPD alone: per-shot segments are far from constant bit rate."""
    sl = ET.SubElement(parent, "SegmentList", {"timescale": str(r.timescale)})
    ET.SubElement(sl, "Initialization", {"sourceURL": f"{r.directory}/init.mp4"})
    _timeline(sl, r)
    for s in r.segments:
        media = f"{r.directory}/{r.segment_name(s.number)}"
        ET.SubElement(sl, "SegmentURL", {"media": media, "mediaRange": f"0-{s.bytes - 1}"})


def _representation(aset: ET.Element, r: Rendition, extra: dict[str, str]) -> ET.Element:
    """A Representation; @bandwidth is the measured peak segment bit rate."""
    attrs = {"id": r.id, "codecs": r.codec_string, "bandwidth": str(round(r.peak_kbps * 1000)), **extra}
    return ET.SubElement(aset, "Representation", attrs)


def write_mpd(
    video: list[Rendition],
    audio: list[Rendition],
    duration_s: float,
    subtitles: list[Rendition] | None = None,
    thumbnails: Rendition | None = None,
) -> str:
    """A static MPD: one video AdaptationSet per codec (renditions by peak rate), one per audio rendition,
    one per subtitle track, one of thumbnails."""
    ET.register_namespace("", DASH_NS)
    max_seg = max((s.duration_s for r in video + audio for s in r.segments), default=1.0)
    mpd = ET.Element(
        "MPD",
        {
            "xmlns": DASH_NS,
            "profiles": "urn:mpeg:dash:profile:isoff-main:2011",  # SegmentList is not in the live profile
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
    for set_id, r in enumerate(subtitles or [], len(groups) + len(audio)):
        _text_set(period, set_id, r, duration_s)
    if thumbnails is not None:
        _image_set(period, len(groups) + len(audio) + len(subtitles or []), thumbnails)
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
    _colour_properties(aset, reps[0])
    for r in reps:
        size = {"width": str(r.width), "height": str(r.height), "frameRate": r.fps, "sar": "1:1"}
        _segment_list(_representation(aset, r, size), r)


def _colour_properties(aset: ET.Element, r: Rendition) -> None:
    """HDR signalling (DASH-IF IOP 6.2.5): PQ as an EssentialProperty (a player that cannot show it must
    skip the set), HLG as a SupplementalProperty (it is viewable as SDR); primaries and matrix beside."""
    video_range = r.extra.get("video_range", SDR)
    if video_range == SDR:
        return
    primaries, transfer, matrix = r.extra["cicp"]
    ET.SubElement(aset, "EssentialProperty" if video_range == PQ else "SupplementalProperty",
                  {"schemeIdUri": CICP + "TransferCharacteristics", "value": str(transfer)})  # fmt: skip
    for name, value in (("ColourPrimaries", primaries), ("MatrixCoefficients", matrix)):
        ET.SubElement(aset, "SupplementalProperty", {"schemeIdUri": CICP + name, "value": str(value)})


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
    ET.SubElement(aset, "Role", {"schemeIdUri": ROLE, "value": role})
    rep = _representation(aset, r, {"audioSamplingRate": str(r.sample_rate)})
    dolby = r.extra.get("dolby_channel_config")  # E-AC-3 states its layout in Dolby's scheme (DASH-IF IOP 9.2)
    scheme, value = (DOLBY_CHANNELS, dolby) if dolby else (CHANNELS, str(r.channels))
    ET.SubElement(rep, "AudioChannelConfiguration", {"schemeIdUri": scheme, "value": value})
    _segment_list(rep, r)


def _text_set(period: ET.Element, set_id: int, r: Rendition, duration_s: float) -> None:
    """A subtitle track: the whole-title WebVTT file as the one segment of its Representation."""
    aset = ET.SubElement(
        period,
        "AdaptationSet",
        {"id": str(set_id), "contentType": "text", "mimeType": "text/vtt", "lang": r.language},
    )
    if r.name:
        ET.SubElement(aset, "Label").text = r.name
    role = "forced-subtitle" if r.extra.get("forced") else "caption" if r.extra.get("sdh") else "subtitle"
    ET.SubElement(aset, "Role", {"schemeIdUri": ROLE, "value": role})
    if r.default:
        ET.SubElement(aset, "Role", {"schemeIdUri": ROLE, "value": "main"})
    rep = ET.SubElement(aset, "Representation", {"id": r.id, "bandwidth": str(max(1, round(r.avg_kbps * 1000)))})
    st = ET.SubElement(rep, "SegmentTemplate", {"timescale": "1000", "media": f"{r.directory}/subtitles.vtt",
                                                 "startNumber": "1"})  # fmt: skip
    ET.SubElement(ET.SubElement(st, "SegmentTimeline"), "S", {"t": "0", "d": str(round(duration_s * 1000))})


def _image_set(period: ET.Element, set_id: int, r: Rendition) -> None:
    """Thumbnails: one JPEG per segment (tiles of 1x1), each on the timeline at its own instant."""
    aset = ET.SubElement(period, "AdaptationSet", {"id": str(set_id), "contentType": "image", "mimeType": "image/jpeg"})
    attrs = {"id": f"thumbnails-{r.id}", "bandwidth": str(round(r.peak_kbps * 1000)), "width": str(r.width),
             "height": str(r.height)}  # fmt: skip
    rep = ET.SubElement(aset, "Representation", attrs)
    ET.SubElement(rep, "EssentialProperty", {"schemeIdUri": THUMBNAIL_TILE, "value": "1x1"})
    _template(rep, r)


def _par(w: int, h: int) -> str:
    f = Fraction(w, h)
    return f"{f.numerator}:{f.denominator}"
