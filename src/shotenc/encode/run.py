"""Encode a plan: every (shot, rung) chunk as a task on the runner's executor.

The one function both ``shotenc encode`` and ``shotenc compare`` use. A few chunks are kept in
flight, not all of them, so every new chunk gets the latest rate feedback of its rung.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path

from ..allocators.base import EncodePlan
from ..analysis.analyze import Analysis
from ..progress import Reporter
from .chunk import Chunk, ChunkJob, SourceRef, encode_chunk
from .ratecontrol import RateFeedback


def chunk_jobs(analysis: Analysis, plan: EncodePlan, threads: int = 1) -> list[ChunkJob]:
    """Every (shot, rung) chunk of ``plan``, the costliest first (that packs the workers best)."""
    src = SourceRef.of(analysis.media)
    jobs = [
        ChunkJob(
            src,
            shot.index,
            shot.start_frame,
            shot.frame_count,
            rung,
            plan.point(rung.id, shot.index),
            threads,
            in_band=plan.resizes(rung),
        )
        for rung in plan.rungs
        for shot in plan.shots
    ]
    return sorted(jobs, key=lambda j: -j.cost())


def encode_plan(
    analysis: Analysis,
    plan: EncodePlan,
    work: Path,
    executor: Executor,
    reporter: Reporter | None = None,
    threads: int = 1,
    in_flight: int = 4,
) -> dict[tuple[str, int], Chunk]:
    """Encode (or reuse) every chunk of ``plan`` into ``work``; returns them by (rung id, shot index)."""
    reporter = reporter or Reporter()
    jobs = chunk_jobs(analysis, plan, threads)
    reporter.stage("encode", len(jobs))
    feedback = RateFeedback()
    feedback.expect(jobs)
    pending = list(jobs)
    running: dict[Future, ChunkJob] = {}
    done: dict[tuple[str, int], Chunk] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, in_flight):
                job = feedback.adjust(pending.pop(0))
                running[executor.submit(encode_chunk, job, str(work))] = job
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = running.pop(fut)
                chunk = fut.result()
                feedback.record(job, chunk)
                done[(chunk.rung_id, chunk.shot_index)] = chunk
                reporter.advance("encode")
    except BaseException:
        for f in running:
            f.cancel()
        raise
    return done
