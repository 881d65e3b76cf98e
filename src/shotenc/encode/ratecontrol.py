"""Rate feedback across the chunks of a rung, so a rung's average lands on its target.

Bitrate chunks: one-pass ABR inside a one-to-six-second chunk undershoots, and by how much depends
on the encoder and the content (measured on the sample: x265 about −15 to −30%, libvpx-vp9 and
SVT-AV1 about −30%). Every new chunk of a rung asks for its planned bitrate times the rung's observed
planned/actual ratio (starting from a per-encoder prior), plus a share of the bits the finished
chunks left unspent.

CRF chunks: the plan predicts each chunk's rate from probes, and probes are not the final encode
(a window of the shot, another run). Every new chunk of a rung moves its CRF so that the rung's
remaining chunks, at the rate the finished ones ran over or under their predictions, spend what
is left of the rung's planned bits: ``crf_halving`` CRF steps per factor of two, in full on a chunk
planned at the rung's mean rate or above, in proportion on a cheaper one. A step saves bits in
proportion to a chunk's rate, so on a static or flat shot it saves next to nothing for the rung,
while its VMAF can fall off a cliff just past the CRFs it was probed at (a flat-colour shot on
x264 lost 10 VMAF between CRF 33 and 34.5).

A chunk cannot be fixed after the fact without encoding it twice; the chunks still to come pay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .. import codecs
from .chunk import Chunk, ChunkJob

PRIOR_WEIGHT_S = 2.0  # the prior counts like this many seconds of finished chunks
LIMITS = (0.5, 2.5)
# how far feedback may move a chunk's rate from the plan's, as a power of two (x264: 1.5 CRF, VP9/AV1: 3):
# a rung's shots keep nearly one CRF -- the equal-slope choice -- while a probe bias is still corrected
CRF_STEP_LIMIT = 0.25
# one shot's prediction can be off by a quarter either way, so the rung's bias is trusted only once
# its finished chunks cover this share of its planned bits (the chunks still to come then correct it)
CRF_EVIDENCE_SHARE = 0.5


@dataclass
class _RungState:
    requested_bits: float = 0.0  # what finished chunks asked for
    actual_bits: float = 0.0  # what they produced
    planned_bits: float = 0.0  # what the plan gave (or predicted for) them
    seconds: float = 0.0
    remaining_planned_bits: float = 0.0  # plan for chunks not submitted yet
    planned_total_bits: float = 0.0  # the whole rung's plan
    in_flight_bits: float = 0.0  # plan of chunks submitted but not finished
    planned_total_s: float = 0.0  # the whole rung's seconds


def _planned_bits(job: ChunkJob) -> float:
    kbps = job.rate.value if job.rate.kind == "bitrate" else job.rate.predicted_kbps
    return kbps * 1000 * job.seconds


@dataclass
class RateFeedback:
    rungs: dict[str, _RungState] = field(default_factory=dict)

    def expect(self, jobs: list[ChunkJob]) -> None:
        """Register every chunk that will be submitted (their plan is the rung's budget)."""
        for job in jobs:
            if _planned_bits(job) > 0:
                state = self.rungs.setdefault(job.rung.id, _RungState())
                state.remaining_planned_bits += _planned_bits(job)
                state.planned_total_bits += _planned_bits(job)
                state.planned_total_s += job.seconds

    def adjust(self, job: ChunkJob) -> ChunkJob:
        """The job with its request corrected by what the rung's finished chunks did."""
        planned = _planned_bits(job)
        if planned <= 0:
            return job
        state = self.rungs.setdefault(job.rung.id, _RungState())
        adjusted = self._bitrate(job, state, planned) if job.rate.kind == "bitrate" else self._crf(job, state, planned)
        state.remaining_planned_bits = max(0.0, state.remaining_planned_bits - planned)
        state.in_flight_bits += planned
        return adjusted

    def _bitrate(self, job: ChunkJob, state: _RungState, planned: float) -> ChunkJob:
        prior = codecs.get(job.rung.codec).abr_prior
        w = PRIOR_WEIGHT_S * 1000 * job.rate.value
        ratio = (state.requested_bits + prior * w) / (state.actual_bits + w)
        # unspent (or overspent) bits of finished chunks go to the chunks still to come
        debt = state.planned_bits - state.actual_bits
        remaining = max(state.remaining_planned_bits, planned)
        share = 1.0 + max(-0.2, min(0.25, debt / remaining)) if remaining > 0 else 1.0
        factor = max(LIMITS[0], min(LIMITS[1], ratio * share))
        request = min(job.rate.value * factor, job.rate.maxrate_kbps * 0.95)
        return replace(job, request_kbps=round(request, 1))

    def _crf(self, job: ChunkJob, state: _RungState, planned: float) -> ChunkJob:
        if state.planned_bits < CRF_EVIDENCE_SHARE * state.planned_total_bits:
            return job  # too little finished to tell the rung's bias from one shot's error
        bias = state.actual_bits / state.planned_bits  # actual / predicted so far
        left = state.planned_total_bits - state.actual_bits - bias * state.in_flight_bits
        coming = bias * max(state.remaining_planned_bits, planned)
        need = max(left, 0.25 * coming) / coming
        codec = codecs.get(job.rung.codec)
        halving = job.rate.halving or codec.crf_halving  # this chunk's own, where the plan knows it
        limit = CRF_STEP_LIMIT * halving
        mean_rate = state.planned_total_bits / state.planned_total_s if state.planned_total_s else 0.0
        share = min(1.0, planned / job.seconds / mean_rate) if mean_rate else 1.0
        step = share * max(-limit, min(limit, -halving * math.log2(need)))
        step = round(step / codec.crf_step) * codec.crf_step
        if abs(step) > limit:  # never past the limit by rounding (on a steep curve: not at all)
            step = math.copysign(math.floor(limit / codec.crf_step) * codec.crf_step, step)
        crf = codec.crf(max(codec.best_crf, job.rate.value + step))
        return job if crf == job.rate.value else replace(job, request_crf=crf)

    def record(self, job: ChunkJob, chunk: Chunk) -> None:
        planned = _planned_bits(job)
        if planned <= 0:
            return
        state = self.rungs.setdefault(job.rung.id, _RungState())
        requested = chunk.requested_kbps or job.rate.value
        state.requested_bits += requested * 1000 * job.seconds
        state.actual_bits += chunk.media_bytes * 8
        state.planned_bits += planned
        state.in_flight_bits = max(0.0, state.in_flight_bits - planned)
        state.seconds += job.seconds
