"""Shared fixtures: tiny real clips (cut from the bundled sample), their analysis, and one encode of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shotenc.analysis.analyze import analyze
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.mp4"


def make_clip(dest: Path, start_s: float, duration_s: float, size: str = "320x180", extra: list | None = None) -> Path:
    """A piece of the bundled sample, scaled down, H.264 + AAC (keeps its 5.1 audio)."""
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-ss",
            f"{start_s}",
            "-i",
            SAMPLE,
            "-t",
            f"{duration_s}",
            "-s",
            size,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            *(extra or []),
            dest,
        ],
        what="test clip",
    )
    return dest


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
