"""Media probing without ffprobe (the wheel ships none): parse ``ffmpeg -i`` and a packet pass."""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import FFmpegError, InputError
from ..jobs.receipts import plain_fields
from . import ffmpeg
from .colour import Colour, probe_colour
from .streams import SubtitleStream, block_language, block_title, stream_blocks, subtitle_streams

# rates a camera or a broadcast chain really uses; a rate measured from coarse timestamps snaps
# to the nearest of these (never just to the first one close enough: 24 is not 23.976)
_STANDARD_RATES = (
    [Fraction(n) for n in (10, 12, 15, 24, 25, 30, 48, 50, 60, 90, 100, 120, 144, 240)]
    + [Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120, 240)]
    + [Fraction(25, 2)]
)
_RATE_RE = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)\b")
_LAYOUT_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "3.0(back)": 3,
    "4.0": 4,
    "quad": 4,
    "quad(side)": 4,
    "3.1": 4,
    "5.0": 5,
    "5.0(side)": 5,
    "4.1": 5,
    "5.1": 6,
    "5.1(side)": 6,
    "6.0": 6,
    "6.0(front)": 6,
    "hexagonal": 6,
    "6.1": 7,
    "6.1(back)": 7,
    "6.1(front)": 7,
    "7.0": 7,
    "7.0(front)": 7,
    "7.1": 8,
    "7.1(wide)": 8,
    "7.1(wide-side)": 8,
    "octagonal": 8,
    "downmix": 2,
}
MIN_SIDE = 16  # the shortest picture side every encoder takes

_VIDEO_RE = re.compile(
    r"Video: (?P<codec>\w+)[^,]*, (?P<pix>\w+)(?:\((?P<extra>[^)]*)\))?, (?P<w>\d+)x(?P<h>\d+)"
    r"(?: \[SAR (?P<sn>\d+):(?P<sd>\d+))?"
)
_AUDIO_RE = re.compile(r"Audio: (?P<codec>\w+)[^,]*, (?P<rate>\d+) Hz, (?P<layout>[^,]+)")


@dataclass
class AudioStream:
    index: int  # index among the file's audio streams (for -map 0:a:N)
    codec: str
    sample_rate: int
    channels: int
    layout: str
    language: str = "und"  # BCP 47 (the container's ISO 639-2 ``fra`` becomes ``fr``)
    title: str = ""
    default: bool = False  # marked as the default track by the source


