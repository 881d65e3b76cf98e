"""``shotenc batch`` on a folder: every video becomes a title, a bad file is reported and skipped."""

from __future__ import annotations

import json

import pytest
from checks import FAST, leftovers, validate_title
from click.testing import CliRunner

from shotenc.__main__ import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.timeout(150)
def test_batch_encodes_every_video_reports_the_bad_one_and_skips_finished_titles_on_rerun(titles, tmp_path, frames):
    out = tmp_path / "out"
    res = run("batch", str(titles), "-o", str(out), "--jobs", "2", *FAST, "--json")
    assert res.exit_code == 1, res.output  # one title failed
    summary = json.loads(res.stdout)
    by_name = {t["source"].rsplit("/", 1)[-1]: t for t in summary["titles"]}
    assert set(by_name) == {"tiny.mp4", "second.mov", "broken.mp4"}  # notes.txt is not a video
    assert (summary["ok"], summary["failed"]) == (2, 1)
    bad = by_name["broken.mp4"]
    assert bad["status"] == "failed" and "broken.mp4" in bad["reason"] and "\n" not in bad["reason"]
    assert not (out / "broken").exists()
    validate_title(out / "tiny", frames["tiny"])
    validate_title(out / "more" / "second", frames["second"])
    assert by_name["tiny.mp4"]["chunks"] > 0 and by_name["tiny.mp4"]["reused_chunks"] == 0
    assert json.loads((out / "batch.json").read_text()) == summary
    # work folders are gone after publishing, nothing half-written is left
    assert not list(out.rglob(".*.work")) and leftovers(out) == [] and leftovers(out / "more") == []

    # run again with the live view: finished titles are recognised and not encoded again
    before = (out / "tiny" / "report.json").stat().st_mtime_ns
    res = run("batch", str(titles), "-o", str(out), "--jobs", "2", *FAST)
    assert res.exit_code == 1
    assert "failed" in res.output and "broken.mp4" in res.output and "published" in res.output
    assert "more/second.mov" in res.output  # the summary names a title by its path in the folder, not its name alone
    again = json.loads((out / "batch.json").read_text())
    assert [t["skipped"] for t in again["titles"] if t["status"] == "ok"] == [True, True]
    assert (out / "tiny" / "report.json").stat().st_mtime_ns == before

    # a changed option is a different title: it is encoded again, not skipped
    res = run("batch", str(titles / "more"), "-o", str(out / "more"), *FAST[:-2], "--min-shot", "1.0", "--json")
    assert res.exit_code == 0, res.output
    t = json.loads(res.stdout)["titles"][0]
    assert t["status"] == "ok" and not t["skipped"]
    validate_title(out / "more" / "second", frames["second"])


@pytest.mark.timeout(60)
def test_batch_errors_that_concern_the_whole_batch_are_one_line(tmp_path, titles):
    res = run("batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0 and "shotenc: error:" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run("batch", str(empty), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and "no video files" in res.output
    res = run("batch", str(titles), "-o", str(tmp_path / "o"), "--ladder", "no-such-ladder")
    assert res.exit_code == 2 and res.output.startswith("shotenc: error:")
