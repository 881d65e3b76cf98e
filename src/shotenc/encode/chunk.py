"""Encoding one chunk: one shot, one rung, one FFmpeg process, starting with an IDR.

A :class:`ChunkJob` is plain, picklable data, so the same job runs in a local thread pool or on
a Dask worker. Its ``key`` hashes everything that decides the output bytes; a finished chunk is
kept beside a small JSON receipt (size, SHA-256) and reused only when both still match.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

from .. import codecs
from ..codecs import RatePoint
from ..errors import ShotencError
from ..jobs.receipts import content_key, read_receipt, sha256_file, temp_name, write_receipt
from ..ladder import Rung
from ..media import ffmpeg
from ..media.colour import Colour
from ..media.mp4box import sample_summary, sample_table
from ..media.normalize import read_source, video_filters
from ..media.probe import MediaInfo


@dataclass(frozen=True)
class SourceRef:
    """What a chunk needs to know about the source (kept small: it travels to workers)."""

    path: str
    fingerprint: str
    fps_num: int
    fps_den: int
    width: int
    height: int
    video_stream: int
    interlaced: bool
    pix_fmt: str
    colour: Colour = Colour()
    picture_start_s: float = 0.0  # where frame 0 sits in the file (FFmpeg's seek counts from the file's start)

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @classmethod
    def of(cls, media: MediaInfo) -> SourceRef:
        return cls(
            media.path,
            source_fingerprint(media.path),
            media.fps.numerator,
            media.fps.denominator,
            media.width,
            media.height,
            media.video_stream,
            media.interlaced,
            media.pix_fmt,
            media.colour,
            media.picture_start_s,
        )

    def as_media(self) -> MediaInfo:
        return MediaInfo(
            self.path,
            0.0,
            self.fps,
            0,
            self.width,
            self.height,
            self.width,
            self.height,
            Fraction(1),
            self.pix_fmt,
            0,
            "tt" if self.interlaced else "progressive",
            False,
            "",
            self.video_stream,
            colour=self.colour,
            video_start_s=self.picture_start_s,
        )


def source_fingerprint(path: str) -> str:
    """Cheap identity of a source file: size plus hashes of its first and last MiB."""
    p = Path(path)
    size = p.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with p.open("rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class ChunkJob:
    source: SourceRef
    shot_index: int
    start_frame: int
    frame_count: int
    rung: Rung
    rate: RatePoint  # what the plan says; identifies the chunk
    threads: int = 1
    request_kbps: float = 0.0  # bitrate actually asked of the encoder (rate feedback), 0: the plan's
    request_crf: float = 0.0  # CRF actually asked of the encoder (rate feedback), 0: the plan's
    in_band: bool = False  # parameter sets at the keyframe: the rendition changes size between shots

    @property
    def seconds(self) -> float:
        return self.frame_count / float(self.source.fps)

    @property
    def encoder_rate(self) -> RatePoint:
        if self.rate.kind == "bitrate" and self.request_kbps:
            return replace(self.rate, value=self.request_kbps)
        if self.rate.kind == "crf" and self.request_crf:
            return replace(self.rate, value=self.request_crf)
        return self.rate

    @property
    def size(self) -> tuple[int, int]:
        return (self.rate.width or self.rung.width, self.rate.height or self.rung.height)

    @property
    def colour(self) -> Colour | None:
        """What the chunk carries (HDR, tone-mapped SDR, 10-bit); None for 8-bit SDR from an SDR source."""
        return codecs.get(self.rung.codec).rendition_colour(self.source.colour, self.rung.bit_depth)

    @property
    def passes(self) -> int:
        return codecs.get(self.rung.codec).crf_passes if self.rate.kind == "crf" else 1

    def args(self, out: Path, pass_log: Path | None = None, first_pass: bool = False) -> list[str]:
        """FFmpeg's arguments; a two-pass chunk names its ``pass_log`` and which pass this is."""
        w, h = self.size
        media = self.source.as_media()
        fps = self.source.fps
        vf = video_filters(media, w, h, colour=self.colour) + f",settb={fps.denominator}/{fps.numerator},setpts=N"
        return [
            "-y",
            "-v",
            "error",
            # decoder and filters get the chunk's thread budget too: a 1-thread task uses one core
            "-filter_threads",
            str(self.threads),
            "-threads",
            str(self.threads),
            *read_source(media, self.start_frame, vf),
            "-fps_mode",
            "passthrough",
            "-frames:v",
            str(self.frame_count),
            *codecs.get(self.rung.codec).encoder_args(
                self.rung.preset,
                self.encoder_rate,
                self.frame_count + 1,
                self.threads,
                self.rung.options,
                in_band=self.in_band,
                colour=self.colour,
            ),
            *(ffmpeg.pass_args(1 if first_pass else 2, pass_log) if pass_log else []),
            *(["-f", "null", "-"] if first_pass else ["-f", "mp4", out]),
        ]

    @property
    def key(self) -> str:
        spec = {
            "src": self.source.fingerprint,
            "start": self.start_frame,
            "n": self.frame_count,
            "rung": {k: v for k, v in asdict(self.rung).items() if k != "id"},
            "rate": asdict(self.rate),
            "fps": [self.source.fps_num, self.source.fps_den],
            "ff": ffmpeg_version(),
            "v": 1,
        }
        if self.source.picture_start_s:
            spec["from_s"] = self.source.picture_start_s
        if self.in_band:
            spec["in_band"] = True
        if self.encoder_rate != self.rate:  # what the encoder was asked, where not the plan's (it may be asked twice)
            spec["ask"] = self.encoder_rate.value
        if self.passes > 1:
            spec["passes"] = self.passes
        if self.colour is not None:
            spec["colour"] = self.colour.to_dict()
        return content_key(spec)

    def cost(self) -> float:
        w, h = self.size
        return w * h * self.frame_count * codecs.get(self.rung.codec).cost


