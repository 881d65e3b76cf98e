"""The same tasks on a real Dask cluster (loopback, worker processes), including a worker killed mid-batch."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from checks import FAST, validate_title
from click.testing import CliRunner

from shotenc.__main__ import main
from shotenc.analysis.shots import ShotOptions
from shotenc.errors import ShotencError
from shotenc.jobs.batch import run_batch
from shotenc.jobs.executors import Runner
from shotenc.jobs.tasks import analyse_task
from shotenc.pipeline import EncodeOptions

pytest.importorskip("distributed")  # a declared dependency; this only makes a broken install read clearly
from distributed import get_task_stream  # noqa: E402

OPTIONS = EncodeOptions(ladder="tiny", codecs=["h264"], shot_options=ShotOptions(min_shot_s=0.5, max_segment_s=1.5))


@pytest.fixture(scope="module")
def runner():
    with Runner("local:2") as r:
        yield r


def task_names(stream: list[dict], prefix: str) -> list[str]:
    return [t["key"] for t in stream if str(t["key"]).startswith(prefix)]


@pytest.mark.timeout(120)
def test_batch_on_dask_runs_every_task_on_the_workers(runner, titles, tmp_path, frames):
    assert runner.workers == 2
    with get_task_stream(runner.client) as ts:
        result = run_batch(titles, tmp_path / "out", OPTIONS, runner)
    by_name = {os.path.basename(t.source): t for t in result.titles}
    assert [by_name[n].status for n in ("tiny.mp4", "second.mov", "broken.mp4")] == ["ok", "ok", "failed"]
    assert "broken.mp4" in by_name["broken.mp4"].reason
    validate_title(tmp_path / "out" / "tiny", frames["tiny"])
    validate_title(tmp_path / "out" / "more" / "second", frames["second"])
    # one encode task per chunk (none deduplicated, none lost), spread over both workers
    encodes = [t for t in ts.data if str(t["key"]).startswith("encode_chunk")]
    assert len(encodes) == sum(t.chunks for t in result.titles) > 0
    assert len({t["worker"] for t in encodes}) == 2
    assert len(task_names(ts.data, "analyse_task")) == 3


@pytest.mark.timeout(60)
def test_identical_submissions_are_not_deduplicated(runner, tiny_clip, tmp_path):
    work = str(tmp_path / "work")
    with get_task_stream(runner.client) as ts:
        a = runner.executor.submit(analyse_task, str(tiny_clip), OPTIONS.shot_options, work)
        b = runner.executor.submit(analyse_task, str(tiny_clip), OPTIONS.shot_options, work)
        ra, rb = a.result(timeout=50), b.result(timeout=50)
    assert len(set(task_names(ts.data, "analyse_task"))) == 2
    # results are paths and checksums, not bytes; both runs wrote the same place, the last rename won
    assert ra.path == rb.path
    assert os.path.getsize(ra.path) in (ra.bytes, rb.bytes)


@pytest.mark.timeout(150)
def test_a_worker_killed_mid_batch_the_batch_completes_and_every_output_validates(runner, titles, tmp_path, frames):
    client = runner.client
    out = tmp_path / "out"
    options = EncodeOptions(ladder="tiny", codecs=["h264", "vp9"], shot_options=OPTIONS.shot_options)
    done: dict = {}
    with get_task_stream(client) as ts:
        batch = threading.Thread(target=lambda: done.setdefault("result", run_batch(titles, out, options, runner)))
        batch.start()
        victim, key = None, None
        deadline = time.monotonic() + 60
        while victim is None:
            assert batch.is_alive(), "the batch ended before a worker could be killed"
            assert time.monotonic() < deadline
            for addr, keys in client.processing().items():
                busy = [k for k in keys if str(k).startswith("encode_chunk")]
                if busy:
                    victim, key = addr, busy[0]
                    break
            time.sleep(0.02)
        with pytest.raises(Exception):  # noqa: B017 - the worker dies before it can answer
            client.run(os._exit, 1, workers=[victim])
        batch.join(timeout=120)
        assert not batch.is_alive()
    result = done["result"]
    assert [t.status for t in result.titles if "broken" not in t.source] == ["ok", "ok"], result.to_dict()
    validate_title(out / "tiny", frames["tiny"])
    validate_title(out / "more" / "second", frames["second"])
    # the task the dead worker was running finished elsewhere
    assert any(t["key"] == key and t["worker"] != victim for t in ts.data)
    client.wait_for_workers(2, timeout=30)  # the nanny brought a fresh worker up
    assert victim not in client.nthreads()


@pytest.mark.timeout(90)
def test_encode_with_a_scheduler_address(runner, tiny_clip, tmp_path, frames):
    address = runner.client.scheduler.address
    res = CliRunner().invoke(
        main, ["encode", str(tiny_clip), "-o", str(tmp_path / "t"), *FAST, "--scheduler", address, "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["chunks"] > 0
    validate_title(tmp_path / "t", frames["tiny"])


@pytest.mark.timeout(30)
def test_an_unreachable_scheduler_is_a_one_line_error():
    with pytest.raises(ShotencError, match="cannot reach Dask scheduler tcp://127.0.0.1:9"):
        with Runner("tcp://127.0.0.1:9", connect_timeout_s=1.0):
            pass
