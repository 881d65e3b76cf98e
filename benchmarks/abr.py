"""ABR benchmark: Sabre's own figures beside ours, per shared trace set and rule.

Sabre itself (``shared/sabre/sabre.py``, unmodified) is run as a separate process on every trace
of every shared set, for BOLA-E, BOLA, the throughput rule and DYNAMIC; our rules of the same
names, and ours only (BBA, the default rule), play the same sessions in our session model. The
setting is Sabre's: bbb.json (bbb4k.json for the 4G logs), 25 s buffer, Sabre's score. Pensieve's
text traces are written as Sabre JSON (80 ms latency, Pensieve's RTT) so both simulators read the
same periods. For each set: mean played bitrate, rebuffer ratio and score, Sabre's and ours, and
the share of traces on which the default rule's score beats Sabre's BOLA-E and DYNAMIC.

Two more parts: what publishing segment sizes in the manifest buys the default rule (the same
sessions with and without them, on our own per-shot encode and on Sabre's movie), and startup
delay in real sessions (HTTP through the edge, every segment decoded) with the first shot split at
1.5 s and kept whole.

Run: ``PYTHONPATH=src python benchmarks/abr.py [--quick] [--sets 3Glogs,hd_fs] [--parts sabre,sizes,startup]``
"""

from __future__ import annotations

import argparse
import json
import statistics as st
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from own_encode import own_encode, own_title  # noqa: E402
from sabre_runner import ALGORITHMS, run_many  # noqa: E402
from shotenc.delivery.player import abr  # noqa: E402
from shotenc.delivery.player.client import PlayOptions, local_edge, play_url  # noqa: E402
from shotenc.delivery.player.movie import load_movie  # noqa: E402
from shotenc.delivery.player.network import Network  # noqa: E402
from shotenc.delivery.player.qoe import QOE_LIN, sabre_model  # noqa: E402
from shotenc.delivery.player.session import SessionConfig, run_session  # noqa: E402
from shotenc.delivery.player.traces import constant, load_trace, trace_set, traces_dir  # noqa: E402

SETS = {  # name → (folder under the shared traces, movie)
    "3Glogs": ("sabre_json/3Glogs", "bbb.json"),
    "4Glogs": ("sabre_json/4Glogs", "bbb4k.json"),
    "hd_fs": ("sabre_json/hd_fs", "bbb.json"),
    "pensieve-3G": ("pensieve_fmt/cooked_3gp", "bbb.json"),
    "pensieve-FCC": ("pensieve_fmt/fcc_test_traces", "bbb.json"),
}
SABRE_RULES = list(ALGORITHMS)  # bola-e, bola, throughput, dynamic
METRICS = ("score", "kbps", "rebuffer_ratio")
TIE = 1e-5  # Sabre prints six decimals


def as_sabre_json(folder: str, out: Path, limit: int | None) -> list[Path]:
    """The set's traces as Sabre JSON files (copied as they are when they already are)."""
    paths = []
    for src in sorted((traces_dir() / folder).iterdir())[:limit]:
        trace = load_trace(src)
        periods = [
            {"duration_ms": p.duration_s * 1000, "bandwidth_kbps": p.kbps, "latency_ms": p.latency_s * 1000}
            for p in trace.periods
        ]
        dst = out / f"{src.name}.json"
        dst.write_text(src.read_text() if src.suffix == ".json" else json.dumps(periods))
        paths.append(dst)
    return paths


def ours(job: tuple[Path, Path, str]) -> dict:
    trace, movie, rule = job
    title = load_movie(movie)
    model = sabre_model(title.nominal_s)  # the default rule optimises Sabre's score here
    res = run_session(title, Network(load_trace(trace)), abr.make(rule, model), config=SessionConfig(25, qoe=model))
    return {
        "score": res.sabre_score,
        "kbps": res.played_kbps,
        "rebuffer_ratio": res.rebuffer_ratio,
        "startup_s": res.startup_s,
    }


def run_set(name: str, limit: int | None, tmp: Path, pool) -> dict:
    folder, movie_name = SETS[name]
    movie = traces_dir() / "sabre_json" / "manifests" / movie_name
    (tmp / name).mkdir()
    traces = as_sabre_json(folder, tmp / name, limit)
    rules = [*SABRE_RULES, *(r for r in abr.RULES if r not in SABRE_RULES)]
    out = {"traces": len(traces), "sabre": {}, "ours": {}}
    for rule in SABRE_RULES:
        out["sabre"][rule] = run_many([(t, movie, rule) for t in traces])
    for rule in rules:
        out["ours"][rule] = list(pool.map(ours, [(t, movie, rule) for t in traces]))
    return out


def mean(rows: list[dict], key: str) -> float:
    return st.mean(r[key] for r in rows)


def win_rate(a: list[dict], b: list[dict]) -> float:
    """Share of traces where ``a`` scores higher than ``b`` (ties count half)."""
    wins = sum(
        1.0 if x["score"] > y["score"] + TIE else 0.5 if abs(x["score"] - y["score"]) <= TIE else 0.0
        for x, y in zip(a, b, strict=True)
    )
    return wins / len(a)