@dataclass(frozen=True)
class Chunk:
    """A finished, verified chunk on disk."""

    rung_id: str
    shot_index: int
    path: str
    bytes: int
    media_bytes: int  # the encoded frames alone (the rate the plan predicted), without the file's boxes
    sha256: str
    frames: int
    seconds: float
    reused: bool
    requested_kbps: float = 0.0
    requested_crf: float = 0.0

    def frame_sizes(self) -> list[int]:
        """Its frame sizes in bytes, decode order, from its file's sample table (moov only)."""
        return sample_table(self.path)[0]


def ffmpeg_version() -> str:
    return Path(ffmpeg.ffmpeg_path()).name


def chunk_path(work_dir: Path, job: ChunkJob) -> Path:
    return work_dir / "chunks" / job.rung.id / f"shot{job.shot_index:05d}-{job.key}.mp4"


def load_receipt(path: Path) -> Chunk | None:
    """The chunk at ``path`` if its receipt matches its bytes; None if missing or corrupt."""
    meta = read_receipt(path, path.with_suffix(".json"))
    try:
        return Chunk(**{**meta, "path": str(path), "reused": True}) if meta else None
    except TypeError:
        return None


def encode_chunk(job: ChunkJob, work_dir: str) -> Chunk:
    """Encode ``job`` into ``work_dir`` (or reuse a verified earlier result). Safe to run anywhere."""
    out = chunk_path(Path(work_dir), job)
    done = load_receipt(out)
    if done is not None:
        return done
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(out)
    t0 = time.perf_counter()
    try:
        what = f"encode shot {job.shot_index} for {job.rung.id}"
        log = tmp.with_name(tmp.name + ".pass") if job.passes > 1 else None
        if log is not None:
            ffmpeg.run(job.args(tmp, log, first_pass=True), what=f"first pass: {what}")
        ffmpeg.run(job.args(tmp, log), what=what)
        try:
            frames, starts_with_key, media_bytes = sample_summary(tmp)
        except (OSError, ValueError) as exc:
            raise ShotencError(f"encode shot {job.shot_index} for {job.rung.id}: unreadable output ({exc})") from None
        if frames != job.frame_count:
            raise ShotencError(
                f"encode shot {job.shot_index} for {job.rung.id}: got {frames} frames, expected {job.frame_count}"
            )
        if not starts_with_key:
            raise ShotencError(f"encode shot {job.shot_index} for {job.rung.id}: first frame is not a keyframe")
        chunk = Chunk(
            job.rung.id,
            job.shot_index,
            str(out),
            tmp.stat().st_size,
            media_bytes,
            sha256_file(tmp),
            frames,
            time.perf_counter() - t0,
            False,
            job.encoder_rate.value if job.rate.kind == "bitrate" else 0.0,
            job.encoder_rate.value if job.rate.kind == "crf" else 0.0,
        )
        os.replace(tmp, out)
        write_receipt(out.with_suffix(".json"), {k: v for k, v in asdict(chunk).items() if k not in ("path", "reused")})
        return chunk
    finally:
        tmp.unlink(missing_ok=True)
        ffmpeg.remove_pass_logs(tmp.with_name(tmp.name + ".pass"))
