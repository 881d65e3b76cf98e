"""Fixtures for the delivery tests: real encodes (the shotenc pipeline), edges, traces."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread
from shotenc.delivery.edge.server import LIBS
from shotenc.delivery.player.traces import traces_dir
from shotenc.pipeline import EncodeOptions, encode_title

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "sample.mp4"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def sample_encode(tmp_path_factory) -> Path:
    """The bundled 15 s sample through the real pipeline, tiny ladder, H.264 + VP9 + AV1.

    Two H.264 rungs let a player switch; VP9 and AV1 are there for the browser (no HEVC).
    """
    out = tmp_path_factory.mktemp("delivery") / "sample"
    encode_title(SAMPLE, out, EncodeOptions(ladder="tiny", codecs=["h264", "vp9", "av1"], jobs=2))
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture()
def title_copy(sample_encode, tmp_path) -> Path:
    """A private copy of the encode that a test may damage."""
    dst = tmp_path / "movie"
    shutil.copytree(sample_encode, dst)
    return dst


@pytest.fixture(scope="session")
def traces() -> Path:
    """The shared traces, or the small licensed subset in tests/data/traces."""
    shared = traces_dir()
    return shared if shared.is_dir() else DATA / "traces"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


@contextmanager
def steered_edges(folder: Path, probe_s: float):
    """Three edges serving ``folder`` as "movie" (throttle allowed) and a steering server over them
    (TTL 1 s); yields (steering server, [edge0, edge1, edge2])."""
    with ExitStack() as stack:
        three = [
            stack.enter_context(EdgeThread(EdgeConfig(titles={"movie": folder}, port=0, allow_throttle=True)))
            for _ in range(3)
        ]
        cfg = EdgeConfig(
            titles={"movie": folder}, port=0, steer=[e.url for e in three], steer_ttl_s=1, steer_probe_s=probe_s
        )
        yield stack.enter_context(EdgeThread(cfg)), three


class HangingServer:
    """Accepts TCP connections and never answers: an edge or origin that times out."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture()
def hanging():
    srv = HangingServer()
    yield srv
    srv.close()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() or not Path(DRIVER).exists():
        return "chromium/chromedriver not installed (scripts/setup-browser.sh)"
    if not all(p.is_file() for p in LIBS.values()):
        return "dash.js/hls.js not installed (scripts/setup-browser.sh)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Selenium (skipped without it, except under CI)."""
    why = _missing()
    if why:
        if in_ci():
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="shotenc-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def player_state(driver) -> dict:
    return driver.execute_script("return window.playerState || {}")


def wait_for(driver, cond, timeout: float) -> dict:
    end = time.monotonic() + timeout
    st = player_state(driver)
    while time.monotonic() < end:
        st = player_state(driver)
        if st.get("errors") or cond(st):
            return st
        time.sleep(0.2)
    return st


def open_player(driver, edge, query: str) -> None:
    driver.get(f"{edge.url}/_player/?{query}")
