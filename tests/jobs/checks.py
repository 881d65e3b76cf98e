"""Checks that a published title is complete and plays: files match the manifests, every rendition decodes."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from helpers import decoded_frames


def validate_title(out: Path, frames: int) -> dict:
    """Every rendition decodes through manifest.mpd to ``frames``; every file the manifests name exists."""
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["frames"] == frames
    mpd = (out / "manifest.mpd").read_text()
    master = (out / "master.m3u8").read_text()
    for r in report["renditions"] + report["audio"]:
        d = out / r["kind"] / r["id"]
        assert r["id"] in mpd and f"{r['kind']}/{r['id']}/playlist.m3u8" in master
        assert (d / "init.mp4").stat().st_size == r["init_bytes"]
        on_disk = sorted(p.name for p in d.glob("seg-*.m4s"))
        assert on_disk == [f"seg-{s['number']:05d}.m4s" for s in r["segments"]]
        for s in r["segments"]:
            assert (d / f"seg-{s['number']:05d}.m4s").stat().st_size == s["bytes"]
        listed = re.findall(r"^(seg-\d+\.m4s)$", (d / "playlist.m3u8").read_text(), re.MULTILINE)
        assert listed == on_disk
    for i in range(len(report["renditions"])):
        assert decoded_frames(out / "manifest.mpd", f"v:{i}") == frames
    return report


def leftovers(folder: Path) -> list[str]:
    """Hidden staging folders (``.<name>.tmp-<pid>``) or anything else half-written beside the outputs."""
    names = [p.name for p in folder.iterdir()]
    return sorted(n for n in names if ".tmp-" in n or ".old-" in n or n.endswith(".part"))


SRC = Path(__file__).resolve().parents[2] / "src"
# fast settings shared by the tests: two H.264 rungs, shots of at most 1.5 s
FAST = ["--ladder", "tiny", "--codecs", "h264", "--max-segment", "1.5", "--min-shot", "0.5"]


def shotenc_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "shotenc", *args]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(SRC), env.get("PYTHONPATH", "")] if p)
    return env
