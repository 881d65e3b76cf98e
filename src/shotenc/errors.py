"""Errors that reach the user as one line, not a traceback."""


class ShotencError(Exception):
    """A problem the user can act on (bad input, bad option, failed encode)."""


class InputError(ShotencError):
    """The source file cannot be used."""


class FFmpegError(ShotencError):
    """FFmpeg exited with an error; the message carries its useful stderr lines."""

    def __init__(self, message: str, stderr_tail: list[str] | None = None, stderr: str = ""):
        super().__init__(message)
        self.stderr_tail = stderr_tail or []
        self.stderr = stderr  # everything FFmpeg printed, for callers that read more than the tail
