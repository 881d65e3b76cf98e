"""``shotenc encode --mode ... --measure-vmaf`` and ``shotenc train`` from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from shotenc.__main__ import main
from shotenc.allocators.rate_quality import RateQualityModel


def test_encode_hull_mode_measures_vmaf_into_the_report(q_clip, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTENC_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "title"
    opts = "--ladder tiny --codecs h264 --mode hull --measure-vmaf --json".split()
    args = ["encode", str(q_clip), "-o", str(out), *opts]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["allocator"] == "hull"
    for rend in report["renditions"]:
        assert all(row["rate"]["kind"] == "crf" for row in rend["shots"])
        seg_vmaf = [s["vmaf"] for s in rend["segments"]]
        assert len(seg_vmaf) == len(report["shots"]) and all(20 < v <= 100 for v in seg_vmaf)
        assert rend["vmaf_worst_shot"] == min(seg_vmaf)
        assert [row["vmaf"] for row in rend["shots"]] == seg_vmaf
    # the bigger rung is the better one
    by_h = sorted(report["renditions"], key=lambda r: r["height"])
    assert by_h[-1]["vmaf"] > by_h[0]["vmaf"]
    assert report["plan"]["per_shot_sizes"] is True  # each shot may take its own size: the default


def test_fixed_size_keeps_every_shot_at_its_rungs_size(q_clip, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTENC_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "title"
    args = ["encode", str(q_clip), "-o", str(out), *"--ladder tiny --codecs h264 --mode hull --fixed-size".split()]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["plan"]["per_shot_sizes"] is False
    for rend in report["renditions"]:
        assert all(row["rate"]["width"] == 0 for row in rend["shots"])  # 0: the rung's own size
        assert rend["codec_string"].startswith("avc1")  # no size change: parameter sets out of band


def test_bad_mode_combinations_are_one_line_errors(q_clip, tmp_path):
    res = CliRunner().invoke(main, ["encode", str(q_clip), "-o", str(tmp_path / "x"), "--ladder", "auto"])
    assert res.exit_code == 2
    assert "--ladder auto" in res.output and "Traceback" not in res.output


def test_train_writes_a_loadable_model(q_clip, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(q_clip.read_bytes())
    out = tmp_path / "model.json"
    res = CliRunner().invoke(
        main, ["train", str(clips), "-o", str(out), "--codecs", "h264", "--cache", str(tmp_path / "cache")]
    )
    assert res.exit_code == 0, res.output
    model = RateQualityModel.load(out)
    assert model.codecs == ["h264"] and model.fits["h264"]["points"] >= 20
