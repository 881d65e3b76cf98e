"""ABR benchmark: every rule over the shared traces, against the offline optimum and Sabre's figures.

Three parts:
1. Sabre's setting (bbb.json for 3G and FCC traces, bbb4k.json for 4G, 25 s buffer), scored with
   Sabre's own score, next to the reference table in the traces README. The hybrid here optimises
   the log utility that score uses (rebuffer weight 5 per segment).
2. QoE_lin (MPC/Pensieve: Mbps utility, 4.3 per rebuffer second, 1 per Mbps of switch) on our own
   encode (the bundled sample through the pipeline with a six-rung H.264 ladder at Pensieve's rates,
   its real segment sizes, looped to make a longer title), on Pensieve's 3G and FCC traces, 60 s
   buffer, 80 ms RTT; plus Sabre's movies with QoE_lin. Fraction of optimum = mean QoE / mean
   offline-optimum QoE on the same sessions.
3. Real sessions: a few traces played over HTTP through the edge with every segment decoded, for
   startup delay (request to first frame, model time) on real media.

Run: ``PYTHONPATH=src python benchmarks/abr.py [--quick]``
"""

from __future__ import annotations

import argparse
import statistics as st
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shotenc.delivery.manifests import load as load_manifest  # noqa: E402
from shotenc.delivery.player import abr  # noqa: E402
from shotenc.delivery.player import movie as sabre  # noqa: E402
from shotenc.delivery.player.client import PlayOptions, build_title, local_edge, play_url  # noqa: E402
from shotenc.delivery.player.network import Network  # noqa: E402
from shotenc.delivery.player.optimum import offline_optimum  # noqa: E402
from shotenc.delivery.player.qoe import QOE_LIN, QoEModel  # noqa: E402
from shotenc.delivery.player.session import SessionConfig, Title, run_session  # noqa: E402
from shotenc.delivery.player.traces import trace_set, traces_dir  # noqa: E402

RULES = ["throughput", "bba", "bola-e", "hybrid"]
REFERENCE = {  # traces README: Sabre run with BOLA-E and the throughput rule, mean over traces
    "4Glogs": {"bola-e": (26868, 0.0018, 3.127), "throughput": (17429, 0.0017, 2.700)},
    "3Glogs": {"bola-e": (1235, 0.0739, 0.984), "throughput": (887, 0.0643, 0.779)},
    "hd_fs": {"bola-e": (4402, 0.0002, 2.747), "throughput": (3728, 0.0269, 2.333)},
}
CACHE = ROOT / ".cache" / "abr-bench"


def own_title(loops: int) -> Title:
    """The sample encoded by the real pipeline (six H.264 rungs), looped ``loops`` times."""
    out = CACHE / "sample"
    if not (out / "report.json").is_file():
        from shotenc.pipeline import EncodeOptions, encode_title

        encode_title(
            ROOT / "samples" / "sample.mp4", out, EncodeOptions(ladder=str(ROOT / "benchmarks" / "abr-ladder.toml"))
        )
    import json

    pres = load_manifest(str(out / "manifest.mpd"), lambda u: Path(u).read_text())
    _, rends = pres.group_for("h264")
    title, exact = build_title(pres, rends, json.loads((out / "report.json").read_text()))
    assert exact
    return Title(
        f"sample (own encode) x{loops}",
        title.rung_ids,
        title.bitrates_kbps,
        title.segment_s * loops,
        title.sizes_bytes * loops,
    )


def run(title: Title, traces, cfg: SessionConfig, rules=RULES) -> dict:
    rows: dict[str, list] = {r: [] for r in rules}
    opt = []
    for tr in traces:
        net = Network(tr)
        opt.append(offline_optimum(title, net, cfg).qoe)
        for r in rules:
            rows[r].append(run_session(title, net, abr.make(r, cfg.qoe), config=cfg))
    duration = sum(title.segment_s)
    out = {}
    for r, res in rows.items():
        q = st.mean(x.qoe_lin for x in res)
        out[r] = {
            "qoe": q,
            "sabre": st.mean(x.sabre_score for x in res),
            "kbps": st.mean(x.avg_kbps for x in res),
            "rebuf_s": st.mean(x.rebuffer_s for x in res),
            "rebuf_ratio": st.mean(x.rebuffer_s / duration for x in res),
            "switches": st.mean(x.switches for x in res),
            "startup_med": st.median(x.startup_s for x in res),
            "frac": q / st.mean(opt) if st.mean(opt) > 0 and q > 0 else None,
        }
    out["optimum"] = {"qoe": st.mean(opt)}
    return out


