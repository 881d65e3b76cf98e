"""Subtitles: every text subtitle of the source and every sidecar file becomes a WebVTT track.

Text streams of the source (SubRip, ASS/SSA, mov_text, WebVTT) are converted by FFmpeg's webvtt
encoder (ASS/SSA keep their text and italics, not their styling); sidecar ``.srt``/``.vtt`` files
are decoded (BOM, UTF-8, else the encoding charset-normalizer finds) and parsed strictly before
any encoding, so a malformed one is a one-line error. Bitmap subtitles (PGS, DVB, VobSub) hold
pictures of text: each gets one warning and is left out.

Every track is written twice over the same cues: one whole-title WebVTT file (the DASH sidecar)
and WebVTT segments at the video's segment instants (the HLS subtitle playlist).
"""

from __future__ import annotations

import codecs as text_codecs
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ShotencError
from ..jobs.receipts import temp_name
from ..media import ffmpeg
from ..media.probe import MediaInfo
from ..media.streams import language_name, language_tag
from .cmaf import Rendition, Segment

TIMESCALE = 1000  # WebVTT times are milliseconds
FULL_NAME = "subtitles.vtt"
TIMESTAMP_MAP = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"  # cue times are media times (fMP4 starts at 0)
_SRT_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*$")
_FORMATS = {".srt": ("srt", "SubRip"), ".vtt": ("vtt", "WebVTT")}


class SubtitleError(ShotencError):
    """A subtitle file that cannot be read (wrong format, bad timing, unknown encoding)."""


@dataclass(frozen=True)
class Sidecar:
    """A subtitle file given beside the source (``--subtitles fr=movie.fr.srt``)."""

    language: str  # BCP 47
    path: str

    @classmethod
    def parse(cls, spec: str | tuple[str, str | os.PathLike]) -> Sidecar:
        """``LANG=PATH`` (or a (lang, path) pair) with the language checked as a BCP 47 tag."""
        lang, _, path = spec.partition("=") if isinstance(spec, str) else (spec[0], "=", str(spec[1]))
        tag = language_tag(lang)
        if not path or tag == "und":
            raise SubtitleError(f"--subtitles {spec}: expected LANG=PATH with a BCP 47 language (fr, pt-BR)")
        return cls(tag, str(path))


@dataclass(frozen=True)
class SubtitleSpec:
    """One subtitle track to publish, from a source stream or a sidecar file."""

    id: str
    language: str
    name: str
    stream: int | None = None  # index among the source's subtitle streams
    sidecar: str = ""
    forced: bool = False
    sdh: bool = False
    default: bool = False


