"""VMAF/PSNR/SSIM on real encodes: a file against itself scores ~100, and scores fall with CRF and size."""

from __future__ import annotations

import pytest

from shotenc.media import ffmpeg
from shotenc.quality.metrics import score, score_many, vmaf_model_for


def encode(src, dest, crf: int, size: str = "320x180"):
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-i",
            src,
            "-s",
            size,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            str(crf),
            "-an",
            dest,
        ],
        what="test encode",
    )
    return dest


def test_file_against_itself_is_near_100(q_clip, q_media, q_analysis):
    sc = score(q_clip, q_media, n_subsample=3, threads=2)
    assert sc.vmaf > 97
    assert min(f.vmaf for f in sc.frames) > 95
    assert sc.psnr >= 60 and sc.ssim > 0.999
    assert len(sc.frames) == -(-q_media.frame_count // 3)
    shots = sc.per_shot(q_analysis.shots)
    assert len(shots) == len(q_analysis.shots) >= 2
    assert all(s.vmaf > 95 for s in shots)


def test_scores_fall_with_crf_and_with_a_smaller_rendition(q_clip, q_media, tmp_path):
    files = [encode(q_clip, tmp_path / f"crf{c}.mp4", c) for c in (20, 34, 46)]
    small = encode(q_clip, tmp_path / "small.mp4", 20, "160x90")
    scores = score_many([*files, small], q_media, n_subsample=2, threads=2)
    vmaf = [s.vmaf for s in scores]
    psnr = [s.psnr for s in scores]
    assert vmaf[0] > vmaf[1] > vmaf[2]
    assert psnr[0] > psnr[1] > psnr[2]
    assert vmaf[2] < 75 < vmaf[0]
    # a quarter-size rendition is upscaled to the source size and scores below the full size at the same CRF
    assert scores[3].vmaf < vmaf[0] - 5
    # one batched run gives what separate runs give
    assert score(files[1], q_media, n_subsample=2, threads=2).vmaf == pytest.approx(vmaf[1], abs=1e-6)


def test_frames_are_paired_by_number_from_a_start_frame(q_clip, q_media, tmp_path):
    # frames 25..74 of the clip, encoded on their own, score high only against the same source range
    piece = tmp_path / "piece.mp4"
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-i",
            q_clip,
            "-vf",
            "trim=start_frame=25:end_frame=75,setpts=N/25/TB",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-an",
            piece,
        ],
        what="test encode",
    )
    right = score(piece, q_media, 25, 50, threads=2)
    wrong = score(piece, q_media, 20, 50, threads=2)
    assert right.vmaf > 90
    assert wrong.vmaf < right.vmaf - 10


def test_the_4k_model_is_used_from_1440_lines():
    assert vmaf_model_for(1920, 1080) == "vmaf_v0.6.1"
    assert vmaf_model_for(3840, 2160) == "vmaf_4k_v0.6.1"
    assert vmaf_model_for(1080, 1920) == "vmaf_v0.6.1"  # portrait 1080p: its short side
    assert vmaf_model_for(2160, 3840) == "vmaf_4k_v0.6.1"
