"""Rate feedback across a rung's chunks on plain data."""

from __future__ import annotations

import pytest

from shotenc.codecs import RatePoint
from shotenc.encode.chunk import Chunk, ChunkJob, SourceRef
from shotenc.encode.ratecontrol import RateFeedback
from shotenc.ladder import Rung


def _rung(codec="h264", height=360, kbps=800.0, rid=None):
    return Rung(rid or f"{codec}-{height}p", codec, height, kbps, kbps * 1.5, kbps * 3, "fast")


def test_rate_feedback_corrects_an_undershooting_encoder():
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = _rung("h264", kbps=1000)
    jobs = [ChunkJob(src, i, i * 50, 50, rung, RatePoint("bitrate", 1000, 1500, 3000)) for i in range(6)]
    fb = RateFeedback()
    fb.expect(jobs)
    actual = []
    for job in jobs:  # an encoder that delivers 70% of what it is asked for
        job = fb.adjust(job)
        got_kbps = 0.7 * job.request_kbps
        actual.append(got_kbps)
        chunk = Chunk(
            rung.id, job.shot_index, "p", int(got_kbps * 1000 * job.seconds / 8), "", 50, 0, False, job.request_kbps
        )
        fb.record(job, chunk)
    assert actual[0] == pytest.approx(700, rel=0.01)  # nothing known yet for h264
    assert sum(actual) / len(actual) > 900  # later chunks ask for more and the rung gets close to target
    assert all(j <= 1500 for j in actual)
