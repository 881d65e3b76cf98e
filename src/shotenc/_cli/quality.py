"""Command-line parts of the quality engine: ``compare``, ``train`` and the optimizer options of encode."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from .. import codecs as codec_registry
from ..allocators.optimize import MODES
from ..errors import ShotencError
from ..jobs.batch import VIDEO_SUFFIXES
from .support import CODECS_HELP, user_errors


def quality_encode_options(fn: Callable) -> Callable:
    """``--mode``, ``--target-vmaf``, ``--measure-vmaf``, ``--model-file`` for ``shotenc encode``."""
    fn = click.option(
        "--model-file",
        type=click.Path(path_type=Path),
        default=None,
        help="Rate-quality model for --mode model (default: the shipped one).",
    )(fn)
    fn = click.option(
        "--measure-vmaf",
        is_flag=True,
        help="Score every rendition (VMAF per shot and segment) into report.json.",
    )(fn)
    fn = click.option(
        "--target-vmaf",
        type=click.FloatRange(1, 100),
        default=None,
        help="Quality target of each codec's top rung (lower rungs aim lower by their rate).",
    )(fn)
    fn = click.option(
        "--mode",
        type=click.Choice(MODES),
        default="complexity",
        show_default=True,
        help="Per-shot optimizer: complexity (no probes), hull, target-quality, model. "
        "--ladder auto picks each rung's size from the hulls.",
    )(fn)
    return fn


def wrap_encode_with(encode_with: Callable, options, quality: dict) -> Callable:
    """``encode_with`` (one title through a runner) with the chosen optimizer and, if asked, VMAF after.

    Every mode runs the same path (the analysis as a task, then the encode); only the allocator differs.
    """
    from ..allocators.optimize import make_allocator

    auto = options.ladder == "auto"
    if auto:
        options.ladder = "default"
    allocator = make_allocator(
        quality["mode"],
        target_vmaf=quality["target_vmaf"],
        auto_ladder=auto,
        jobs=options.jobs,
        model_path=quality["model_file"],
    )
    plain = quality["mode"] == "complexity"

    @functools.wraps(encode_with)
    def run(runner, source, out, opts, reporter=None):
        if quality["measure_vmaf"]:
            from ..media.probe import probe

            if probe(source).vfr:
                raise ShotencError("--measure-vmaf needs a constant-frame-rate source")
        result, reused = encode_with(runner, source, out, opts, reporter, None if plain else allocator)
        if quality["measure_vmaf"]:
            measure_renditions(source, Path(out), result.report)
        return result, reused

    return run


def measure_renditions(
    source: str | os.PathLike, out_dir: Path, report: dict | None = None, n_subsample: int = 1
) -> dict:
    """Add VMAF/PSNR per rendition, per shot and per segment to ``out_dir/report.json``.

    Each rendition is read back from its published init and media segments (what a player gets),
    so the scores are of the delivered bytes. Segments are cut at shot starts: segment i is shot i.
    """
    from ..analysis.shots import Shot
    from ..media.probe import probe
    from ..quality.metrics import score

    media = probe(source)
    path = out_dir / "report.json"
    report = report if report is not None else json.loads(path.read_text(encoding="utf-8"))
    shots = [
        Shot(s["index"], s["start_frame"], s["frame_count"], s["start_s"], s["duration_s"], s["starts_at_cut"])
        for s in report["shots"]
    ]
    for rend in report["renditions"]:
        folder = out_dir / "video" / rend["id"]
        with tempfile.TemporaryDirectory(prefix="shotenc-measure-") as tmp:
            joined = Path(tmp) / "rendition.mp4"
            with joined.open("wb") as f:
                f.write((folder / "init.mp4").read_bytes())
                for seg in rend["segments"]:
                    f.write((folder / f"seg-{seg['number']:05d}.m4s").read_bytes())
            sc = score(joined, media, 0, media.frame_count, n_subsample=n_subsample, threads=0)
        per_shot = sc.per_shot(shots)
        rend["vmaf"] = round(sc.vmaf, 3)
        rend["vmaf_worst_shot"] = round(min(q.vmaf for q in per_shot), 3)
        rend["vmaf_p5"] = round(sc.vmaf_percentile(5), 3)
        rend["psnr"] = round(sc.psnr, 3)
        for seg, q in zip(rend["segments"], per_shot, strict=True):
            seg["vmaf"] = round(q.vmaf, 3)
        for row, q in zip(rend.get("shots", []), per_shot, strict=True):
            row["vmaf"] = round(q.vmaf, 3)
            row["psnr"] = round(q.psnr, 3)
    report["quality"] = {"model": sc.model, "n_subsample": n_subsample}
    tmp_path = path.with_name(f".report.{os.getpid()}.json")
    tmp_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    os.replace(tmp_path, path)
    return report


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: out/<source name>-compare).",
)
@click.option(
    "--ladder",
    default="default",
    show_default=True,
    help="Ladder name or .toml path; 'auto' picks each rung's size from the hulls.",
)
@click.option("--codecs", default=None, help=CODECS_HELP)
@click.option(
    "--mode",
    type=click.Choice([m for m in MODES if m != "complexity"] + ["complexity"]),
    default="hull",
    show_default=True,
    help="Per-shot optimizer to compare with the traditional ladder.",
)
@click.option(
    "--target-vmaf",
    type=click.FloatRange(1, 100),
    default=None,
    help="Quality target instead of each rung's bitrate (hull, model, target-quality).",
)
@click.option(
    "--scales",
    default="0.5,0.75,1,1.5",
    show_default=True,
    help="Multiples of every rung's bitrate (>= 4 give BD-rate enough points).",
)
@click.option(
    "--n-subsample",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Score every n-th frame of the compared renditions.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel encodes (default: cores).")
@click.option("--keep-work", is_flag=True, help="Keep the per-shot chunks and probe results.")
@click.option("--json", "as_json", is_flag=True, help="Print the report JSON instead of a summary.")
def compare(
    source: Path,
    output: Path | None,
    ladder: str,
    codecs: str | None,
    mode: str,
    target_vmaf: float | None,
    scales: str,
    n_subsample: int,
    jobs: int | None,
    keep_work: bool,
    as_json: bool,
) -> None:
    """Encode SOURCE's ladder the traditional way and per shot; report rates, VMAF and BD-rate."""

    @user_errors
    def run() -> None:
        from ..quality.compare import CompareOptions, worst_shot_summary
        from ..quality.compare import compare as run_compare
        from .main import parse_codecs

        try:
            scale_list = tuple(float(s) for s in scales.split(",") if s.strip())
        except ValueError:
            raise ShotencError(f"--scales: not a list of numbers: {scales!r}") from None
        if not scale_list or any(s <= 0 for s in scale_list):
            raise ShotencError("--scales needs positive numbers")
        auto = ladder == "auto"
        opts = CompareOptions(
            ladder="default" if auto else ladder,
            codecs=parse_codecs(codecs),
            scales=scale_list,
            mode=mode,
            target_vmaf=target_vmaf,
            auto_ladder=auto,
            jobs=jobs,
            n_subsample=n_subsample,
            keep_work=keep_work,
        )
        out = output or Path("out") / f"{source.stem}-compare"
        log = (lambda m: None) if as_json else (lambda m: click.echo(m, err=True))
        report = run_compare(source, out, opts, log=log)
        if as_json:
            click.echo(json.dumps(report, indent=1))
            return
        for codec, res in report["bd_rate"].items():
            cells = []
            for anchor, row in res.items():
                for metric, e in row.items():
                    v = e["value"]
                    text = "n/a" if v is None else f"{v:+.1f}%"
                    if e.get("note"):
                        text += f" ({e['note']})"
                    cells.append(f"{metric} {anchor.replace('vs_', 'vs ')}: {text}")
            click.echo(f"{codec} BD-rate  " + "  ".join(cells))
        for codec, w in worst_shot_summary(report).items():
            click.echo(f"{codec} worst-shot VMAF at x1: " + ", ".join(f"{m} {v:.1f}" for m, v in w.items()))
        c = report["cost"]
        if c.get("probe_to_final_ratio") is not None:
            click.echo(f"probe cost {c['probe_cpu_s']:.1f} s = {c['probe_to_final_ratio']:.2f}x the final encodes")
        click.echo(f"report: {out / 'compare.html'}  data: {out / 'compare.json'}")

    run()


