"""The edge under abuse and load: slow clients, descriptor exhaustion, slow origins, big objects,
methods it does not serve. Everything runs on loopback with bounded loops that stop by themselves.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path

from shotenc.delivery.edge import EdgeConfig, EdgeThread

SRC = Path(__file__).resolve().parents[2] / "src"


def _get(url: str, headers: dict | None = None, method: str = "GET", timeout: float = 10):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _slowloris(port: int, n: int) -> list[socket.socket]:
    """``n`` connections that each send half a request line and headers, and never finish."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /movie/manifest.mpd HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
        socks.append(s)
    return socks


def _closed_by_server(s: socket.socket, within_s: float) -> bool:
    """True when the server closes (or answers and closes) the connection within ``within_s``."""
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        s.settimeout(max(0.05, min(0.2, end - time.monotonic())))
        try:
            s.sendall(b"a")  # keep trickling header bytes, as a slowloris client does
            if s.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_slow_headers_are_cut_off_and_connections_limited(title_copy):
    cfg = EdgeConfig(titles={"movie": title_copy}, port=0, header_timeout_s=0.6, max_connections=6)
    with EdgeThread(cfg) as edge:
        socks = _slowloris(edge.port, 6)
        try:
            # over the limit: refused at once with 503, not queued behind the slow ones
            t0 = time.monotonic()
            status, headers, _ = _get(f"{edge.url}/movie/manifest.mpd", timeout=5)
            assert status == 503 and "Retry-After" in headers and time.monotonic() - t0 < 2
            # the slow clients are dropped after the header timeout though they keep sending
            assert all(_closed_by_server(s, 3.0) for s in socks)
        finally:
            for s in socks:
                s.close()
        time.sleep(0.1)
        assert _get(f"{edge.url}/movie/manifest.mpd")[0] == 200
        # an idle keep-alive connection is closed too
        idle = socket.create_connection(("127.0.0.1", edge.port), timeout=5)
        try:
            assert _closed_by_server(idle, 3.0)
        finally:
            idle.close()


def test_descriptor_exhaustion_is_logged_once_per_interval_and_recovers(title_copy):
    """A server limited to 96 descriptors, asked for 400 connections: it logs the exhaustion a few
    times (not per connection), drops the idle ones after the header timeout and serves again."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))\n"
        "from shotenc.__main__ import main\n"
        "sys.argv = ['shotenc'] + sys.argv[1:]\n"
        "main()\n"
    )
    args = [str(title_copy), "--port", str(port), "--header-timeout", "1", "--max-connections", "1000"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", *args], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    socks: list[socket.socket] = []
    try:
        for _ in range(100):
            try:
                if _get(f"http://127.0.0.1:{port}/movie/manifest.mpd", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        for _ in range(400):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
        time.sleep(1.0)
        # the idle connections are dropped after the 1 s header timeout; the server serves again
        served, t0 = False, time.monotonic()
        while time.monotonic() - t0 < 8 and not served:
            try:
                served = _get(f"http://127.0.0.1:{port}/movie/manifest.mpd", timeout=2)[0] == 200
            except OSError:
                time.sleep(0.2)
        assert served, "the edge did not recover from descriptor exhaustion"
        assert time.monotonic() - t0 < 5
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
    mentions = [ln for ln in err.splitlines() if "descriptor" in ln.lower() or "too many open files" in ln.lower()]
    assert 1 <= len(mentions) <= 4, err[-2000:]


def _big_file(folder: Path, mb: int) -> bytes:
    data = os.urandom(mb * 1024 * 1024)
    (folder / "video" / "big.mp4").write_bytes(data)
    return data


def test_slow_steady_origin_streams_a_large_object(title_copy):
    """A 4 MB object from an origin sending at 12 Mbit/s takes ~3 s: more than the stall timeout,
    yet every chunk arrives in time, so it is served whole; the edge streams it (memory stays far
    below the object's size) and does not cache what exceeds its object limit."""
    data = _big_file(title_copy, 4)
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0, cache_mb=2, allow_throttle=True)) as origin:
        urllib.request.urlopen(f"{origin.url}/_edge/throttle?kbps=12000", timeout=5).read()
        cfg = EdgeConfig(origins=[origin.url], port=0, cache_mb=2, origin_timeout_s=0.8)
        with EdgeThread(cfg) as edge:
            tracemalloc.start()
            try:
                t0 = time.monotonic()
                digest, size = hashlib.sha256(), 0
                with urllib.request.urlopen(f"{edge.url}/movie/video/big.mp4", timeout=30) as r:
                    status, length = r.status, int(r.headers["Content-Length"])
                    while chunk := r.read(64 * 1024):
                        digest.update(chunk)
                        size += len(chunk)
                took = time.monotonic() - t0
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert status == 200 and length == size == len(data) and took > 1.5
            assert digest.digest() == hashlib.sha256(data).digest()
            # neither the edge nor its origin holds the object in memory
            print(f"streamed {len(data)} bytes in {took:.2f} s, peak traced memory {peak} bytes")
            assert peak < len(data) // 4, peak
            stats = edge.stats()
            assert stats["cache_used_bytes"] < 1024 * 1024 and stats["bytes_from_origin"] == len(data)
            # a range of a streamed object
            status, headers, body = _get(f"{edge.url}/movie/video/big.mp4", {"Range": "bytes=1000-1999"})
            assert status == 206 and body == data[1000:2000]
            assert headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
            # small objects are still cached
            _get(f"{edge.url}/movie/manifest.mpd")
            assert _get(f"{edge.url}/movie/manifest.mpd")[1]["X-Cache"] == "HIT"


def test_stalled_origin_fails_over_within_the_stall_timeout(title_copy, hanging):
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0)) as good:
        cfg = EdgeConfig(origins=[hanging.url, good.url], port=0, origin_timeout_s=0.5)
        with EdgeThread(cfg) as edge:
            t0 = time.monotonic()
            status, _, body = _get(f"{edge.url}/movie/video/h264-108p/seg-00001.m4s")
            assert status == 200 and body == (title_copy / "video/h264-108p/seg-00001.m4s").read_bytes()
            assert time.monotonic() - t0 < 3


def test_methods_other_than_get_head_options_are_405(title_copy):
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0)) as edge:
        for method in ("PUT", "DELETE", "POST", "PATCH"):
            status, headers, _ = _get(f"{edge.url}/movie/manifest.mpd", method=method)
            assert status == 405, method
            assert {m.strip() for m in headers["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
        assert (title_copy / "manifest.mpd").is_file()
        data = (title_copy / "manifest.mpd").read_bytes()
        status, _, body = _get(f"{edge.url}/movie/manifest.mpd", {"Range": "BYTES=0-10"})
        assert status == 206 and body == data[:11]
