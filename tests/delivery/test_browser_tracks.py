"""In Chromium: dash.js and hls.js list the subtitle tracks and show a cue; dash.js gives each shot's thumbnail."""

from __future__ import annotations

import time

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread

from .conftest import open_player, wait_for

CUES = """
const out = [];
for (const t of document.querySelector("video").textTracks) {
  out.push({lang: t.language, label: t.label, mode: t.mode,
            cues: t.cues ? Array.from(t.cues).map(c => [c.startTime, c.endTime, c.text]) : []});
}
return out;
"""


@pytest.fixture(scope="module")
def edge(tracks_title):
    with EdgeThread(EdgeConfig(titles={"movie": tracks_title.out}, port=0)) as e:
        yield e


def _poll(driver, script: str, cond, timeout: float = 20):
    end = time.monotonic() + timeout
    value = driver.execute_script(script)
    while not cond(value) and time.monotonic() < end:
        time.sleep(0.25)
        value = driver.execute_script(script)
    return value


def _showing(tracks: list[dict], lang: str, text: str) -> list:
    return [c for t in tracks if t["lang"] == lang and t["mode"] == "showing" for c in t["cues"] if text in c[2]]


def test_dashjs_lists_the_text_tracks_and_shows_a_cue(browser, edge):
    open_player(browser, edge, "src=/movie/manifest.mpd&engine=dash&codec=avc1")
    st = wait_for(browser, lambda s: s.get("ready"), 30)
    assert st.get("ready") and not st.get("errors"), st
    tracks = _poll(browser, "return window.dashPlayer.getTracksFor('text')"
                   ".map(t => [t.lang, t.labels.map(l => l.text)[0], t.roles])", lambda v: len(v) == 4)  # fmt: skip
    assert tracks == [["en", "English (forced)", ["forced-subtitle"]], ["fr", "Français SDH", ["caption", "main"]],
                      ["fr", "French", ["subtitle"]], ["de", "German", ["subtitle"]]]  # fmt: skip
    browser.execute_script("window.dashPlayer.setTextTrack(2)")  # the Latin-1 sidecar
    shown = _poll(browser, CUES, lambda v: _showing(v, "fr", "Ça a été"))
    assert _showing(shown, "fr", "Ça a été")[0][:2] == pytest.approx([0.3, 1.5]), shown


def test_hlsjs_lists_the_subtitle_tracks_and_shows_a_cue(browser, edge):
    open_player(browser, edge, "src=/movie/master.m3u8&engine=hls")
    st = wait_for(browser, lambda s: s.get("time", 0) > 0.5, 30)
    assert not st.get("errors"), st
    tracks = browser.execute_script("return window.hls.subtitleTracks.map(t => [t.lang, t.name, t.forced])")
    assert tracks == [["en", "English (forced)", True], ["fr", "Français SDH", False], ["fr", "French", False],
                      ["de", "German", False]]  # fmt: skip
    # the default (SDH, from the ASS stream) is on by itself, its cue at the source's time
    shown = _poll(browser, CUES, lambda v: _showing(v, "fr", "Bonjour"))
    assert _showing(shown, "fr", "Bonjour")[0][:2] == pytest.approx([0.5, 2.0]), shown
    browser.execute_script("window.hls.subtitleTrack = 3")
    shown = _poll(browser, CUES, lambda v: _showing(v, "de", "Köln"))
    assert _showing(shown, "de", "Grüße aus Köln"), shown
    levels = browser.execute_script("return window.hls.levels.map(l => l.audioCodec)")
    assert levels and set(levels) == {"mp4a.40.2"}  # the E-AC-3 variants are left to players that decode it


def test_dashjs_shows_the_thumbnail_of_each_shot(browser, edge):
    open_player(browser, edge, "src=/movie/manifest.mpd&engine=dash&codec=avc1")
    wait_for(browser, lambda s: s.get("ready"), 30)
    browser.set_script_timeout(15)
    got = {}
    for t in (0.3, 1.3, 1.7, 2.9):  # first shot, a second into it, the second shot (cut at 1.6 s), its end
        got[t] = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"window.dashPlayer.provideThumbnail({t}, th => th ? fetch(th.url).then(r => r.blob())"
            ".then(b => done([th.url.split('/').pop(), th.width, th.height, b.type, b.size])) : done(null));"
        )
    assert [g[0] for g in got.values()] == ["tile-00001.jpg", "tile-00002.jpg", "tile-00003.jpg", "tile-00004.jpg"]
    assert all(g[1:4] == [240, 136, "image/jpeg"] and g[4] > 500 for g in got.values()), got