@click.command()
@click.argument("clips", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("model.json"),
    show_default=True,
    help="Where to write the fitted model (plain JSON).",
)
@click.option("--codecs", default=",".join(codec_registry.names()), show_default=True, help="Codecs to fit.")
@click.option("--cache", type=click.Path(path_type=Path), default=None, help="Probe cache folder.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Parallel probes (default: cores).")
def train(clips: Path, output: Path, codecs: str, cache: Path | None, jobs: int | None) -> None:
    """Fit the complexity -> rate/quality model on the videos in CLIPS (a folder or one file)."""

    @user_errors
    def run() -> None:
        from ..allocators.model import fit, training_rows
        from ..allocators.optimize import default_cache_dir
        from .main import parse_codecs

        if not clips.exists():
            raise ShotencError(f"{clips}: no such file or folder")
        files = sorted(p for p in clips.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if clips.is_dir() else [clips]
        if not files:
            raise ShotencError(f"{clips}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
        wanted = parse_codecs(codecs) or list(codec_registry.names())
        bad = sorted(set(wanted) - set(codec_registry.names()))
        if bad:
            raise ShotencError(f"unknown codec(s) {', '.join(bad)}")
        rows = training_rows(
            files,
            wanted,
            cache or default_cache_dir(),
            jobs=jobs or 0,
            on_clip=lambda c: click.echo(f"probing {c}", err=True),
        )
        model = fit(rows, source=f"shotenc train {clips}: " + ", ".join(f.name for f in files))
        model.save(output)
        for codec, f in model.fits.items():
            click.echo(f"{codec}: {f['points']} points, held-out-shot R2 {f['cv_r2']}")
        click.echo(f"wrote {output}")

    run()
