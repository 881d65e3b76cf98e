"""Decode downloaded segments with FFmpeg, to prove that what the player fetched plays.

A segment of fMP4 is not playable alone: it is written after its init segment into a temp file
and decoded to frame checksums (``framecrc``), which forces a full decode of every frame.
Decodes run on a small thread pool so downloads are not held up.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import FFmpegError
from ..media import ffmpeg


@dataclass
class DecodeResult:
    label: str
    frames: int  # video frames, or audio frames for an audio segment
    error: str | None = None


def decode_bytes(init: bytes, segment: bytes, label: str) -> DecodeResult:
    with tempfile.TemporaryDirectory(prefix="shotenc-dec-") as tmp:
        path = Path(tmp) / "seg.mp4"
        path.write_bytes(init + segment)
        try:
            res = ffmpeg.run(
                ["-v", "error", "-i", path, "-map", "0", "-f", "framecrc", "-"],
                what=f"decode {label}",
                capture_stdout=True,
                timeout=120,
            )
        except FFmpegError as exc:
            return DecodeResult(label, 0, str(exc))
    lines = [ln for ln in res.stdout.decode("ascii", "replace").splitlines() if ln and not ln.startswith("#")]
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    return DecodeResult(label, len(lines), errors[-1] if errors else None)


class Decoder:
    """Queue decodes in the background; ``results()`` waits for all of them."""

    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
        self.futures: list[Future] = []

    def submit(self, init: bytes, segment: bytes, label: str) -> None:
        self.futures.append(self.pool.submit(decode_bytes, init, segment, label))

    def results(self) -> list[DecodeResult]:
        out = [f.result() for f in self.futures]
        self.pool.shutdown()
        return out
