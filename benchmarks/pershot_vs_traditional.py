"""Per-shot (``shotenc encode``'s default mode unless ``--mode``) vs the traditional fixed ladder.

For each clip and codec: BD-rate of per-shot against 2-pass VBR and against capped 1-pass (VMAF
and PSNR, PCHIP, over every rung at x0.5/x0.75/x1/x1.5 of its bitrate), the worst-shot VMAF of each
method, each rung's rate error against its target (per-shot, at x1), and the probe cost relative
to the final per-shot encodes of the ladder. Per-shot is exactly what ``shotenc encode`` publishes.

Clips: the benchmark corpus (``benchmarks/corpus.py``: seven varied multi-shot clips, built once
and cached; needs ``pip install -e .[bench]``).

Run: ``python benchmarks/pershot_vs_traditional.py [--clips sample,photos24,...]
[--codecs h264,hevc,vp9,av1] [--mode crf] [--auto-ladder] [--fixed-size] [-o benchmarks/results]``
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

sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402
from shotenc.allocators import DEFAULT  # noqa: E402
from shotenc.quality.compare import CompareOptions, compare  # noqa: E402


def summarize(name: str, report: dict) -> list[str]:
    lines = [
        f"## {name}: {report['source']['width']}x{report['source']['height']}, "
        f"{report['source']['duration_s']:.1f} s, {len(report['shots'])} shots, mode {report['mode']}"
    ]
    peers = ("2pass-vbr", "2pass-capped", "1pass-capped")
    lines.append(
        "| codec | BD-rate VMAF vs 2-pass | vs 2-pass capped | vs 1-pass capped | BD-rate PSNR vs 2-pass |"
        " vs 2-pass capped | vs 1-pass capped | worst-shot VMAF per-shot / 2-pass / 2-pass capped / 1-pass"
        " (lowest over rungs at x1) | rung rate error at x1 |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for codec, res in report["bd_rate"].items():

        def pct(anchor: str, metric: str, res: dict = res) -> str:
            v = res[f"vs_{anchor}"][metric]["value"]
            return "n/a" if v is None else f"{v:+.1f}%"

        worst = {}
        errors = []
        for r in report["renditions"]:
            if r["codec"] == codec and r["scale"] == 1:
                worst[r["method"]] = min(worst.get(r["method"], 101.0), r["vmaf_worst_shot"])
                if r["method"] == "per-shot":
                    errors.append(f"{r['kbps'] / r['target_kbps'] - 1:+.1%}")
        cells = [pct(p, m) for m in ("vmaf", "psnr") for p in peers]
        worsts = " / ".join(f"{worst.get(m, 0):.1f}" for m in ("per-shot", *peers))
        lines.append(f"| {codec} | {' | '.join(cells)} | {worsts} | {' '.join(errors)} |")
    c = report["cost"]
    if c.get("probe_cpu_s") is not None:
        lines.append(
            f"\nProbe cost: {c['probe_cpu_s']:.1f} s (wall {c['probe_wall_s']:.1f} s) vs final per-shot "
            f"encodes of the ladder {c['final_encode_cpu_s']:.1f} s: ratio {c['probe_to_final_ratio']:.2f} "
            f"(vs all {len(report['scales'])} scaled ladders: {c['probe_to_all_encodes_ratio']:.2f})."
        )
    two_pass = sum(r["encode_s"] for r in report["renditions"] if r["method"] == "2pass-vbr" and r["scale"] == 1)
    if two_pass:
        ours = (c.get("probe_cpu_s") or 0.0) + c["final_encode_cpu_s"]
        lines.append(
            f"Encoder seconds at x1, per-shot (probes + chunks) vs plain FFmpeg 2-pass: {ours:.1f} s vs "
            f"{two_pass:.1f} s, ratio {ours / two_pass:.2f} (shot detection and packaging not included)."
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default=",".join(corpus.CLIPS))
    ap.add_argument("--codecs", default="h264,hevc,vp9,av1")
    ap.add_argument("--mode", default=DEFAULT)
    ap.add_argument("--auto-ladder", action="store_true")
    ap.add_argument("--fixed-size", action="store_true", help="hull/model: every shot of a rung at the rung's size")
    ap.add_argument("--ladder", default=str(ROOT / "benchmarks" / "ladder-bench.toml"))
    # compare's own default, every frame: scoring every 2nd picks, shot by shot, the encoder's better or
    # worse frame types (flat_anim: +7.6% against 2-pass scored at 2, -3.3% at 1, the same files)
    ap.add_argument("--n-subsample", type=int, default=CompareOptions.n_subsample)
    ap.add_argument("-o", "--output", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args()
    paths = corpus.corpus_paths(args.clips.split(","))
    out_root = Path(args.output)
    lines = []
    for name in args.clips.split(","):
        t0 = time.perf_counter()
        opts = CompareOptions(
            ladder=args.ladder,
            codecs=args.codecs.split(","),
            mode=args.mode,
            auto_ladder=args.auto_ladder,
            per_shot_sizes=not args.fixed_size,
            n_subsample=args.n_subsample,
        )
        flags = ("-auto" if args.auto_ladder else "") + ("-fixed" if args.fixed_size else "")
        tag = f"{name}-{args.mode}{flags}-{args.codecs.replace(',', '+')}"
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
