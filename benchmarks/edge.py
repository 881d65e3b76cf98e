"""Edge benchmark: hit ratio per eviction policy vs Belady, with and without pre-positioning,
and loopback throughput of cached segments through the real server.

Request stream (synthetic, seeded): a catalogue of titles whose objects have the sizes of our own
encode (the sample through the pipeline, six H.264 rungs; each title scaled by a random factor);
viewing sessions pick a title by Zipf popularity, a rung, and play from the start, dropping off
geometrically (so early segments are asked for more); halfway through, a new release takes a
third of all sessions for a while (the burst). Pre-positioning fills the cache, before the stream,
with the first segments of every rendition of the titles a forecast ranks highest (the Zipf
ranks, plus the new release, as Open Connect's nightly fill would know it).

Run: ``PYTHONPATH=src python benchmarks/edge.py``
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from shotenc.delivery.edge import cache  # noqa: E402


def own_sizes() -> tuple[list[int], list[list[int]]]:
    """(init sizes per rung, segment sizes [rung][segment]) from the benchmark encode."""
    from own_encode import CACHE, own_encode

    own_encode()
    report = json.loads((CACHE / "sample" / "report.json").read_text())
    rends = sorted(report["renditions"], key=lambda r: r["avg_kbps"])
    inits = [(CACHE / "sample" / "video" / r["id"] / "init.mp4").stat().st_size for r in rends]
    return inits, [[s["bytes"] for s in r["segments"]] for r in rends]


def stream(n_titles=300, sessions=6000, alpha=0.9, seed=7, loops=4):
    rng = random.Random(seed)
    inits, segs = own_sizes()
    n_rungs = len(segs)
    sizes: dict = {}
    scale = {t: rng.uniform(0.5, 2.0) for t in range(n_titles + 1)}
    n_seg = len(segs[0]) * loops  # titles of ~1 minute: the encode's segments repeated
    for t in range(n_titles + 1):
        for r in range(n_rungs):
            sizes[(t, r, 0)] = inits[r]
            for s in range(n_seg):
                sizes[(t, r, s + 1)] = int(segs[r][s % len(segs[r])] * scale[t])
    weights = [1 / (k + 1) ** alpha for k in range(n_titles)]
    rung_p = [0.05, 0.1, 0.15, 0.2, 0.25, 0.25][:n_rungs]
    reqs = []
    release = n_titles  # the new title, unknown to the Zipf ranking
    for i in range(sessions):
        burst = sessions // 2 <= i < sessions // 2 + sessions // 5
        t = release if burst and rng.random() < 1 / 3 else rng.choices(range(n_titles), weights)[0]
        r = rng.choices(range(n_rungs), rung_p)[0]
        watch = min(n_seg, 1 + int(rng.expovariate(1 / (n_seg / 3))))
        reqs.append((t, r, 0))
        reqs += [(t, r, s + 1) for s in range(watch)]
    return reqs, sizes, n_titles, n_rungs


def prefill_keys(sizes, n_titles, n_rungs, first_n, capacity) -> list:
    order = [n_titles] + list(range(n_titles))  # the release first, then by forecast rank
    keys, used = [], 0
    for t in order:
        for r in range(n_rungs):
            for s in range(first_n + 1):
                k = (t, r, s)
                if used + sizes[k] > capacity:
                    return keys
                keys.append(k)
                used += sizes[k]
    return keys


def hit_ratios(reqs, sizes, capacity, prefill: list) -> dict:
    out = {}
    for policy in ("lru", "sieve", "s3fifo"):
        c = cache.make(policy, capacity, sizeof=lambda v: v)
        for k in prefill:
            c.put(k, sizes[k])
        c.stats = cache.CacheStats()
        hit_bytes = 0
        for k in reqs:
            if c.get(k) is None:
                c.put(k, sizes[k])
            else:
                hit_bytes += sizes[k]
        out[policy] = (c.stats.hits / len(reqs), hit_bytes / sum(sizes[k] for k in reqs))
    b = cache.belady_hits(list(prefill) + reqs, sizes, capacity)
    out["belady"] = (b / len(reqs), None)
    return out


def loopback_throughput(seconds: float = 5.0, concurrency: int = 16) -> tuple[float, float]:
    """MB/s and requests/s of cache hits from a real ``shotenc serve`` process over loopback."""
    import aiohttp

    from own_encode import CACHE

    proc, base = _serve(CACHE / "sample", "--prefetch", "1000")
    try:
        urls = [
            f"{base}/sample/video/{p.parent.name}/{p.name}"
            for p in sorted((CACHE / "sample" / "video").glob("*/seg-*.m4s"))
        ]

        async def run() -> tuple[int, int]:
            done_bytes, done_reqs = 0, 0
            end = time.monotonic() + seconds
            async with aiohttp.ClientSession() as s:

                async def worker(i: int) -> None:
                    nonlocal done_bytes, done_reqs
                    while time.monotonic() < end:
                        async with s.get(urls[(i + done_reqs) % len(urls)]) as r:
                            done_bytes += len(await r.read())
                            done_reqs += 1

                await asyncio.gather(*(worker(i) for i in range(concurrency)))
            return done_bytes, done_reqs

        nbytes, nreqs = asyncio.run(run())
        stats = json.loads(urllib.request.urlopen(base + "/_edge/stats", timeout=5).read())
        assert stats["misses"] == 0, stats
        return nbytes / seconds / 1e6, nreqs / seconds
    finally:
        proc.terminate()
        proc.wait(10)


def _serve(folder: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """A ``shotenc serve`` process on a free loopback port, once it answers."""
    port = 18000 + random.Random().randint(0, 999)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shotenc", "serve", str(folder), "--port", str(port), *args],
        env={"PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/_edge/stats", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    return proc, base


def big_object_memory(mb: int = 100) -> tuple[float, float, float]:
    """Peak resident memory of an edge process (MB) idle and after streaming one ``mb`` MB object
    (over its object limit) through it, and the seconds it took."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        title = Path(tmp) / "big"
        title.mkdir()
        (title / "manifest.mpd").write_text("<MPD/>")
        with open(title / "big.mp4", "wb") as f:
            for _ in range(mb):
                f.write(random.randbytes(1024 * 1024))
        proc, base = _serve(title, "--cache-mb", "64")
        try:

            def peak() -> float:
                text = Path(f"/proc/{proc.pid}/status").read_text()
                return int(text.split("VmHWM:")[1].split()[0]) / 1024

            idle, got = peak(), 0
            t0 = time.monotonic()
            with urllib.request.urlopen(base + "/big/big.mp4", timeout=120) as r:
                while chunk := r.read(1024 * 1024):
                    got += len(chunk)
            assert got == mb * 1024 * 1024, got
            return idle, peak(), time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    reqs, sizes, n_titles, n_rungs = stream()
    catalogue = sum(sizes.values())
    print(
        f"{len(reqs)} requests, {len(sizes)} objects, catalogue {catalogue / 1e9:.2f} GB; Zipf 0.9 over "
        f"{n_titles} titles + a new release taking 1/3 of sessions for 20% of the stream"
    )
    print(
        f"{'cache':>7} {'prefill':>8} "
        + " ".join(f"{p:>15}" for p in ("lru", "sieve", "s3fifo", "belady"))
        + "   (object hit ratio, byte hit ratio)"
    )
    for frac in (0.02, 0.05, 0.10):
        cap = int(catalogue * frac)
        for label, pre in (("none", []), ("first 3", prefill_keys(sizes, n_titles, n_rungs, 3, cap))):
            res = hit_ratios(reqs, sizes, cap, pre)
            cells = []
            for p in ("lru", "sieve", "s3fifo", "belady"):
                h, bh = res[p]
                cells.append(f"{h:>7.3f} / {bh:.3f}" if bh is not None else f"{h:>7.3f}        ")
            print(f"{frac:>6.0%} {label:>8} " + " ".join(f"{c:>15}" for c in cells))
    idle, after, took = big_object_memory()
    print(
        f"edge streaming a 100 MB object (8 MB object limit): peak RSS {idle:.0f} MB idle, {after:.0f} MB after, "
        f"{took:.1f} s"
    )
    mbps, rps = loopback_throughput()
    print(
        f"\nloopback, cached segments, 16 concurrent clients, 2 cores shared with the client: "
        f"{mbps:.0f} MB/s, {rps:.0f} requests/s"
    )


if __name__ == "__main__":
    main()
