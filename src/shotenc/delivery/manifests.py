"""Read what the packager wrote, as a player would: DASH MPD (XML) and HLS (the m3u8 package).

Both become one :class:`Presentation` with absolute-or-relative segment URLs, so the player,
the validator and the edge's pre-positioning walk the same structure whichever manifest they
start from. A ``loader`` callable fetches text, so the same code reads files and HTTP.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from urllib.parse import urljoin

import m3u8

from ..errors import ShotencError


class ManifestError(ShotencError):
    """A manifest is missing, malformed, or describes something a player cannot follow."""


@dataclass
class Segment:
    number: int
    url: str  # resolved against the manifest URL
    start_s: float
    duration_s: float
    size_bytes: int | None = None  # published by the manifest (DASH byte range; HLS EXT-X-BITRATE × duration)


@dataclass
class Rendition:
    id: str
    kind: str  # video | audio
    codecs: str
    bandwidth: int  # declared peak, bit/s
    init_url: str | None
    segments: list[Segment] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    average_bandwidth: int | None = None
    playlist_url: str | None = None  # HLS media playlist
    target_duration: int | None = None  # HLS
    group: str = ""  # DASH AdaptationSet id / codec family: renditions a player may switch among
    language: str = ""  # DASH @lang / HLS LANGUAGE (audio and subtitles)
    default: bool = False  # HLS DEFAULT=YES / DASH Role main
    video_range: str = ""  # PQ | HLG | SDR as stated (HLS VIDEO-RANGE, DASH CICP TransferCharacteristics); "" unstated
    audio_group: str = ""  # HLS variant: its AUDIO group

    @property
    def codec_family(self) -> str:
        return (self.codecs.split(".")[0] if self.codecs else "unknown").lower()

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)


@dataclass
class SteeringInfo:
    """Content steering: where to ask for the pathway order, and each pathway's URL prefix (segment
    URLs are resolved on the default pathway; another pathway serves them at its own prefix)."""

    server_uri: str
    default: str
    prefixes: dict[str, str]

    def url_on(self, url: str, pathway: str) -> str:
        base, other = self.prefixes[self.default], self.prefixes.get(pathway)
        return other + url[len(base) :] if other is not None and url.startswith(base) else url


@dataclass
class Presentation:
    url: str
    kind: str  # dash | hls
    video: list[Rendition] = field(default_factory=list)
    audio: list[Rendition] = field(default_factory=list)
    duration_s: float | None = None
    text: list[Rendition] = field(default_factory=list)  # subtitles
    images: list[Rendition] = field(default_factory=list)  # thumbnails
    variants: list[Rendition] = field(default_factory=list)  # HLS: every variant (one per video and audio group)
    steering: SteeringInfo | None = None

    def groups(self) -> dict[str, list[Rendition]]:
        """Video renditions a player may switch among, by group, ascending bandwidth."""
        out: dict[str, list[Rendition]] = {}
        for r in self.video:
            out.setdefault(r.group or r.codec_family, []).append(r)
        return {k: sorted(v, key=lambda r: r.bandwidth) for k, v in out.items()}

    def group_for(self, codec: str | None) -> tuple[str, list[Rendition]]:
        groups = self.groups()
        if not groups:
            raise ManifestError(f"{self.url}: no video renditions")
        if codec is None:
            return next(iter(groups.items()))
        want = {"h264": "avc1", "avc": "avc1", "hevc": "hvc1", "h265": "hvc1", "vp9": "vp09", "av1": "av01"}
        fam = want.get(codec.lower(), codec.lower())
        for k, v in groups.items():
            if v[0].codec_family in (fam, "hev1" if fam == "hvc1" else fam):
                return k, v
        raise ManifestError(f"{self.url}: no {codec} renditions (have {', '.join(groups)})")


Loader = Callable[[str], str]
AUDIO_CODECS = ("mp4a", "ec-3", "ac-3")  # what a variant's CODECS may name beside its video

_NS = re.compile(r"^\{[^}]*\}")
_DUR = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_TEMPLATE = re.compile(r"\$(RepresentationID|Number|Time|Bandwidth)(%0\d+d)?\$")


def _tag(el: ET.Element) -> str:
    return _NS.sub("", el.tag)


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _tag(c) == name]


def _child(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    found = _children(el, name)
    return found[0] if found else None


def parse_duration(text: str | None) -> float | None:
    """ISO 8601 duration as used by DASH (PT1M2.5S)."""
    if not text:
        return None
    m = _DUR.match(text.strip())
    if not m:
        raise ManifestError(f"bad ISO 8601 duration {text!r}")
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


def _fill(template: str, rep_id: str, bandwidth: int, number: int | None = None, time: int | None = None) -> str:
    def sub(m: re.Match) -> str:
        key, fmt = m.group(1), m.group(2) or "%d"
        if key == "RepresentationID":
            return rep_id
        value = {"Number": number, "Time": time, "Bandwidth": bandwidth}[key]
        if value is None:
            raise ManifestError(f"template {template!r} uses ${key}$ where it has no value")
        return fmt % value

    return _TEMPLATE.sub(sub, template).replace("$$", "$")


def _fps(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return None


def parse_mpd(text: str, url: str) -> Presentation:
    """A static, single-period MPD: SegmentList or SegmentTemplate, each with a SegmentTimeline or @duration."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ManifestError(f"{url}: malformed MPD ({exc})") from None
    if _tag(root) != "MPD":
        raise ManifestError(f"{url}: not an MPD (root <{_tag(root)}>)")
    total = parse_duration(root.get("mediaPresentationDuration"))
    periods = _children(root, "Period")
    if len(periods) != 1:
        raise ManifestError(f"{url}: expected one Period, found {len(periods)}")
    steering = _dash_steering(root, url)
    base = steering.prefixes[steering.default] if steering else url
    for el in (periods[0],) if steering else (root, periods[0]):
        b = _child(el, "BaseURL")
        if b is not None and b.text:
            base = urljoin(base, b.text.strip())
    pres = Presentation(url=url, kind="dash", duration_s=total, steering=steering)
    lists = {"video": pres.video, "audio": pres.audio, "text": pres.text, "image": pres.images}
    for aset in _children(periods[0], "AdaptationSet"):
        for rep in _children(aset, "Representation"):
            kind, rend = _representation(aset, rep, base, total, url)
            lists[kind].append(rend)
    return pres


