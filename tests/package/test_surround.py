"""E-AC-3 5.1 beside AAC (``--audio-formats aac,eac3``): its own HLS group, CODECS, CHANNELS and DASH layout."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import m3u8

from helpers import audio_channels, decoded_seconds
from shotenc.media.probe import probe
from shotenc.package.audio import audio_renditions

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def test_eac3_only_where_the_track_has_five_one(tracks_title):
    audio = {a["id"]: a for a in tracks_title.report["audio"]}
    assert list(audio) == ["aac-2ch-en", "aac-6ch-en", "eac3-6ch-en", "aac-2ch-fr"]  # the French track is stereo
    assert (audio["eac3-6ch-en"]["codec"], audio["eac3-6ch-en"]["codec_string"]) == ("eac3", "ec-3")
    assert audio["eac3-6ch-en"]["dolby_channel_config"] == "F801"
    assert [a.id for a in audio_renditions(probe(tracks_title.source))] == ["aac-2ch-en", "aac-6ch-en", "aac-2ch-fr"]


def test_eac3_decodes_as_five_one_for_the_whole_title(tracks_title):
    playlist = tracks_title.out / "audio" / "eac3-6ch-en" / "playlist.m3u8"
    assert abs(decoded_seconds(playlist) - 3.0) < 0.1
    assert audio_channels(playlist.with_name("init.mp4")) == 6


def test_hls_gives_eac3_its_own_group_and_variants(tracks_title):
    master = m3u8.load(str(tracks_title.out / "master.m3u8"))
    groups = {m.uri.split("/")[1]: (m.group_id, m.channels, m.default) for m in master.media if m.type == "AUDIO"}
    assert groups["eac3-6ch-en"] == ("aud-eac3", "6", "YES") and groups["aac-6ch-en"] == ("aud", "6", "NO")
    by_group: dict[str, list] = {}
    for p in master.playlists:
        by_group.setdefault(p.stream_info.audio, []).append(p)
    assert [p.uri for p in by_group["aud"]] == [p.uri for p in by_group["aud-eac3"]]  # every video, once per group
    assert all(p.stream_info.codecs.endswith(",mp4a.40.2") for p in by_group["aud"])
    assert all(p.stream_info.codecs.endswith(",ec-3") for p in by_group["aud-eac3"])
    for aac, eac3 in zip(by_group["aud"], by_group["aud-eac3"], strict=True):
        assert eac3.stream_info.bandwidth > aac.stream_info.bandwidth  # 448 kbps E-AC-3 against 384 kbps AAC


def test_dash_states_each_layout_in_its_scheme(tracks_title):
    mpd = ET.parse(tracks_title.out / "manifest.mpd").getroot()
    configs = {
        rep.get("id"): (rep.get("codecs"), (c := rep.find("d:AudioChannelConfiguration", NS)).get("schemeIdUri"),
                        c.get("value"))
        for rep in mpd.iter(f"{{{NS['d']}}}Representation") if rep.get("audioSamplingRate")
    }  # fmt: skip
    assert configs["eac3-6ch-en"] == ("ec-3", "tag:dolby.com,2014:dash:audio_channel_configuration:2011", "F801")
    assert configs["aac-6ch-en"] == ("mp4a.40.2", "urn:mpeg:dash:23003:3:audio_channel_configuration:2011", "6")
