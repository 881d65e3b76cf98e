"""Running a plan's chunks: the rate feedback, and so the output, does not depend on the workers' timing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shotenc.codecs import RatePoint
from shotenc.encode.chunk import Chunk, ChunkJob, SourceRef
from shotenc.encode.run import run_chunks
from shotenc.encode.vbv import buffer_trace
from shotenc.ladder import Rung


def _even(chunk: Chunk) -> list[int]:
    """A made-up chunk's frames: its bytes spread evenly."""
    return [chunk.media_bytes // chunk.frames] * chunk.frames


def _jobs(n: int) -> list[ChunkJob]:
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = Rung("h264-180p", "h264", 180, 800.0, 1200.0, 2400.0, "fast", 320)
    rate = RatePoint("crf", 23.0, 1200.0, 2400.0, predicted_kbps=800.0)
    return [ChunkJob(src, i, i * 50, 50, rung, rate) for i in range(n)]


def _encoder(delays: list[float]):
    """An encoder that runs 40% over every prediction, taking ``delays[shot]`` seconds."""

    def encode(job: ChunkJob) -> Chunk:
        time.sleep(delays[job.shot_index])
        crf = job.encoder_rate.value
        kbps = 1.4 * 800.0 * 2 ** ((23.0 - crf) / 6.0)
        got = int(kbps * 1000 * job.seconds / 8)
        return Chunk(job.rung.id, job.shot_index, "p", got, got, "", 50, 0, False, requested_crf=crf)

    return encode


def test_a_plans_chunks_do_not_depend_on_which_finish_first():
    """The same twelve chunks on three workers, finishing in order and then with every other one slow: the
    feedback raises the CRFs of the later chunks (the rung runs over its plan) by the same steps both times."""
    runs = []
    for delays in ([0.0] * 12, [0.08 if i % 2 == 0 else 0.0 for i in range(12)]):
        with ThreadPoolExecutor(3) as pool:
            done = run_chunks(_jobs(12), _encoder(delays), pool, 3, frame_sizes=_even)
        runs.append([done["h264-180p", i].requested_crf for i in range(12)])
    assert runs[0] == runs[1]
    assert runs[0][-1] > 23.0


def test_a_rung_that_missed_its_plan_encodes_the_chunk_that_missed_most_again():
    """Eight chunks, the last 40% under its prediction (no chunk after it for the feedback to correct): the
    rung lands 4.6% under; once its chunks are done that one is encoded again at a lower CRF and replaces its
    first encode, and the rung lands within 2.5% of its plan. Of the second encodes, the rung keeps only
    those that take it closer: one that overshoots (grain's cliff) is dropped."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = Rung("h264-180p", "h264", 180, 800.0, 2400.0, 4800.0, "fast", 320)
    frames = [40, 40, 30, 30, 30, 30, 30, 30]
    rate = RatePoint("crf", 23.0, 2400.0, 4800.0, predicted_kbps=800.0, halving=6.0)
    jobs = [ChunkJob(src, i, sum(frames[:i]), n, rung, rate) for i, n in enumerate(frames)]
    planned = 800.0 * sum(frames) / 25

    def run(cliff: float) -> tuple[list, list, dict]:
        asked, more = [], []

        def encode(job: ChunkJob) -> Chunk:
            asked.append((job.shot_index, job.encoder_rate.value))
            miss = 0.6 if job.shot_index == 7 else 1.0
            steps = 23.0 - job.encoder_rate.value  # shot 7 is grain: past one CRF step, ``cliff`` per step
            kbps = miss * 800.0 * 2 ** (steps / 6.0) * (cliff ** max(0.0, steps - 0.5) if job.shot_index == 7 else 1)
            got = int(kbps * 1000 * job.seconds / 8)
            return Chunk(job.rung.id, job.shot_index, "p", got, got, "", job.frame_count, 0.1 * job.seconds, False,
                         requested_crf=job.request_crf)  # fmt: skip

        with ThreadPoolExecutor(2) as pool:
            done = run_chunks(jobs, encode, pool, 2, on_more=more.append, frame_sizes=_even)
        return asked, more, done

    asked, more, done = run(1.0)
    assert sum(more) == 1 and len(asked) == 9 and asked[-1] == (7, 20.0)
    assert sum(c.media_bytes * 8 / 1000 for c in done.values()) / planned == pytest.approx(1.0, abs=0.025)
    assert done["h264-180p", 7].requested_crf == 20.0
    asked, more, done = run(2.0)  # the second encode spends 2.8x its first: the rung keeps the first
    assert len(asked) == 9 and done["h264-180p", 7].requested_crf == 0.0


def test_a_rung_that_ran_its_buffer_dry_encodes_the_chunk_that_drained_it_again():
    """Six one-second chunks under a 1000 kbit/s cap with a one-second buffer, on their plan on average, but the
    fourth spends 2200 kbit where the buffer holds 1000 and a second brings 1000 more: the rendition would
    run dry there (every chunk keeps its own buffer as encoders start it, not the rendition's). That chunk is
    encoded again at a higher CRF, the rung keeps it though it lands further from its plan, and the
    rendition keeps its buffer."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = Rung("av1-180p", "av1", 180, 1000.0, 1000.0, 1000.0, "8", 320)
    kbps = [800.0, 800.0, 800.0, 2200.0, 500.0, 500.0]
    jobs = [
        ChunkJob(src, i, 25 * i, 25, rung, RatePoint("crf", 30.0, 1000.0, 1000.0, predicted_kbps=k, halving=12.0))
        for i, k in enumerate(kbps)
    ]
    more: list[int] = []

    def encode(job: ChunkJob) -> Chunk:
        got = int(kbps[job.shot_index] * 2 ** ((30.0 - job.encoder_rate.value) / 12.0) * 1000 / 8)
        return Chunk(job.rung.id, job.shot_index, "p", got, got, "", 25, 0.1, False, requested_crf=job.request_crf)

    def played(done: dict) -> bool:
        return buffer_trace([_even(done[rung.id, i]) for i in range(6)], 25.0, 1000.0, 1000.0).holds

    first = {(rung.id, i): encode(job) for i, job in enumerate(jobs)}
    assert not played(first)
    with ThreadPoolExecutor(2) as pool:
        done = run_chunks(jobs, encode, pool, 2, on_more=more.append, frame_sizes=_even)
    assert sum(more) == 1 and done[rung.id, 3].requested_crf > 30.0
    assert all(done[rung.id, i].requested_crf == 0.0 for i in (0, 1, 2, 4, 5))
    assert played(done)


def test_a_second_round_makes_up_what_a_repair_past_a_cliff_took():
    """Ten one-second chunks 2% under their plan, the sixth draining the buffer: encoded one CRF step higher
    it spends 60% less, not the 6% its slope says (grain's cliff), and leaves the rung 19% under its plan.
    The second round, from there, has the chunk that fell short of its prediction spend more; the rung lands
    nearer its plan and still keeps its buffer."""
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = Rung("av1-180p", "av1", 180, 700.0, 1000.0, 1000.0, "8", 320)
    kbps = [600.0, 600.0, 500.0, 500.0, 500.0, 2100.0, 600.0, 500.0, 600.0, 600.0]
    predicted = [k / 0.8 if i == 0 else k for i, k in enumerate(kbps)]  # one fell short of its prediction
    jobs = [
        ChunkJob(src, i, 25 * i, 25, rung, RatePoint("crf", 30.0, 1000.0, 1000.0, predicted_kbps=p, halving=12.0))
        for i, p in enumerate(predicted)
    ]
    more: list[int] = []

    def encode(job: ChunkJob) -> Chunk:
        steps = 30.0 - job.encoder_rate.value
        factor = 0.4 if job.shot_index == 5 and steps < 0 else 2 ** (steps / 12.0)
        got = int(kbps[job.shot_index] * factor * 1000 / 8)
        return Chunk(job.rung.id, job.shot_index, "p", got, got, "", 25, 0.1, False, requested_crf=job.request_crf)

    with ThreadPoolExecutor(2) as pool:
        done = run_chunks(jobs, encode, pool, 2, on_more=more.append, frame_sizes=_even)
    planned = sum(predicted)
    after_repair = (sum(kbps) - 0.6 * kbps[5]) / planned - 1
    landed = sum(done[rung.id, i].media_bytes * 8 / 1000 for i in range(10)) / planned - 1
    assert after_repair < -0.18 and more == [1, 1]  # the repair alone, then a second round
    assert done[rung.id, 5].requested_crf > 30.0 and done[rung.id, 0].requested_crf < 30.0
    assert after_repair < landed < 0.0, landed
    assert buffer_trace([_even(done[rung.id, i]) for i in range(10)], 25.0, 1000.0, 1000.0).holds


def test_real_chunks_of_a_rung_that_missed_its_plan_are_encoded_again_and_used(q_analysis, tmp_path):
    """x264 on real footage in eight chunks, a plan that predicted one of them at twice what CRF 30 spends
    there: that chunk is encoded again at a lower CRF into a file of its own (its first encode stays as it
    was), the rung keeps it, and lands closer to its plan without passing it."""
    from shotenc.encode.chunk import encode_chunk

    src = SourceRef.of(q_analysis.media)
    w, h = q_analysis.media.width, q_analysis.media.height
    rung = Rung("h264-180p", "h264", h, 300.0, 3000.0, 6000.0, "veryfast", w)
    n = q_analysis.media.frame_count // 8
    cuts = [(i, i * n, n) for i in range(8)]
    first = {}
    for i, start, count in cuts:  # what CRF 30 spends on each
        job = ChunkJob(src, i, start, count, rung, RatePoint("crf", 30.0, 3000.0, 6000.0))
        first[i] = encode_chunk(job, str(tmp_path / "measure")).media_bytes

    def planned(i: int, count: int) -> RatePoint:
        kbps = (2 if i == 7 else 1) * first[i] * 8 / 1000 / (count / float(src.fps))
        return RatePoint("crf", 30.0, 3000.0, 6000.0, predicted_kbps=kbps, halving=6.0)

    jobs = [ChunkJob(src, i, start, count, rung, planned(i, count)) for i, start, count in cuts]
    more: list[int] = []
    with ThreadPoolExecutor(2) as pool:
        done = run_chunks(jobs, encode_chunk, pool, 2, args=(str(tmp_path / "work"),), on_more=more.append)
    assert sum(more) == 1 and done["h264-180p", 7].requested_crf < 30.0
    assert all(done["h264-180p", i].requested_crf == 30.0 for i in range(7))
    assert len(list((tmp_path / "work" / "chunks" / rung.id).glob("*.mp4"))) == 9
    spent, at_first = done["h264-180p", 7].media_bytes, first[7]
    assert at_first < spent <= 2 * at_first  # closer to the plan, and not past it
