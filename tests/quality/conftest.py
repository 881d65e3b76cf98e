"""Real media for the quality tests: a 3 s, 320x180 piece of the bundled sample with one cut in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotenc.analysis.analyze import analyze
from shotenc.media import ffmpeg
from shotenc.media.probe import probe

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"


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
