"""Wall time of `shotenc encode` vs plain FFmpeg encoding the same ladder, side by side.

Plain FFmpeg: per rung, the whole title from the source with the same encoder, preset, target
bitrate and closed 2 s GOP, every encoder with its own automatic threading, rungs one after another
as a user would — once as capped 1-pass, once as 2-pass VBR (the traditional ladder shotenc is
measured against). shotenc: the whole job with no options but the ladder/codecs (probe, analysis,
allocation, per-shot encodes in parallel, packaging into CMAF with DASH + HLS manifests, audio).

    python benchmarks/overhead.py [SOURCE] [--ladder default] [--codecs h264,vp9] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from shotenc.jobs.executors import cores
from shotenc.ladder import fit_to_source, load_ladder
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title
from shotenc.quality.compare import encode_traditional

ROOT = Path(__file__).resolve().parents[1]


def plain_ffmpeg(source: Path, ladder: str, codecs: list[str] | None, method: str, out: Path) -> dict[str, float]:
    """Seconds per rung of a plain FFmpeg ladder (``1pass-capped`` or ``2pass-vbr``)."""
    media = probe(source)
    rungs = fit_to_source(load_ladder(ladder), media.width, media.height, codecs)
    return {r.id: encode_traditional(media, r, method, out / f"{method}-{r.id}.mp4", 2.0, threads=0) for r in rungs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", nargs="?", default=str(ROOT / "samples" / "sample.mp4"))
    ap.add_argument("--ladder", default="default")
    ap.add_argument("--codecs", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    codecs = a.codecs.split(",") if a.codecs else None
    source = Path(a.source)
    best = {"1pass-capped": float("inf"), "2pass-vbr": float("inf"), "shotenc": float("inf")}
    per_codec: dict[str, float] = {}
    for _ in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            for method in ("1pass-capped", "2pass-vbr"):
                t = time.perf_counter()
                per_rung = plain_ffmpeg(source, a.ladder, codecs, method, Path(tmp))
                best[method] = min(best[method], time.perf_counter() - t)
                if method == "2pass-vbr":
                    for rid, s in per_rung.items():
                        per_codec[rid.split("-")[0]] = per_codec.get(rid.split("-")[0], 0) + s
            os.environ["SHOTENC_CACHE"] = str(Path(tmp) / "probe-cache")  # no probe reused from an earlier run
            t = time.perf_counter()
            result = encode_title(source, Path(tmp) / "title", EncodeOptions(ladder=a.ladder, codecs=codecs))
            best["shotenc"] = min(best["shotenc"], time.perf_counter() - t)
    timings = result.report["timings"]
    print(f"source: {source.name}  ladder: {a.ladder}  codecs: {codecs or 'all'}  cores: {cores()}")
    print(f"renditions: {len(result.report['renditions'])}  shots: {len(result.report['shots'])}")
    print(f"plain FFmpeg, capped 1-pass per rung : {best['1pass-capped']:8.2f} s")
    print(f"plain FFmpeg, 2-pass VBR per rung    : {best['2pass-vbr']:8.2f} s")
    print(f"shotenc encode (whole job)           : {best['shotenc']:8.2f} s")
    print("  stages: " + ", ".join(f"{k[:-2]} {v:.2f}s" for k, v in timings.items() if k != "total_s"))
    print(f"wall-time ratio shotenc / 2-pass     : {best['shotenc'] / best['2pass-vbr']:8.3f}  (goal <= 1.0)")
    print(f"wall-time ratio shotenc / 1-pass     : {best['shotenc'] / best['1pass-capped']:8.3f}")
    print("2-pass seconds per codec             : " + ", ".join(f"{k} {v:.2f}" for k, v in per_codec.items()))


if __name__ == "__main__":
    main()