def decode_text(raw: bytes, what: str, language: str = "und") -> str:
    """Text of a subtitle file: a BOM decides, else UTF-8, else what charset-normalizer detects.

    Short texts fit several legacy code pages; among the ones charset-normalizer finds plausible, the
    one in which the text reads as the file's declared ``language`` wins (French in CP1252, not CP1257).
    """
    for bom, encoding in ((text_codecs.BOM_UTF8, "utf-8-sig"), (text_codecs.BOM_UTF16_LE, "utf-16"),
                          (text_codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise SubtitleError(f"{what}: not valid {encoding.upper()} ({exc.reason})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    matches = charset_normalizer.from_bytes(raw)
    name = language_name(language)
    best = next((m for m in matches if m.languages[:1] == [name]), None) or matches.best()
    if best is None:
        raise SubtitleError(f"{what}: cannot tell its text encoding")
    return str(best)


def parse_cues(text: str, fmt: str, what: str) -> list:
    """The cues of SubRip (``srt``) or WebVTT (``vtt``) text, strictly: any unreadable cue is an error."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    label = "SubRip" if fmt == "srt" else "WebVTT"
    if fmt == "srt":
        bad = next((n for n, ln in enumerate(text.splitlines(), 1) if "-->" in ln and not _SRT_TIMING.match(ln)), 0)
        if bad:
            raise SubtitleError(f"{what}: not a valid {label} file (bad cue timing on line {bad})")
    try:
        if fmt == "srt":
            captions = webvtt.WebVTT.from_buffer(io.StringIO(text), format="srt").captions
        else:
            captions = webvtt.WebVTT.from_string(text, strict=True).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        detail = str(exc) if str(exc) not in ("", "Invalid format") else f"does not start like a {label} file"
        raise SubtitleError(f"{what}: not a valid {label} file ({detail})") from None
    if not captions:
        raise SubtitleError(f"{what}: no cues in this {label} file")
    backwards = next((c for c in captions if c.end_time.in_milliseconds() <= c.start_time.in_milliseconds()), None)
    if backwards is not None:
        raise SubtitleError(f"{what}: cue at {backwards.start} ends at {backwards.end}, not after it starts")
    return captions


def read_sidecar(sidecar: Sidecar) -> list:
    """The cues of a sidecar file; :class:`SubtitleError` with one line when it cannot be used."""
    path = Path(sidecar.path)
    what = f"subtitle file {path}"
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SubtitleError(f"{what}: expected a .srt or .vtt file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SubtitleError(f"{what}: {exc.strerror or exc}") from None
    return parse_cues(decode_text(raw, what, sidecar.language), fmt[0], what)


def subtitle_specs(media: MediaInfo, sidecars: list[Sidecar]) -> tuple[list[SubtitleSpec], list[str]]:
    """The tracks to publish (source text streams, then sidecars) and one warning per stream left out."""
    specs, warnings, ids = [], [], set()
    for s in media.subtitles:
        if not s.is_text:
            lang = f", {s.language}" if s.language != "und" else ""
            warnings.append(
                f"subtitle stream {s.index} ({s.kind}{lang}) is a bitmap format and cannot become WebVTT text; "
                "it is left out"
            )
            continue
        sid = _unique(f"sub-{s.language}" + ("-forced" if s.forced else "-sdh" if s.sdh else ""), ids)
        name = _name(s.title, s.language, s.forced, s.sdh, f"Subtitles {s.index + 1}")
        specs.append(SubtitleSpec(sid, s.language, name, stream=s.index, forced=s.forced, sdh=s.sdh, default=s.default))
    for sc in sidecars:
        sid = _unique(f"sub-{sc.language}", ids)
        specs.append(SubtitleSpec(sid, sc.language, _name("", sc.language, False, False, sid), sidecar=sc.path))
    return specs, warnings


def _unique(base: str, seen: set[str]) -> str:
    sid, n = base, 2
    while sid in seen:
        sid, n = f"{base}-{n}", n + 1
    seen.add(sid)
    return sid


def _name(title: str, lang: str, forced: bool, sdh: bool, fallback: str) -> str:
    base = title or language_name(lang) or fallback
    if forced and "forced" not in base.lower():
        base += " (forced)"
    if sdh and "sdh" not in base.lower():
        base += " (SDH)"
    return base


def prepare_subtitles(spec: SubtitleSpec, media: MediaInfo, dest: Path) -> Path:
    """The track as one WebVTT file in the work folder: FFmpeg converts a source stream, a sidecar is re-written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    try:
        if spec.stream is not None:
            ffmpeg.run(
                ["-y", "-v", "error", *media.track_input(), "-map", f"0:s:{spec.stream}",
                 "-c:s", "webvtt", "-f", "webvtt", tmp],
                what=f"subtitles {spec.id}",
            )  # fmt: skip
        else:
            tmp.write_text(_vtt_text(read_sidecar(Sidecar(spec.language, spec.sidecar))), encoding="utf-8")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _vtt_text(captions: list, metadata: tuple[str, ...] = ()) -> str:
    import webvtt

    return webvtt.WebVTT(captions=captions, metadata=list(metadata)).content + "\n"


def _ms(ts) -> int:
    return ts.in_milliseconds()


def package_subtitles(
    spec: SubtitleSpec, vtt: Path, video_segments: list[Segment], duration_s: float, out_root: Path
) -> Rendition | None:
    """The whole-title file and the segments at the video's instants; None (and no files) when no cue is left."""
    import webvtt

    end_ms = round(duration_s * 1000)
    cues = [
        c
        for c in webvtt.WebVTT.from_string(vtt.read_text(encoding="utf-8")).captions
        if _ms(c.start_time) < end_ms and _ms(c.end_time) > _ms(c.start_time)
    ]
    if not cues:
        return None
    for c in cues:
        if _ms(c.end_time) > end_ms:
            c.end = vtt_clock(end_ms)
    out_dir = out_root / "subtitles" / spec.id
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / FULL_NAME).write_text(_vtt_text(cues), encoding="utf-8")
    rend = Rendition(spec.id, "subtitles", "webvtt", "", TIMESCALE, [], 0, language=spec.language,
                     name=spec.name, default=spec.default,
                     extra={"forced": spec.forced, "sdh": spec.sdh, "cues": len(cues)})  # fmt: skip
    for seg in video_segments:
        lo, hi = round(seg.start_s * 1000), round((seg.start_s + seg.duration_s) * 1000)
        mine = [c for c in cues if _ms(c.start_time) < hi and _ms(c.end_time) > lo]
        body = _vtt_text(mine, (TIMESTAMP_MAP,))
        (out_dir / rend.segment_name(seg.number)).write_text(body, encoding="utf-8")
        size = len(body.encode("utf-8"))
        rend.segments.append(Segment(seg.number, lo, hi - lo, size, seg.start_s, seg.duration_s))
    return rend


def vtt_clock(ms: int) -> str:
    """A WebVTT timestamp (``hh:mm:ss.ttt``)."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
