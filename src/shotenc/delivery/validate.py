"""``shotenc validate``: is this output folder something players can stream? Check, then play.

Structural checks read the manifests as a player does and measure the files they point at:
segment alignment across renditions, a keyframe at every segment start, CODECS present and
well-formed, declared BANDWIDTH against the measured peak (Apple's 10%), EXTINF against
TARGETDURATION (RFC 8216). Then every rendition is fetched over HTTP from an in-process edge
and every segment decoded with FFmpeg. Any defect makes the command exit non-zero.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FFmpegError, ShotencError
from ..media import probe
from .decode import Decoder
from .manifests import ManifestError, Presentation, Rendition
from .manifests import load as load_manifest
from .player.client import Http, PlayOptions, local_edge, play_url
from .player.traces import constant
from .validate_tracks import check_tracks

CODEC_RE = {
    "avc1": re.compile(r"^avc[13]\.[0-9A-Fa-f]{6}$"),
    "hvc1": re.compile(r"^(hvc1|hev1)\.[A-C]?\d+\.[0-9A-Fa-f]+\.[LH]\d+(\.[0-9A-Fa-f]{1,2})*$"),
    "vp09": re.compile(r"^vp09\.\d{2}\.\d{2}\.\d{2}(\.\d{2}){0,5}$"),
    "av01": re.compile(r"^av01\.\d\.\d{2}[MH]\.\d{2}(\.\d){0,1}(\.\d{3}\.\d{2}\.\d{2}\.\d{2}\.\d)?$"),
    "mp4a": re.compile(r"^mp4a\.40\.\d+$"),
    "ec-3": re.compile(r"^ec-3$"),
}
TOLERANCE = 0.10  # Apple HLS authoring spec: measured peak/average within 10% of declared


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ValidationReport:
    folder: str
    checks: list[Check] = field(default_factory=list)

    @property
    def defects(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.defects and bool(self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, bool(ok), detail))

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "ok": self.ok,
            "checks": [c.__dict__ for c in self.checks],
            "defects": len(self.defects),
        }


def _codec_ok(codec: str) -> bool:
    fam = codec.split(".")[0]
    fam = "hvc1" if fam == "hev1" else "avc1" if fam == "avc3" else fam
    pattern = CODEC_RE.get(fam)
    return bool(pattern and pattern.match(codec))


def check_alignment(rep: ValidationReport, pres: Presentation, label: str) -> None:
    """All video renditions cut at the same instants (else switching glitches or stalls)."""
    videos = pres.video
    if not videos:
        rep.add(f"{label}: video renditions", False, "none")
        return
    ref = videos[0]
    for r in videos[1:]:
        starts_ref = [round(s.start_s, 3) for s in ref.segments]
        starts = [round(s.start_s, 3) for s in r.segments]
        same = len(starts) == len(starts_ref) and all(
            abs(a - b) <= 0.002 for a, b in zip(starts, starts_ref, strict=False)
        )
        rep.add(
            f"{label}: {r.id} aligned with {ref.id}",
            same,
            "" if same else f"{len(starts)} vs {len(starts_ref)} segments, starts {starts[:6]} vs {starts_ref[:6]}",
        )


def check_codecs(rep: ValidationReport, pres: Presentation, label: str) -> None:
    for r in pres.video + pres.audio:
        if pres.kind == "hls" and r.kind == "audio":
            continue  # HLS carries audio codecs in the variant's CODECS
        rep.add(
            f"{label}: {r.id} CODECS",
            bool(r.codecs) and all(_codec_ok(c.strip()) for c in r.codecs.split(",")),
            r.codecs or "missing",
        )


def check_extinf(rep: ValidationReport, pres: Presentation) -> None:
    for r in pres.video + pres.audio:
        if r.target_duration is None:
            rep.add(f"hls: {r.id} TARGETDURATION", False, "missing")
            continue
        worst = max((s.duration_s for s in r.segments), default=0.0)
        rep.add(
            f"hls: {r.id} EXTINF ≤ TARGETDURATION",
            round(worst) <= r.target_duration,
            f"longest {worst:.3f} s, target {r.target_duration}",
        )


def measure(http: Http, r: Rendition) -> tuple[list[bytes], bytes]:
    init = http.get(r.init_url, f"{r.id} init")[0] if r.init_url else b""
    return [http.get(s.url, f"{r.id} segment {s.number}")[0] for s in r.segments], init


def _rates(r: Rendition, bodies: list[bytes]) -> tuple[float, float]:
    """(peak, average) bit rate of the media segments, bit/s."""
    peak = max(
        (len(b) * 8 / s.duration_s for b, s in zip(bodies, r.segments, strict=False) if s.duration_s > 0), default=0.0
    )
    total = sum(s.duration_s for s in r.segments)
    return peak, (sum(len(b) for b in bodies) * 8 / total if total else 0.0)


def check_sizes(rep: ValidationReport, label: str, r: Rendition, lengths: list[int]) -> None:
    """The sizes the manifest publishes match the files: DASH byte ranges exactly, HLS
    EXT-X-BITRATE (whole kbit/s) within its rounding."""
    exact = label == "dash"
    bad = [
        f"#{s.number}: says {s.size_bytes}, is {n}"
        for s, n in zip(r.segments, lengths, strict=False)
        if s.size_bytes is None or abs(s.size_bytes - n) > (0 if exact else 62.5 * s.duration_s + 1)
    ]
    rep.add(f"{label}: {r.id} segment sizes match the files", not bad, ", ".join(bad[:3]))


def _within(declared: float, measured: float) -> bool:
    return measured > 0 and abs(declared - measured) <= TOLERANCE * measured


def check_keyframes(rep: ValidationReport, r: Rendition, init: bytes, bodies: list[bytes]) -> None:
    """Every media segment must open with a keyframe (IDR), or a switch to it cannot decode."""
    bad = []
    with tempfile.TemporaryDirectory(prefix="shotenc-kf-") as tmp:
        path = Path(tmp) / "s.mp4"
        for seg, body in zip(r.segments, bodies, strict=False):
            path.write_bytes(init + body)
            try:
                packets = probe.packet_info(path, "v:0")
            except FFmpegError as exc:
                bad.append(f"#{seg.number}: {exc}")
                continue
            if not packets or not packets[0]["key"]:
                bad.append(f"#{seg.number}")
    rep.add(f"{r.id}: keyframe at every segment start", not bad, ", ".join(bad[:5]))


def validate(folder: str | Path, play: bool = True) -> ValidationReport:
    folder = Path(folder)
    rep = ValidationReport(str(folder))
    if not folder.is_dir():
        raise ShotencError(f"{folder}: no such output folder")
    have = [n for n in ("manifest.mpd", "master.m3u8") if (folder / n).is_file()]
    rep.add("manifests present", bool(have), ", ".join(have) or "neither manifest.mpd nor master.m3u8")
    if not have:
        return rep
    with local_edge(folder) as edge:
        base = f"{edge.url}/{folder.resolve().name}/"
        http = Http.for_urls([base + have[0]], timeout_s=10)
        parsed: dict[str, Presentation] = {}
        for name in have:
            try:
                parsed[name] = load_manifest(base + name, http.text)
                rep.add(f"{name} parses", True)
            except (ManifestError, ShotencError) as exc:
                rep.add(f"{name} parses", False, str(exc))
        dash, hls = parsed.get("manifest.mpd"), parsed.get("master.m3u8")
        measured: dict[str, tuple[float, float]] = {}
        primary = dash or hls
        if primary is None:
            return rep
        for label, pres in (("dash", dash), ("hls", hls)):
            if pres is not None:
                check_alignment(rep, pres, label)
                check_codecs(rep, pres, label)
        if hls is not None:
            check_extinf(rep, hls)
        for r in primary.video + primary.audio:
            try:
                bodies, init = measure(http, r)
            except ShotencError as exc:
                rep.add(f"{r.id}: every segment fetched", False, str(exc))
                continue
            measured[r.id] = _rates(r, bodies)
            if primary is dash:
                check_sizes(rep, "dash", r, [len(b) for b in bodies])
            if r.kind == "video":
                check_keyframes(rep, r, init, bodies)
            if dash is not None and r in dash.video + dash.audio:
                peak = measured[r.id][0]
                rep.add(
                    f"dash: {r.id} @bandwidth vs measured peak",
                    _within(r.bandwidth, peak),
                    f"declared {r.bandwidth / 1000:.0f} kbps, measured {peak / 1000:.0f} kbps",
                )
        if hls is not None:
            _check_hls_bandwidth(rep, hls, http)
        if dash is not None and hls is not None:
            _check_same_cuts(rep, dash, hls)
        check_tracks(rep, dash, hls, http, base)
        if play:
            _play_all(rep, primary, base + have[0], http)
    return rep


def _check_hls_bandwidth(rep, hls: Presentation, http: Http) -> None:
    """Each variant's BANDWIDTH against its video plus the largest audio of its AUDIO group; each
    rendition's published segment sizes (EXT-X-BITRATE) against its files."""
    audio_rates: dict[str, list[tuple[float, float]]] = {}
    for a in hls.audio:
        try:
            rates = _rates(a, measure(http, a)[0])
        except ShotencError as exc:
            rep.add(f"hls: {a.id} every segment fetched", False, str(exc))
            continue
        audio_rates.setdefault(a.group, []).append(rates)
        audio_rates.setdefault("", []).append(rates)  # a variant that names no group: the largest of all
    video_rates: dict[str, tuple[float, float]] = {}
    for r in hls.video:
        try:
            bodies = measure(http, r)[0]
        except ShotencError as exc:
            rep.add(f"hls: {r.id} every segment fetched", False, str(exc))
            continue
        video_rates[r.id] = _rates(r, bodies)
        check_sizes(rep, "hls", r, [len(b) for b in bodies])
    for r in hls.variants or hls.video:
        if r.id not in video_rates:
            continue
        a_peak = max((p for p, _ in audio_rates.get(r.audio_group, [])), default=0.0)
        a_avg = max((v for _, v in audio_rates.get(r.audio_group, [])), default=0.0)
        v_peak, v_avg = video_rates[r.id]
        peak, avg = v_peak + a_peak, v_avg + a_avg
        rep.add(
            f"hls: {r.id}{f' ({r.audio_group})' if r.audio_group else ''} BANDWIDTH vs measured peak",
            _within(r.bandwidth, peak),
            f"declared {r.bandwidth / 1000:.0f} kbps, measured {peak / 1000:.0f} kbps (video+audio)",
        )
        if r.average_bandwidth:
            rep.add(
                f"hls: {r.id} AVERAGE-BANDWIDTH vs measured",
                _within(r.average_bandwidth, avg),
                f"declared {r.average_bandwidth / 1000:.0f} kbps, measured {avg / 1000:.0f} kbps",
            )