_CICP_RANGES = {"16": "PQ", "18": "HLG", "1": "SDR", "6": "SDR", "14": "SDR", "15": "SDR"}


def _dash_video_range(aset: ET.Element) -> str:
    """The transfer an AdaptationSet states in its CICP properties (DASH-IF IOP 6.2.5), as HLS names it."""
    for prop in _children(aset, "EssentialProperty") + _children(aset, "SupplementalProperty"):
        if prop.get("schemeIdUri") == "urn:mpeg:mpegB:cicp:TransferCharacteristics":
            return _CICP_RANGES.get(prop.get("value") or "", "")
    return ""


def _dash_steering(root: ET.Element, url: str) -> SteeringInfo | None:
    """DASH-IF content steering: a ContentSteering element and MPD BaseURLs with serviceLocation."""
    cs = _child(root, "ContentSteering")
    located = {b.get("serviceLocation"): urljoin(url, (b.text or "").strip()) for b in _children(root, "BaseURL")}
    located.pop(None, None)
    if cs is None or not (cs.text or "").strip() or not located:
        return None
    default = cs.get("defaultServiceLocation")
    default = default if default in located else next(iter(located))
    return SteeringInfo(urljoin(url, cs.text.strip()), default, located)


def _attr(rep: ET.Element, aset: ET.Element, name: str) -> str | None:
    return rep.get(name) or aset.get(name)


def _representation(aset, rep, base, total, url) -> tuple[str, Rendition]:
    rep_id = rep.get("id") or ""
    mime = _attr(rep, aset, "mimeType") or ""
    kind = aset.get("contentType") or mime.split("/")[0]
    if kind not in ("video", "audio", "text", "image"):
        kind = "video" if rep.get("width") else "audio"
    bandwidth = int(rep.get("bandwidth") or 0)
    seglist, tpl = _own_or_set(rep, aset, "SegmentList"), _own_or_set(rep, aset, "SegmentTemplate")
    if tpl is None and seglist is None:
        raise ManifestError(f"{url}: Representation {rep_id} has neither SegmentTemplate nor SegmentList")
    rend = Rendition(
        id=rep_id,
        kind=kind,
        codecs=_attr(rep, aset, "codecs") or "",
        bandwidth=bandwidth,
        init_url=None,
        width=int(rep.get("width")) if rep.get("width") else None,
        height=int(rep.get("height")) if rep.get("height") else None,
        fps=_fps(_attr(rep, aset, "frameRate")),
        group=aset.get("id") or "",
        language=_attr(rep, aset, "lang") or "",
        default=any(r.get("value") == "main" for r in _children(aset, "Role")),
        video_range=_dash_video_range(aset),
    )
    if seglist is not None:
        _from_segment_list(rend, seglist, base, total, url)
    else:
        _from_template(rend, tpl, base, total, url)
    return kind, rend


def _own_or_set(rep: ET.Element, aset: ET.Element, name: str) -> ET.Element | None:
    found = _child(rep, name)
    return found if found is not None else _child(aset, name)


