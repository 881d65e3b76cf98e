"""The ``shotenc`` command: a thin shell over the Python API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from ..analysis.shots import DETECTORS, ShotOptions
from ..errors import ShotencError
from .quality import quality_encode_options, wrap_encode_with
from .support import CODECS_HELP, user_errors


def shot_options(fn: Callable) -> Callable:
    fn = click.option(
        "--detector",
        type=click.Choice(DETECTORS),
        default="content",
        show_default=True,
        help="PySceneDetect detector used for cuts.",
    )(fn)
    fn = click.option("--threshold", type=float, default=None, help="Detector threshold (its default if unset).")(fn)
    fn = click.option(
        "--min-shot", type=float, default=1.0, show_default=True, help="Shorter shots (s) are merged into a neighbour."
    )(fn)
    fn = click.option(
        "--max-segment",
        type=float,
        default=6.0,
        show_default=True,
        help="Longer shots (s) are split; also the HLS target duration.",
    )(fn)
    return fn


def make_shot_options(detector: str, threshold: float | None, min_shot: float, max_segment: float) -> ShotOptions:
    if min_shot < 0 or max_segment <= 0 or min_shot > max_segment:
        raise ShotencError("need 0 <= --min-shot <= --max-segment and --max-segment > 0")
    return ShotOptions(detector, threshold, min_shot, max_segment)


def parse_codecs(value: str | None) -> list[str] | None:
    return [c.strip().lower() for c in value.split(",") if c.strip()] if value else None


class OneLineErrors(click.Group):
    """Usage errors (bad option, missing file) as one ``shotenc: error:`` line, like every other failure."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("shotenc: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            click.echo(f"shotenc: error: {message}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shotenc")
def main() -> None:
    """Per-shot video encoding: shots, complexity, per-shot rate points, ladder, DASH + HLS."""


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Output folder (default: out/<source name>)."
)
@click.option("--ladder", default="default", show_default=True, help="Ladder name in ladders/ or a .toml path.")
@click.option("--codecs", default=None, help=CODECS_HELP)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=None, help="Where chunks are kept until publish.")
@click.option("--keep-work", is_flag=True, help="Keep the chunk work folder after success.")
@click.option(
    "--force", is_flag=True, help="Publish into an output folder holding other files (they are kept, never deleted)."
)
@click.option("--scheduler", default=None, help="Dask scheduler (tcp://host:8786) or local:N; default: local threads.")
@shot_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of progress bars.")
@quality_encode_options
@user_errors
def encode(
    source: Path,
    output: Path | None,
    ladder: str,
    codecs: str | None,
    jobs: int | None,
    work_dir: Path | None,
    keep_work: bool,
    force: bool,
    scheduler: str | None,
    detector: str,
    threshold: float | None,
    min_shot: float,
    max_segment: float,
    as_json: bool,
    **quality,
) -> None:
    """Encode SOURCE per shot into a DASH + HLS ladder."""
    from ..jobs.batch import encode_with
    from ..jobs.executors import Runner
    from ..pipeline import EncodeOptions
    from ..progress import Reporter, RichReporter

    out = output or Path("out") / source.stem
    options = EncodeOptions(
        ladder=ladder,
        codecs=parse_codecs(codecs),
        jobs=jobs,
        shot_options=make_shot_options(detector, threshold, min_shot, max_segment),
        work_dir=work_dir,
        keep_work=keep_work,
        force=force,
    )
    encode_with = wrap_encode_with(encode_with, options, quality)  # --mode, --ladder auto, --measure-vmaf
    with Runner(scheduler, jobs) as runner:
        if as_json:
            result, _ = encode_with(runner, source, out, options, Reporter())
            click.echo(json.dumps(result.summary, indent=2))
            return
        with RichReporter(source.name) as reporter:
            result, _ = encode_with(runner, source, out, options, reporter)
    s = result.summary
    click.echo(f"{s['shots']} shots x {s['renditions']} renditions in {s['seconds']:.1f} s -> {out}/")
    click.echo(f"  DASH: {out / 'manifest.mpd'}\n  HLS:  {out / 'master.m3u8'}\n  report: {out / 'report.json'}")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@shot_options
@click.option("--json", "as_json", is_flag=True, help="Print shots and features as JSON.")
@user_errors
def analyze(
    source: Path, detector: str, threshold: float | None, min_shot: float, max_segment: float, as_json: bool
) -> None:
    """Show SOURCE's shots and their complexity."""
    from ..analysis.analyze import analyze as run_analysis
    from ..media.probe import probe

    media = probe(source)
    if media.vfr:
        raise ShotencError(f"{source}: variable frame rate; `shotenc encode` handles it, analyze shows CFR sources")
    result = run_analysis(media, make_shot_options(detector, threshold, min_shot, max_segment))
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


# commands that build on the helpers above live in their own modules
from ..delivery.cli import play, serve, validate  # noqa: E402
from .batch import batch  # noqa: E402
from .quality import compare, train  # noqa: E402

for _command in (batch, serve, play, validate, compare, train):
    main.add_command(_command)
