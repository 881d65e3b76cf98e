"""``shotenc compare`` on a tiny clip: its report's numbers are those of the files it wrote."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from shotenc.__main__ import main
from shotenc.ladder import load_ladder
from shotenc.media.probe import packet_info
from shotenc.quality.metrics import score


@pytest.fixture(scope="module")
def compared(q_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    flags = "--ladder tiny --codecs h264 --mode hull --n-subsample 2 --json"
    args = ["compare", str(q_clip), "-o", str(out), *flags.split()]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    return out, json.loads(res.output)


def test_report_is_written_with_every_method_rung_and_scale(compared):
    out, report = compared
    assert json.loads((out / "compare.json").read_text()) == report
    html = (out / "compare.html").read_text()
    assert html.count("data:image/png;base64,") >= 3 and "BD-rate" in html
    methods = {r["method"] for r in report["renditions"]}
    assert methods == {"per-shot", "2pass-vbr", "2pass-capped", "1pass-capped"}
    n_rungs = 2  # the tiny ladder's H.264 rungs
    assert len(report["renditions"]) == 4 * n_rungs * len(report["scales"])
    assert len(report["rungs"]) == n_rungs * len(report["scales"])
    for entry in report["bd_rate"]["h264"].values():
        for metric in ("vmaf", "psnr"):
            assert entry[metric]["anchor_points"] >= 4 and entry[metric]["test_points"] >= 4
            assert isinstance(entry[metric]["value"], float)
    assert report["cost"]["probe_cpu_s"] > 0 and report["cost"]["final_encode_cpu_s"] > 0


def test_report_numbers_match_a_recomputation_from_the_files(compared, q_media):
    out, report = compared
    duration = q_media.frame_count / float(q_media.fps)
    picked = [r for r in report["renditions"] if r["scale"] == 1]
    for r in picked:
        sizes = [p["size"] for p in sorted(packet_info(out / r["file"]), key=lambda p: p["pts"])]
        assert len(sizes) == q_media.frame_count
        assert r["kbps"] == pytest.approx(sum(sizes) * 8 / duration / 1000, abs=0.01)
        start = 0
        for shot, row in zip(report["shots"], r["shots"], strict=True):
            assert row["bytes"] == sum(sizes[start : start + shot["frames"]])
            start += shot["frames"]
    # quality: rescore two renditions (one per-shot, one traditional) from their files
    for r in [next(x for x in picked if x["method"] == m) for m in ("per-shot", "2pass-vbr")]:
        sc = score(out / r["file"], q_media, n_subsample=2, threads=2)
        assert r["vmaf"] == pytest.approx(sc.vmaf, abs=1e-3)
        assert r["psnr"] == pytest.approx(sc.psnr, abs=1e-3)
        assert r["vmaf_p5"] == pytest.approx(sc.vmaf_percentile(5), abs=1e-3)
        per_shot = [row["vmaf"] for row in r["shots"]]
        assert r["vmaf_worst_shot"] == pytest.approx(min(per_shot), abs=1e-3)


def test_per_shot_renditions_follow_the_plan(compared):
    out, report = compared
    for r in report["renditions"]:
        if r["method"] != "per-shot":
            continue
        crfs = [row["crf"] for row in r["shots"]]
        choice = next(c for c in report["plan"]["rungs"] if c["rung"] == r["rung"])
        assert crfs == [pytest.approx(c) for c in choice["crf"]]
        assert max(row["height"] for row in r["shots"]) == r["height"]  # per-shot sizes: the rung's is the largest
        # chunks are joined as they were made: one keyframe at every shot start
        keys = [i for i, p in enumerate(sorted(packet_info(out / r["file"]), key=lambda p: p["pts"])) if p["key"]]
        starts = [sum(s["frames"] for s in report["shots"][:i]) for i in range(len(report["shots"]))]
        assert set(starts) <= set(keys)


def _lowest_buffer(sizes: list[int], fps: float, maxrate_kbps: float, bufsize_kbps: float) -> float:
    """The least a decoder's VBV buffer holds (filled at maxrate, starting 90% full), in buffers."""
    level, lowest = 0.9 * bufsize_kbps * 1000, float("inf")
    for size in sizes:
        level = min(bufsize_kbps * 1000, level + maxrate_kbps * 1000 / fps) - size * 8
        lowest = min(lowest, level)
    return lowest / (bufsize_kbps * 1000)


def test_capped_renditions_keep_the_rungs_vbv(compared, q_media):
    """The capped 2-pass peer and the per-shot renditions honour the rung's maxrate/bufsize (within a tenth
    of the buffer: x264's VBV plans with predicted frame sizes)."""
    out, report = compared
    bufsize = {r.id: r.bufsize_kbps for r in load_ladder("tiny").rungs}
    checked = 0
    for r in report["renditions"]:
        if r["method"] in ("2pass-capped", "per-shot"):
            sizes = [p["size"] for p in sorted(packet_info(out / r["file"]), key=lambda p: p["pts"])]
            low = _lowest_buffer(sizes, float(q_media.fps), r["maxrate_kbps"], bufsize[r["ladder_rung"]] * r["scale"])
            assert low >= -0.1, (r["method"], r["rung"], low)
            checked += 1
    assert checked == 2 * 2 * len(report["scales"])
