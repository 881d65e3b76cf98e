"""Scale figures: the same batch on 1 and on 2 single-threaded Dask workers, and what a resumed run reuses.

1. A folder of titles cut from the bundled sample is encoded by ``run_batch`` on a loopback
   ``LocalCluster`` with 1 worker, then (into a fresh output) with 2 workers, each worker one thread
   and every chunk encode single-threaded. Prints both wall times and the speedup (cluster start-up
   is not counted; analysis and chunk encodes run on the workers, packaging where the batch runs),
   plus the CPU seconds used and how busy the workers were: on a machine shared with other work,
   "cores" shows how much CPU the run actually got, and "workers busy" whether they ever waited
   for work.
2. ``shotenc encode`` of one title is killed with SIGKILL once about half its chunks are finished,
   then run again; prints how many of the chunks finished before the kill the second run reused.

    python benchmarks/scale.py [--titles 4] [--seconds 6] [--ladder default] [--codecs h264,vp9]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from distributed import get_task_stream

from shotenc.jobs.batch import run_batch
from shotenc.jobs.executors import Runner
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, work_dir_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.mp4"


def make_titles(folder: Path, count: int, seconds: float) -> list[Path]:
    """``count`` clips of ``seconds`` from different parts of the sample (its own size, H.264 + AAC)."""
    folder.mkdir(parents=True, exist_ok=True)
    length = probe(SAMPLE).duration_s
    span = max(0.0, length - seconds)
    titles = []
    for i in range(count):
        dest = folder / f"title{i}.mp4"
        start = span * i / max(1, count - 1) if count > 1 else 0.0
        ffmpeg.run(
            ["-y", "-v", "error", "-ss", f"{start:.2f}", "-i", SAMPLE, "-t", f"{seconds}"]
            + ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac", "-b:a", "96k", dest],
            what="benchmark title",
        )
        titles.append(dest)
    return titles


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (Dask workers and their FFmpeg processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Run:
    wall_s: float
    cpu_s: float  # this process and the workers, with every FFmpeg they ran
    busy: float  # share of the workers' time spent running tasks (the rest: waiting for work)
    chunks: int

    def line(self) -> str:
        return (
            f"{self.wall_s:7.1f} s  {self.cpu_s:6.1f} CPU s ({self.cpu_s / self.wall_s:.2f} cores)  "
            f"workers busy {self.busy:.0%}  {self.chunks} chunks"
        )


def timed_batch(folder: Path, out: Path, workers: int, options: EncodeOptions) -> Run:
    """One batch on a fresh ``local:N`` cluster; cluster start-up is not timed."""
    cpu0 = cpu_seconds()
    with Runner(f"local:{workers}") as runner:
        runner.client.wait_for_workers(workers, timeout=60)
        cpu_startup = cpu_seconds() - cpu0
        with get_task_stream(runner.client) as stream:
            t = time.perf_counter()
            result = run_batch(folder, out, options, runner)
            elapsed = time.perf_counter() - t
    cpu = cpu_seconds() - cpu0 - cpu_startup  # the workers are reaped when the cluster closes
    if result.failed:
        raise SystemExit(f"batch failed: {[(t.source, t.reason) for t in result.failed]}")
    spans = [ss for task in stream.data for ss in task["startstops"] if ss["action"] == "compute"]
    computing = sum(ss["stop"] - ss["start"] for ss in spans)
    return Run(elapsed, cpu, computing / (workers * elapsed), sum(t.chunks for t in result.titles))


def resume_figures(source: Path, out: Path, args: argparse.Namespace, total: int) -> tuple[int, int, int]:
    """(chunks finished before the kill, chunks the rerun reused, chunks in the title)."""
    cmd = [sys.executable, "-m", "shotenc", "encode", str(source), "-o", str(out), "--ladder", args.ladder]
    cmd += ["--codecs", args.codecs, "--json"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    work = work_dir_for(out)

    def finished() -> int:
        return sum(1 for p in work.glob("chunks/*/*.json") if not p.name.startswith("."))

    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        while finished() < total // 2:
            if proc.poll() is not None:
                raise SystemExit("the encode ended before it could be killed")
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = finished()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    summary = json.loads(res.stdout)
    return before, summary["reused_chunks"], summary["chunks"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--titles", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--ladder", default="default")
    ap.add_argument("--codecs", default="h264,vp9")
    args = ap.parse_args()
    options = EncodeOptions(ladder=args.ladder, codecs=args.codecs.split(","))
    with tempfile.TemporaryDirectory(prefix="shotenc-scale-") as tmp:
        folder = Path(tmp) / "titles"
        titles = make_titles(folder, args.titles, args.seconds)
        print(f"{args.titles} titles x {args.seconds:g} s (640x360), ladder {args.ladder}, codecs {args.codecs}")
        print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        one = timed_batch(folder, Path(tmp) / "out1", 1, options)
        print(f"1 worker : {one.line()}")
        two = timed_batch(folder, Path(tmp) / "out2", 2, options)
        print(f"2 workers: {two.line()}")
        print(f"speedup  : {one.wall_s / two.wall_s:.2f}x")
        per_title = json.loads((Path(tmp) / "out1" / "title0" / "report.json").read_text())["totals"]["chunks"]
        before, reused, total = resume_figures(titles[0], Path(tmp) / "resume" / "title0", args, per_title)
        share = reused / before if before else 0.0
        print(f"resume   : killed with {before} of {total} chunks finished; the rerun reused {reused} ({share:.0%})")
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
