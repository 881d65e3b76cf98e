"""``shotenc validate`` and ``shotenc play`` on real encodes, good and damaged."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from shotenc.__main__ import main
from shotenc.delivery.player.abr import DEFAULT_RULE
from shotenc.delivery.validate import validate

from .conftest import DATA


def test_good_output_validates_and_plays(sample_encode):
    rep = validate(sample_encode)
    assert rep.ok, [c for c in rep.checks if not c.ok]
    names = " ".join(c.name for c in rep.checks)
    for what in ("aligned", "CODECS", "BANDWIDTH", "TARGETDURATION", "keyframe", "plays end to end"):
        assert what in names
    played = [c for c in rep.checks if c.name.endswith("plays end to end")]
    assert len(played) == 4 + 2  # 4 video renditions (h264 x2, vp9, av1) + 2 audio


def test_declared_bandwidth_off_is_a_defect(title_copy):
    mpd = title_copy / "manifest.mpd"
    text = mpd.read_text()
    m = re.search(r'id="h264-180p"[^>]*bandwidth="(\d+)"', text)
    mpd.write_text(text.replace(f'bandwidth="{m.group(1)}"', f'bandwidth="{int(m.group(1)) * 2}"', 1))
    rep = validate(title_copy, play=False)
    bad = [c.name for c in rep.defects]
    assert bad == ["dash: h264-180p @bandwidth vs measured peak"]


def test_extinf_over_target_and_corrupt_segment_fail_cli(title_copy):
    pl = title_copy / "video" / "vp9-180p" / "playlist.m3u8"
    pl.write_text(re.sub(r"#EXT-X-TARGETDURATION:\d+", "#EXT-X-TARGETDURATION:1", pl.read_text()))
    seg = title_copy / "video" / "av1-180p" / "seg-00002.m4s"
    seg.write_bytes(seg.read_bytes()[: len(seg.read_bytes()) // 3])
    res = CliRunner().invoke(main, ["validate", str(title_copy), "--json"])
    assert res.exit_code == 1
    report = json.loads(res.output)
    bad = {c["name"] for c in report["checks"] if not c["ok"]}
    assert "hls: vp9-180p EXTINF ≤ TARGETDURATION" in bad
    assert any(n.startswith("av1-180p") for n in bad)


def test_missing_segment_is_a_defect(title_copy):
    (title_copy / "video" / "h264-108p" / "seg-00003.m4s").unlink()
    rep = validate(title_copy)
    assert not rep.ok and any("h264-108p" in c.name for c in rep.defects)


def test_cli_play_folder_and_sabre_movie(sample_encode):
    trace = DATA / "traces" / "sabre_hd_fs_trace0000.json"
    res = CliRunner().invoke(main, ["play", str(sample_encode), "--trace", str(trace), "--codec", "h264", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["session"]["abr"] == DEFAULT_RULE and d["decode_errors"] == [] and d["decoded_segments"] > 0
    assert 0 <= d["session"]["fraction_of_optimum"] <= 1
    res = CliRunner().invoke(
        main, ["play", str(DATA / "traces" / "bbb.json"), "--trace", str(trace), "--abr", "bola-e"]
    )
    assert res.exit_code == 0 and "simulation only" in res.output, res.output
    assert "startup" in res.output and "of the way from worst to optimum" in res.output and "Sabre score" in res.output


def test_cli_errors_are_one_line(tmp_path):
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "nope")])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "error" in res.output
    res = CliRunner().invoke(main, ["play", str(tmp_path), "--trace", str(tmp_path / "none.json")])
    assert res.exit_code == 2 and "no such trace" in res.output
    res = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert res.exit_code == 2 and "holds no title" in res.output
