"""The FFmpeg gateway: binary choice, progress, readable failures."""

from __future__ import annotations

import pytest

from shotenc.errors import FFmpegError
from shotenc.media import ffmpeg


def test_progress_reaches_one_and_grows(tmp_path):
    seen: list[float] = []
    ffmpeg.run(
        [
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=160x90:r=25:d=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            tmp_path / "p.mp4",
        ],
        duration_s=3.0,
        on_progress=seen.append,
    )
    assert seen and seen[-1] == 1.0
    assert seen == sorted(seen)
    assert (tmp_path / "p.mp4").stat().st_size > 0


def test_failure_names_the_step_and_ffmpeg_reason(tmp_path):
    with pytest.raises(FFmpegError) as err:
        ffmpeg.run(["-i", tmp_path / "missing.mp4", "-f", "null", "-"], what="decode test")
    msg = str(err.value)
    assert msg.startswith("decode test failed:") and "No such file" in msg
    assert "\n" not in msg


def test_env_var_overrides_binary(monkeypatch):
    monkeypatch.setenv(ffmpeg.ENV_VAR, "/nonexistent/ffmpeg")
    ffmpeg.ffmpeg_path.cache_clear()
    try:
        with pytest.raises(FFmpegError, match="SHOTENC_FFMPEG"):
            ffmpeg.ffmpeg_path()
    finally:
        monkeypatch.delenv(ffmpeg.ENV_VAR)
        ffmpeg.ffmpeg_path.cache_clear()
    assert "ffmpeg" in ffmpeg.ffmpeg_path()


def test_stream_frames_yields_whole_frames():
    frames = list(
        ffmpeg.stream_frames(
            [
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=64x36:r=10:d=1",
                "-pix_fmt",
                "gray",
                "-f",
                "rawvideo",
                "-",
            ],
            64 * 36,
        )
    )
    assert len(frames) == 10 and all(len(f) == 64 * 36 for f in frames)
