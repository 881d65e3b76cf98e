"""Checks on real files: decode with FFmpeg, list packets, read manifests."""

from __future__ import annotations

import re
from pathlib import Path

from shotenc.allocators.base import Allocator, EncodePlan
from shotenc.codecs import RatePoint
from shotenc.media import ffmpeg
from shotenc.media.probe import packet_info

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample.mp4"


def decoded_frames(url: str | Path, stream: str = "v:0") -> int:
    """Frames FFmpeg decodes from ``url`` (a file, MPD or playlist) for one video stream."""
    res = ffmpeg.run(
        ["-v", "error", "-stats", "-i", url, "-map", f"0:{stream}", "-f", "null", "-"], what="decode check"
    )
    counts = re.findall(r"frame=\s*(\d+)", res.stderr)
    assert counts, res.stderr[-500:]
    return int(counts[-1])


def decoded_seconds(url: str | Path, stream: str = "a:0") -> float:
    """Seconds of media FFmpeg decodes from ``url`` for one stream (audio has no frame count)."""
    res = ffmpeg.run(
        ["-v", "error", "-stats", "-i", url, "-map", f"0:{stream}", "-f", "null", "-"], what="decode check"
    )
    times = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", res.stderr)
    assert times, res.stderr[-500:]
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def frame_psnr(url: str | Path, source: Path, fps: str, stats: Path) -> list[float]:
    """Luma-and-chroma PSNR of every decoded frame of ``url`` against the source's frame of the same number
    (both numbered in decode order; the source scaled to the rendition's size): a frame out of place scores low."""
    index = f"settb=1/{fps},setpts=N"
    ffmpeg.run(
        [
            "-v", "error", "-i", url, "-i", source, "-lavfi",
            f"[0:v]{index}[a];[1:v]format=yuv420p,{index}[s];[s][a]scale2ref=flags=bicubic[b][a2];"
            f"[a2][b]psnr=stats_file={stats}", "-f", "null", "-",
        ],
        what="frame check",
    )  # fmt: skip
    return [float(re.search(r"psnr_avg:([\d.inf]+)", ln).group(1)) for ln in stats.read_text().splitlines()]


def segment_packets(rendition_dir: Path, number: int, tmp: Path) -> list[dict]:
    """Packets of init + one media segment, read as a standalone file."""
    blob = (rendition_dir / "init.mp4").read_bytes() + (rendition_dir / f"seg-{number:05d}.m4s").read_bytes()
    f = tmp / f"{rendition_dir.name}-{number}.mp4"
    f.write_bytes(blob)
    return packet_info(f)


def audio_channels(path: Path) -> int:
    """Channels of the first audio stream of ``path`` (a file with no video, e.g. an audio init segment)."""
    res = ffmpeg.run(["-i", path, "-t", "0", "-f", "null", "-"], what="audio header")
    m = re.search(r"Audio: [^\n]*?, \d+ Hz, ([^,\n]+)", res.stderr)
    assert m, res.stderr[-500:]
    return {"mono": 1, "stereo": 2, "5.1": 6, "5.1(side)": 6}[m.group(1).strip()]


def make_clip(dest: Path, start_s: float, duration_s: float, size: str = "320x180", extra: list | None = None) -> Path:
    """A piece of the bundled sample, scaled down, H.264 + AAC (keeps its 5.1 audio)."""
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-ss",
            f"{start_s}",
            "-i",
            SAMPLE,
            "-t",
            f"{duration_s}",
            "-s",
            size,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            *(extra or []),
            dest,
        ],
        what="test clip",
    )
    return dest


SMALL = (192, 108)


class SmallFirstShot(Allocator):
    """A plan that shows the packaging a size change: every even shot (the first too) at a smaller size."""

    name = "test-small-even-shots"

    def allocate(self, analysis, rungs, executor=None) -> EncodePlan:
        points = {
            r.id: [
                RatePoint("crf", 30, r.maxrate_kbps, r.bufsize_kbps, *(SMALL if s.index % 2 == 0 else (0, 0)))
                for s in analysis.shots
            ]
            for r in rungs
        }
        return EncodePlan(self.name, list(rungs), analysis.shots, points)
