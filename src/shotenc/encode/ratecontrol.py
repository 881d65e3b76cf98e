"""Rate feedback across the chunks of a rung, so a rung's average lands on its target.

One-pass ABR inside a one-to-six-second chunk undershoots, and by how much depends on the encoder
and the content (measured on the sample: x265 about −15 to −30%, libvpx-vp9 and SVT-AV1 about −30%). A
chunk cannot be fixed after the fact without encoding it twice, so instead every new chunk of a
rung asks for its planned bitrate times the rung's observed planned/actual ratio (starting from a
per-encoder prior), plus a share of the bits the finished chunks left unspent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import codecs
from .chunk import Chunk, ChunkJob

PRIOR_WEIGHT_S = 2.0  # the prior counts like this many seconds of finished chunks
LIMITS = (0.5, 2.5)


@dataclass
class _RungState:
    requested_bits: float = 0.0  # what finished chunks asked for
    actual_bits: float = 0.0  # what they produced
    planned_bits: float = 0.0  # what the plan gave them
    seconds: float = 0.0
    remaining_planned_bits: float = 0.0  # plan for chunks not submitted yet


@dataclass
class RateFeedback:
    rungs: dict[str, _RungState] = field(default_factory=dict)

    def expect(self, jobs: list[ChunkJob]) -> None:
        """Register every chunk that will be submitted (their plan is the rung's budget)."""
        for job in jobs:
            if job.rate.kind == "bitrate":
                state = self.rungs.setdefault(job.rung.id, _RungState())
                state.remaining_planned_bits += job.rate.value * 1000 * job.seconds

    def adjust(self, job: ChunkJob) -> ChunkJob:
        """The job with its bitrate request corrected by what the rung's finished chunks did."""
        if job.rate.kind != "bitrate":
            return job
        state = self.rungs.setdefault(job.rung.id, _RungState())
        planned = job.rate.value * 1000 * job.seconds
        prior = codecs.get(job.rung.codec).abr_prior
        w = PRIOR_WEIGHT_S * 1000 * job.rate.value
        ratio = (state.requested_bits + prior * w) / (state.actual_bits + w)
        # unspent (or overspent) bits of finished chunks go to the chunks still to come
        debt = state.planned_bits - state.actual_bits
        remaining = max(state.remaining_planned_bits, planned)
        share = 1.0 + max(-0.2, min(0.25, debt / remaining)) if remaining > 0 else 1.0
        state.remaining_planned_bits = max(0.0, state.remaining_planned_bits - planned)
        factor = max(LIMITS[0], min(LIMITS[1], ratio * share))
        request = min(job.rate.value * factor, job.rate.maxrate_kbps * 0.95)
        return replace(job, request_kbps=round(request, 1))

    def record(self, job: ChunkJob, chunk: Chunk) -> None:
        if job.rate.kind != "bitrate":
            return
        state = self.rungs.setdefault(job.rung.id, _RungState())
        requested = chunk.requested_kbps or job.rate.value
        state.requested_bits += requested * 1000 * job.seconds
        state.actual_bits += chunk.bytes * 8
        state.planned_bits += job.rate.value * 1000 * job.seconds
        state.seconds += job.seconds
