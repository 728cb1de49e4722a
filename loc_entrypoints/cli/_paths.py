"""Output paths checked before a command does any work.

A command that writes files (a simulation's report, an adoption's report and checkpoint,
the OpenAPI document) proves it can write there first, so a typo or a read-only folder is
a usage error in the first second, not a traceback after a long run or, worse, after an
adoption has written to the table.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import click

__all__ = ["writable_file", "writable_folder"]


def writable_folder(_ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: `value` as a folder that can be made (if missing) and takes files.

    Proven by doing it: the missing folders are made, a temporary file is written in the
    last, and what was made is removed again, so a command refused later (a bad scenario
    file) leaves nothing behind; the command makes the folder when it writes.

    Raises:
        click.BadParameter: the folder cannot be made or written to.
    """
    if value is None:
        return None
    missing = [folder for folder in (value, *value.parents) if not folder.exists()]
    try:
        value.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=value):
            pass
    except OSError as exc:
        raise click.BadParameter(f"cannot write to {value}: {_why(exc)}", param=param) from exc
    finally:
        for folder in missing:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
    return value


def writable_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: `value` as a file this command can create or overwrite.

    Its folder may be missing: the command makes it when it writes.

    Raises:
        click.BadParameter: it is a folder, or it or its folder cannot be written to.
    """
    if value is None:
        return None
    if value.is_dir():
        raise click.BadParameter(f"{value} is a folder, not a file", param=param)
    writable_folder(ctx, param, value.parent)
    if value.exists() and not os.access(value, os.W_OK):
        raise click.BadParameter(f"cannot write to {value}: permission denied", param=param)
    return value


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
