"""A user's files are never lost: output folders, work folders, and what is read back from them."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import corpus
from shotenc.analysis.shots import ShotOptions
from shotenc.jobs.receipts import sha256_file
from shotenc.jobs.tasks import analysis_key, analysis_path, record
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title, work_dir_for

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--ladder", "tiny", "--codecs", "h264"]


def shotenc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "shotenc", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_refusal(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("shotenc: error: "), res.stderr
    return lines[0]


def test_the_source_folder_is_never_an_output(tmp_path, tiny_clip):
    d = corpus.foreign_folder(tmp_path / "d")
    (d / "good.mp4").write_bytes(tiny_clip.read_bytes())
    before = snapshot(d)
    for extra in ([], ["--force"]):
        line = one_line_refusal(shotenc("encode", "d/good.mp4", "-o", "d", *FAST, *extra, cwd=tmp_path))
        assert "contains the source" in line
    deeper = shotenc("encode", "d/good.mp4", "-o", ".", *FAST, "--force", cwd=tmp_path)
    assert "contains the source" in one_line_refusal(deeper)
    assert snapshot(d) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no work or staging folder either


def test_a_folder_with_foreign_files_is_refused_and_with_force_they_are_kept(tmp_path, tiny_clip):
    out = corpus.foreign_folder(tmp_path / "out")
    line = one_line_refusal(shotenc("encode", str(tiny_clip), "-o", "out", *FAST, cwd=tmp_path))
    assert "notes.txt" in line and "--force" in line
    assert snapshot(out) == {"notes.txt": sha256_file(out / "notes.txt")}

    res = shotenc("encode", str(tiny_clip), "-o", "out", *FAST, "--force", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (out / "notes.txt").read_text() == "my notes\n"
    report = json.loads((out / "report.json").read_text())
    assert "notes.txt" not in report["files"] and "manifest.mpd" in report["files"]

    # again, with other renditions: shotenc's old files go, the user's stays
    res = shotenc("encode", str(tiny_clip), "-o", "out", "--ladder", "tiny", "--codecs", "vp9", "--force", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (out / "video").iterdir()) == ["vp9-180p"]
    assert (out / "notes.txt").read_text() == "my notes\n"
    assert sorted(json.loads((out / "report.json").read_text())["files"] + ["notes.txt", "report.json"]) == sorted(
        snapshot(out)
    )


def test_an_earlier_output_is_replaced_only_while_it_is_all_shotencs(tmp_path, tiny_clip):
    assert shotenc("encode", str(tiny_clip), "-o", "out", *FAST, "--json", cwd=tmp_path).returncode == 0
    res = shotenc("encode", str(tiny_clip), "-o", "out", "--ladder", "tiny", "--codecs", "av1", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "video").iterdir()) == ["av1-180p"]

    (tmp_path / "out" / "video" / "av1-180p" / "my-edit.txt").write_text("keep me")
    line = one_line_refusal(shotenc("encode", str(tiny_clip), "-o", "out", *FAST, cwd=tmp_path))
    assert "video/av1-180p/my-edit.txt" in line
    assert (tmp_path / "out" / "video" / "av1-180p" / "my-edit.txt").read_text() == "keep me"


def test_a_users_work_folder_keeps_its_own_files(tmp_path, tiny_clip):
    work = corpus.foreign_folder(tmp_path / "scratch")
    res = shotenc("encode", str(tiny_clip), "-o", "out", *FAST, "--work-dir", "scratch", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


class _Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def test_a_crafted_cache_file_with_a_valid_receipt_runs_no_code(tmp_path, tiny_clip):
    out = tmp_path / "out"
    work = work_dir_for(out)
    media, shot_options = probe(tiny_clip), ShotOptions()
    key = analysis_key(media, shot_options)
    cached = analysis_path(work, key)
    cached.parent.mkdir(parents=True)
    marker = tmp_path / "pwned"
    for payload in (pickle.dumps(_Payload(marker)), b'{"media": {"path": 1}}', b"[]"):
        cached.write_bytes(payload)
        record(cached, key)  # anyone who can write the folder can write a matching receipt
        result = encode_title(tiny_clip, out, EncodeOptions(ladder="tiny", codecs=["h264"], keep_work=True))
        assert not marker.exists()
        assert len(result.report["shots"]) >= 2
        assert json.loads(cached.read_text())["shots"]  # recomputed and stored as plain data
