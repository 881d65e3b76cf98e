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

The chunks still to come pay for what the finished ones missed. When a rung's last chunk is done and
the rung still misses its planned bits by more than ``SETTLE_TOLERANCE`` (its longest shots run first,
before any feedback), :func:`second_encodes` names the few chunks that missed their own predictions most
(then others), and the CRF each is encoded at again: its own measured rate is the best prediction there
is. A rendition whose chunks, joined, would run the rung's VBV buffer dry (each chunk was encoded alone:
:mod:`.vbv`) has the chunks that drained it encoded again at fewer bits first. Rate is not exactly
exponential in CRF (grain has a cliff: x264 doubled a shot's rate in 1.5 steps where its slope said
1.5x), so of each chunk's two encodes the rung keeps those that land it closest with its buffer kept
(:func:`closest`), and a second round starts from there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace

from .. import codecs
from .chunk import Chunk, ChunkJob
from .vbv import buffer_trace

PRIOR_WEIGHT_S = 2.0  # the prior counts like this many seconds of finished chunks
LIMITS = (0.5, 2.5)
# how far feedback may move a chunk's rate from the plan's, as a power of two (x264: 1.5 CRF, VP9/AV1: 3):
# a rung's shots keep nearly one CRF -- the equal-slope choice -- while a probe bias is still corrected
CRF_STEP_LIMIT = 0.25
# one shot's prediction can be off by a quarter either way, so the rung's bias is trusted only once
# its finished chunks cover this share of its planned bits (the chunks still to come then correct it)
CRF_EVIDENCE_SHARE = 0.5
# a rung that misses its planned bits by more than this once its chunks are done encodes a few again (the
# sample's 360p H.264 rung: its two longest shots ran first, 14% and 19% under their predictions, and the
# rung landed 7.7% under its plan)
SETTLE_TOLERANCE = 0.04
SETTLE_MOVE = 0.5  # a chunk encoded again moves its rate by at most this power of two (half a halving)
SETTLE_COST = 0.15  # ... and those chunks take at most this share of the rung's encoding work
SETTLE_ROUNDS = 2  # rounds of second encodes: the second starts from what the first kept (grain's cliff)
BUFFER_MARGIN = 0.1  # of the VBV buffer a chunk encoded again to keep it from running dry aims to leave


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


def planned_bits(job: ChunkJob) -> float:
    """What the plan gave (or predicted for) ``job``, in bits."""
    kbps = job.rate.value if job.rate.kind == "bitrate" else job.rate.predicted_kbps
    return kbps * 1000 * job.seconds


@dataclass
class RateFeedback:
    rungs: dict[str, _RungState] = field(default_factory=dict)

    def expect(self, jobs: list[ChunkJob]) -> None:
        """Register every chunk that will be submitted (their plan is the rung's budget)."""
        for job in jobs:
            if planned_bits(job) > 0:
                state = self.rungs.setdefault(job.rung.id, _RungState())
                state.remaining_planned_bits += planned_bits(job)
                state.planned_total_bits += planned_bits(job)
                state.planned_total_s += job.seconds

    def adjust(self, job: ChunkJob) -> ChunkJob:
        """The job with its request corrected by what the rung's finished chunks did."""
        planned = planned_bits(job)
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
        planned = planned_bits(job)
        if planned <= 0:
            return
        state = self.rungs.setdefault(job.rung.id, _RungState())
        requested = chunk.requested_kbps or job.rate.value
        state.requested_bits += requested * 1000 * job.seconds
        state.actual_bits += chunk.media_bytes * 8
        state.planned_bits += planned
        state.in_flight_bits = max(0.0, state.in_flight_bits - planned)
        state.seconds += job.seconds


@dataclass(frozen=True)
class SecondEncodes:
    """Chunks of a finished rung to encode again: to keep its VBV buffer, and to move it toward its plan."""

    repairs: list[ChunkJob]
    moves: list[ChunkJob]

    @property
    def jobs(self) -> list[ChunkJob]:
        return self.repairs + self.moves


