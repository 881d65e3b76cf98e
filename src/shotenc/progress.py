"""Progress reporting: the pipeline calls a :class:`Reporter`; the CLI passes a rich one."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any


class Reporter:
    """Silent by default; subclasses show stages and their progress."""

    def stage(self, name: str, total: float) -> None:
        """Start stage ``name`` with ``total`` units of work."""

    def update(self, name: str, completed: float) -> None:
        """Set the completed units of stage ``name``."""

    def advance(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` completed units to stage ``name``."""

    def grow(self, name: str, amount: float) -> None:
        """Add ``amount`` units of work to stage ``name`` (work found on the way)."""

    def note(self, text: str) -> None:
        """A one-line remark (for example how much earlier work was reused)."""

    def warn(self, text: str) -> None:
        """Something the user must know (a source track left out): one line on stderr, even when silent."""
        print(f"shotenc: warning: {text}", file=sys.stderr)


class RichReporter(Reporter, AbstractContextManager):
    """Progress bars on stderr, one per stage."""

    def __init__(self, title: str = "") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self._progress = Progress(
            TextColumn(f"[bold]{title}[/] {{task.description}}" if title else "{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._started = False

    def __enter__(self) -> RichReporter:
        return self  # the display starts once work progresses: an input error prints no empty bar

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._progress.stop()

    def _show(self) -> None:
        if not self._started:
            self._started = True
            self._progress.start()

    def stage(self, name: str, total: float) -> None:
        if self._tasks:
            self._show()
        self._tasks[name] = self._progress.add_task(name, total=total)

    def update(self, name: str, completed: float) -> None:
        if name in self._tasks:
            self._show()
            self._progress.update(self._tasks[name], completed=completed)

    def advance(self, name: str, amount: float = 1) -> None:
        if name in self._tasks:
            self._show()
            self._progress.advance(self._tasks[name], amount)

    def grow(self, name: str, amount: float) -> None:
        if name in self._tasks and amount:
            task = next(t for t in self._progress.tasks if t.id == self._tasks[name])
            self._progress.update(task.id, total=(task.total or 0) + amount)

    def note(self, text: str) -> None:
        self._progress.console.print(text)

    def warn(self, text: str) -> None:
        self._progress.console.print(f"shotenc: warning: {text}", markup=False, highlight=False)
