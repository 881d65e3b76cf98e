"""The ABR test player: real HTTP fetches, modelled network time, real FFmpeg decodes.

Bytes come over HTTP from an edge (or an in-process edge in front of a local folder); the
time each transfer "took" is what the throughput trace gives for those bytes, so a session is
reproducible and fast, while every byte fetched is real and is decoded to prove it plays.
On an error or a timeout the player retries on the next edge and says so in the report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from ..decode import Decoder
from ..edge import EdgeConfig, EdgeThread
from ..manifests import ManifestError, Presentation, Rendition
from ..manifests import load as load_manifest
from . import abr as abr_mod
from .fetch import Http, PlayError
from .network import Network
from .optimum import bound_by_optimum
from .qoe import SessionResult, qoe_model
from .session import Fetched, Fetcher, SegmentLog, SessionConfig, Title, run_session
from .steering import SteeringClient
from .traces import Trace

__all__ = ["Http", "PlayError", "PlayOptions", "PlayReport", "build_title", "local_edge", "play_url"]


@dataclass
class PlayOptions:
    trace: Trace
    abr: str = abr_mod.DEFAULT_RULE
    codec: str | None = None
    max_buffer_s: float = 25.0
    qoe_kind: str = "lin"  # lin | log (see qoe.qoe_model)
    timeout_s: float = 5.0
    decode: bool = True
    audio: bool = True
    text: bool = True  # fetch the default (else first) subtitle track beside the video
    rung: int | None = None  # play one rung only (validate)
    optimum: bool = True
    use_sizes: bool = True  # let the rule plan on segment sizes the manifest publishes
    on_segment: Callable[[SegmentLog], None] | None = None  # progress hook (tests stop an edge)


@dataclass
class PlayReport:
    session: SessionResult
    manifest: str
    codec_group: str
    rungs: list[str]
    sizes_exact: bool  # the optimum knew every segment's size (manifest or report.json)
    decoded_segments: int = 0
    decoded_frames: int = 0
    decode_errors: list[str] = field(default_factory=list)
    failovers: list[dict] = field(default_factory=list)
    audio_rendition: str | None = None
    text_rendition: str | None = None
    text_segments: int = 0  # subtitle segments fetched (and read as WebVTT)
    edge_bytes: dict[str, int] = field(default_factory=dict)  # per edge (pathway)
    edge: str | None = None  # the edge the session ended on
    steering: list[dict] | None = None  # each steering answer: when, the order, the edge in use
    wall_s: float = 0.0

    def to_dict(self, with_segments: bool = True) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "session"}
        d["session"] = self.session.to_dict(with_segments)
        return d


def _report_json(http: Http, manifest_url: str) -> dict | None:
    try:
        return json.loads(http.get(urljoin(manifest_url, "report.json"), "report.json")[0])
    except (PlayError, ValueError):
        return None


def build_title(pres: Presentation, renditions: list[Rendition], report: dict | None) -> tuple[Title, bool]:
    """The ladder a player adapts over. Segment sizes come from the manifest when it publishes
    them (the rules may then plan on them); otherwise report.json's sizes serve the offline optimum
    only, and failing both they are estimated from BANDWIDTH. VMAF comes from report.json."""
    counts = {len(r.segments) for r in renditions}
    if len(counts) != 1:
        raise ManifestError(f"{pres.url}: renditions have different segment counts {sorted(counts)}")
    seg_s = [s.duration_s for s in renditions[0].segments]
    published = all(s.size_bytes for r in renditions for s in r.segments)
    by_id = {r["id"]: r for r in (report or {}).get("renditions", [])}
    reported = all(r.id in by_id and len(by_id[r.id].get("segments", [])) == len(seg_s) for r in renditions)
    sizes, vmaf = [], []
    for n, d in enumerate(seg_s):
        row, vrow = [], []
        for r in renditions:
            seg = by_id[r.id]["segments"][n] if reported else {}
            if published:
                row.append(8.0 * r.segments[n].size_bytes)
            else:
                row.append(8.0 * seg["bytes"] if seg.get("bytes") else r.bandwidth * d)
            vrow.append(seg.get("vmaf"))
        sizes.append(row)
        vmaf.append(vrow)
    has_vmaf = all(v is not None for row in vmaf for v in row)
    title = Title(
        pres.url,
        [r.id for r in renditions],
        [r.bandwidth / 1000 for r in renditions],
        seg_s,
        sizes,
        vmaf if has_vmaf else None,
        sizes_published=published,
    )
    return title, published or reported


AUDIO_SLACK_S = 0.05


class HttpFetcher(Fetcher):
    """Fetches init/media segments (and the audio and subtitles that go with them) and queues decodes."""

    def __init__(
        self,
        http: Http,
        renditions: list[Rendition],
        audio: Rendition | None,
        decoder: Decoder | None,
        text: Rendition | None = None,
        steering: SteeringClient | None = None,
    ):
        self.http = http
        self.steering = steering
        self.renditions = renditions
        self.audio = audio
        self.decoder = decoder
        self.inits: dict[int, bytes] = {}
        self.audio_init: bytes | None = None
        self.audio_next = 0
        self.text = text
        self.text_next = 0
        self.text_errors: list[str] = []

    def init(self, rung: int) -> Fetched | None:
        r = self.renditions[rung]
        if r.init_url is None:
            self.inits[rung] = b""
            return None
        body, lost = self.http.get(r.init_url, f"{r.id} init")
        self.inits[rung] = body
        return Fetched(8.0 * len(body), lost)

    def segment(self, index: int, rung: int, now_s: float = 0.0) -> Fetched:
        if self.steering is not None:
            self.steering.tick(now_s)
        r = self.renditions[rung]
        seg = r.segments[index]
        # an edge that takes over half the segment's duration is the bottleneck: try another
        deadline = max(0.5 * seg.duration_s, 1.0)
        body, lost = self.http.get(seg.url, f"{r.id} segment {seg.number}", deadline)
        if self.decoder:
            self.decoder.submit(self.inits.get(rung, b""), body, f"{r.id}#{seg.number}")
        extra_bytes, extra_lost = self._audio_until(seg.start_s + seg.duration_s)
        text_bytes, text_lost = self._text_until(seg.start_s + seg.duration_s)
        return Fetched(8.0 * (len(body) + extra_bytes + text_bytes), lost + extra_lost + text_lost)

    def _text_until(self, end_s: float) -> tuple[int, float]:
        """The subtitle segments that start before ``end_s`` (a DASH sidecar is one segment: fetched first)."""
        t = self.text
        nbytes, lost = 0, 0.0
        while t is not None and self.text_next < len(t.segments) and t.segments[self.text_next].start_s < end_s - 1e-3:
            seg = t.segments[self.text_next]
            body, l2 = self.http.get(seg.url, f"{t.id} segment {seg.number}")
            if not body.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
                self.text_errors.append(f"{t.id}#{seg.number}: not a WebVTT file")
            nbytes += len(body)
            lost += l2
            self.text_next += 1
        return nbytes, lost

    def _audio_until(self, end_s: float) -> tuple[int, float]:
        a = self.audio
        if a is None:
            return 0, 0.0
        nbytes, lost = 0, 0.0
        if self.audio_init is None:
            self.audio_init = b""
            if a.init_url:
                self.audio_init, lost = self.http.get(a.init_url, f"{a.id} init")
                nbytes += len(self.audio_init)
        last_video = end_s >= sum(s.duration_s for s in self.renditions[0].segments) - 1e-3
        # audio segments end on whole AAC frames, a few ms off the video's instants: one that starts
        # within AUDIO_SLACK_S of this segment's end belongs with the next one
        while self.audio_next < len(a.segments) and (
            a.segments[self.audio_next].start_s < end_s - AUDIO_SLACK_S or last_video
        ):
            seg = a.segments[self.audio_next]
            body, l2 = self.http.get(seg.url, f"{a.id} segment {seg.number}")
            if self.decoder:
                self.decoder.submit(self.audio_init, body, f"{a.id}#{seg.number}")
            nbytes += len(body)
            lost += l2
            self.audio_next += 1
        return nbytes, lost


def pick_audio(pres: Presentation) -> Rendition | None:
    """Stereo if there is one (what a phone would pick), else the first audio rendition."""
    if not pres.audio:
        return None
    stereo = [a for a in pres.audio if "2ch" in a.id or "stereo" in a.id.lower()]
    return (stereo or sorted(pres.audio, key=lambda a: a.bandwidth))[0]


def pick_text(pres: Presentation) -> Rendition | None:
    """The default subtitle track (what a player shows unasked), else the first; None without subtitles."""
    return next((t for t in pres.text if t.default), pres.text[0] if pres.text else None)


def play_url(manifest_urls: list[str], opts: PlayOptions, audio: Rendition | str | None = "auto") -> PlayReport:
    """Play one session against ``manifest_urls[0]`` (the others are fallback edges; a manifest
    with content steering brings its own edges and their order)."""
    wall0 = time.monotonic()
    http = Http.for_urls(manifest_urls, opts.timeout_s)
    net = Network(opts.trace)
    url = manifest_urls[0]
    pres = load_manifest(url, http.text)
    manifest_bytes = len(http.get(url, "manifest")[0])
    report = _report_json(http, url)
    steering = SteeringClient.start(pres.steering, pres.kind, opts.timeout_s) if pres.steering else None
    if steering is not None:
        http = steering.http
    group, rends = pres.group_for(opts.codec)
    if opts.rung is not None:
        rends = [rends[opts.rung]]
    title, exact = build_title(pres, rends, report)
    title.sizes_published &= opts.use_sizes
    if audio == "auto":
        audio = pick_audio(pres) if opts.audio else None
    decoder = Decoder() if opts.decode else None
    text = pick_text(pres) if opts.text else None
    fetcher = HttpFetcher(
        http, rends, audio if isinstance(audio, Rendition) else None, decoder, text=text, steering=steering
    )
    start = net.transfer_s(0.0, manifest_bytes)  # the manifest costs time before the first segment
    model = qoe_model(opts.qoe_kind, title.nominal_s)
    # a pinned rung is played as asked: no abandoning to a lower one
    cfg = SessionConfig(max_buffer_s=opts.max_buffer_s, qoe=model, abandon=opts.rung is None)
    rule = abr_mod.Fixed(0) if opts.rung is not None else abr_mod.make(opts.abr, model)
    result = run_session(title, net, rule, fetcher, cfg, start_s=start, on_segment=opts.on_segment)
    if opts.optimum and opts.rung is None:
        bound_by_optimum(result, title, net, cfg, start)
    out = PlayReport(
        result,
        url,
        group,
        [r.id for r in rends],
        exact,
        failovers=http.events,
        audio_rendition=audio.id if isinstance(audio, Rendition) else None,
        text_rendition=text.id if text else None,
        text_segments=fetcher.text_next,
        decode_errors=list(fetcher.text_errors),
        edge_bytes=http.bytes_by_edge(),
        edge=http.active.name,
        steering=steering.history if steering else None,
    )
    _notes(out, exact, http, decoder)
    out.wall_s = time.monotonic() - wall0
    return out


def _notes(out: PlayReport, exact: bool, http: Http, decoder: Decoder | None) -> None:
    result = out.session
    if not exact:
        result.notes.append("segment sizes for the offline optimum estimated from BANDWIDTH (no report.json)")
    for ev in http.events:
        result.notes.append(f"{ev['object']}: {ev['error']} at {ev['failed']}; served by {ev['served_by']}")
    if decoder:
        for res in decoder.results():
            out.decoded_segments += 1
            out.decoded_frames += res.frames
            if res.error or res.frames == 0:
                out.decode_errors.append(f"{res.label}: {res.error or 'no frames decoded'}")


def target_urls(target: str, edges: list[str]) -> list[str]:
    """Manifest URLs for a target that is a URL, plus the same path on each extra edge."""
    urls = [target]
    path = "/" + target.split("://", 1)[1].split("/", 1)[1] if "://" in target else ""
    for e in edges:
        urls.append(e.rstrip("/") + path if path else e)
    return urls


def local_edge(folder: Path, **kw) -> EdgeThread:
    """An in-process edge on an ephemeral loopback port serving one output folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PlayError(f"{folder}: no such output folder")
    return EdgeThread(EdgeConfig(titles={folder.resolve().name: folder}, port=0, cache_mb=64, **kw))


def manifest_name(folder: Path, prefer: str = "manifest.mpd") -> str:
    for name in (prefer, "manifest.mpd", "master.m3u8"):
        if (Path(folder) / name).is_file():
            return name
    raise PlayError(f"{folder}: neither manifest.mpd nor master.m3u8 found")