def report(name: str, res: dict) -> None:
    print(f"\n{name} ({res['traces']} traces, {SETS[name][1]}, 25 s buffer)")
    print(
        f"  {'rule':<11}{'Sabre: score':>13}{'kbps':>8}{'rebuf':>8}   {'ours: score':>12}{'kbps':>8}{'rebuf':>8}"
        f"   {'Δscore':>7}{'Δkbps':>7}{'Δrebuf':>7}"
    )
    for rule, rows in res["ours"].items():
        ref = res["sabre"].get(rule)
        o = [mean(rows, k) for k in METRICS]
        line = f"  {rule:<11}"
        if ref:
            s = [mean(ref, k) for k in METRICS]
            line += f"{s[0]:>13.3f}{s[1]:>8.0f}{s[2]:>8.4f}   "
            d = [(a - b) / b * 100 if b else 0.0 for a, b in zip(o, s, strict=True)]
            tail = f"   {d[0]:>6.2f}%{d[1]:>6.2f}%{d[2]:>6.2f}%"
        else:
            line += " " * 32
            tail = ""
        print(line + f"{o[0]:>12.3f}{o[1]:>8.0f}{o[2]:>8.4f}" + tail)
    default = res["ours"][abr.DEFAULT_RULE]
    print(
        f"  {abr.DEFAULT_RULE} wins on {win_rate(default, res['sabre']['bola-e']):.0%} of traces against Sabre's "
        f"BOLA-E, {win_rate(default, res['sabre']['dynamic']):.0%} against Sabre's DYNAMIC; median startup "
        f"{st.median(r['startup_s'] for r in default):.2f} s"
    )


def with_and_without_sizes(job: tuple[str, str, bool]) -> dict:
    """The default rule on one trace, planning on published segment sizes or on bitrate × duration."""
    name, trace, sizes = job
    title = own_title(loops=12) if name == "own" else load_movie(traces_dir() / "sabre_json" / "manifests" / name)
    title.sizes_published = sizes
    model = sabre_model(title.nominal_s) if name != "own" else QOE_LIN
    res = run_session(
        title, Network(load_trace(trace)), abr.make(abr.DEFAULT_RULE, model), config=SessionConfig(25, qoe=model)
    )
    return {"qoe": res.qoe, "score": res.sabre_score, "rebuffer_ratio": res.rebuffer_ratio, "kbps": res.avg_kbps}


def sizes_report(limit: int | None, pool) -> None:
    own_encode()  # once, before the workers read it
    print(f"\nSegment sizes in the manifest: {abr.DEFAULT_RULE} with and without them (same traces, 25 s buffer)")
    print(
        f"  {'title':<10}{'traces':<26}{'QoE with':>10}{'without':>9}{'score with':>12}{'without':>9}"
        f"{'rebuf with':>12}{'without':>9}"
    )
    for movie, folder in (
        ("own", "pensieve_fmt/cooked_3gp"),
        ("own", "pensieve_fmt/fcc_test_traces"),
        ("own", "sabre_json/3Glogs"),
        ("bbb.json", "sabre_json/3Glogs"),
        ("bbb.json", "sabre_json/hd_fs"),
    ):
        traces = sorted((traces_dir() / folder).iterdir())[:limit]
        rows = {s: list(pool.map(with_and_without_sizes, [(movie, t, s) for t in traces])) for s in (True, False)}
        w, wo = rows[True], rows[False]
        label = "own, QoE_lin" if movie == "own" else "bbb, log"
        print(
            f"  {label:<10}{folder:<26}{mean(w, 'qoe'):>10.1f}{mean(wo, 'qoe'):>9.1f}{mean(w, 'score'):>12.3f}"
            f"{mean(wo, 'score'):>9.3f}{mean(w, 'rebuffer_ratio'):>12.4f}{mean(wo, 'rebuffer_ratio'):>9.4f}"
        )


def startup_report(limit: int | None) -> None:
    """Real sessions (HTTP through the edge, every segment decoded) on a title that opens on a long
    shot (the sample rotated to start on its 5.28 s shot), with that shot split at 1.5 s and kept
    whole, on the shared 3G traces and a flat 1 Mbit/s link."""
    print(f"\nStartup (request of the manifest to the first frame), {abr.DEFAULT_RULE}, real HTTP sessions:")
    for first in (1.5, 0.0):
        folder = own_encode(first, "long-first")
        first_s = json.loads((folder / "report.json").read_text())["renditions"][0]["segments"][0]["duration_s"]
        with local_edge(folder) as edge:
            url = [f"{edge.url}/{folder.name}/manifest.mpd"]
            for name, traces in (
                ("pensieve 3G", trace_set("pensieve_fmt/cooked_3gp")[:limit]),
                ("Sabre 3Glogs", trace_set("sabre_json/3Glogs")[:limit]),
                ("flat 1 Mbit/s", [constant(1000, 0.08)]),
            ):
                reps = [play_url(url, PlayOptions(t, decode=True, optimum=False)) for t in traces]
                starts = [r.session.startup_s for r in reps]
                errors = sum(len(r.decode_errors) for r in reps)
                print(
                    f"  first segment {first_s:.2f} s, {name:<14} {len(reps):>3} sessions: median "
                    f"{st.median(starts):.2f} s, max {max(starts):.2f} s, {errors} decode errors"
                )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="8 traces per set")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--parts", default="sabre,sizes,startup")
    args = ap.parse_args()
    limit = 8 if args.quick else None
    parts = args.parts.split(",")
    print(f"traces: {traces_dir()}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(2) as pool:
        if "sabre" in parts:
            for name in args.sets.split(","):
                report(name, run_set(name, limit, Path(tmp), pool))
        if "sizes" in parts:
            sizes_report(limit, pool)
    if "startup" in parts:
        startup_report(limit)
    print(f"\n{time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
