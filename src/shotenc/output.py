"""The output folder: what shotenc may replace there, and how a finished title is put in place.

A user's files are never deleted. A folder is replaced only when it is recognisably an earlier
shotenc output: its ``report.json`` lists every file shotenc wrote there (``files``), and nothing
else is in it. A folder that is or holds the source is refused outright; one that holds other
files is refused unless ``force`` is given, and then only shotenc's own files are replaced.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from .errors import ShotencError

REPORT = "report.json"
INVENTORIES = (REPORT, "compare.json")  # a shotenc output lists its files in one of these


def files_under(folder: Path) -> list[str]:
    """Every file (and symlink) below ``folder``, as sorted relative POSIX paths; links are not followed."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        found += [(rel / name).as_posix() for name in files]
        found += [(rel / name).as_posix() for name in dirs if (Path(root) / name).is_symlink()]
    return sorted(found)


def owned_files(out: Path) -> set[str]:
    """The files an earlier shotenc run says it wrote in ``out`` (its report's inventory, and the report)."""
    for name in INVENTORIES:
        try:
            listed = json.loads((out / name).read_text(encoding="utf-8")).get("files")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(listed, list) and all(isinstance(p, str) for p in listed):
            return {*listed, name}
    return set()


def foreign_files(out: Path) -> list[str]:
    """Files in ``out`` that shotenc did not write there."""
    ours = owned_files(out)
    return [p for p in files_under(out) if p not in ours]


def check_output(out: Path, sources: Iterable[Path], force: bool = False) -> None:
    """Refuse, with one line, an output folder whose replacement could destroy what shotenc did not write."""
    target = out.resolve()
    for src in sources:
        real = Path(src).resolve()
        if real == target or target in real.parents:
            raise ShotencError(f"output folder {out} contains the source {src}; choose another -o")
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise ShotencError(f"{out} exists and is not a folder shotenc made; choose another -o")
    foreign = foreign_files(out)
    if foreign and not force:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise ShotencError(
            f"{out} holds files shotenc did not write ({foreign[0]}{more}); choose another -o, "
            "or --force to keep them and replace only shotenc's files"
        )


def publish(staging: Path, out_dir: Path) -> None:
    """Put the finished folder in place: a reader sees the old title or the new, never half of one.

    ``staging`` must list its files in its report. Where ``out_dir`` holds foreign files (allowed
    by ``force`` in :func:`check_output`) they stay; only shotenc's files are replaced, the report last.
    """
    if out_dir.exists() and foreign_files(out_dir):
        _merge(staging, out_dir)
        return
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _merge(staging: Path, out_dir: Path) -> None:
    old = owned_files(out_dir)
    for name in INVENTORIES:  # first: the folder no longer looks finished
        if name in old:
            (out_dir / name).unlink(missing_ok=True)
    for rel in sorted(old - set(INVENTORIES)):
        (out_dir / rel).unlink(missing_ok=True)
    new = files_under(staging)
    for rel in [p for p in new if p not in INVENTORIES] + [p for p in new if p in INVENTORIES]:
        dest = out_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, dest)
    shutil.rmtree(staging, ignore_errors=True)
    # folders that held only old shotenc files and are empty now
    emptied = {parent for rel in old for parent in (out_dir / rel).parents if out_dir in parent.parents}
    for folder in sorted(emptied, key=lambda p: -len(p.parts)):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def staging_dir(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Delete ``.<name>.tmp-<pid>`` / ``.<name>.old-<pid>`` folders left by killed runs (their pid is gone)."""
    removed = []
    for p in out_dir.parent.glob(f".{glob.escape(out_dir.name)}.*-*"):
        kind, _, pid = p.name[len(out_dir.name) + 2 :].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or not p.is_dir() or p.is_symlink():
            continue
        if process_alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