def _spans(el: ET.Element, total: float | None, url: str, rep_id: str) -> tuple[int, list[tuple[int, int]]]:
    """Timescale and (start, duration) of every segment from a SegmentTimeline or @duration."""
    timescale = int(el.get("timescale") or 1)
    timeline = _child(el, "SegmentTimeline")
    spans: list[tuple[int, int]] = []
    if timeline is not None:
        t = 0
        for s in _children(timeline, "S"):
            t = int(s.get("t")) if s.get("t") is not None else t
            d, r = int(s.get("d")), int(s.get("r") or 0)
            if r < 0:
                r = max(0, int(((total or 0) * timescale - t + d - 1) // d) - 1)
            for _ in range(r + 1):
                spans.append((t, d))
                t += d
    elif el.get("duration") and total:
        d = int(el.get("duration"))
        spans = [(i * d, min(d, int(total * timescale) - i * d)) for i in range(int(-(-total * timescale // d)))]
    else:
        raise ManifestError(f"{url}: Representation {rep_id}: neither SegmentTimeline nor @duration")
    return timescale, spans


def _from_template(rend: Rendition, tpl: ET.Element, base: str, total: float | None, url: str) -> None:
    media, init = tpl.get("media"), tpl.get("initialization")
    if not media:
        raise ManifestError(f"{url}: Representation {rend.id}: SegmentTemplate without @media")
    rend.init_url = urljoin(base, _fill(init, rend.id, rend.bandwidth)) if init else None
    timescale, spans = _spans(tpl, total, url, rend.id)
    number = int(tpl.get("startNumber") or 1)
    for k, (t, d) in enumerate(spans):
        path = _fill(media, rend.id, rend.bandwidth, number + k, t)
        rend.segments.append(Segment(number + k, urljoin(base, path), t / timescale, d / timescale))


def _from_segment_list(rend: Rendition, sl: ET.Element, base: str, total: float | None, url: str) -> None:
    """SegmentList: each SegmentURL's @media, and its @mediaRange as the segment's size."""
    init = _child(sl, "Initialization")
    if init is not None and init.get("sourceURL"):
        rend.init_url = urljoin(base, init.get("sourceURL"))
    timescale, spans = _spans(sl, total, url, rend.id)
    urls = _children(sl, "SegmentURL")
    if len(urls) != len(spans):
        raise ManifestError(f"{url}: Representation {rend.id}: {len(urls)} SegmentURLs for {len(spans)} segments")
    number = int(sl.get("startNumber") or 1)
    for k, ((t, d), su) in enumerate(zip(spans, urls, strict=True)):
        size = None
        if su.get("mediaRange"):
            first, _, last = su.get("mediaRange").partition("-")
            size = int(last) - int(first) + 1
        target = urljoin(base, su.get("media")) if su.get("media") else base
        rend.segments.append(Segment(number + k, target, t / timescale, d / timescale, size))


def _media_playlist(text: str, url: str, rend: Rendition) -> Rendition:
    try:
        pl = m3u8.loads(text, uri=url)
    except Exception as exc:  # the m3u8 package raises assorted errors on bad input
        raise ManifestError(f"{url}: malformed media playlist ({exc})") from None
    if pl.is_variant:
        raise ManifestError(f"{url}: expected a media playlist, got a master playlist")
    rend.playlist_url = url
    rend.target_duration = int(pl.target_duration) if pl.target_duration is not None else None
    init = pl.segment_map[0].uri if pl.segment_map else None
    rend.init_url = urljoin(url, init) if init else None
    start = 0.0
    seq = pl.media_sequence or 0
    kbps = None  # EXT-X-BITRATE applies until the next one
    for i, seg in enumerate(pl.segments):
        if seg.init_section is not None and rend.init_url is None:
            rend.init_url = urljoin(url, seg.init_section.uri)
        kbps = seg.bitrate or kbps
        size = round(kbps * 1000 * float(seg.duration) / 8) if kbps else None
        rend.segments.append(Segment(seq + i, urljoin(url, seg.uri), start, float(seg.duration), size))
        start += float(seg.duration)
    if not pl.is_endlist:
        raise ManifestError(f"{url}: not a VOD playlist (no EXT-X-ENDLIST)")
    return rend


def _suffix_prefixes(urls: dict[str, str]) -> dict[str, str]:
    """Each URL's prefix before the path they all share (same object on different hosts)."""
    common = min(urls.values(), key=len)
    while common and not all(u.endswith(common) for u in urls.values()):
        common = common[1:]
    return {k: u[: len(u) - len(common)] for k, u in urls.items()}


def _hls_pathway(master, url: str, pres: Presentation) -> tuple[list, set[str]]:
    """With EXT-X-CONTENT-STEERING: the default pathway's variants and audio groups, and each
    pathway's prefix in ``pres.steering``; without it, every variant."""
    cs = getattr(master, "content_steering", None)
    by_path: dict[str, list] = {}
    for pl in master.playlists:
        by_path.setdefault(pl.stream_info.pathway_id or ".", []).append(pl)
    if cs is None or not cs.uri or len(by_path) < 2 or "." in by_path:
        return list(master.playlists), set()
    default = cs.pathway_id if cs.pathway_id in by_path else next(iter(by_path))
    first = {k: urljoin(url, v[0].uri) for k, v in by_path.items()}
    pres.steering = SteeringInfo(urljoin(url, cs.uri), default, _suffix_prefixes(first))
    chosen = by_path[default]
    return chosen, {pl.stream_info.audio for pl in chosen if pl.stream_info.audio}


def parse_hls(text: str, url: str, loader: Loader) -> Presentation:
    """A master playlist and every media playlist it names."""
    try:
        master = m3u8.loads(text, uri=url)
    except Exception as exc:
        raise ManifestError(f"{url}: malformed playlist ({exc})") from None
    pres = Presentation(url=url, kind="hls")
    playlists, audio_groups = _hls_pathway(master, url, pres)
    if not master.is_variant:
        rend = _media_playlist(text, url, Rendition("0", "video", "", 0, None))
        pres.video.append(rend)
        pres.duration_s = rend.duration_s
        return pres
    for media in master.media:
        if media.type not in ("AUDIO", "SUBTITLES") or not media.uri:
            continue
        if media.type == "AUDIO" and audio_groups and media.group_id not in audio_groups:
            continue  # another steering pathway's copy
        murl = urljoin(url, media.uri)
        kind = "audio" if media.type == "AUDIO" else "text"
        rend = Rendition(media.name or media.uri, kind, "", 0, None, group=media.group_id or "",
                         language=media.language or "", default=media.default == "YES")  # fmt: skip
        (pres.audio if kind == "audio" else pres.text).append(_media_playlist(loader(murl), murl, rend))
    for image in master.image_playlists:
        iurl = urljoin(url, image.uri)
        info = image.image_stream_info
        res = info.resolution
        rend = Rendition(image.uri, "image", info.codecs or "", int(info.bandwidth or 0), None,
                         width=res[0] if res else None, height=res[1] if res else None)  # fmt: skip
        pres.images.append(_media_playlist(loader(iurl), iurl, rend))
    _hls_variants(playlists, url, loader, pres)
    if pres.video:
        pres.duration_s = max(r.duration_s for r in pres.video)
    return pres


def _hls_variants(playlists: list, url: str, loader: Loader, pres: Presentation) -> None:
    """Every variant into ``pres.variants``; one rendition per media playlist into ``pres.video`` (a
    video playlist listed once per audio group is one rendition to play)."""
    seen: dict[str, Rendition] = {}
    for i, pl in enumerate(playlists):
        info = pl.stream_info
        purl = urljoin(url, pl.uri)
        codecs = info.codecs or ""
        video_codecs = ",".join(c for c in codecs.split(",") if not c.strip().startswith(AUDIO_CODECS))
        res = info.resolution
        rid = pl.uri.rsplit("/", 2)[-2] if pl.uri.count("/") >= 1 else str(i)
        rend = Rendition(
            rid,
            "video",
            video_codecs.strip(),
            int(info.bandwidth or 0),
            None,
            width=res[0] if res else None,
            height=res[1] if res else None,
            fps=float(info.frame_rate) if info.frame_rate else None,
            average_bandwidth=int(info.average_bandwidth) if info.average_bandwidth else None,
            video_range=info.video_range or "",
            audio_group=info.audio or "",
        )
        rend.group = rend.codec_family
        if purl in seen:
            rend.segments, rend.init_url, rend.target_duration = (
                seen[purl].segments,
                seen[purl].init_url,
                seen[purl].target_duration,
            )
            rend.playlist_url = purl
        else:
            seen[purl] = _media_playlist(loader(purl), purl, rend)
            pres.video.append(rend)
        pres.variants.append(rend)


def load(url: str, loader: Loader) -> Presentation:
    """Read a DASH or HLS presentation from ``url`` (the loader decides file vs HTTP)."""
    text = loader(url)
    head = text.lstrip()[:200]
    if head.startswith("#EXTM3U"):
        return parse_hls(text, url, loader)
    if head.startswith("<"):
        return parse_mpd(text, url)
    raise ManifestError(f"{url}: neither an MPD nor an M3U8 playlist")
