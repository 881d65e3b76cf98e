"""Shared fixtures: tiny real clips (cut from the bundled sample) and one encode of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shotenc.media import ffmpeg
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
def tiny_clip(clips_dir) -> Path:
    """4 s at 320x180 from the bikes part of the sample: real footage with two cuts in it."""
    return make_clip(clips_dir / "tiny.mp4", 1.2, 4.0)


@pytest.fixture(scope="session")
def tiny_encode(tiny_clip, tmp_path_factory):
    """The tiny clip encoded once with the tiny ladder (all four codecs)."""
    out = tmp_path_factory.mktemp("enc") / "tiny title"
    result = encode_title(tiny_clip, out, EncodeOptions(ladder="tiny", jobs=2))
    yield result
    shutil.rmtree(out, ignore_errors=True)
