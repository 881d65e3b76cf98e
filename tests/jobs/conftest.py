"""Fixtures for the scale tests: a folder of titles (two real clips, one bad file, one non-video)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from shotenc.media import ffmpeg
from shotenc.media.probe import probe

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"


@pytest.fixture(scope="session")
def second_clip(clips_dir) -> Path:
    """3 s at 320x180 from another part of the sample (H.264 + AAC)."""
    dest = clips_dir / "second.mp4"
    if not dest.exists():
        ffmpeg.run(
            ["-y", "-v", "error", "-ss", "8", "-i", SAMPLE, "-t", "3", "-s", "320x180"]
            + ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac", "-b:a", "96k", dest],
            what="test clip",
        )
    return dest


@pytest.fixture(scope="session")
def frames(tiny_clip, second_clip) -> dict[str, int]:
    return {"tiny": probe(tiny_clip).frame_count, "second": probe(second_clip).frame_count}


@pytest.fixture
def titles(tmp_path, tiny_clip, second_clip) -> Path:
    folder = tmp_path / "titles"
    (folder / "more").mkdir(parents=True)
    shutil.copy(tiny_clip, folder / "tiny.mp4")
    shutil.copy(second_clip, folder / "more" / "second.mov")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4000))
    (folder / "notes.txt").write_text("not a video")
    return folder