def second_encodes(
    done: Sequence[tuple[ChunkJob, Chunk]],
    frames: Sequence[Sequence[int]] = (),
    fixed: Collection[int] = (),
    used: float = 0.0,
) -> SecondEncodes:
    """The chunks of one finished rung (in shot order: each job as it was asked, and what it gave; ``frames``:
    each chunk's frame sizes) to encode again, each at the CRF that moves the rung toward its plan, or none
    when the rung is within ``SETTLE_TOLERANCE`` of it and keeps its VBV buffer. ``fixed``: positions encoded
    twice already (not moved again); ``used``: the work earlier rounds' moves took of ``SETTLE_COST``.

    First the chunks that ran the rung's buffer dry, to spend less (:func:`unblock`; outside the budget: a
    rendition must keep its buffer). Then the chunks that missed their own prediction the way the rung did,
    by the most bits per unit of encoding work, each back toward its prediction (the equal-slope point the
    plan meant it to be at); then, where they cannot make up the rung's miss (a shot already at the best
    CRF), the others by their bits per unit of work, until the miss is made up or no chunk left fits in
    ``SETTLE_COST`` of the rung's work. A chunk moves by half a halving at most, along its own CRF slope; one
    near its cap cannot spend more."""
    if not done or any(job.rate.kind != "crf" for job, _ in done):
        return SecondEncodes([], [])
    shed = unblock(done, frames, fixed)  # (chunk, what its bits are to be multiplied by)
    repairs = [job for job in (_at_rate(done[i][0], f, one_step=True) for i, f in shed.items()) if job is not None]
    planned = sum(planned_bits(job) for job, _ in done)
    actual = sum(chunk.media_bytes * 8 * shed.get(i, 1.0) for i, (_, chunk) in enumerate(done))
    need = planned - actual  # bits the rung should spend more (negative: fewer)
    if planned <= 0 or actual <= 0 or abs(need / planned) <= SETTLE_TOLERANCE:
        return SecondEncodes(repairs, [])
    # the expected work, not the clock's: the same chunks are chosen however the machine's load falls
    budget = SETTLE_COST * sum(job.cost() for job, _ in done) - used

    def can_move(job: ChunkJob, chunk: Chunk) -> bool:
        codec, crf = codecs.get(job.rung.codec), job.encoder_rate.value
        if chunk.media_bytes <= 0:
            return False
        if need < 0:  # (a chunk at its cap too: photos24, x265, 897 kbit/s at CRF 19 under a 750 cap, 514 at 21.5)
            return crf < codec.crf_range[1]
        capped = codec.crf_vbv and chunk.media_bytes * 8 / 1000 / job.seconds > 0.9 * job.rate.maxrate_kbps
        return crf > codec.best_crf and not capped  # the VBV buffer holds it there, not its CRF

    def short(job: ChunkJob, chunk: Chunk) -> float:
        """Bits the chunk fell short of its prediction by (negative: over)."""
        return planned_bits(job) - chunk.media_bytes * 8

    movable = [
        (job, chunk) for i, (job, chunk) in enumerate(done) if i not in shed and i not in fixed and can_move(job, chunk)
    ]
    missed = [jc for jc in movable if short(*jc) * need > 0]
    others = [jc for jc in movable if short(*jc) * need <= 0]
    # (chunk, what its rate should be multiplied by), in the order they are asked
    order = [
        *((jc, planned_bits(jc[0]) / (jc[1].media_bytes * 8)) for jc in sorted(
            missed, key=lambda jc: (-abs(short(*jc)) / jc[0].cost(), jc[0].shot_index))),
        *((jc, 2.0 if need > 0 else 0.5) for jc in sorted(
            others, key=lambda jc: (-jc[1].media_bytes / jc[0].cost(), jc[0].shot_index))),
    ]  # fmt: skip
    moves: list[ChunkJob] = []
    moved = work = 0.0
    for (job, chunk), aim in order:
        if moved >= abs(need):
            break
        if work + job.cost() > budget:
            continue  # (a cheaper one may still fit)
        bits = chunk.media_bytes * 8
        factor = min(2**SETTLE_MOVE, max(2**-SETTLE_MOVE, aim))
        factor = 1 + math.copysign(min(abs(factor - 1) * bits, abs(need) - moved), need) / bits  # no further
        if (moving := _at_rate(job, factor)) is not None:
            moves.append(moving)
            moved += abs(_rate_factor(job, moving) - 1) * bits  # as far as its range lets it
            work += job.cost()
    return SecondEncodes(repairs, moves)


