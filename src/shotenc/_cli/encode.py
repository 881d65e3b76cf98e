"""``shotenc encode`` and ``shotenc analyze``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .support import (
    encode_options,
    ladder_options,
    make_shot_options,
    optimizer_options,
    shot_options,
    subtitle_option,
    track_options,
    user_errors,
)


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Output folder (default: out/<source name>)."
)
@ladder_options
@optimizer_options
@track_options
@subtitle_option
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=None, help="Where chunks are kept until publish.")
@click.option("--keep-work", is_flag=True, help="Keep the chunk work folder after success.")
@click.option(
    "--force", is_flag=True, help="Publish into an output folder holding other files (they are kept, never deleted)."
)
@click.option("--scheduler", default=None, help="Dask scheduler (tcp://host:8786) or local:N; default: local threads.")
@shot_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of progress bars.")
@user_errors
def encode(source: Path, output: Path | None, scheduler: str | None, as_json: bool, **params) -> None:
    """Encode SOURCE per shot into a DASH + HLS ladder."""
    from ..jobs.executors import Runner
    from ..pipeline import encode_title
    from ..progress import Reporter, RichReporter

    out = output or Path("out") / source.stem
    options = encode_options(params)
    options.checked()  # option errors before a Dask cluster starts
    with Runner(scheduler, options.jobs) as runner:
        if as_json:
            result = encode_title(source, out, options, Reporter(), runner)
            click.echo(json.dumps(result.summary, indent=2))
            return
        with RichReporter(source.name) as reporter:
            result = encode_title(source, out, options, reporter, runner)
    s = result.summary
    click.echo(f"{s['shots']} shots x {s['renditions']} renditions in {s['seconds']:.1f} s -> {out}/")
    click.echo(f"  DASH: {out / 'manifest.mpd'}\n  HLS:  {out / 'master.m3u8'}\n  report: {out / 'report.json'}")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@shot_options
@click.option("--json", "as_json", is_flag=True, help="Print shots and features as JSON.")
@user_errors
def analyze(
    source: Path, detector: str, threshold: float | None, min_shot: float, max_segment: float, as_json: bool
) -> None:
    """Show SOURCE's shots and their complexity."""
    from ..pipeline import analyze_title

    result = analyze_title(source, make_shot_options(detector, threshold, min_shot, max_segment))
    media = result.media
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{source.name}: {len(result.shots)} shots, {media.width}x{media.height} "
        f"@ {float(media.fps):.3f} fps, {media.duration_s:.2f} s"
    )
    for col in ("#", "start s", "dur s", "frames", "cut", "SI", "TI", "texture", "motion", "complexity"):
        table.add_column(col, justify="right")
    for s, f in zip(result.shots, result.features, strict=True):
        table.add_row(
            str(s.index),
            f"{s.start_s:.2f}",
            f"{s.duration_s:.2f}",
            str(s.frame_count),
            "yes" if s.starts_at_cut else "split",
            f"{f.si:.1f}",
            f"{f.ti:.1f}",
            f"{f.texture:.1f}",
            f"{f.motion:.2f}",
            f"{f.complexity:.1f}",
        )
    Console().print(table)
