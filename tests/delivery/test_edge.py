"""The edge over real encoded output: HTTP semantics, security, cache, prefill, failover."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread


def _get(url: str, headers: dict | None = None, method: str = "GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        try:
            while len(out) < 200:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except TimeoutError:
            pass
    return out.split(b"\r\n", 1)[0]


@pytest.fixture()
def edge(title_copy):
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0, cache_mb=16)) as e:
        yield e


def test_types_cors_and_cache_hits(edge, title_copy):
    status, h, body = _get(f"{edge.url}/movie/manifest.mpd")
    assert status == 200 and h["Content-Type"] == "application/dash+xml"
    assert h["Access-Control-Allow-Origin"] == "*"
    assert body == (title_copy / "manifest.mpd").read_bytes()
    assert _get(f"{edge.url}/movie/master.m3u8")[1]["Content-Type"] == "application/vnd.apple.mpegurl"
    seg = f"{edge.url}/movie/video/h264-180p/seg-00001.m4s"
    s1, h1, b1 = _get(seg)
    s2, h2, b2 = _get(seg)
    assert (s1, s2) == (200, 200) and b1 == b2 == (title_copy / "video/h264-180p/seg-00001.m4s").read_bytes()
    assert h1["Content-Type"] == "video/iso.segment" and (h1["X-Cache"], h2["X-Cache"]) == ("MISS", "HIT")
    status, h, _ = _get(seg, {"Origin": "http://x", "Access-Control-Request-Headers": "range"}, "OPTIONS")
    assert status == 204 and "Range" in h["Access-Control-Allow-Headers"]
    stats = json.loads(_get(f"{edge.url}/_edge/stats")[2])
    assert stats["hits"] >= 1 and stats["misses"] >= 3
    assert stats["bytes_from_cache"] >= len(b1) and stats["bytes_from_origin"] >= len(b1)


def test_ranges(edge, title_copy):
    data = (title_copy / "video/h264-180p/seg-00002.m4s").read_bytes()
    url = f"{edge.url}/movie/video/h264-180p/seg-00002.m4s"
    status, h, body = _get(url, {"Range": "bytes=10-19"})
    assert status == 206 and body == data[10:20] and h["Content-Range"] == f"bytes 10-19/{len(data)}"
    status, h, body = _get(url, {"Range": "bytes=-7"})
    assert status == 206 and body == data[-7:]
    for bad in (f"bytes={len(data)}-", "bytes=9-3", "bytes=x-y"):
        status, h, _ = _get(url, {"Range": bad})
        assert status == 416 and h["Content-Range"] == f"bytes */{len(data)}", bad


def test_security(edge, title_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    os.symlink(secret, title_copy / "leak.txt")
    os.symlink("/etc", title_copy / "etc")
    port = edge.port
    for path in (
        b"/movie/../../etc/passwd",
        b"/movie/%2e%2e/%2e%2e/etc/passwd",
        b"/movie/%2E%2E/x",
        b"/movie/leak.txt",
        b"/movie/etc/passwd",
        b"/movie/a%00.m4s",
        b"//etc/passwd",
        b"/etc/passwd",
        b"/movie/video%2f..%2f..%2fmanifest.mpd",
        b"/nosuchtitle/manifest.mpd",
    ):
        line = _raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert line.split(b" ")[1] == b"404", (path, line)
    assert _raw(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n").split(b" ")[1] in (b"400", b"414")
    big = b"GET /movie/manifest.mpd HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n"
    assert _raw(port, big).split(b" ")[1] in (b"400", b"431")
    assert _raw(port, b"\x00\xff garbage\r\n\r\n").split(b" ")[1] == b"400"
    # still serving after all that
    assert _get(f"{edge.url}/movie/manifest.mpd")[0] == 200


def test_prefill_positions_first_segments(title_copy):
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0, prefetch=1)) as e:
        stats = e.stats()
        assert stats["prefilled_objects"] > 0
        # the first segment of every rung is a hit before anyone asked for it; the second is not
        assert _get(f"{e.url}/movie/video/vp9-180p/seg-00001.m4s")[1]["X-Cache"] == "HIT"
        assert _get(f"{e.url}/movie/video/vp9-180p/init.mp4")[1]["X-Cache"] == "HIT"
        assert _get(f"{e.url}/movie/video/vp9-180p/seg-00002.m4s")[1]["X-Cache"] == "MISS"


def test_popularity_file_prefills_named_titles(title_copy, tmp_path):
    pop = tmp_path / "popular.txt"
    pop.write_text("movie\n")
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0, popularity=pop)) as e:
        assert _get(f"{e.url}/movie/video/h264-108p/seg-00003.m4s")[1]["X-Cache"] == "HIT"


def test_origin_failover_when_an_origin_dies(title_copy):
    """Edge in front of two HTTP origins; the first is killed; the second serves (and stats say so)."""
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0)) as o2:
        o1 = EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0)).__enter__()
        cfg = EdgeConfig(origins=[o1.url, o2.url], port=0, cache_mb=0.001, origin_timeout_s=1.0)
        with EdgeThread(cfg) as edge:
            assert _get(f"{edge.url}/movie/manifest.mpd")[0] == 200
            o1.stop()
            for n in range(1, 4):
                status, _, body = _get(f"{edge.url}/movie/video/h264-180p/seg-{n:05d}.m4s")
                assert status == 200 and body == (title_copy / f"video/h264-180p/seg-{n:05d}.m4s").read_bytes()
            stats = edge.stats()
            assert stats["failovers"] >= 1 and stats["origin_errors"] >= 1
            assert _get(f"{edge.url}/movie/nothing.m4s")[0] == 404


def test_origin_timeout_fails_over(title_copy, hanging):
    with EdgeThread(EdgeConfig(titles={"movie": title_copy}, port=0)) as good:
        cfg = EdgeConfig(origins=[hanging.url, good.url], port=0, origin_timeout_s=0.5)
        with EdgeThread(cfg) as edge:
            status, _, body = _get(f"{edge.url}/movie/video/h264-108p/seg-00002.m4s")
            assert status == 200 and body == (title_copy / "video/h264-108p/seg-00002.m4s").read_bytes()
            assert edge.stats()["failovers"] >= 1


def test_serve_command_runs(title_copy):
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shotenc",
            "serve",
            str(title_copy),
            "--port",
            str(port),
            "--prefetch",
            "2",
            "--policy",
            "sieve",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stats = None
        for _ in range(100):
            try:
                stats = json.loads(_get(f"http://127.0.0.1:{port}/_edge/stats")[2])
                break
            except OSError:
                time.sleep(0.1)
        assert stats and stats["policy"] == "sieve" and stats["prefilled_objects"] > 0
        assert _get(f"http://127.0.0.1:{port}/movie/manifest.mpd")[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)
    assert "Traceback" not in proc.stderr.read()
