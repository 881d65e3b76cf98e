"""Encode a plan: every (shot, rung) chunk as a task on the runner's executor.

The one function both ``shotenc encode`` and ``shotenc compare`` use. A few chunks are kept in
flight, not all of them, so every new chunk gets recent rate feedback of its rung -- always from the
same earlier chunks, so the output does not depend on the machine's load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path

from ..allocators.base import EncodePlan
from ..analysis.analyze import Analysis
from ..progress import Reporter
from .chunk import Chunk, ChunkJob, SourceRef, encode_chunk
from .ratecontrol import SETTLE_ROUNDS, RateFeedback, closest, planned_bits, second_encodes
from .vbv import buffer_trace


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
    return run_chunks(
        jobs, encode_chunk, executor, in_flight, lambda: reporter.advance("encode"), (str(work),),
        lambda more: reporter.grow("encode", more),
    )  # fmt: skip


def run_chunks(
    jobs: Sequence[ChunkJob],
    encode: Callable[..., Chunk],
    executor: Executor,
    in_flight: int,
    on_done: Callable[[], None] = lambda: None,
    args: tuple = (),
    on_more: Callable[[int], None] = lambda n: None,
    frame_sizes: Callable[[Chunk], Sequence[int]] | None = None,
) -> dict[tuple[str, int], Chunk]:
    """Run ``encode(job, *args)`` on every job, at most ``in_flight`` at a time, the first that may go first.

    A rung's chunks go in their order, each corrected by the rate feedback of exactly its rung's chunks a
    fixed number of places or more before it (``in_flight`` shared among the rungs, at least two): the same
    plan gives the same chunks however the workers' timing falls (when the feedback took whatever had
    finished, a busy machine changed a rung's CRFs). A chunk whose rung's earlier one is still running lets
    another rung's chunk go first, so the wait idles no worker while other rungs have chunks left. A rung
    whose chunks are all done and still miss its plan, or run its VBV buffer dry, encodes a few of them again
    (:func:`second_encodes`; they go first; the rung keeps whichever encode of each lands it closest with the
    buffer kept), and once more from there (``SETTLE_ROUNDS``); ``on_more`` hears how many. ``frame_sizes``:
    a chunk's frame sizes (default: read from its file)."""
    sizes_of = frame_sizes or Chunk.frame_sizes
    feedback = RateFeedback()
    feedback.expect(list(jobs))
    queues: dict[str, list[int]] = {}  # every rung's jobs (indices into ``jobs``), in order
    for n, job in enumerate(jobs):
        queues.setdefault(job.rung.id, []).append(n)
    cap = max(1, in_flight)
    # enough of every rung in flight to fill ``in_flight``, and two at least: one rung's chunks can take
    # most of the encode (VP9's two passes) and must not wait for each other
    lag = min(cap, max(2, -(-cap // max(1, len(queues)))))
    sent = dict.fromkeys(queues, 0)  # how many of each rung's jobs were submitted ...
    seen = dict.fromkeys(queues, 0)  # ... and recorded by the feedback (a prefix of those finished)
    asked: dict[int, ChunkJob] = {}  # the jobs as submitted (after the feedback's correction)
    results: dict[int, Chunk] = {}
    frames: dict[int, Sequence[int]] = {}  # each kept chunk's frame sizes (read once, when it is done)
    running: dict[Future, tuple[int, ChunkJob | None]] = {}  # (job, the second encode as asked, if it is one)
    left = {r: len(q) for r, q in queues.items()}  # of each rung's jobs, not finished yet
    again: list[tuple[int, ChunkJob]] = []  # chunks of finished rungs to encode again, not submitted yet
    redone: dict[int, tuple[ChunkJob, Chunk, Sequence[int]]] = {}  # what a round's second encodes gave
    pending = dict.fromkeys(queues, 0)  # of each rung's round, second encodes not finished yet
    rounds = dict.fromkeys(queues, 0)
    used = dict.fromkeys(queues, 0.0)  # the work each rung's moves toward its plan took
    twice: dict[str, set[int]] = {r: set() for r in queues}  # its chunks encoded twice already

    def settle_round(rung: str) -> None:
        """A round of second encodes of the finished ``rung``, from the encodes it keeps now."""
        rounds[rung] += 1
        in_order = sorted(queues[rung], key=lambda k: jobs[k].shot_index)  # as played
        at = {k: i for i, k in enumerate(in_order)}
        more = second_encodes(
            [(asked[k], results[k]) for k in in_order],
            [frames[k] for k in in_order],
            {at[k] for k in twice[rung]},
            used[rung],
        )
        used[rung] += sum(job.cost() for job in more.moves)
        by_shot = {jobs[k].shot_index: k for k in in_order}
        again.extend((by_shot[job.shot_index], job) for job in more.jobs)
        pending[rung] = len(more.jobs)
        on_more(len(more.jobs))

    def keep(rung: str) -> None:
        """Of a finished round, the second encodes that land the rung nearest its plan with its buffer kept."""
        q, this = queues[rung], [k for k in queues[rung] if k in redone]
        bits = {k: results[k].media_bytes * 8.0 for k in q}
        holds = keeps_buffer(q, jobs, frames, {k: redone[k][2] for k in this})
        for k in closest(
            sum(planned_bits(asked[k]) for k in q), bits, {k: redone[k][1].media_bytes * 8.0 for k in this}, holds
        ):
            asked[k], results[k], frames[k] = redone[k]
        twice[rung].update(this)
        for k in this:
            del redone[k]

    def next_ready() -> int | None:
        """The first job (in ``jobs``' order) that is next in its rung and whose lagging chunk is done."""
        ready = [
            q[sent[r]] for r, q in queues.items() if sent[r] < len(q) and (sent[r] < lag or q[sent[r] - lag] in results)
        ]
        return min(ready, default=None)

    try:
        while running or again or any(sent[r] < len(q) for r, q in queues.items()):
            while len(running) < cap and again:
                n, job = again.pop(0)
                running[executor.submit(encode, job, *args)] = (n, job)
            while len(running) < cap and (n := next_ready()) is not None:
                rung = jobs[n].rung.id
                while seen[rung] <= sent[rung] - lag:  # exactly the chunks ``lag`` places back
                    k = queues[rung][seen[rung]]
                    feedback.record(asked[k], results[k])
                    seen[rung] += 1
                asked[n] = feedback.adjust(jobs[n])
                sent[rung] += 1
                running[executor.submit(encode, asked[n], *args)] = (n, None)
            for fut in wait(running, return_when=FIRST_COMPLETED)[0]:
                n, second = running.pop(fut)
                chunk = fut.result()
                on_done()
                rung = jobs[n].rung.id
                if second is not None:
                    redone[n] = (second, chunk, sizes_of(chunk))
                    pending[rung] -= 1
                    if not pending[rung]:
                        keep(rung)
                        if rounds[rung] < SETTLE_ROUNDS:
                            settle_round(rung)
                    continue
                results[n], frames[n] = chunk, sizes_of(chunk)
                left[rung] -= 1
                if not left[rung]:
                    settle_round(rung)
    except BaseException:
        for f in running:
            f.cancel()
        raise
    return {(c.rung_id, c.shot_index): c for c in results.values()}


def keeps_buffer(
    rung: list[int], jobs: Sequence[ChunkJob], sizes: dict[int, Sequence[int]], sizes_again: dict[int, Sequence[int]]
) -> Callable[[set[int]], bool] | None:
    """Whether the rung (``rung``: its jobs) keeps its VBV buffer with the second encodes of the chunks picked
    (``sizes``: the frame sizes of the encodes it keeps now, ``sizes_again``: of the second ones; None for a
    rung without a cap)."""
    rate = jobs[rung[0]].rate
    if not (rate.maxrate_kbps and rate.bufsize_kbps):
        return None
    rung = sorted(rung, key=lambda k: jobs[k].shot_index)  # as played
    fps = float(jobs[rung[0]].source.fps)

    def holds(pick: set[int]) -> bool:
        frames = [sizes_again[k] if k in pick else sizes[k] for k in rung]
        return buffer_trace(frames, fps, rate.maxrate_kbps, rate.bufsize_kbps).holds

    return holds