def _at_rate(job: ChunkJob, factor: float, one_step: bool = False) -> ChunkJob | None:
    """``job`` asked for the CRF that multiplies its rate by ``factor`` along its own slope (within the codec's
    CRFs; ``one_step``: a CRF step at least), or None where that is the CRF it was asked already."""
    codec = codecs.get(job.rung.codec)
    halving = job.rate.halving or codec.crf_halving
    now = job.encoder_rate.value
    crf = codec.crf(max(codec.best_crf, now - halving * math.log2(factor)))
    if crf == now and one_step and factor != 1:
        crf = codec.crf(max(codec.best_crf, now + math.copysign(codec.crf_step, 1 - factor)))
    return None if crf == now else replace(job, request_crf=crf)


def _rate_factor(job: ChunkJob, moved: ChunkJob) -> float:
    """What ``moved`` (``job`` at another CRF) is expected to multiply its rate by."""
    halving = job.rate.halving or codecs.get(job.rung.codec).crf_halving
    return 2 ** ((job.encoder_rate.value - moved.encoder_rate.value) / halving)


def unblock(
    done: Sequence[tuple[ChunkJob, Chunk]], frames: Sequence[Sequence[int]], fixed: Collection[int] = ()
) -> dict[int, float]:
    """Chunks (positions in ``done``) to encode again at fewer bits so the rendition keeps its VBV buffer, and
    what each one's bits are to be multiplied by (half at least): where the buffer runs dry, the biggest
    spenders since it was last full shed what it lacked and ``BUFFER_MARGIN`` of it, the next dry point after
    them likewise. Each chunk is encoded alone and the buffer is the rendition's (:mod:`.vbv`)."""
    job = done[0][0] if done else None
    if job is None or len(frames) != len(done) or not (job.rate.maxrate_kbps and job.rate.bufsize_kbps):
        return {}
    cap = (float(job.source.fps), job.rate.maxrate_kbps, job.rate.bufsize_kbps)
    sized = [[float(b) for b in f] for f in frames]
    shed: dict[int, float] = {}
    for _ in done:  # (each pass sheds at least one chunk, or stops)
        trace = buffer_trace(sized, *cap)
        if trace.first_dry is None:
            break
        lacking = trace.short_bits + BUFFER_MARGIN * job.rate.bufsize_kbps * 1000
        run = [i for i in range(trace.run_start, trace.first_dry + 1) if i not in shed and i not in fixed]
        run = [i for i in run if sum(sized[i]) > 0]
        for i in sorted(run, key=lambda i: (-sum(sized[i]), i)):
            bits = sum(sized[i]) * 8
            shed[i] = max(0.5, 1 - lacking / bits)
            sized[i] = [b * shed[i] for b in sized[i]]
            lacking -= bits * (1 - shed[i])
            if lacking <= 0:
                break
        if not run:
            break  # every chunk of the run is encoded again already: the rest is the second encodes' to show
    return shed


def closest(
    planned: float,
    first: dict[int, float],
    again: dict[int, float],
    holds: Callable[[set[int]], bool] | None = None,
) -> set[int]:
    """Of the chunks encoded twice (their bits: ``first``, ``again``; ``first`` also holds the rung's chunks
    encoded once), those whose second encode the rung keeps: the choice that spends nearest ``planned`` of
    those that keep the VBV buffer (``holds``; if none does, nearest ``planned``)."""
    base = sum(first.values())
    twice = sorted(again)
    ok = holds or (lambda pick: True)

    def miss(pick: set[int]) -> float:
        return abs(base + sum(again[k] - first[k] for k in pick) - planned)

    if len(twice) > 12:  # too many to try every choice: the biggest moves first, each while it helps
        pick, held = set(), ok(set())
        for k in sorted(twice, key=lambda k: -abs(again[k] - first[k])):
            trial = pick | {k}
            now = ok(trial)
            if (now and not held) or (now == held and miss(trial) < miss(pick)):
                pick, held = trial, now
        return pick
    choices = sorted(({k for i, k in enumerate(twice) if mask >> i & 1} for mask in range(1 << len(twice))), key=miss)
    return next((pick for pick in choices if ok(pick)), choices[0])
