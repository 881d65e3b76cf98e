"""Probe encodes are the chunk encodes they stand for: same frames, same encoder options, same passes."""

from __future__ import annotations

import pytest

from shotenc.allocators.probes import ProbeSettings, ProbeSpec, probe_shot
from shotenc.codecs import RatePoint
from shotenc.encode.chunk import ChunkJob, SourceRef, encode_chunk
from shotenc.ladder import Rung


@pytest.mark.parametrize("codec, preset, crf", [("vp9", "8", 38.0), ("h264", "ultrafast", 27.0)])
def test_a_whole_shot_probe_costs_what_its_chunk_costs(codec, preset, crf, q_media, q_analysis, tmp_path):
    """A probe's rate is the plan's prediction of a chunk's. libvpx's constant quality takes two passes in a
    chunk (its alt-ref frames need the first): probed in one, grain_dark's first shot ran at 325 kbit/s where
    its chunk took 861, and its VP9 rung landed 61% over its target."""
    shot = max(q_analysis.shots, key=lambda s: s.frame_count)
    src = SourceRef.of(q_media)
    whole = ProbeSettings(score=False, window_fraction=1.0)
    (probe,) = probe_shot(q_media, src, shot, [ProbeSpec(codec, preset, 320, 180, crf)], tmp_path, whole)
    assert probe.frames == shot.frame_count
    rung = Rung(f"{codec}-180p", codec, 180, 300.0, 0.0, 0.0, preset, 320)
    job = ChunkJob(src, shot.index, shot.start_frame, shot.frame_count, rung, RatePoint("crf", crf, 0.0, 0.0))
    chunk = encode_chunk(job, str(tmp_path))
    assert probe.kbps == pytest.approx(chunk.media_bytes * 8 / 1000 / job.seconds, rel=0.005)
    assert not list((tmp_path / "probe-encodes").iterdir())  # nor a pass log left behind
