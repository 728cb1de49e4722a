"""How a ``loc`` command ends when it cannot finish: one line on standard error, one status.

Every command runs inside `ending` (the ``main`` group's `LocGroup.invoke`), so the same
failure ends every command the same way, never as a Python traceback:

- a refusal of the library (`LocError`: a date out of the window, a table out): exit 1;
- Ctrl-C (SIGINT): exit 130; SIGTERM (``timeout``, a container stop): exit 143, after the
  command's own clean-up (``finally`` blocks: held alerts posted, a progress bar closed);
- standard output that cannot be written (a full disk), or a file that cannot be read or
  written: exit 1. A closed pipe
  (``loc ... | head``) is left to click, which ends quietly with exit 1.

Usage errors stay click's (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from typing import TYPE_CHECKING, Any, NoReturn

import click

from loc_core.errors import LocError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["LocGroup", "ending", "fail", "interruptible"]


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread so the run unwinds as Ctrl-C does.

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it.
    """


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise Terminated


def fail(message: str, code: int) -> NoReturn:
    """End the command with `message` as one line on standard error."""
    click.echo(f"Error: {' '.join(message.split())}", err=True)
    raise SystemExit(code)


@contextlib.contextmanager
def interruptible(note: str = "") -> Iterator[None]:
    """Ctrl-C or SIGTERM: one line (with `note`, what was left) and exit 130 or 143.

    Not click's bare "Aborted!" with exit 1 (the status of a job with failures, of a
    mismatch), nor a silent death by SIGTERM that skips the command's clean-up.
    """
    main_thread = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    after = f"; {note}" if note else ""
    try:
        yield
    except KeyboardInterrupt:
        fail(f"interrupted{after}", 128 + signal.SIGINT)
    except Terminated:
        fail(f"terminated{after}", 128 + signal.SIGTERM)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def ending() -> Iterator[None]:
    """A command's failures as one line and an exit status (the module's docstring)."""
    with interruptible():
        try:
            yield
        except LocError as exc:
            fail(str(exc), 1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click's main ends quietly: the reader (`head`) has all it wanted
            reason = exc.strerror or str(exc)
            fail(
                f"{exc.filename}: {reason}"  # read or written: the file and why
                if exc.filename
                else f"cannot write the output: {reason}",
                1,
            )


class LocGroup(click.Group):
    """The ``loc`` group: every subcommand runs inside `ending`."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 - click's own signature
        """Run the subcommand; its failures end as `ending` says."""
        with ending():
            return super().invoke(ctx)
