"""Finished results on disk: content keys, temp-then-rename writes and JSON receipts (size, SHA-256).

A result (a chunk, an analysis, an intermediate) is trusted on a later run only when its receipt
still matches its bytes, so a run killed at any moment redoes only what had not been finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import fields
from pathlib import Path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_key(spec: dict) -> str:
    """A short hash of everything that decides a result's bytes."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:20]


def temp_name(path: Path) -> Path:
    """A hidden name beside ``path``, unique to this process and moment."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{time.monotonic_ns()}.part{path.suffix}")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` under a temp name and rename it: readers see the old file or the new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_receipt(receipt: Path, meta: dict) -> None:
    """Write ``meta`` (which carries ``bytes`` and ``sha256``), after the result is in place."""
    write_atomic(receipt, json.dumps(meta))


def read_receipt(path: Path, receipt: Path) -> dict | None:
    """The receipt of ``path`` if it matches the file's size and checksum; None if missing, stale or broken."""
    try:
        meta = json.loads(receipt.read_text())
        if path.stat().st_size != meta["bytes"] or sha256_file(path) != meta["sha256"]:
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


_PLAIN = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def plain_fields(values: dict, cls: type, skip: tuple[str, ...] = ()) -> dict:
    """``values`` restricted to dataclass ``cls``'s fields (but ``skip``), each of the plain type its annotation names.

    The guard for data read back from disk: only numbers, strings, booleans and None get through.
    """
    out = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        v = values[f.name]
        names = [t.strip() for t in str(f.type).split("|")]
        allowed = tuple(t for n in names for t in _PLAIN.get(n, ()))
        if v is None and "None" in names:
            out[f.name] = None
        elif not allowed or not isinstance(v, allowed) or (isinstance(v, bool) and bool not in allowed):
            raise TypeError(f"{cls.__name__}.{f.name}: unexpected {type(v).__name__}")
        else:
            out[f.name] = v
    return out
