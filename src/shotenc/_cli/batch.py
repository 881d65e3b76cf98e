"""``shotenc batch``: the command, its live view (one bar per title plus the overall one) and the summary."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import click

from ..jobs.batch import SUMMARY_NAME, BatchReporter, BatchResult, TitleOutcome
from ..progress import Reporter
from .support import encode_options, ladder_options, optimizer_options, shot_options, track_options, user_errors

SCHEDULER_HELP = "Dask scheduler: tcp://host:8786 for a running cluster, local:N for N local worker processes."


class _TitleView(Reporter):
    """One progress line for one title; it shows the stage the title is in."""

    def __init__(self, view: BatchView, name: str) -> None:
        self.view, self.name = view, name
        self.task = view.progress.add_task(name, total=100)
        self.stage_name = ""

    def stage(self, name: str, total: float) -> None:
        self.stage_name = name
        self.view.progress.update(self.task, description=f"{self.name} [dim]{name}[/]", total=total, completed=0)

    def update(self, name: str, completed: float) -> None:
        if name == self.stage_name:
            self.view.progress.update(self.task, completed=completed)

    def advance(self, name: str, amount: float = 1) -> None:
        if name == self.stage_name:
            self.view.progress.advance(self.task, amount)

    def note(self, text: str) -> None:
        self.view.progress.console.print(f"[bold]{self.name}[/]: {text}")

    def warn(self, text: str) -> None:
        self.view.progress.console.print(f"{self.name}: warning: {text}", markup=False, highlight=False)


class BatchView(BatchReporter):
    """Rich progress on stderr: an overall bar (titles done) and a bar per title in flight."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.overall = self.progress.add_task("[bold]all titles", total=total)
        self._titles: dict[str, _TitleView] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> BatchView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def title(self, name: str) -> Reporter:
        with self._lock:
            view = self._titles[name] = _TitleView(self, name)
        return view

    def finished(self, name: str, outcome: TitleOutcome) -> None:
        self.progress.advance(self.overall)
        with self._lock:
            view = self._titles.pop(name, None)
        if view is not None:
            self.progress.remove_task(view.task)
        mark = "[green]ok[/]" if outcome.status == "ok" else f"[red]failed[/]: {outcome.reason}"
        self.progress.console.print(f"{Path(outcome.source).name}: {mark}")


def summary_table(result: BatchResult) -> Any:
    from rich.table import Table

    table = Table(title=f"{len(result.titles)} titles in {result.seconds:.1f} s on {result.scheduler}")
    for col, just in (("title", "left"), ("status", "left"), ("shots", "right"), ("chunks", "right")):
        table.add_column(col, justify=just)
    for col in ("reused", "s", "reason"):
        table.add_column(col, justify="right" if col != "reason" else "left")
    for t in result.titles:
        status = "[green]ok[/]" if t.status == "ok" else "[red]failed[/]"
        reused = "published" if t.skipped else f"{t.reused_chunks}" + (" + analysis" if t.reused_analysis else "")
        shown = os.path.relpath(t.source, result.folder)  # sub/clip.mp4 and clip.mp4 are two titles
        table.add_row(shown, status, str(t.shots), str(t.chunks), reused, f"{t.seconds:.1f}", t.reason)
    return table


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Folder for the titles.")
@ladder_options
@optimizer_options
@track_options
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--scheduler", default=None, help=SCHEDULER_HELP)
@click.option("--keep-work", is_flag=True, help="Keep each title's chunk work folder after success.")
@click.option("--force", is_flag=True, help="Publish titles into folders holding other files (they are kept).")
@shot_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary instead of progress and a table.")
@user_errors
def batch(folder: Path, output: Path, scheduler: str | None, as_json: bool, **params) -> None:
    """Encode every video under FOLDER into OUTPUT/<name>/; a bad file is reported and skipped.

    Exit status 1 when any title failed. The summary is also written to OUTPUT/batch.json.
    """
    from ..jobs.batch import check_batch, run_batch
    from ..jobs.executors import Runner

    options = encode_options(params)
    total = len(check_batch(folder, output, options))
    with Runner(scheduler, options.jobs) as runner:
        if as_json:
            result = run_batch(folder, output, options, runner)
            click.echo(json.dumps(result.to_dict(), indent=2))
        else:
            with BatchView(total) as view:
                result = run_batch(folder, output, options, runner, view)
            from rich.console import Console

            Console().print(summary_table(result))
            click.echo(f"summary: {output / SUMMARY_NAME}")
    if result.failed:
        sys.exit(1)
