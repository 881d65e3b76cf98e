"""Resume: a run killed with SIGKILL redoes only what was not finished; corrupted results are redone."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from checks import FAST, leftovers, shotenc_cmd, subprocess_env, validate_title

from shotenc.analysis.shots import ShotOptions
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title, work_dir_for
from shotenc.progress import Reporter


def receipts(work: Path) -> list[Path]:
    return [p for p in work.glob("chunks/*/*.json") if not p.name.startswith(".")]


def run_until(args: list[str], ready, timeout_s: float = 90) -> int:
    """Start ``shotenc`` and SIGKILL it (with its FFmpeg children) as soon as ``ready()``; its exit code."""
    proc = subprocess.Popen(shotenc_cmd(*args), env=subprocess_env(), start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while not ready():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


@pytest.mark.timeout(150)
def test_sigkilled_encode_run_again_reuses_the_finished_chunks(tmp_path, tiny_clip, frames):
    out = tmp_path / "out" / "title"
    work = work_dir_for(out)
    args = ["encode", str(tiny_clip), "-o", str(out), *FAST, "--codecs", "h264,vp9", "--jobs", "1"]
    assert run_until([*args, "--json"], lambda: len(receipts(work)) >= 3) == -signal.SIGKILL
    finished = {p.stem for p in receipts(work)}
    assert finished and not out.exists() and leftovers(out.parent) == []

    res = subprocess.run(shotenc_cmd(*args), env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    said = re.search(r"reused (\d+) of (\d+) finished chunks", res.stderr)
    assert said, res.stderr
    report = validate_title(out, frames["tiny"])
    reused, total = int(said.group(1)), int(said.group(2))
    assert report["totals"]["reused_chunks"] == reused and report["totals"]["chunks"] == total
    assert len(finished) < total  # it really was killed mid-run
    assert reused >= 0.9 * len(finished)
    assert "reused the analysis" in res.stderr
    assert not work.exists() and leftovers(out.parent) == []


class Notes(Reporter):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


@pytest.mark.timeout(120)
def test_corrupted_finished_results_are_detected_and_redone(tmp_path, tiny_clip, frames):
    out = tmp_path / "title"
    shots = ShotOptions(min_shot_s=0.5, max_segment_s=1.5)
    options = EncodeOptions(ladder="tiny", codecs=["h264"], jobs=2, shot_options=shots, keep_work=True)
    first = encode_title(tiny_clip, out, options)
    work = work_dir_for(out)
    chunks = sorted(p.with_suffix(".mp4") for p in receipts(work))
    assert len(chunks) == first.report["totals"]["chunks"] >= 4

    flipped = bytearray(chunks[0].read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF  # same size, different bytes: only the checksum can tell
    chunks[0].write_bytes(bytes(flipped))
    chunks[1].write_bytes(chunks[1].read_bytes()[:-100])  # truncated
    chunks[2].with_suffix(".json").unlink()  # receipt lost: the chunk cannot be trusted
    (analysis,) = [p for p in work.glob("analysis/analysis-*.json") if not p.name.endswith(".json.json")]
    analysis.write_bytes(analysis.read_bytes()[:50])

    # staging folders of runs killed while packaging: removed once their process is gone
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale, live = tmp_path / f".title.tmp-{dead.pid}", tmp_path / f".title.tmp-{os.getppid()}"
    for d in (stale, live):
        (d / "video").mkdir(parents=True)

    notes = Notes()
    second = encode_title(tiny_clip, out, options, reporter=notes)
    assert not stale.exists() and live.exists()
    assert second.report["totals"]["reused_chunks"] == len(chunks) - 3
    assert not any("reused the analysis" in n for n in notes.notes)
    for c in chunks[:3]:
        meta = json.loads(c.with_suffix(".json").read_text())
        assert c.stat().st_size == meta["bytes"]
    validate_title(out, frames["tiny"])

    notes = Notes()
    third = encode_title(tiny_clip, out, options, reporter=notes)
    assert third.report["totals"]["reused_chunks"] == len(chunks)
    assert any("reused the analysis" in n for n in notes.notes)
    assert any(f"reused {len(chunks)} of {len(chunks)}" in n for n in notes.notes)


@pytest.mark.timeout(150)
def test_sigkilled_batch_run_again_skips_published_titles_and_reuses_chunks(titles, tmp_path, frames):
    out = tmp_path / "out"
    args = ["batch", str(titles), "-o", str(out), *FAST, "--codecs", "h264,vp9", "--jobs", "1", "--json"]
    published: list[Path] = []

    def one_published_one_working() -> bool:
        published[:] = [p for p in (out / ".tiny.done.json", out / "more" / ".second.done.json") if p.exists()]
        return bool(published) and any(receipts(w) for w in out.rglob(".*.work"))

    assert run_until(args, one_published_one_working) == -signal.SIGKILL
    finished = sum(len(receipts(w)) for w in out.rglob(".*.work"))

    res = subprocess.run(shotenc_cmd(*args), env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr  # the broken file still fails
    summary = json.loads(res.stdout)
    ok = [t for t in summary["titles"] if t["status"] == "ok"]
    assert len(ok) == 2 and sum(t["skipped"] for t in ok) == len(published)
    resumed = [t for t in ok if not t["skipped"]]
    assert sum(t["reused_chunks"] for t in resumed) >= 0.9 * finished > 0
    validate_title(out / "tiny", frames["tiny"])
    validate_title(out / "more" / "second", frames["second"])
    assert not list(out.rglob(".*.work")) and leftovers(out) == [] and leftovers(out / "more") == []


@pytest.mark.timeout(90)
def test_a_variable_frame_rate_title_keeps_its_intermediate_and_its_chunks(tmp_path):
    src = tmp_path / "vfr.mkv"
    ffmpeg.run(
        ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2"]
        + ["-vf", "settb=1/1000,setpts='N*40+18*mod(N\\,2)'", "-c:v", "libx264", "-fps_mode", "passthrough"]
        + ["-enc_time_base", "1/1000", src]
    )
    assert probe(src).vfr
    out = tmp_path / "title"
    options = EncodeOptions(ladder="tiny", codecs=["h264"], jobs=2, keep_work=True)
    first = encode_title(src, out, options)
    mezz = work_dir_for(out) / "cfr-source.mp4"
    made = mezz.stat().st_mtime_ns
    second = encode_title(src, out, options)
    assert mezz.stat().st_mtime_ns == made  # the verified intermediate was reused, not made again
    assert second.report["totals"]["reused_chunks"] == first.report["totals"]["chunks"] > 0
    validate_title(out, first.report["totals"]["frames"])


@pytest.mark.timeout(150)
def test_killed_after_the_analysis_and_again_while_packaging_then_completes(tmp_path, tiny_clip, frames):
    out = tmp_path / "out" / "title"
    work = work_dir_for(out)
    args = ["encode", str(tiny_clip), "-o", str(out), *FAST, "--jobs", "1", "--json"]

    def analysed() -> bool:
        return any(p.suffix == ".json" for p in work.glob("analysis/*"))

    def packaging() -> bool:
        return any(out.parent.glob(".title.tmp-*/video/*/seg-*.m4s"))

    assert run_until(args, analysed) == -signal.SIGKILL
    assert not out.exists()
    assert run_until(args, packaging) == -signal.SIGKILL
    assert not out.exists() and list(out.parent.glob(".title.tmp-*")), "killed while packaging"
    finished = len(receipts(work))

    res = subprocess.run(shotenc_cmd(*args), env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["reused_chunks"] == summary["chunks"] == finished  # every chunk was done before packaging
    validate_title(out, frames["tiny"])
    assert leftovers(out.parent) == [] and not work.exists()


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (read from /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.timeout(120)
def test_sigkill_of_shotenc_takes_its_ffmpeg_children_along_and_partials_go_next_run(tmp_path, tiny_clip, frames):
    out = tmp_path / "title"
    work = work_dir_for(out)
    # an FFmpeg that lingers for a minute after each chunk encode (not the probes before them): long
    # enough to see who outlives whom
    slow = tmp_path / "slow-ffmpeg.sh"
    linger = 'case "$*" in *libx264*/chunks/*) sleep 60;; esac'
    slow.write_text(f'#!/bin/sh\n"{ffmpeg.ffmpeg_path()}" "$@"; rc=$?\n{linger}\nexit $rc\n')
    slow.chmod(0o755)
    args = ["encode", str(tiny_clip), "-o", str(out), "--ladder", "tiny", "--codecs", "h264", "--jobs", "2", "--json"]
    env = {**subprocess_env(), "SHOTENC_FFMPEG": str(slow)}
    proc = subprocess.Popen(shotenc_cmd(*args), env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(kids := children_of(proc.pid)) < 2 or not list(work.glob("chunks/*/.shot*.part.mp4")):
            assert proc.poll() is None and time.monotonic() < deadline, "no FFmpeg child to watch"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)  # only shotenc itself, not its process group
        proc.wait()
    deadline = time.monotonic() + 3
    while any(running(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(k) for k in kids), "FFmpeg outlived shotenc"

    # a half-written file of the killed run (its pid is gone) goes on the next run; a foreign file stays
    partial = work / "chunks" / "h264-180p" / f".shot00000-abc.{proc.pid}.123.part.mp4"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half")
    (work / "mine.txt").write_text("not shotenc's")
    notes = Notes()
    encode_title(tiny_clip, out, EncodeOptions(ladder="tiny", codecs=["h264"], jobs=2), reporter=notes)
    assert not partial.exists() and any("half-written" in n for n in notes.notes)
    assert sorted(p.name for p in work.iterdir()) == ["mine.txt"]
    validate_title(out, frames["tiny"])
