"""``loc serve``, ``loc token`` and ``loc openapi``: the HTTP API from the command line.

They need the ``http`` extra as well as ``cli``. Settings come from the ``LOC_*``
environment variables, as everywhere; with none, the embedded default.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import click

from loc_core.errors import InvalidConfiguration
from loc_entrypoints.bootstrap import Backend, Settings
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli._paths import writable_file
from loc_entrypoints.cli.operations import check_table, command_bus

__all__ = ["openapi", "serve", "token"]

OPENAPI_PATH = Path("docs/openapi.json")
"""Where ``loc openapi`` writes the document by default (a test keeps it current)."""


_HTTP_EXTRA = frozenset({"litestar", "uvicorn", "mangum", "jwt"})
"""The packages of the ``http`` extra these commands import."""


@contextlib.contextmanager
def _http_extra() -> Iterator[None]:
    """Turn a missing ``http`` extra into a clear error instead of a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _HTTP_EXTRA:
            raise
        raise click.ClickException(
            f"this command needs the http extra (missing {exc.name}): pip install 'loc[http]'"
        ) from exc


def _settings() -> Settings:
    """The settings (a ``LOC_JWT_SECRET`` too short to sign with is refused there)."""
    try:
        return Settings.from_env(os.environ)
    except InvalidConfiguration as exc:
        raise click.ClickException(str(exc)) from exc


def _signing_secret(settings: Settings, local: str) -> str:
    """The secret the deployment verifies callers' tokens with (`local`: the embedded one).

    Raises:
        click.ClickException: the deployment would accept no token ``loc token`` signs.
    """
    if settings.jwt_jwks_url:
        msg = (
            "LOC_JWT_JWKS_URL is set: the HTTP API verifies callers with its keys, not a "
            "secret, so get the token from that identity provider"
        )
        raise click.ClickException(msg)
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.backend is not Backend.MEMORY:
        msg = (
            f"LOC_JWT_SECRET is required: the {settings.backend.value} deployment takes no "
            "token signed with the public development secret"
        )
        raise click.ClickException(msg)
    return local


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the HTTP API with uvicorn (the embedded default unless LOC_* say otherwise).

    A deployment that cannot be built (a bad setting, a failed start-up check) ends the
    command before it listens, with the message ``loc job run`` gives.
    """
    with _http_extra():
        import uvicorn  # noqa: PLC0415 - the http extra, needed by this command only

        from loc_entrypoints.http import create_app  # noqa: PLC0415 - same
    # The settings and the start-up checks, reported as every command does; the table is
    # asked for last, once the settings are known to serve.
    bus = command_bus(ctx, storage=False)
    try:
        app = create_app(_settings(), bus=bus)
    except InvalidConfiguration as exc:  # the callers' verification: no JWT secret or JWKS
        raise click.ClickException(f"cannot serve the HTTP API: {exc}") from exc
    check_table(ctx)  # a misspelt LOC_TABLE_NAME: one line and exit 1, not a 500 per request
    uvicorn.run(app, host=host, port=port)


TOKEN_LIFETIME = dt.timedelta(hours=12)
"""How long a ``loc token`` lives unless ``--lifetime`` says otherwise (or
``LOC_JWT_MAX_LIFETIME_SECONDS`` is shorter: then that)."""


@click.command()
@click.argument("user_id", callback=params.user_id)
@click.option("--service", is_flag=True, help="With the service role (operations routes).")
@click.option(
    "--lifetime",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Seconds the token lives [12 hours, or LOC_JWT_MAX_LIFETIME_SECONDS if shorter]; "
    "at most LOC_JWT_MAX_LIFETIME_SECONDS.",
)
def token(user_id: str, *, service: bool, lifetime: int | None) -> None:
    """Print a bearer token for USER_ID, signed with LOC_JWT_SECRET (or the local default).

    It carries ``LOC_JWT_AUDIENCE`` and ``LOC_JWT_ISSUER`` when set, and never lives
    longer than the deployment accepts (``LOC_JWT_MAX_LIFETIME_SECONDS``).
    """
    with _http_extra():
        from loc_entrypoints.http.auth import LOCAL_SECRET, mint_token  # noqa: PLC0415 - http extra

    settings = _settings()
    longest = settings.jwt_max_lifetime_seconds
    if lifetime is not None and lifetime > longest:
        # A usage error (exit 2): the deployment would refuse the token it asked for.
        msg = (
            f"{lifetime} is more than LOC_JWT_MAX_LIFETIME_SECONDS={longest}: the HTTP API"
            " would refuse the token"
        )
        raise click.BadParameter(msg, param_hint="'--lifetime'")
    seconds = lifetime if lifetime is not None else min(TOKEN_LIFETIME.total_seconds(), longest)
    minted = mint_token(
        user_id,
        secret=_signing_secret(settings, LOCAL_SECRET),
        service=service,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        role_claim=settings.service_role_claim,
        lifetime=dt.timedelta(seconds=seconds),
    )
    click.echo(minted)


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=OPENAPI_PATH,
    show_default=True,
    callback=writable_file,
    help="Where the OpenAPI document goes.",
)
def openapi(out: Path) -> None:
    """Write the HTTP API's OpenAPI 3.1 document."""
    with _http_extra():
        from loc_entrypoints.http import create_app, openapi_document  # noqa: PLC0415 - http extra

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_document(create_app()))
    click.echo(f"wrote {out}")
