"""Progress on a terminal, plain log lines elsewhere: cron and CI logs get no control characters."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


def _interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner with `message` while a step of unknown length runs (only on a terminal)."""
    if not _interactive():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


@contextmanager
def bar(total: int, description: str) -> Iterator[callable]:
    """A progress bar over `total` steps; yields `advance()`. A no-op off a terminal."""
    if not _interactive() or total < 2:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
