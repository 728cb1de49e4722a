"""Structured logs: structlog configured for one JSON object per line, and `LogTracer`.

`configure_logging` sets up structlog (and routes the standard library's `logging`, which
httpx and botocore use, through the same processors), so every line is JSON with a level,
an ISO-8601 UTC timestamp, the context bound for the current request (``correlation_id``,
``user_id``, the command, a Lambda request id) and the event's own fields.

Secrets never reach a line, by two guards:

1. the adapters never pass an account number, an account token, an API key, a webhook
   URL or a signature to a logger (the tests capture the lines of a payment and look);
2. `Redact`, the last processor before rendering, replaces the value of any sensitive
   field name (`SENSITIVE_FIELDS`, or a name ending in ``_token``, ``_secret`` or
   ``_password``) with ``[redacted]``, shows at most the last four digits of an account
   or routing number, replaces every occurrence of a registered secret (the settings'
   API keys and webhook secrets) in any string, masks any run of 9 to 19 digits (the
   shape of an account or card number) down to its last four, and replaces an email
   address by ``[email]``.

A borrower's personal data is kept out the same way (docs/configuration.md, *Personal
data*): lines name ids, never a name or bank details. Third-party libraries that print
what they carry are held above it: botocore, urllib3, s3transfer and httpcore never
write below INFO (their DEBUG lines dump every request and answer, the store's items
among them), even at ``LOC_LOG_LEVEL=DEBUG``; fontTools and fpdf2 never below WARNING
(their INFO lines list a document's glyphs); and fpdf2's warning about glyphs a font
lacks, which names each one (a name in a script the font lacks, letter by letter), says
only how many: `install_glyph_filter`, which the PDF renderer runs when it is built, so
it holds where logging was never configured. `Redact` also cleans an operations alert's
details (`redact_details`).

An inbound body that cannot be read (a webhook envelope, a queue message, a stream
record) is never echoed: `describe_unreadable` says what was wrong (`problem_of`: not JSON,
which field is missing, a value's type), with the body's size and SHA-256, so operations
can find the source's copy without the log or the alert holding a word of it.

`LogTracer` is the `Tracer` port on these logs: the bus opens a span per command, queue
message and published event, and the tracer writes one line when it ends, with the
outcome (``ok``, ``refused`` for a `DomainError`, ``failed`` for any other error), the
error's class and message, and the duration in milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TextIO

import attrs
import structlog

from loc_core.errors import DomainError

__all__ = [
    "SENSITIVE_FIELDS",
    "LogTracer",
    "Redact",
    "SecretFilter",
    "configure_logging",
    "describe_unreadable",
    "get_logger",
    "install_glyph_filter",
    "problem_of",
    "redact_details",
    "redact_text",
    "register_secrets",
]

SENSITIVE_FIELDS = frozenset(
    {
        "account_number",
        "routing_number",
        "account_token",
        "api_key",
        "apikey",
        "authorization",
        "client_key",
        "password",
        "secret",
        "signature",
        "token",
        "webhook_url",
        "webhook_secret",
    }
)
"""Field names whose values never appear in a log line (account and routing numbers keep
their last four digits)."""

_SENSITIVE_SUFFIXES = ("_token", "_secret", "_password", "_api_key", "_signature")
_LAST_FOUR_FIELDS = frozenset({"account_number", "routing_number"})
_REDACTED = "[redacted]"
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])[0-9]{5,15}([0-9]{4})(?![0-9A-Za-z])")
"""9 to 19 digits standing alone: an account or card number's shape."""
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
"""An email address: the library holds none, but an outside service's words may."""
_SHORTEST_SECRET = 6
"""Registered secrets shorter than this are not searched for in text (too many false hits)."""


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ``[redacted]``, the longest first.

    Longest first: a secret that begins another one (a key and the same key with more
    characters) would otherwise be replaced inside the longer one and leave its tail.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _REDACTED)
    return text


def _is_sensitive(field: str) -> bool:
    name = field.lower().replace("-", "_")
    return name in SENSITIVE_FIELDS or name.endswith(_SENSITIVE_SUFFIXES)


def _last_four(value: object) -> str:
    digits = re.sub(r"[^0-9]", "", str(value))
    return f"...{digits[-4:]}" if len(digits) >= 4 else _REDACTED  # noqa: PLR2004 - four digits


