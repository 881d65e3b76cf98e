"""Per-segment sizes in the manifests (DASH byte ranges, HLS EXT-X-BITRATE): they match the files,
the player reads them from the manifest, and validate catches a mismatch."""

from __future__ import annotations

from pathlib import Path

from shotenc.delivery.manifests import load as load_manifest
from shotenc.delivery.player.client import build_title
from shotenc.delivery.validate import validate


def _load(folder: Path, name: str):
    return load_manifest(str(folder / name), lambda u: Path(u).read_text())


def test_manifests_publish_sizes_that_match_the_files(sample_encode):
    dash, hls = _load(sample_encode, "manifest.mpd"), _load(sample_encode, "master.m3u8")
    for r in dash.video + dash.audio:
        assert [s.size_bytes for s in r.segments] == [Path(s.url).stat().st_size for s in r.segments], r.id
    for r in hls.video + hls.audio:
        for s in r.segments:  # EXT-X-BITRATE is in whole kbit/s
            assert abs(s.size_bytes - Path(s.url).stat().st_size) <= 62.5 * s.duration_s + 1, (r.id, s.number)
    text = (sample_encode / "video" / "h264-180p" / "playlist.m3u8").read_text()
    assert text.count("#EXT-X-BITRATE:") == text.count("#EXTINF:")


def test_player_takes_sizes_from_the_manifest_alone(sample_encode):
    pres = _load(sample_encode, "manifest.mpd")
    _, rends = pres.group_for("h264")
    title, exact = build_title(pres, rends, report=None)  # no report.json
    assert exact and title.sizes_published
    assert title.sizes_bits[2] == [8 * Path(r.segments[2].url).stat().st_size for r in rends]


def test_validate_flags_sizes_that_do_not_match(title_copy):
    seg = title_copy / "video" / "h264-108p" / "seg-00002.m4s"
    seg.write_bytes(seg.read_bytes() + b"\0" * 4000)  # a free-box-sized tail the manifests do not know
    rep = validate(title_copy, play=False)
    bad = {c.name for c in rep.defects}
    assert "dash: h264-108p segment sizes match the files" in bad
    assert "hls: h264-108p segment sizes match the files" in bad
    assert "dash: h264-180p segment sizes match the files" not in bad
