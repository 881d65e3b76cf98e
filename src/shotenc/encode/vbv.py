"""The VBV (leaky-bucket) buffer of a whole rendition, frame by frame, as a player's decoder sees it.

Each chunk is encoded alone: x264 and x265 hold their own buffer inside it, starting it 90% full
(``vbv-init``), libvpx has no buffer in constant-quality mode, and SVT-AV1's capped CRF holds a window
of 60 frames to the cap rather than a buffer. So whether the rendition as played stays within its rung's
``maxrate``/``bufsize`` is known only once its chunks are joined: bits arrive at ``maxrate``, fill the
buffer up to ``bufsize`` and each frame takes its own out at its decode time; the buffer must never run
dry. This is what a 2-pass encode under the same cap keeps, and what the plan aims for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VBV_INIT = 0.9  # how full the buffer starts (x264's and x265's vbv-init)


@dataclass(frozen=True)
class BufferTrace:
    lowest: float  # the lowest level the buffer reached after a frame, as a share of bufsize (< 0: it ran dry)
    lowest_chunk: int  # the chunk (position in the rendition) where it did
    first_dry: int | None  # the first chunk in which the buffer ran dry (None: it never did)
    run_start: int = 0  # the chunk where the buffer was last full before ``first_dry``: the run to blame starts there
    short_bits: float = 0.0  # how far under empty it went there, in bits

    @property
    def holds(self) -> bool:
        return self.first_dry is None


def buffer_trace(chunks: Sequence[Sequence[int]], fps: float, maxrate_kbps: float, bufsize_kbps: float) -> BufferTrace:
    """The buffer over ``chunks`` (each one's frame sizes in bytes, decode order), played in order."""
    size = bufsize_kbps * 1000
    fill = maxrate_kbps * 1000 / fps  # bits arriving per frame interval
    level = VBV_INIT * size
    lowest, where, dry, start, short = level, 0, None, 0, 0.0
    for i, frames in enumerate(chunks):
        for nbytes in frames:
            level -= nbytes * 8
            if level < lowest:
                lowest, where = level, i
            if level < 0 and (dry is None or dry == i):
                dry, short = i, max(short, -level)
            level = min(size, level + fill)
            if level >= size and dry is None:
                start = i  # (what it spent after the buffer was full still counts)
    return BufferTrace(round(lowest / size, 4) if size else 0.0, where, dry, start if dry is not None else 0, short)
