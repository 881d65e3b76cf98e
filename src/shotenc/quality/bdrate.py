"""BD-rate (Bjøntegaard delta rate, PCHIP via the ``bjontegaard`` package) between encoding methods.

Each curve is the Pareto front of one method's renditions of a codec (all rungs, all scales), so a
method is judged by the best it offers at each rate. Negative means fewer bits for the same quality.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from ..allocators.convex import RDPoint, pareto_front

# plain FFmpeg ladders: 2-pass VBR free of the rung's VBV cap (as many encode), 2-pass under the same
# cap every per-shot rendition honours (like for like), and capped 1-pass
TRADITIONAL = ("2pass-vbr", "2pass-capped", "1pass-capped")


def bd_rates(renditions: list[dict], codecs: Sequence[str]) -> dict:
    """BD-rate (VMAF and PSNR, PCHIP) of per-shot against each traditional method, per codec.

    Each curve is the Pareto front of a method's renditions of that codec (all rungs, all scales).
    Negative means per-shot needs fewer bits for the same quality.
    """
    import bjontegaard as bd

    out: dict = {}
    for codec in codecs:
        res: dict = {}
        for anchor in TRADITIONAL:
            row: dict = {}
            for metric in ("vmaf", "psnr"):

                def curve(method: str, metric: str = metric, codec: str = codec) -> list[RDPoint]:
                    pts = [
                        RDPoint(r["kbps"], r[metric])
                        for r in renditions
                        if r["codec"] == codec and r["method"] == method
                    ]
                    return pareto_front(pts)

                a, t = curve(anchor), curve("per-shot")
                entry: dict = {"anchor_points": len(a), "test_points": len(t)}
                if len(a) < 4 or len(t) < 4:
                    entry["value"] = None
                    entry["note"] = "fewer than 4 points on a curve"
                else:
                    try:
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            v = bd.bd_rate(
                                [p.kbps for p in a],
                                [p.quality for p in a],
                                [p.kbps for p in t],
                                [p.quality for p in t],
                                method="pchip",
                                require_matching_points=False,
                            )
                        entry["value"] = None if v is None or not math.isfinite(v) else round(float(v), 3)
                        if caught:  # e.g. too little overlap of the two curves' quality ranges
                            entry["note"] = "; ".join(str(w.message).split(". You can")[0] for w in caught)
                    except (ValueError, AssertionError, ZeroDivisionError) as exc:
                        entry["value"] = None
                        entry["note"] = f"not computable: {exc}"
                row[metric] = entry
            res[f"vs_{anchor}"] = row
        out[codec] = res
    return out
