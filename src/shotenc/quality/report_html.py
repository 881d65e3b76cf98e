"""A self-contained HTML page for a ``compare`` report: tables plus matplotlib plots inlined as PNG."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

COLORS = {"per-shot": "#1f77b4", "2pass-vbr": "#d62728", "1pass-capped": "#ff7f0e"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _shot_edges(report: dict) -> list[float]:
    shots = report["shots"]
    return [s["start_s"] for s in shots] + [shots[-1]["start_s"] + shots[-1]["duration_s"]]


def _per_shot_plots(report: dict, codec: str) -> str:
    """Bitrate and VMAF per shot over time for the codec's top rung at scale 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rends = [r for r in report["renditions"] if r["codec"] == codec and r["scale"] == 1]
    if not rends:
        return ""
    top = max(rends, key=lambda r: r["target_kbps"])["ladder_rung"]
    mine = [r for r in rends if r["ladder_rung"] == top]
    edges = _shot_edges(report)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for r in mine:
        kbps = [s["kbps"] for s in r["shots"]]
        vmaf = [s["vmaf"] for s in r["shots"]]
        c = COLORS.get(r["method"])
        ax1.stairs(kbps, edges, label=f"{r['method']} ({r['kbps']:.0f} kbps)", color=c, linewidth=2, baseline=None)
        ax2.stairs(
            vmaf,
            edges,
            label=f"{r['method']} (mean {r['vmaf']:.1f}, worst shot {r['vmaf_worst_shot']:.1f})",
            color=c,
            linewidth=2,
            baseline=None,
        )
    ax1.axhline(mine[0]["target_kbps"], color="gray", linestyle=":", label="rung target (traditional: flat)")
    ax1.set_ylabel("kbps per shot")
    ax1.legend(fontsize=8)
    ax1.set_title(f"{codec}: rung {top}, bitrate per shot")
    ax2.set_ylabel("VMAF per shot")
    ax2.set_xlabel("time (s)")
    ax2.legend(fontsize=8)
    return _png(fig)


def _size_plot(report: dict, codec: str) -> str:
    """The picture height each shot was given in every per-shot rung at scale 1 (when any rung changes size)."""
    rends = [r for r in report["renditions"] if r["codec"] == codec and r["scale"] == 1 and r["method"] == "per-shot"]
    if not any(len({s.get("height") for s in r["shots"]}) > 1 for r in rends):
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3))
    for r in sorted(rends, key=lambda r: -r["target_kbps"]):
        ax.stairs([s["height"] for s in r["shots"]], _shot_edges(report), label=r["rung"], linewidth=2, baseline=None)
    ax.set_ylabel("height per shot")
    ax.set_xlabel("time (s)")
    ax.set_title(f"{codec}: picture size chosen per shot (per-shot sizes)")
    ax.legend(fontsize=8)
    return _png(fig)


def _rq_plot(report: dict, codec: str) -> str:
    """Rate-quality points of every method (all rungs and scales), with their Pareto curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..allocators.convex import RDPoint, pareto_front

    fig, ax = plt.subplots(figsize=(9, 5))
    for method, color in COLORS.items():
        pts = [
            RDPoint(r["kbps"], r["vmaf"]) for r in report["renditions"] if r["codec"] == codec and r["method"] == method
        ]
        if not pts:
            continue
        ax.scatter([p.kbps for p in pts], [p.quality for p in pts], color=color, s=18, alpha=0.6)
        front = pareto_front(pts)
        ax.plot([p.kbps for p in front], [p.quality for p in front], color=color, label=method, linewidth=2)
    ax.set_xscale("log")
    ax.set_xlabel("kbps (log)")
    ax.set_ylabel("VMAF")
    ax.set_title(f"{codec}: rate-quality over the ladder (lines: Pareto fronts used for BD-rate)")
    ax.legend()
    return _png(fig)


def _hull_plot(report: dict, codec: str) -> str:
    """Each shot's convex hull from the probes, at every probed size (hull mode only)."""
    hulls = (report.get("plan") or {}).get("hulls", {}).get(codec)
    if not hulls:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    n = len(report["shots"])
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for i in range(n):
        ax = axes[i // cols][i % cols]
        for size, per_shot in hulls.items():
            pts = per_shot[i]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=size)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"shot {i} (complexity {report['shots'][i]['complexity']:.0f})", fontsize=9)
        ax.tick_params(labelsize=7)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{codec}: per-shot convex hulls from probes (kbps vs VMAF)")
    return _png(fig)


