"""Click commands ``serve``, ``play`` and ``validate`` (registered on the ``shotenc`` group)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from ..delivery.edge.cache import POLICIES
from ..delivery.player.abr import DEFAULT_RULE, RULES
from ..errors import ShotencError
from .support import user_errors


def _mounts(folders: tuple[Path, ...]) -> dict[str, Path]:
    """Each folder is a title (has a manifest) or a folder of titles."""
    titles: dict[str, Path] = {}
    for f in folders:
        if not f.is_dir():
            raise ShotencError(f"{f}: no such folder")
        kids = (
            [f]
            if any((f / m).is_file() for m in ("manifest.mpd", "master.m3u8"))
            else sorted(
                k for k in f.iterdir() if k.is_dir() and any((k / m).is_file() for m in ("manifest.mpd", "master.m3u8"))
            )
        )
        if not kids:
            raise ShotencError(f"{f}: holds no title (no manifest.mpd or master.m3u8)")
        for k in kids:
            titles[k.resolve().name] = k
    return titles


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--cache-mb", type=float, default=256, show_default=True, help="Memory cache budget.")
@click.option("--policy", type=click.Choice(list(POLICIES)), default="s3fifo", show_default=True)
@click.option("--origin", "origins", multiple=True, help="Upstream origin base URL (repeatable; failover order).")
@click.option(
    "--prefetch",
    type=int,
    default=0,
    show_default=True,
    help="Pre-position the first N segments of every rendition before serving.",
)
@click.option(
    "--popularity",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Titles to pre-position, one per line, most popular first.",
)
@click.option(
    "--origin-timeout", type=float, default=2.0, show_default=True, help="Seconds without a byte before failing over."
)
@click.option("--header-timeout", type=float, default=10.0, show_default=True, help="Seconds to complete headers.")
@click.option("--idle-timeout", type=float, default=30.0, show_default=True, help="Seconds an idle connection stays.")
@click.option("--max-connections", type=int, default=None, help="Connection cap [default: from the descriptor limit].")
@click.option("--max-object-mb", type=float, default=None, help="Larger objects are streamed, not cached [cache/8].")
@click.option("--steer", "steer", multiple=True, help="Act as steering server over these edges (repeatable).")
@click.option("--steer-ttl", type=float, default=10.0, show_default=True, help="Steering manifest TTL, seconds.")
@click.option("--steer-probe", type=float, default=2.0, show_default=True, help="Seconds between edge probes.")
@click.option("--allow-throttle", is_flag=True, help="Enable /_edge/throttle?kbps=N (for player tests).")
@user_errors
def serve(
    folders, host, port, origins, origin_timeout, header_timeout, idle_timeout, steer, steer_ttl, steer_probe, **opts
):
    """Serve output folders (and/or upstream origins) through the caching edge."""
    from ..delivery.edge import EdgeConfig, start

    if not folders and not origins:
        raise ShotencError("give at least one output folder or --origin URL")
    cfg = EdgeConfig(
        titles=_mounts(folders),
        origins=list(origins),
        origin_timeout_s=origin_timeout,
        header_timeout_s=header_timeout,
        idle_timeout_s=idle_timeout,
        steer=list(steer),
        steer_ttl_s=steer_ttl,
        steer_probe_s=steer_probe,
        host=host,
        port=port,
        **opts,  # cache_mb, policy, prefetch, popularity, max_connections, max_object_mb, allow_throttle
    )

    async def run() -> None:
        runner, edge, bound = await start(cfg)
        s = edge.stats
        click.echo(
            f"edge on http://{host}:{bound}/  titles: {', '.join(cfg.titles) or '-'}  "
            f"origins: {', '.join(o.name for o in edge.origins)}"
        )
        click.echo(
            f"pre-positioned {s.prefilled_objects} objects ({s.prefilled_bytes / 1e6:.1f} MB); "
            f"player page: http://{host}:{bound}/_player/  stats: /_edge/stats"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    except OSError as exc:
        raise ShotencError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


@click.command()
@click.argument("target")
@click.option(
    "--trace",
    "trace_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Throughput trace (Sabre JSON, Pensieve text or Mahimahi).",
)
@click.option("--abr", default=DEFAULT_RULE, show_default=True, type=click.Choice(list(RULES)), help="ABR rule.")
@click.option("--codec", default=None, help="Video codec family to play (h264, vp9, av1, hevc).")
@click.option("--edge", "edges", multiple=True, help="Another edge with the same content (failover).")
@click.option("--buffer", "max_buffer", type=float, default=25.0, show_default=True, help="Buffer cap, seconds.")
@click.option(
    "--qoe",
    type=click.Choice(["lin", "log"]),
    default="lin",
    show_default=True,
    help="QoE model (lin: QoE_lin in Mbps, 4.3 per stall second; log: Sabre's log utility, 5 per segment of stall).",
)
@click.option("--no-decode", is_flag=True, help="Skip FFmpeg decoding of fetched segments.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@user_errors
def play(target, trace_path, abr, codec, edges, max_buffer, qoe, no_decode, as_json):
    """Play a title with an ABR rule over a throughput trace (folder, manifest URL, or Sabre movie)."""
    from ..delivery.player import movie as sabre
    from ..delivery.player.abr import make
    from ..delivery.player.client import PlayOptions, local_edge, manifest_name, play_url, target_urls
    from ..delivery.player.network import Network
    from ..delivery.player.optimum import bound_by_optimum
    from ..delivery.player.qoe import qoe_model
    from ..delivery.player.session import SessionConfig, run_session
    from ..delivery.player.traces import load_trace

    trace = load_trace(trace_path)
    opts = PlayOptions(trace, abr=abr, codec=codec, max_buffer_s=max_buffer, qoe_kind=qoe, decode=not no_decode)
    if sabre.is_movie(target):
        title = sabre.load_movie(target)
        net = Network(trace)
        model = qoe_model(qoe, title.nominal_s)
        cfg = SessionConfig(max_buffer_s=max_buffer, qoe=model)
        res = run_session(title, net, make(abr, model), config=cfg)
        bound_by_optimum(res, title, net, cfg)
        res.notes.append("simulation only: segment sizes from a Sabre movie file, nothing fetched")
        _print_session(res.to_dict(as_json), as_json)
        return
    if "://" in target:
        report = play_url(target_urls(target, list(edges)), opts)
    else:
        folder = Path(target)
        with local_edge(folder) as edge:
            url = f"{edge.url}/{folder.resolve().name}/{manifest_name(folder)}"
            report = play_url(target_urls(url, list(edges)), opts)
    d = report.to_dict(as_json)
    _print_session(d, as_json)
    if report.decode_errors:
        raise ShotencError(f"{len(report.decode_errors)} segments failed to decode: {report.decode_errors[0]}")


def _print_session(d: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    s = d.get("session", d)
    terms = s["qoe_terms"]
    lines = [
        f"{s['abr']} on {s['trace']}: startup {s['startup_s']:.2f} s, rebuffer {s['rebuffer_count']}x "
        f"{s['rebuffer_s']:.2f} s (ratio {s['rebuffer_ratio']:.4f}), average {s['avg_kbps']:.0f} kbps "
        f"(played {s['played_kbps']:.0f} kbps over {s['play_s']:.1f} s), switches {s['switches']} "
        f"(mean {s['switch_kbps']:.0f} kbps)",
        f"QoE ({s['qoe_model']}) {s['qoe']:.2f} = utility {terms['utility']:.2f} - rebuffer {terms['rebuffer']:.2f} "
        f"- startup {terms['startup']:.2f} - switching {terms['switching']:.2f}",
        f"offline optimum {s['optimum_qoe']:.2f}, worst {s['worst_qoe']:.2f}: "
        f"{s['fraction_of_optimum']:.0%} of the way from worst to optimum"
        if s.get("optimum_qoe") is not None
        else "offline optimum not computed",
        f"Sabre score {s['sabre_score']:.3f}"
        + (f"  mean VMAF {s['avg_vmaf']:.1f}" if s.get("avg_vmaf") is not None else ""),
    ]
    if "decoded_segments" in d:
        lines.append(
            f"decoded {d['decoded_segments']} segments, {d['decoded_frames']} frames, "
            f"{len(d['decode_errors'])} errors; {len(d['failovers'])} failovers"
        )
    lines += [f"note: {n}" for n in s.get("notes", [])]
    click.echo("\n".join(lines))


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--no-play", is_flag=True, help="Structural checks only.")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def validate(folder, no_play, as_json):
    """Check an output folder (alignment, keyframes, CODECS, BANDWIDTH, EXTINF) and play every rendition."""
    from ..delivery.validate import validate as run

    rep = run(folder, play=not no_play)
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2))
    else:
        for c in rep.checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name}" + (f"  ({c.detail})" if c.detail else ""))
        click.echo(f"{len(rep.checks)} checks, {len(rep.defects)} defects")
    if not rep.ok:
        sys.exit(1)
