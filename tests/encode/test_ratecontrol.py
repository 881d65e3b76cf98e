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
        got = int(got_kbps * 1000 * job.seconds / 8)
        chunk = Chunk(rung.id, job.shot_index, "p", got + 4000, got, "", 50, 0, False, job.request_kbps)
        fb.record(job, chunk)
    assert actual[0] == pytest.approx(700, rel=0.01)  # nothing known yet for h264
    assert sum(actual) / len(actual) > 900  # later chunks ask for more and the rung gets close to target
    assert all(j <= 1500 for j in actual)


def _crf_job(src, rung, i, crf, kbps):
    return ChunkJob(src, i, i * 50, 50, rung, RatePoint("crf", crf, 1200, 2400, predicted_kbps=kbps))


def test_crf_feedback_moves_expensive_chunks_not_cheap_ones():
    """A rung running over its plan raises the CRF of the chunks still to come; a chunk planned far under
    the rung's mean rate (a static shot) would save next to nothing and keeps its CRF."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = _rung("h264", kbps=800)
    done = [_crf_job(src, rung, i, 23.0, 900.0) for i in range(4)]
    heavy, cheap = _crf_job(src, rung, 4, 23.0, 900.0), _crf_job(src, rung, 5, 33.0, 20.0)
    fb = RateFeedback()
    fb.expect([*done, heavy, cheap])
    for job in done:  # every finished chunk ran 30% over its prediction
        job = fb.adjust(job)
        got = int(1.3 * 900 * 1000 * job.seconds / 8)
        fb.record(job, Chunk(rung.id, job.shot_index, "p", got, got, "", 50, 0, False))
    assert fb.adjust(heavy).request_crf > 23.0
    assert fb.adjust(cheap).request_crf in (0.0, 33.0)


def test_crf_feedback_counts_the_encoded_frames_not_the_files_boxes():
    """Chunks whose frames spend exactly their prediction, in files a few kilobytes bigger (the MP4's own
    boxes, x265's settings): the rung is on plan and the chunks still to come keep their CRF."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = _rung("hevc", kbps=200)
    jobs = [_crf_job(src, rung, i, 23.0, 200.0) for i in range(4)]
    fb = RateFeedback()
    fb.expect(jobs)
    for job in jobs[:3]:
        job = fb.adjust(job)
        media = int(200 * 1000 * job.seconds / 8)
        fb.record(job, Chunk(rung.id, job.shot_index, "p", media + 4000, media, "", 50, 0, False))
    assert fb.adjust(jobs[3]).request_crf in (0.0, 23.0)


def test_crf_feedback_leaves_a_chunk_on_a_steep_rate_curve_where_the_plan_put_it():
    """A rung running a fifth under its plan: a chunk whose rate halves every 6 CRF steps gets a lower CRF;
    one on grain's cliff, where its rate halves in 1.5 steps, is not moved half a step (that alone would
    be +26% for it)."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = _rung("h264", kbps=800)
    done = [_crf_job(src, rung, i, 23.0, 900.0) for i in range(4)]
    normal = _crf_job(src, rung, 4, 23.0, 900.0)
    cliff = ChunkJob(src, 5, 250, 50, rung, RatePoint("crf", 23.5, 1200, 2400, predicted_kbps=900.0, halving=1.5))
    fb = RateFeedback()
    fb.expect([*done, normal, cliff])
    for job in done:
        job = fb.adjust(job)
        got = int(0.8 * 900 * 1000 * job.seconds / 8)
        fb.record(job, Chunk(rung.id, job.shot_index, "p", got, got, "", 50, 0, False))
    assert 0.0 < fb.adjust(normal).request_crf < 23.0
    assert fb.adjust(cliff).request_crf in (0.0, 23.5)