def _check_same_cuts(rep, dash: Presentation, hls: Presentation) -> None:
    """DASH and HLS describe the same segments (a player picks either)."""
    d = {r.id: r for r in dash.video}
    for r in hls.video:
        other = d.get(r.id)
        if other is None:
            continue
        same = len(other.segments) == len(r.segments) and all(
            abs(a.duration_s - b.duration_s) < 0.002 for a, b in zip(other.segments, r.segments, strict=False)
        )
        rep.add(f"{r.id}: HLS EXTINF match DASH timeline", same)


def _play_all(rep: ValidationReport, pres: Presentation, manifest_url: str, http: Http) -> None:
    """Play every video rendition (one rung pinned) and decode every audio segment."""
    for rends in pres.groups().values():
        for i, r in enumerate(rends):
            opts = PlayOptions(constant(100_000), codec=rends[0].codec_family, rung=i, audio=False, optimum=False)
            try:
                played = play_url([manifest_url], opts, audio=None)
            except ShotencError as exc:
                rep.add(f"{r.id}: plays end to end", False, str(exc))
                continue
            expected = round(r.duration_s * (r.fps or 0)) if r.fps else None
            frames_ok = expected is None or abs(played.decoded_frames - expected) <= len(r.segments)
            ok = not played.decode_errors and played.decoded_segments == len(r.segments) and frames_ok
            rep.add(
                f"{r.id}: plays end to end",
                ok,
                f"{played.decoded_segments} segments, {played.decoded_frames} frames decoded"
                + (f" (expected {expected})" if expected else "")
                + ("; " + "; ".join(played.decode_errors[:3]) if played.decode_errors else ""),
            )
    for a in pres.audio:
        dec = Decoder()
        try:
            bodies, init = measure(http, a)
        except ShotencError as exc:
            rep.add(f"{a.id}: plays end to end", False, str(exc))
            continue
        for s, b in zip(a.segments, bodies, strict=False):
            dec.submit(init, b, f"{a.id}#{s.number}")
        results = dec.results()
        errors = [f"{x.label}: {x.error or 'no frames'}" for x in results if x.error or x.frames == 0]
        rep.add(
            f"{a.id}: plays end to end",
            not errors and len(results) == len(a.segments),
            f"{len(results)} segments, {sum(x.frames for x in results)} audio frames"
            + ("; " + "; ".join(errors[:3]) if errors else ""),
        )