@dataclass
class MediaInfo:
    """What shotenc needs to know about a source, in display terms (after rotation)."""

    path: str
    duration_s: float
    fps: Fraction
    frame_count: int
    width: int  # displayed width, after rotation and pixel-aspect correction
    height: int
    coded_width: int
    coded_height: int
    sar: Fraction
    pix_fmt: str
    rotation: int  # degrees, as the display matrix says
    field_order: str  # progressive | tt | bb | unknown
    vfr: bool
    video_codec: str
    video_stream: int  # index among video streams (for -map 0:v:N)
    audio: list[AudioStream] = field(default_factory=list)
    audio_path: str = ""  # where the audio and subtitles are read from when it is not ``path`` (CFR intermediate)
    subtitles: list[SubtitleStream] = field(default_factory=list)
    colour: Colour = field(default_factory=Colour)
    container: str = ""  # FFmpeg's demuxer name (mov,mp4,..., matroska,webm, mpegts)
    # where the picture's first frame sits on the timeline FFmpeg reads the audio and subtitles on (the
    # file's earliest stream at 0): a track that starts before or after the picture keeps its place
    video_start_s: float = 0.0
    seek_lands: bool = True  # FFmpeg's input seek landed on the frame asked for (checked on one frame)
    tracks_end_s: float = 0.0  # where the last other track ends, where it runs far past the picture (else 0)

    @property
    def seeks_exactly(self) -> bool:
        """Whether FFmpeg's input seek lands on any frame: in MPEG transport and program streams and raw
        elementary streams it can land on the next keyframe instead, and in a file whose picture is not
        its first video track it follows the first one's index (Matroska: a seek gave no frame at all),
        so such a source is read through a constant-rate intermediate like a variable-rate one."""
        return self.container.split(",")[0] not in INEXACT_SEEK and self.video_stream == 0 and self.seek_lands

    def seek_s(self, frame: int) -> float:
        """The input seek (``-ss``) that lands on ``frame``: half a frame early (accurate seek drops the rest),
        from the picture's own first frame (FFmpeg's seek counts from the file's start)."""
        return self.picture_start_s + (frame - 0.5) / float(self.fps)

    def track_input(self) -> list[str]:
        """The ``-i`` to read the source's audio and subtitles from, with the picture's first frame at 0."""
        shift = ["-itsoffset", f"{-self.video_start_s:.6f}"] if self.video_start_s else []
        return [*shift, "-i", self.audio_path or self.path]

    @property
    def picture_start_s(self) -> float:
        """Where frame 0 sits in the file the picture is read from: the source's ``video_start_s``; 0 in a
        constant-rate intermediate (its picture starts it; ``video_start_s`` then places the source's tracks)."""
        return 0.0 if self.audio_path else self.video_start_s

    @property
    def interlaced(self) -> bool:
        return self.field_order in ("tt", "bb")

    @property
    def frame_duration_s(self) -> float:
        return float(1 / self.fps)

    @classmethod
    def from_dict(cls, d: dict) -> MediaInfo:
        """Inverse of :meth:`to_dict` for plain data read back from disk (ValueError/TypeError if malformed)."""
        num, den = (int(x) for x in str(d["fps"]).split("/"))
        sn, sd = (int(x) for x in str(d["sar"]).split(":"))
        return cls(
            **plain_fields(d, cls, skip=("fps", "sar", "audio", "subtitles", "colour")),
            fps=Fraction(num, den),
            sar=Fraction(sn, sd),
            audio=[AudioStream(**plain_fields(a, AudioStream)) for a in d["audio"]],
            subtitles=[SubtitleStream(**plain_fields(s, SubtitleStream)) for s in d["subtitles"]],
            colour=Colour.from_dict(d["colour"]),
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fps"] = f"{self.fps.numerator}/{self.fps.denominator}"
        d["sar"] = f"{self.sar.numerator}:{self.sar.denominator}"
        d["interlaced"] = self.interlaced
        d["colour"] = self.colour.to_dict()
        return d


INEXACT_SEEK = frozenset({"mpegts", "mpeg", "mpegvideo", "h264", "hevc", "m4v", "vc1", "avs2"})


def _container(header: str) -> str:
    m = re.search(r"Input #0, ([\w,]+), from", header)
    return m.group(1) if m else ""


def _video_start(header: str, vblock: list[str], blocks: list[list[str]]) -> float:
    """The picture's start against the file's earliest stream, from the listing (``start`` of each stream
    that does not start at 0): 0 where the FFmpeg in use lists no stream's start."""
    file_start = re.search(r"Duration: [^,]+, start: (-?\d+(?:\.\d+)?)", header)
    starts = [re.search(r", start (-?\d+(?:\.\d+)?)", b[0]) for b in blocks]
    if not file_start or (float(file_start[1]) != 0 and not any(starts)):
        return 0.0
    video = starts[blocks.index(vblock)]
    return round((float(video[1]) if video else 0.0) - float(file_start[1]), 6)


def _parse_duration(text: str) -> float | None:
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    if not m:
        return None
    h, mi, s = m.groups()
    return int(h) * 3600 + int(mi) * 60 + float(s)


def _field_order(extra: str | None) -> str:
    if not extra:
        return "unknown"
    if "progressive" in extra:
        return "progressive"
    if "top first" in extra or "top coded first" in extra:
        return "tt"
    if "bottom first" in extra or "bottom coded first" in extra:
        return "bb"
    return "unknown"


def _snap_rate(rate: float) -> Fraction:
    """The standard rate nearest to ``rate`` if one is within 0.2 %, else ``rate`` itself."""
    best = min(_STANDARD_RATES, key=lambda std: abs(float(std) - rate))
    if abs(float(best) - rate) / rate < 0.002:
        return best
    return Fraction(rate).limit_denominator(1001)


def _printed_rate(text: str, kilo: bool) -> Fraction:
    """The exact rate behind FFmpeg's printed one: ``24`` is 24, ``23.98`` is 24000/1001, ``12.50`` is 25/2.

    FFmpeg prints whole rates as integers and others with two decimals, so an NTSC rate is told
    from its neighbour by the decimals alone.
    """
    if kilo:
        return Fraction(text) * 1000
    if "." not in text:
        return Fraction(int(text))
    ntsc = Fraction(round(float(text) * 1.001) * 1000, 1001)
    if f"{float(ntsc):.2f}" == text:
        return ntsc
    return Fraction(text)


def nominal_rates(stream_line: str) -> dict[str, Fraction]:
    """The stream's stated rates from its ``ffmpeg -i`` line: ``fps`` (average) and ``tbr`` (base)."""
    return {kind: _printed_rate(num, bool(k)) for num, k, kind in _RATE_RE.findall(stream_line) if float(num) > 0}


def frame_rate(nominal: dict[str, Fraction], pts: list[int], timebase: Fraction, vfr: bool) -> Fraction:
    """The source's exact frame rate: the stated rate that its timestamps bear out, else a measured one.

    The stated rate wins over an average of timestamps (a few gaps must not turn 25 fps into 24.67);
    it is accepted when the typical frame step or the mean rate agrees with it to within one tick
    or 0.2 %. A variable-frame-rate source takes its base rate (``tbr``) first.
    """
    deltas = [b - a for a, b in zip(pts, pts[1:], strict=False) if b > a]
    order = ("tbr", "fps") if vfr else ("fps", "tbr")
    stated = [nominal[k] for k in order if k in nominal]
    if not deltas:
        return stated[0] if stated else Fraction(25)
    # the mean of the steps within a tick of the typical one: timestamps rounded to a coarse time base
    # (a 24 fps GIF in centiseconds steps 4, 4, 4, 5) average out to the rate, gaps stay out of it
    median = statistics.median(deltas)
    regular = [d for d in deltas if abs(d - median) <= 1]
    step = Fraction(sum(regular), len(regular)) * timebase
    span = (pts[-1] - pts[0]) * timebase
    mean_rate = (len(pts) - 1) / span if span > 0 else 1 / step
    tolerance = timebase / len(regular)  # what rounding leaves in the mean step
    for rate in stated:
        if abs(1 / rate - step) <= tolerance + Fraction(1, 500) / rate or abs(rate - mean_rate) <= rate / 500:
            return rate
    if stated and vfr:
        return stated[0]
    return _snap_rate(float(mean_rate if vfr else 1 / step))


def _unreadable(exc: FFmpegError) -> str:
    """Why FFmpeg could not open a source, in the source's terms (not the null output's)."""
    if "Input #0" in exc.stderr and "Stream #" not in exc.stderr:
        return "has no audio or video streams"
    said = [ffmpeg.plain_line(ln) for ln in exc.stderr.splitlines() if ln.startswith("[in#")]
    said = [ln for ln in said if "misdetection possible" not in ln]
    specific = [ln for ln in said if not ln.startswith("Error opening input")]
    reason = (specific or said or exc.stderr_tail[-1:] or [str(exc)])[-1].removeprefix("Error opening input: ")
    if any(k in exc.stderr for k in ("Invalid data", "invalid as first byte", "could not find codec")):
        return f"not a readable media file ({reason})"
    return f"cannot be read ({reason})"


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")


def probe(path: str | Path, check_seek: bool = True) -> MediaInfo:
    """Probe ``path``; raise :class:`InputError` with one clear line if it cannot be encoded.

    ``check_seek=False`` trusts the file's seek (the constant-rate intermediate shotenc wrote itself)."""
    path = Path(path)
    _check_path(path)
    try:
        # "-i" alone exits non-zero (no output); its stderr is still the stream listing
        header = ffmpeg.run(["-i", path, "-t", "0", "-f", "null", "-"], what="probe").stderr
    except FFmpegError as exc:
        raise InputError(f"{path}: {_unreadable(exc)}") from None
    blocks = stream_blocks(header)
    video = [b for b in blocks if "Video:" in b[0]]
    pictures = [b for b in video if "attached pic" not in b[0]]
    audio_blocks = [b for b in blocks if "Audio:" in b[0]]
    if not pictures:
        kind = "audio-only" if audio_blocks else "without a video stream"
        raise InputError(f"{path}: file is {kind}; shotenc needs video")
    vblock, packets = _main_video(path, video, pictures)
    vindex = video.index(vblock)
    m = _VIDEO_RE.search(vblock[0])
    if not m:
        raise InputError(f"{path}: cannot understand the video stream ({vblock[0].strip()})")
    if not packets:
        raise InputError(f"{path}: the video stream has no frames")
    pts = sorted(packets)
    deltas = [b - a for a, b in zip(pts, pts[1:], strict=False) if b > a]
    # any frame step off the typical one (a gap, a jitter, true VFR) makes the source variable:
    # it is then read through a constant-rate intermediate, so frame N is always at N / fps
    med = statistics.median(deltas) if deltas else 0
    vfr = any(abs(d - med) > 0.25 * med for d in deltas)
    fps = frame_rate(nominal_rates(vblock[0]), pts, packets.timebase, vfr)
    duration = len(pts) / fps
    header_duration, tracks_end_s, limit = _parse_duration(header), 0.0, float(duration) * 1.5 + 1.0
    if header_duration and header_duration > limit:
        # a file cut short ends every track early; one whose sound outlasts its picture is whole
        tracks_end_s = _tracks_end_s(path)
        if tracks_end_s <= limit:
            raise InputError(f"{path}: truncated: frames cover {float(duration):.2f} s of {header_duration:.2f} s")
    coded_w, coded_h = int(m["w"]), int(m["h"])
    sar = Fraction(int(m["sn"]), int(m["sd"])) if m["sn"] and int(m["sd"]) and int(m["sn"]) else Fraction(1)
    rotation = _rotation(vblock)
    width, height = int(round(coded_w * sar)), coded_h
    if rotation in (90, 270):
        width, height = height, width
    if min(width, height) < MIN_SIDE:  # x265 refuses 16x8 with "Could not open encoder", which says nothing of why
        raise InputError(f"{path}: the picture is {width}x{height}, too small: every side needs {MIN_SIDE} pixels")
    media = MediaInfo(
        path=str(path),
        duration_s=float(duration),
        fps=fps,
        frame_count=len(pts),
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        sar=sar,
        pix_fmt=m["pix"],
        rotation=rotation,
        field_order=_field_order(m["extra"]),
        vfr=vfr,
        video_codec=m["codec"],
        video_stream=vindex,
        audio=_audio_streams(audio_blocks),
        subtitles=subtitle_streams(blocks),
        colour=probe_colour(str(path), vindex, m["pix"], m["extra"]),
        container=_container(header),
        video_start_s=_video_start(header, vblock, blocks),
        tracks_end_s=tracks_end_s,
    )
    # (a variable-rate source is read through the intermediate anyway)
    media.seek_lands = not (check_seek and media.seeks_exactly and not vfr) or _seek_lands(media)
    return media


def _seek_lands(media: MediaInfo) -> bool:
    """Whether an input seek gives the frame a decode from the start gives, on one frame about a second in
    (cheap to decode to): a demuxer that cannot seek (animated WebP) gives none, one that seeks to
    keyframes only a later one."""
    frame = min(media.frame_count // 2, round(float(media.fps)) + 1)
    if frame < 2:
        return True
    tail = ["-map", f"0:v:{media.video_stream}", "-fps_mode", "passthrough", "-c:v", "rawvideo", "-f", "framecrc", "-"]

    def crcs(args: list) -> list[str]:
        res = ffmpeg.run(["-v", "error", *args, *tail], what="seek check", capture_stdout=True)
        lines = res.stdout.decode("ascii", "replace").splitlines()
        return [ln.split(",")[-1].strip() for ln in lines if ln and not ln.startswith("#")]

    try:
        decoded = crcs(["-i", media.path, "-frames:v", str(frame + 1)])
        sought = crcs(["-ss", f"{media.seek_s(frame):.6f}", "-i", media.path, "-frames:v", "1"])
    except FFmpegError:
        return False
    return len(decoded) > frame and sought[:1] == decoded[frame : frame + 1]


def _rotation(block: list[str]) -> int:
    rot = re.search(r"rotation of (-?\d+(?:\.\d+)?) degrees", "\n".join(block))
    return int(round(float(rot.group(1)))) % 360 if rot else 0


def _audio_streams(blocks: list[list[str]]) -> list[AudioStream]:
    audio: list[AudioStream] = []
    for i, block in enumerate(blocks):
        am = _AUDIO_RE.search(block[0])
        if not am:
            continue
        layout = am["layout"].strip()
        cm = re.match(r"(\d+) channels", layout)
        audio.append(
            AudioStream(
                index=i,
                codec=am["codec"],
                sample_rate=int(am["rate"]),
                channels=int(cm.group(1)) if cm else _LAYOUT_CHANNELS.get(layout, 2),
                layout=layout,
                language=block_language(block),
                title=block_title(block),
                default="(default)" in block[0],
            )
        )
    return audio


def _main_video(path: Path, video: list[list[str]], pictures: list[list[str]]) -> tuple[list[str], _Packets]:
    """The video stream to encode and its packets: the largest picture, as FFmpeg picks one by default
    (then the default track, then the first), but a track of one frame (cover art stored as a track,
    not flagged as such) only where no other track moves."""

    def area(block: list[str]) -> int:
        m = _VIDEO_RE.search(block[0])
        return int(m["w"]) * int(m["h"]) if m else 0

    ranked = sorted(pictures, key=lambda b: (-area(b), "(default)" not in b[0], video.index(b)))
    best = ranked[0], _video_packets(path, video.index(ranked[0]))
    for block in ranked[1:]:
        if len(best[1]) > 1:
            break
        packets = _video_packets(path, video.index(block))
        if len(packets) > 1:
            best = block, packets
    return best


class _Packets(list):
    timebase: Fraction = Fraction(1, 1)


def _video_packets(path: Path, vindex: int) -> _Packets:
    """Presentation timestamps of every video packet (a stream copy: fast, no decoding)."""
    try:
        res = ffmpeg.run(
            ["-v", "error", "-i", path, "-map", f"0:v:{vindex}", "-c", "copy", "-f", "framecrc", "-"],
            what="probe",
            capture_stdout=True,
        )
    except FFmpegError as exc:
        raise InputError(f"{path}: cannot be read ({'; '.join(exc.stderr_tail[-1:]) or exc})") from None
    problems = [ln for ln in res.stderr.splitlines() if ln.strip()]
    if problems:
        raise InputError(f"{path}: truncated or corrupt ({ffmpeg.plain_line(problems[-1])})")
    out = _Packets()
    for row in _framecrc(res.stdout):
        out.timebase = row.timebase
        # (a packet flagged discard is decoded but not shown: before an edit list's start, a lossless trim)
        if row.pts is not None and not row.flags & 4:
            out.append(row.pts)
    return out


@dataclass(frozen=True)
class _Packet:
    """One line of FFmpeg's ``framecrc`` listing (times in its stream's ``timebase``)."""

    stream: int
    dts: int | None
    pts: int | None
    duration: int
    size: int
    flags: int  # 1: keyframe, 4: discard
    timebase: Fraction


def _framecrc(stdout: bytes) -> list[_Packet]:
    """The packets of a ``-f framecrc`` run, each with its stream's time base."""
    timebases: dict[int, Fraction] = {}
    rows = []
    for line in stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#tb"):
            index, tb = line[3:].split(":", 1)
            num, den = tb.strip().split("/")
            timebases[int(index)] = Fraction(int(num), int(den))
        elif line and not line.startswith("#"):
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 5 or not parts[0].isdigit() or int(parts[0]) not in timebases:
                continue
            dts, pts = (int(v) if v.lstrip("-").isdigit() else None for v in parts[1:3])
            flags = int(parts[6][2:], 16) if len(parts) > 6 and parts[6].startswith("F=") else 1
            rows.append(_Packet(int(parts[0]), dts, pts, int(parts[3]), int(parts[4]), flags, timebases[int(parts[0])]))
    return rows


def _tracks_end_s(path: Path) -> float:
    """Where the file's tracks other than video end (0 if it has none): a stream copy, no decoding."""
    try:
        res = ffmpeg.run(
            ["-v", "error", "-i", path, "-map", "0", "-map", "-0:v", "-c", "copy", "-f", "framecrc", "-"],
            what="probe",
            capture_stdout=True,
        )
    except FFmpegError:
        return 0.0
    ends = [(r.pts + r.duration) * r.timebase for r in _framecrc(res.stdout) if r.pts is not None]
    return float(max(ends, default=0))


def packet_info(path: str | Path, stream: str = "v:0") -> list[dict]:
    """Per-packet pts/duration/size/keyframe of one stream, in stream time base (for checks)."""
    res = ffmpeg.run(
        ["-v", "error", "-i", path, "-map", f"0:{stream}", "-c", "copy", "-f", "framecrc", "-"],
        what="packet listing",
        capture_stdout=True,
    )
    return [
        {"dts": r.dts, "pts": r.pts, "duration": r.duration, "size": r.size, "key": bool(r.flags & 1)}
        for r in _framecrc(res.stdout)
    ]