def table(title: str, res: dict, sabre_ref: dict | None = None) -> None:
    print(f"\n{title}")
    print(
        f"  {'rule':<11}{'QoE':>9}{'of opt':>8}{'Sabre':>8}{'kbps':>8}{'rebuf s':>9}{'ratio':>8}"
        f"{'switch':>8}{'start s':>8}" + ("   Sabre ref: kbps / ratio / score" if sabre_ref else "")
    )
    for r, v in res.items():
        if r == "optimum":
            print(f"  {'optimum':<11}{v['qoe']:>9.1f}")
            continue
        frac = f"{v['frac']:.0%}" if v["frac"] is not None else "-"
        ref = sabre_ref.get(r) if sabre_ref else None
        print(
            f"  {r:<11}{v['qoe']:>9.1f}{frac:>8}{v['sabre']:>8.3f}{v['kbps']:>8.0f}{v['rebuf_s']:>9.2f}"
            f"{v['rebuf_ratio']:>8.4f}{v['switches']:>8.1f}{v['startup_med']:>8.2f}"
            + (f"   {ref[0]:>6} / {ref[1]:.4f} / {ref[2]:.3f}" if ref else "")
        )


def real_sessions(n: int) -> None:
    """Real HTTP + decode sessions on the own encode (not looped), for startup and sanity."""
    out = CACHE / "sample"
    for folder in ("pensieve_fmt/cooked_3gp", "pensieve_fmt/fcc_test_traces"):
        starts, decoded, errors, qoe = [], 0, 0, []
        t0 = time.monotonic()
        with local_edge(out) as e:
            for tr in trace_set(folder)[:n]:
                rep = play_url([f"{e.url}/sample/manifest.mpd"], PlayOptions(tr, abr="hybrid", max_buffer_s=60))
                starts.append(rep.session.startup_s)
                decoded += rep.decoded_segments
                errors += len(rep.decode_errors)
                qoe.append(rep.session.qoe_lin)
        print(
            f"  {folder}: {n} sessions, startup median {st.median(starts):.2f} s (max {max(starts):.2f}), "
            f"{decoded} segments decoded, {errors} decode errors, {time.monotonic() - t0:.1f} s wall"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="8 traces per set")
    args = ap.parse_args()
    limit = 8 if args.quick else None
    print(f"traces: {traces_dir()}")
    t0 = time.monotonic()
    movies = traces_dir() / "sabre_json" / "manifests"
    sabre_qoe = QoEModel("log", 5.0 / 3.0, 1.0)  # Sabre's score: 5 per segment of rebuffer, 3 s segments
    for folder, movie in (("hd_fs", "bbb"), ("3Glogs", "bbb"), ("4Glogs", "bbb4k")):
        title = sabre.load_movie(movies / f"{movie}.json")
        traces = trace_set(f"sabre_json/{folder}")[:limit]
        res = run(title, traces, SessionConfig(max_buffer_s=25, qoe=sabre_qoe))
        table(
            f"Sabre setting: {folder} x {movie}.json, {len(traces)} traces, 25 s buffer, hybrid on log utility",
            res,
            REFERENCE[folder],
        )
    own = own_title(loops=12)
    for folder in ("pensieve_fmt/fcc_test_traces", "pensieve_fmt/cooked_3gp"):
        traces = trace_set(folder)[:limit]
        res = run(own, traces, SessionConfig(max_buffer_s=60, qoe=QOE_LIN))
        table(f"QoE_lin: {own.name} on {folder}, {len(traces)} traces, 60 s buffer, 80 ms RTT", res)
    for folder, movie in (("hd_fs", "bbb"), ("3Glogs", "bbb"), ("4Glogs", "bbb4k")):
        title = sabre.load_movie(movies / f"{movie}.json")
        traces = trace_set(f"sabre_json/{folder}")[:limit]
        res = run(title, traces, SessionConfig(max_buffer_s=25, qoe=QOE_LIN))
        table(f"QoE_lin: {movie}.json on {folder}, {len(traces)} traces, 25 s buffer", res)
    print("\nReal sessions (HTTP through the edge, every segment decoded), hybrid, own encode:")
    real_sessions(4 if args.quick else 10)
    print(f"\n{time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
