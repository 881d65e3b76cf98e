"""Wall time of `shotenc encode` vs a plain FFmpeg encode of the same ladder, side by side.

Plain FFmpeg: one pass per rung from the source (same encoder, preset, target bitrate and VBV cap,
every encoder with its own automatic threading), run one after another as a user would.
shotenc: the whole job (probe, shot analysis, allocation, per-shot encodes in parallel,
packaging into CMAF with DASH + HLS manifests, audio).

    python benchmarks/overhead.py [SOURCE] [--ladder default] [--codecs h264,vp9] [--repeat 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from shotenc.allocators.base import RatePoint
from shotenc.encode.chunk import encoder_args
from shotenc.jobs.executors import cores
from shotenc.ladder import fit_to_source, load_ladder
from shotenc.media import ffmpeg
from shotenc.media.normalize import video_filters
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title

ROOT = Path(__file__).resolve().parents[1]


def plain_ffmpeg(source: Path, ladder: str, codecs: list[str] | None, out: Path) -> dict[str, float]:
    media = probe(source)
    times: dict[str, float] = {}
    for rung in fit_to_source(load_ladder(ladder), media.width, media.height, codecs):
        rate = RatePoint("bitrate", rung.bitrate_kbps, rung.maxrate_kbps, rung.bufsize_kbps)
        args = encoder_args(
            rung.codec, rung.preset, rate, frames=int(2 * float(media.fps)) - 1, threads=0, options=rung.options
        )
        t = time.perf_counter()
        ffmpeg.run(
            [
                "-y",
                "-v",
                "error",
                "-i",
                source,
                "-map",
                "0:v:0",
                "-an",
                "-vf",
                video_filters(media, rung.width, rung.height),
                *args,
                "-f",
                "mp4",
                out / f"{rung.id}.mp4",
            ],
            what=f"plain {rung.id}",
        )
        times[rung.id] = time.perf_counter() - t
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", nargs="?", default=str(ROOT / "samples" / "sample.mp4"))
    ap.add_argument("--ladder", default="default")
    ap.add_argument("--codecs", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    codecs = a.codecs.split(",") if a.codecs else None
    source = Path(a.source)
    best_plain, best_shot = float("inf"), float("inf")
    per_codec_plain: dict[str, float] = {}
    for _ in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            per_rung = plain_ffmpeg(source, a.ladder, codecs, Path(tmp))
            best_plain = min(best_plain, time.perf_counter() - t)
            for rid, s in per_rung.items():
                per_codec_plain[rid.split("-")[0]] = per_codec_plain.get(rid.split("-")[0], 0) + s
            t = time.perf_counter()
            result = encode_title(source, Path(tmp) / "title", EncodeOptions(ladder=a.ladder, codecs=codecs))
            best_shot = min(best_shot, time.perf_counter() - t)
    timings = result.report["timings"]
    print(f"source: {source.name}  ladder: {a.ladder}  codecs: {codecs or 'all'}  cores: {cores()}")
    print(f"renditions: {len(result.report['renditions'])}  shots: {len(result.report['shots'])}")
    print(f"plain FFmpeg, one pass per rung : {best_plain:8.2f} s")
    print(f"shotenc encode (whole job)      : {best_shot:8.2f} s")
    print("  stages: " + ", ".join(f"{k[:-2]} {v:.2f}s" for k, v in timings.items() if k != "total_s"))
    print(f"wall-time ratio shotenc / FFmpeg: {best_shot / best_plain:8.3f}  (goal <= 1.0)")
    print("plain FFmpeg seconds per codec  : " + ", ".join(f"{k} {v:.2f}" for k, v in per_codec_plain.items()))


if __name__ == "__main__":
    main()
