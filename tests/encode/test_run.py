"""Running a plan's chunks: the rate feedback, and so the output, does not depend on the workers' timing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from shotenc.codecs import RatePoint
from shotenc.encode.chunk import Chunk, ChunkJob, SourceRef
from shotenc.encode.run import run_chunks
from shotenc.ladder import Rung


def _jobs(n: int) -> list[ChunkJob]:
    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = Rung("h264-180p", "h264", 180, 800.0, 1200.0, 2400.0, "fast")
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
            done = run_chunks(_jobs(12), _encoder(delays), pool, 3)
        runs.append([done["h264-180p", i].requested_crf for i in range(12)])
    assert runs[0] == runs[1]
    assert runs[0][0] == 23.0 and runs[0][-1] > 23.0
