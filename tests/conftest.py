"""Shared fixtures: tiny real clips (cut from the bundled sample), their analysis, and one encode of them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import corpus
from helpers import make_clip
from shotenc.analysis.analyze import analyze
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.package.thumbnails import ThumbnailOptions
from shotenc.pipeline import EncodeOptions, TitleResult, encode_title
from shotenc.progress import Reporter

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.mp4"


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def sample() -> Path:
    """The bundled sample: 640x360, 25 fps, 382 frames, cuts at frames 30, 76, 137, 187, 242, 250."""
    return SAMPLE


@pytest.fixture(scope="session")
def tiny_clip(clips_dir) -> Path:
    """4 s at 320x180 from the bikes part of the sample: real footage with a cut at its frame 46."""
    return make_clip(clips_dir / "tiny.mp4", 1.2, 4.0)


@pytest.fixture(scope="session")
def tiny_encode(tiny_clip, tmp_path_factory):
    """The tiny clip encoded once with the tiny ladder (all four codecs)."""
    out = tmp_path_factory.mktemp("enc") / "tiny title"
    result = encode_title(tiny_clip, out, EncodeOptions(ladder="tiny", jobs=2))
    yield result
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def q_clip(tmp_path_factory) -> Path:
    """Frames 30-105 of the sample (bikes footage, a cut at its frame 46), scaled to 320x180."""
    dest = tmp_path_factory.mktemp("quality-clips") / "q.mp4"
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-ss",
            "1.2",
            "-i",
            SAMPLE,
            "-t",
            "3",
            "-s",
            "320x180",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            dest,
        ],
        what="test clip",
    )
    return dest


@pytest.fixture(scope="session")
def q_media(q_clip):
    return probe(q_clip)


@pytest.fixture(scope="session")
def q_analysis(q_media):
    return analyze(q_media)


@pytest.fixture(scope="session")
def probe_cache(tmp_path_factory) -> Path:
    """One probe cache for the test run: tests that plan the same clip share their probes."""
    return tmp_path_factory.mktemp("probe-cache")


class WarningRecorder(Reporter):
    """A silent reporter that keeps the warnings an encode gives."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)


@dataclass
class EncodedTitle:
    source: Path
    out: Path
    result: TitleResult
    warnings: list[str]
    folder: Path  # where the source and its sidecar files are

    @property
    def report(self) -> dict:
        return self.result.report


@pytest.fixture(scope="session")
def tracks_title(tmp_path_factory) -> EncodedTitle:
    """The subtitled MKV (two shots, 5.1 + stereo audio, SRT, ASS and PGS streams) with a Latin-1 SRT and
    a BOM'd VTT beside it, encoded once: H.264 (two rungs) and VP9, AAC and E-AC-3, a thumbnail a second."""
    folder = tmp_path_factory.mktemp("tracks")
    src = corpus.subtitled(folder / "movie.mkv")
    fr, de = corpus.latin1_srt(folder / "movie.fr.srt"), corpus.bom_vtt(folder / "movie.de.vtt")
    options = EncodeOptions(
        ladder="tiny",
        codecs=["h264", "vp9"],
        jobs=2,
        subtitles=[f"fr={fr}", ("de", de)],
        audio_formats=["aac", "eac3"],
        thumbnails=ThumbnailOptions(interval_s=1.0),
    )
    recorder = WarningRecorder()
    result = encode_title(src, folder / "out", options, recorder)
    return EncodedTitle(src, folder / "out", result, recorder.warnings, folder)


@pytest.fixture(scope="session")
def hdr_title(tmp_path_factory) -> EncodedTitle:
    """A 2 s HDR10 clip (10-bit HEVC, PQ, mastering display and light level; a cut at 1 s), encoded once:
    H.264 (tone-mapped SDR), HEVC and AV1 (HDR), with VMAF measured."""
    folder = tmp_path_factory.mktemp("hdr")
    src = corpus.hdr10(folder / "hdr10.mkv")
    options = EncodeOptions(ladder="tiny", codecs=["h264", "hevc", "av1"], jobs=2, measure_vmaf=True)
    recorder = WarningRecorder()
    result = encode_title(src, folder / "out", options, recorder)
    return EncodedTitle(src, folder / "out", result, recorder.warnings, folder)
