"""The one place that runs FFmpeg.

Every FFmpeg invocation in shotenc goes through :func:`run` or :func:`stream_frames`, so the
binary is chosen once (``SHOTENC_FFMPEG`` or the ``imageio-ffmpeg`` wheel), arguments are always
a list (never a shell string), progress is parsed in one way and failures become one readable
:class:`FFmpegError`.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import FFmpegError

ENV_VAR = "SHOTENC_FFMPEG"
_USEFUL = re.compile(
    r"error|invalid|no such|not found|unknown|unrecognized|failed|cannot|could not|unable|"
    r"does not|not supported|incorrect|too (?:large|small)|partial file|truncat|corrupt",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def ffmpeg_path() -> str:
    """The FFmpeg binary: ``$SHOTENC_FFMPEG`` if set, else the one bundled by imageio-ffmpeg."""
    override = os.environ.get(ENV_VAR)
    if override:
        found = shutil.which(override) or (override if Path(override).is_file() else None)
        if not found:
            raise FFmpegError(f"{ENV_VAR}={override!r} is not an executable FFmpeg binary")
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise FFmpegError("imageio-ffmpeg is not installed and SHOTENC_FFMPEG is not set") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


_CONTEXT = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


def plain_line(line: str) -> str:
    """An FFmpeg log line without its ``[component @ 0xADDRESS]`` prefix."""
    return _CONTEXT.sub("", line.strip())


def _useful_lines(lines: Sequence[str], limit: int = 4) -> list[str]:
    picked = [plain_line(ln) for ln in lines if _USEFUL.search(ln)]
    if not picked:
        picked = [plain_line(ln) for ln in lines if ln.strip()]
    # keep the last distinct lines: they are the closest to the failure
    out: list[str] = []
    for ln in reversed(picked):
        if ln not in out:
            out.append(ln)
        if len(out) == limit:
            break
    return list(reversed(out))


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGKILL the child when shotenc dies (even by SIGKILL); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def hook() -> None:
        prctl(pr_set_pdeathsig, sigkill, 0, 0, 0)

    return hook


_PREEXEC = _die_with_parent()


def _start(argv: list[str], stdout: int, keep_lines: int) -> tuple[subprocess.Popen, deque[str], threading.Thread]:
    """Start FFmpeg with stderr drained by a thread (so a chatty run never blocks on a full pipe).

    The child dies with this process: a killed encode leaves no FFmpeg running on.
    """
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=_PREEXEC)
    err_lines: deque[str] = deque(maxlen=keep_lines)

    def _drain() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            err_lines.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=_drain, daemon=True)
    reader.start()
    return proc, err_lines, reader


@dataclass
class RunResult:
    """What a finished FFmpeg run printed on stderr (for parsers such as probe and VMAF)."""

    stderr: str
    stdout: bytes = b""


def pass_args(number: int, log: str | os.PathLike) -> list[str | os.PathLike]:
    """Output options of pass ``number`` of a two-pass encode keeping its statistics at ``log`` (FFmpeg
    adds ``-<stream index>.log``)."""
    return ["-pass", str(number), "-passlogfile", log]


def remove_pass_logs(log: Path) -> None:
    """Delete what the passes that named ``log`` wrote."""
    for f in log.parent.glob(glob.escape(log.name) + "*"):
        f.unlink(missing_ok=True)


def command(args: Sequence[str | os.PathLike]) -> list[str]:
    """The full argv for an FFmpeg call (useful for logging and for benchmarks)."""
    return [ffmpeg_path(), "-hide_banner", "-nostdin", *map(str, args)]


def run(
    args: Sequence[str | os.PathLike],
    *,
    what: str = "ffmpeg",
    duration_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    capture_stdout: bool = False,
    timeout: float | None = None,
) -> RunResult:
    """Run FFmpeg with ``args`` (everything after the binary name).

    ``on_progress`` receives the fraction done (0..1) when ``duration_s`` is known.
    Raises :class:`FFmpegError` naming ``what`` failed, with FFmpeg's own reason.
    """
    argv = command(args)
    want_progress = on_progress is not None and duration_s
    if want_progress:
        argv[3:3] = ["-progress", "pipe:1", "-nostats"]
    try:
        proc, err_lines, reader = _start(
            argv, subprocess.PIPE if (want_progress or capture_stdout) else subprocess.DEVNULL, 4000
        )
    except OSError as exc:
        raise FFmpegError(f"{what}: cannot start FFmpeg ({exc})") from exc
    stdout = b""
    try:
        if want_progress:
            assert proc.stdout is not None and duration_s
            for raw in proc.stdout:
                line = raw.decode("ascii", "replace").strip()
                if line.startswith("out_time_us=") and line[12:].lstrip("-").isdigit():
                    done = int(line[12:]) / 1e6 / duration_s
                    on_progress(max(0.0, min(1.0, done)))
        elif capture_stdout:
            assert proc.stdout is not None
            stdout = proc.stdout.read()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise FFmpegError(f"{what}: FFmpeg timed out after {timeout:.0f} s") from exc
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    reader.join()
    lines = list(err_lines)
    if proc.returncode != 0:
        tail = _useful_lines(lines)
        reason = "; ".join(tail) if tail else exit_reason(proc.returncode)
        raise FFmpegError(f"{what} failed: {reason}", tail, "\n".join(lines))
    if want_progress:
        on_progress(1.0)
    return RunResult(stderr="\n".join(lines), stdout=stdout)


def exit_reason(returncode: int) -> str:
    """``exit code N``, or the signal that killed FFmpeg (a file-size limit shows up as SIGXFSZ)."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"killed by signal {-returncode}"
    if name == "SIGXFSZ":
        return "output file too large for the file-size limit or the disk (SIGXFSZ)"
    return f"killed by {name}"


def stream_frames(args: Sequence[str | os.PathLike], frame_bytes: int, *, what: str = "decode") -> Iterator[bytes]:
    """Yield raw frames of ``frame_bytes`` each from an FFmpeg command writing rawvideo to stdout."""
    argv = command([*args])
    proc, err_lines, reader = _start(argv, subprocess.PIPE, 200)
    assert proc.stdout is not None
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            yield buf
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join()
    if proc.returncode not in (0, None) and proc.returncode > 0:
        tail = _useful_lines(list(err_lines))
        raise FFmpegError(f"{what} failed: {'; '.join(tail)}", tail)