@attrs.define
class Redact:
    """The structlog processor that keeps secrets out of every line (see the module)."""

    secrets: set[str] = attrs.field(factory=set, converter=set, repr=False)

    def add(self, *secrets: str) -> None:
        """Also replace these values wherever they appear (empty ones are ignored)."""
        self.secrets.update(s for s in secrets if len(s) >= _SHORTEST_SECRET)

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Redact `event_dict` in place and return it."""
        del logger, method_name  # the same rule for every logger and level
        for field, value in list(event_dict.items()):
            event_dict[field] = self._clean(field, value)
        return event_dict

    def _clean(self, field: str, value: object) -> object:
        if _is_sensitive(field):
            if value in (None, ""):
                return value
            return _last_four(value) if field.lower() in _LAST_FOUR_FIELDS else _REDACTED
        if isinstance(value, dict):
            return {key: self._clean(str(key), item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(field, item) for item in value]
        if value is None or isinstance(value, int | float):  # bool is an int
            return value
        # Any other object (an exception, a URL, a request) is rendered by its repr, which
        # may hold a secret: redact that text, as the renderer would print it.
        return self._text(value if isinstance(value, str) else repr(value))

    def _text(self, text: str) -> str:
        text = _scrub(text, self.secrets)
        text = _BEARER.sub(lambda match: f"{match.group(1)} {_REDACTED}", text)
        text = _EMAIL.sub("[email]", text)
        return _LONG_DIGITS.sub(lambda match: f"...{match.group(1)}", text)


_REDACT = Redact()
"""The one redactor of the process: `configure_logging` registers secrets with it."""


def redact_text(text: str) -> str:
    """`text` as a log line would show it: secrets, emails and account numbers masked."""
    return _REDACT._text(text)  # noqa: SLF001 - the module's own redactor


def redact_details(details: Mapping[str, object]) -> dict[str, Any]:
    """`details` as a log line would show them (an operations alert's, before it is posted).

    A sensitive field's value is masked, and every text as in `redact_text`; numbers stay.
    """
    return {key: _REDACT._clean(key, value) for key, value in details.items()}  # noqa: SLF001 - same


def register_secrets(*secrets: str) -> None:
    """Redact these values from every line from now on, whenever logging was configured.

    `configure_logging` may run before the settings are read (the CLI configures it for
    every command, then each command reads its settings): the settings register their
    secrets here as they are checked, so no order of the two leaves one unredacted.
    """
    _REDACT.add(*secrets)


_WIRE_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "httpcore")
"""Libraries whose DEBUG lines dump requests and answers (the store's items): INFO at least."""
_DOCUMENT_LOGGERS = ("fontTools", "fpdf")
"""PDF libraries whose INFO lines list a document's glyphs: WARNING at least."""
_MISSING_GLYPHS = "is missing the following glyphs"


class _CountMissingGlyphs(logging.Filter):
    """fpdf2's warning about glyphs a font lacks, with their count instead of the glyphs.

    fpdf2 names each missing glyph, so a borrower's name in a script the bundled font
    lacks would be written to the logs letter by letter; operations only need to know a
    document printed without some of its text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the glyph warning; pass every other record unchanged."""
        if _MISSING_GLYPHS in str(record.msg):
            glyphs = str(record.args[-1]) if isinstance(record.args, tuple) and record.args else ""
            others = re.search(r"and (\d+) others", glyphs)
            count = glyphs.count("' (") + (int(others.group(1)) if others else 0)
            record.msg = (
                "a document's font is missing %d glyphs of its text; they print as blanks "
                "(not named here: they may spell a borrower's name)"
            )
            record.args = (count,)
        return True


_COUNT_MISSING_GLYPHS = _CountMissingGlyphs()


def install_glyph_filter() -> None:
    """Keep a document's letters out of the PDF libraries' logs, configured or not.

    Adds the filter that counts the glyphs fpdf2's warning would name (once: a second
    call adds nothing), and holds fontTools and fpdf2 at WARNING at least where nobody
    set them higher. `PdfRenderer` calls it when it is built, so code that renders
    without `configure_logging` (a script, a test, an application with its own logging)
    is covered too; `configure_logging` calls it as well.
    """
    for name in _DOCUMENT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET (0) included: the root's level
            logger.setLevel(logging.WARNING)
    fpdf_output = logging.getLogger("fpdf.output")
    if _COUNT_MISSING_GLYPHS not in fpdf_output.filters:
        fpdf_output.addFilter(_COUNT_MISSING_GLYPHS)


def _quiet_third_parties(level: int) -> None:
    """Hold the libraries that print what they carry above `level` (see the module)."""
    for name in _WIRE_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    for name in _DOCUMENT_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    install_glyph_filter()


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" r'|"(?:[^"\\]|\\.)*"')
"""A quoted run in an error's message: Python and this library quote the value they refuse."""
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def problem_of(exc: BaseException) -> str:
    """What was wrong with an unreadable body, in words that quote none of it.

    A missing field is named (a name of the contract, as the reader looked it up); JSON
    and UTF-8 errors give their position; any other error its class and its message with
    every quoted run (the value it refused) replaced by ``'...'``.
    """
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at character {exc.pos})"
    if isinstance(exc, UnicodeDecodeError | UnicodeEncodeError):
        return f"text that is not UTF-8 (at position {exc.start})"
    if isinstance(exc, RecursionError):
        return "JSON nested deeper than the parser goes"
    if isinstance(exc, KeyError):
        name = str(exc.args[0]) if exc.args else ""
        return f"no {name} field" if _FIELD_NAME.fullmatch(name) else "a field missing"
    message = _QUOTED.sub("'...'", str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def describe_unreadable(what: str, body: bytes | str, problem: str) -> str:
    """``<what>: <problem> (<n> bytes, sha256 <hex>)``: an unreadable body, never its content.

    The size and SHA-256 are of the bytes received (a text body as UTF-8), so operations
    can match the line to the sender's copy; `problem` must quote none of the body
    (`problem_of` words an exception so).
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    digest = hashlib.sha256(raw).hexdigest()
    return f"{what}: {problem} ({len(raw)} bytes, sha256 {digest})"


class SecretFilter(logging.Filter):
    """A `logging.Filter` that replaces `secrets` in a record's message by ``[redacted]``.

    For a third-party logger that may print a secret (the GrowthBook SDK logs its URL,
    which carries the client key) even where nobody configured logging: Python then
    prints warnings through its last-resort handler, past `Redact`.
    """

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Also replace these values (empty ones are ignored)."""
        self._secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secrets; never drop it."""
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg, record.args = _scrub(message, self._secrets), None
        return True


def configure_logging(
    *,
    level: str = "INFO",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
    json: bool = True,
    fields: Mapping[str, str] | None = None,
) -> None:
    """Configure structlog and the standard library's logging for this process.

    Args:
        level: the least level written (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``).
        stream: where lines go; standard error by default (standard output stays the
            command's answer, and Lambda sends both to CloudWatch).
        secrets: values never to print (API keys, webhook secrets and URLs).
        json: one JSON object per line (default); False renders for a terminal.
        fields: added to every line (the ``service``), whatever the context holds.
    """
    _REDACT.add(*secrets)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")  # noqa: TRY004 - a bad value, not type
    out = stream if stream is not None else sys.stderr
    constant = dict(fields or {})

    def add_fields(_logger: object, _name: str, event: MutableMapping[str, Any]) -> Any:  # noqa: ANN401 - structlog's processor type
        for name, value in constant.items():
            event.setdefault(name, value)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_fields,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            _REDACT,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    # The least level holds for every logger: a library that sets its own to INFO (Dask
    # does, at import) still writes nothing below it.
    handler.setLevel(numeric)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _REDACT,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # httpx logs every request's URL at INFO: a Slack webhook URL is a secret, so only
    # its warnings pass (and are redacted like everything else).
    logging.getLogger("httpx").setLevel(max(numeric, logging.WARNING))
    # powertools' DEBUG lines repeat every metric it buffers: noise, not news.
    logging.getLogger("aws_lambda_powertools").setLevel(max(numeric, logging.INFO))
    _quiet_third_parties(numeric)


def get_logger(name: str) -> Any:  # noqa: ANN401 - structlog's lazy proxy has no static type
    """The structlog logger of module `name` (lazy: configuration may come later)."""
    return structlog.get_logger(name)


_log = get_logger(__name__)


@attrs.frozen
class LogTracer:
    """`Tracer` on structured logs: one line per command, queue message and event.

    The outermost span binds ``correlation_id`` (the one given, else a new UUID) for every
    line logged inside it, including the adapters'; inner spans keep it and log theirs
    too. A span also binds the name under its kind (``command=MakeLoanPayment``) and the
    user id.
    """

    new_id: Callable[[], str] = attrs.field(default=lambda: uuid.uuid4().hex, repr=False)
    ok_level: str = "info"
    """The level of a span that ended well (``debug`` quiets a busy worker)."""

    @contextlib.contextmanager
    def span(
        self,
        kind: str,
        name: str,
        *,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> Iterator[None]:
        """Bind the span's context, run the body, and log its outcome."""
        context: dict[str, object] = {kind: name}
        bound = structlog.contextvars.get_contextvars()
        if "correlation_id" not in bound:
            context["correlation_id"] = correlation_id or self.new_id()
        elif correlation_id is not None:
            context[f"{kind}_id"] = correlation_id
        if user_id is not None:
            context["user_id"] = user_id
        tokens = structlog.contextvars.bind_contextvars(**context)
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            refused = isinstance(exc, DomainError)
            log = _log.warning if refused else _log.error
            log(
                f"{kind} {'refused' if refused else 'failed'}",
                outcome="refused" if refused else "failed",
                error=type(exc).__name__,
                reason=str(exc),
                duration_ms=_since(started),
            )
            raise
        else:
            getattr(_log, self.ok_level)(
                f"{kind} handled", outcome="ok", duration_ms=_since(started)
            )
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
