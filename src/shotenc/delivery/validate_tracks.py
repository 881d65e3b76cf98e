"""``shotenc validate`` for the tracks beside the video: subtitles, audio languages, thumbnails, HDR.

Every subtitle and image reference of both manifests is fetched; languages must be BCP 47 tags;
subtitle segments must be WebVTT, follow each other from 0 to the title's end, and hold only cues
inside the title; thumbnails must be JPEGs of their declared size; a video rendition whose
bitstream is PQ or HLG must say so in both manifests (and one that says so must be).
"""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from urllib.parse import urljoin

from ..errors import ShotencError
from ..media.colour import SDR, stream_colour
from .manifests import Presentation, Rendition
from .player.client import Http

GAP_S = 0.05  # subtitle segments may round their instants to the millisecond


def check_tracks(rep, dash: Presentation | None, hls: Presentation | None, http: Http, base: str) -> None:
    """All the track checks on whichever manifests parsed."""
    for label, pres in (("dash", dash), ("hls", hls)):
        if pres is None:
            continue
        check_languages(rep, pres, label)
        for t in pres.text:
            check_subtitles(rep, t, label, http, pres.duration_s or 0.0)
        for image in pres.images:
            check_images(rep, image, label, http)
        check_hdr(rep, pres, label, http)
    check_thumbnail_track(rep, http, base)


def check_languages(rep, pres: Presentation, label: str) -> None:
    import langcodes

    for r in pres.audio + pres.text:
        if r.language:
            rep.add(f"{label}: {r.id} language {r.language!r} is BCP 47", langcodes.tag_is_valid(r.language))
        elif r.kind == "text":
            rep.add(f"{label}: {r.id} states its language", False, "no lang / LANGUAGE")


def check_subtitles(rep, t: Rendition, label: str, http: Http, duration_s: float) -> None:
    """Every segment fetched and read as WebVTT; segments cover the title; cues inside it."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    name = f"{label}: subtitles {t.id}"
    problems, cues = [], 0
    expected = 0.0
    for seg in t.segments:
        if abs(seg.start_s - expected) > GAP_S:
            problems.append(f"segment {seg.number} starts at {seg.start_s:.3f} s, not {expected:.3f} s")
        expected = seg.start_s + seg.duration_s
        try:
            body = http.get(seg.url, f"{t.id} segment {seg.number}")[0].decode("utf-8-sig")
            captions = webvtt.WebVTT.from_string(body, strict=True).captions
        except (ShotencError, UnicodeDecodeError, MalformedFileError, MalformedCaptionError) as exc:
            problems.append(f"segment {seg.number}: {exc or 'not WebVTT'}")
            continue
        cues += len(captions)
        outside = [c for c in captions if c.start_time.in_milliseconds() / 1000 >= duration_s + GAP_S
                   or c.end_time.in_milliseconds() / 1000 > duration_s + GAP_S]  # fmt: skip
        if outside:
            problems.append(f"segment {seg.number}: cue {outside[0].start} --> {outside[0].end} is past the end")
    if duration_s and abs(expected - duration_s) > GAP_S:
        problems.append(f"segments end at {expected:.3f} s, the title at {duration_s:.3f} s")
    rep.add(f"{name} cover the title with readable cues", not problems and cues > 0,
            "; ".join(problems[:3]) or f"{len(t.segments)} segments, {cues} cues")  # fmt: skip


def jpeg_size(body: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame marker; None if it is not a JPEG."""
    if not body.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 9 < len(body):
        if body[i] != 0xFF:
            return None
        marker, length = body[i + 1], struct.unpack(">H", body[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", body[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def check_images(rep, image: Rendition, label: str, http: Http) -> None:
    """Every thumbnail fetched, a JPEG of the size the manifest declares."""
    bad = []
    for seg in image.segments:
        try:
            size = jpeg_size(http.get(seg.url, f"{image.id} tile {seg.number}")[0])
        except ShotencError as exc:
            bad.append(str(exc))
            continue
        if size is None or (image.width and size != (image.width, image.height)):
            bad.append(f"#{seg.number}: {size or 'not a JPEG'}")
    rep.add(f"{label}: thumbnails {image.id} fetched, JPEG {image.width}x{image.height}",
            bool(image.segments) and not bad, "; ".join(bad[:3]) or f"{len(image.segments)} thumbnails")  # fmt: skip


def check_hdr(rep, pres: Presentation, label: str, http: Http) -> None:
    """The transfer each video rendition's bitstream carries against the range its manifest states."""
    with tempfile.TemporaryDirectory(prefix="shotenc-hdr-") as tmp:
        for r in pres.video:
            if not r.segments or not r.init_url:
                continue
            f = Path(tmp) / f"{r.id}.mp4"
            try:
                f.write_bytes(http.get(r.init_url, f"{r.id} init")[0] + http.get(r.segments[0].url, r.id)[0])
                colour = stream_colour(f)
            except ShotencError as exc:
                rep.add(f"{label}: {r.id} colour readable", False, str(exc))
                continue
            stated = r.video_range or SDR
            ok = stated == colour.video_range and (not colour.hdr or colour.bit_depth >= 10)
            said = f"stream {colour.video_range} {colour.bit_depth}-bit, manifest {r.video_range or 'unstated'}"
            rep.add(f"{label}: {r.id} signals its dynamic range", ok, said)


def check_thumbnail_track(rep, http: Http, base: str) -> None:
    """The WebVTT thumbnail track report.json names: every sprite it points at exists, every cue in time order."""
    try:
        report = json.loads(http.get(urljoin(base, "report.json"), "report.json")[0])
    except (ShotencError, ValueError):
        return
    track = (report.get("thumbnails") or {}).get("webvtt") if isinstance(report, dict) else None
    if not track:
        return
    url = urljoin(base, track)
    problems, sprites = [], set()
    try:
        lines = http.get(url, track)[0].decode("utf-8").splitlines()
    except (ShotencError, UnicodeDecodeError) as exc:
        rep.add(f"thumbnail track {track}", False, str(exc))
        return
    refs = [ln for ln in lines if "#xywh=" in ln]
    for ref in refs:
        sprites.add(ref.split("#", 1)[0])
    for sprite in sorted(sprites):
        try:
            if jpeg_size(http.get(urljoin(url, sprite), sprite)[0]) is None:
                problems.append(f"{sprite}: not a JPEG")
        except ShotencError as exc:
            problems.append(str(exc))
    rep.add(f"thumbnail track {track}: every sprite resolves", bool(refs) and not problems,
            "; ".join(problems[:3]) or f"{len(refs)} cues over {len(sprites)} sprites")  # fmt: skip
