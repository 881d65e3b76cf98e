"""A full disk or an unwritable output: one-line error, nothing half-published, an older title left intact.

A full disk is simulated with ``RLIMIT_FSIZE`` in the child process (works without root or a
special filesystem): FFmpeg dies of SIGXFSZ and Python's writes fail with EFBIG, as on a full disk.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
from pathlib import Path

import pytest
from checks import FAST, leftovers, shotenc_cmd, subprocess_env, validate_title

LIMIT = 40_000  # bytes: more than any receipt or summary, less than a chunk or a stitched rendition


def run_limited(*args: str, limit: int | None = LIMIT) -> subprocess.CompletedProcess:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        shotenc_cmd(*args),
        env=subprocess_env(),
        preexec_fn=set_limit if limit else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def assert_one_line_error(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shotenc: error:"), res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.timeout(150)
def test_disk_full_during_encode_and_during_packaging_publishes_nothing(tmp_path, tiny_clip, frames):
    out = tmp_path / "out" / "title"
    args = ["encode", str(tiny_clip), "-o", str(out), *FAST, "--json"]

    res = run_limited(*args)  # the first chunk does not fit
    assert_one_line_error(res)
    assert "too large" in res.stderr
    assert not out.exists() and leftovers(out.parent) == []

    res = run_limited(*args, "--keep-work", limit=None)  # a good title, chunks kept
    assert res.returncode == 0, res.stderr
    validate_title(out, frames["tiny"])
    before = digest(out)

    res = run_limited(*args)  # chunks are reused; the stitched renditions (two at once) do not fit
    assert_one_line_error(res)
    assert "stitch" in res.stderr, res.stderr  # it failed while packaging, after every chunk was there
    assert digest(out) == before, "the published title changed"
    assert leftovers(out.parent) == []
    validate_title(out, frames["tiny"])


@pytest.mark.timeout(150)
def test_batch_on_a_full_disk_reports_every_title_failed_and_publishes_none(tmp_path, titles):
    out = tmp_path / "out"
    res = run_limited("batch", str(titles), "-o", str(out), *FAST, "--json")
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout)
    assert summary["ok"] == 0 and summary["failed"] == 3
    for t in summary["titles"]:
        assert t["reason"] and "\n" not in t["reason"]
    assert json.loads((out / "batch.json").read_text()) == summary
    published = [p for p in out.rglob("*") if p.name in ("report.json", "manifest.mpd", "master.m3u8")]
    assert published == []
    assert leftovers(out) == [] and leftovers(out / "more") == []


@pytest.mark.timeout(60)
def test_unwritable_output_is_a_one_line_error(tmp_path, tiny_clip):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # works as root too (permission bits do not stop root; a file in the path stops everyone)
    assert_one_line_error(run_limited("encode", str(tiny_clip), "-o", str(blocker / "title"), *FAST, limit=None))
    titles = tmp_path / "titles"
    titles.mkdir()
    (titles / "t.mp4").symlink_to(tiny_clip)
    assert_one_line_error(run_limited("batch", str(titles), "-o", str(blocker / "out"), *FAST, limit=None))
    assert blocker.read_text() == "not a folder"
