"""The progress bar of a long command: on standard error, and only on a terminal.

Standard output carries the command's result alone, so it can be piped or saved; and a
bar that cannot animate (standard error a file or a pipe) would only leave a blank line.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, ProgressColumn

__all__ = ["progress_bar"]


def progress_bar(*columns: str | ProgressColumn) -> Progress:
    """A transient progress bar of `columns` on standard error, shown on a terminal only."""
    console = Console(stderr=True)
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