def _table(head: list[str], rows: list[list]) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}th{background:#f3f3f3}"
)
_RUNG_HEAD = ["codec", "rung", "scale", "method", "size", "target kbps", "kbps", "VMAF mean", "VMAF worst shot",
              "VMAF p5 (frames)", "PSNR"]  # fmt: skip


def render(report: dict) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>shotenc compare</title><style>{_STYLE}</style>"
        "</head><body>",
        _summary(report),
        "<h2>Per rung</h2>",
        _rung_table(report),
    ]
    for codec in report["codecs"]:
        parts += [f"<h2>{html.escape(codec)}</h2>", _per_shot_plots(report, codec), _size_plot(report, codec)]
        parts += [_rq_plot(report, codec)]
        parts += [_hull_plot(report, codec), _shot_table(report, codec)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(report: dict) -> str:
    src = report["source"]
    parts = [
        f"<h1>Per-shot vs traditional: {html.escape(Path(src['path']).name)}</h1>",
        f"<p>{src['width']}x{src['height']}, {src['duration_s']:.2f} s, {len(report['shots'])} shots; "
        f"ladder <b>{html.escape(report['ladder'])}</b>, mode <b>{html.escape(report['mode'])}</b>, "
        f"rung bitrates x {', '.join(f'{s:g}' for s in report['scales'])}. Traditional: one bitrate per rung "
        f"for the whole title, {report['gop_s']:g} s closed GOP.</p>",
        "<h2>BD-rate (per-shot vs traditional; negative = fewer bits for the same quality)</h2>",
    ]
    rows = []
    for codec, res in report["bd_rate"].items():
        for anchor, row in res.items():
            rows.append([codec, anchor.replace("vs_", ""), _pct(row["vmaf"]), _pct(row["psnr"])])
    parts.append(_table(["codec", "anchor", "BD-rate VMAF", "BD-rate PSNR"], rows))
    cost = report.get("cost", {})
    if cost.get("probe_cpu_s") is not None:
        parts.append(
            f"<p>Probe cost: {cost['probe_cpu_s']:.1f} s of probe work vs {cost['final_encode_cpu_s']:.1f} s "
            f"of final per-shot encodes at scale 1 (ratio {cost.get('probe_to_final_ratio', 0):.2f}).</p>"
        )
    return "\n".join(parts)


def _rung_table(report: dict) -> str:
    rows = [
        [r["codec"], r["ladder_rung"], f"x{r['scale']:g}", method, f"{m['width']}x{m['height']}", r["target_kbps"],
         m["kbps"], m["vmaf"], m["vmaf_worst_shot"], m["vmaf_p5"], m["psnr"]]
        for r in report["rungs"]
        for method, m in r["methods"].items()
    ]  # fmt: skip
    return _table(_RUNG_HEAD, rows)


def _shot_table(report: dict, codec: str) -> str:
    """Every shot of the codec's top rung at scale 1: each method's rate and VMAF, and the per-shot CRF."""
    rends = [r for r in report["renditions"] if r["codec"] == codec and r["scale"] == 1]
    if not rends:
        return ""
    top = max(rends, key=lambda r: r["target_kbps"])["ladder_rung"]
    mine = {r["method"]: r for r in rends if r["ladder_rung"] == top}
    rows = []
    for s in report["shots"]:
        row = [s["index"], s["start_s"], s["duration_s"], s["complexity"]]
        for method in report["methods"]:
            sh = mine[method]["shots"][s["index"]] if method in mine else None
            row += [sh["kbps"], sh["vmaf"]] if sh else [None, None]
        row.append(mine["per-shot"]["shots"][s["index"]].get("crf") if "per-shot" in mine else None)
        rows.append(row)
    head = ["shot", "start s", "dur s", "complexity"]
    for method in report["methods"]:
        head += [f"{method} kbps", f"{method} VMAF"]
    return f"<h3>Per shot, rung {html.escape(top)}</h3>" + _table([*head, "per-shot CRF"], rows)


def _pct(entry: dict) -> str:
    v = entry.get("value")
    if v is None:
        return f"n/a ({entry.get('note', '')})"
    return f"{v:+.1f}%" + (f" ({entry['note']})" if entry.get("note") else "")


def write_html(report: dict, path: str | Path) -> None:
    Path(path).write_text(render(report), encoding="utf-8")
