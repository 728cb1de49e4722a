"""The bootstrap: the one place that builds a deployment's adapters and wires the bus.

`Settings` says which deployment (read from ``LOC_*`` environment variables by
`Settings.from_env`); `bootstrap` builds each adapter once, registers it under its port's
type, and returns the `MessageBus` every entrypoint hands its commands to. With no
settings at all it builds the embedded default: every port in memory, the simulated
rails, the machine's clock. Tests and the simulation pass `overrides` to put their own
adapter under a port (a manual clock, a rail fake); everything built after it uses it.

``docs/configuration.md`` lists every setting with its default.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

import attrs

from loc_adapters.logs import LogTracer, configure_logging, get_logger, register_secrets
from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryDocumentStore,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryQueue,
    InMemoryUnitOfWork,
    InMemoryUsers,
    RecordingAlerter,
    RecordingNotifier,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_adapters.system import SystemClock
from loc_adapters.unconfigured import (
    UnconfiguredRails,
    UnconfiguredUnderwriting,
    UnconfiguredUsers,
)
from loc_core.creditline import CreditLineProduct
from loc_core.errors import InvalidConfiguration
from loc_core.installment import InstallmentProduct
from loc_core.ports import (
    Alerter,
    AuditArchive,
    Clock,
    DocumentStore,
    EventOutbox,
    FeatureFlags,
    IdempotencyStore,
    IdGenerator,
    Lock,
    MessageVisibility,
    Metrics,
    Notifier,
    PaymentRails,
    Tracer,
    Underwriting,
    UnitOfWork,
    Users,
    WorkQueue,
)
from loc_core.ports.documents import DocumentRenderer
from loc_core.services.compliance import CompliancePolicy, MovementWindows
from loc_core.services.filing import DocumentFiler
from loc_core.services.handlers import EVENT_HANDLERS, HANDLERS, MESSAGES, STARTUP_CHECKS
from loc_core.services.messagebus import MessageBus

if TYPE_CHECKING:
    from botocore.config import Config

__all__ = [
    "ENV_PREFIX",
    "ITERABLE_BASE_URL",
    "MAX_SHARDS",
    "AwsService",
    "Backend",
    "LockBackend",
    "Settings",
    "StandIns",
    "aws_client",
    "aws_config",
    "bootstrap",
    "check_storage",
    "configure_observability",
    "finish",
]

_log = get_logger(__name__)

ENV_PREFIX = "LOC_"
"""Every setting is read from an environment variable with this prefix."""

T = TypeVar("T")

ITERABLE_BASE_URL = "https://api.iterable.com"
"""Iterable's US API, the default of ``LOC_ITERABLE_BASE_URL`` (the adapter's own default)."""


class _Provide(Protocol):
    def __call__(self, port: type[T], build: Callable[[], object]) -> T: ...


class Backend(enum.Enum):
    """Where the deployment keeps its state."""

    MEMORY = "memory"
    """In this process: tests, the simulation, an embedded library."""
    DYNAMODB = "dynamodb"
    """The single DynamoDB table shared with the Go service, and SQS for work."""


class LockBackend(enum.Enum):
    """Where the dynamodb backend keeps its leases."""

    TABLE = "table"
    """``LOCK#`` items in the single table: new deployments."""
    DYNAMOLOCK = "dynamolock"
    """dynamolock v2's lock table, honoured by the Go service's workers too (a cutover)."""


class StandIns(enum.Enum):
    """Whether an outside service with no settings is simulated or refused."""

    AUTO = "auto"
    """Simulated on the memory backend (tests, the simulation, an embedded library),
    refused on dynamodb (a real deployment)."""
    SIMULATED = "simulated"
    """Simulated rails, underwriting and users wherever their settings are missing: a
    deployment on a real table that serves no real borrower (a test or demo stack)."""
    REFUSED = "refused"
    """Every call to a service with no settings fails with `ServiceNotConfigured`."""


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        variable = f"{ENV_PREFIX}{attribute.name.upper()}"
        raise InvalidConfiguration(
            f"{variable} ({attribute.name}) must be a whole number >= 1, got {value!r}",
            key=variable,
        )


def _non_blank(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        variable = f"{ENV_PREFIX}{attribute.name.upper()}"
        raise InvalidConfiguration(
            f"{variable} ({attribute.name}) must not be blank, got {value!r}", key=variable
        )


MAX_SHARDS = 64
"""The most shards an index may be spread over: every index read queries each one
(`loc_adapters.dynamodb.DynamoTable` holds the same bound)."""


def _at_most_max_shards(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value > MAX_SHARDS:
        raise InvalidConfiguration(
            f"{ENV_PREFIX}{attribute.name.upper()} must be at most {MAX_SHARDS} (every index"
            f" read queries each shard), got {value}",
            key=f"{ENV_PREFIX}{attribute.name.upper()}",
        )


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
"""An AWS region's shape: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4."""


def _region(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidConfiguration(
            f"{ENV_PREFIX}{attribute.name.upper()} must be an AWS region such as us-east-1,"
            f" got {value!r}",
            key=f"{ENV_PREFIX}{attribute.name.upper()}",
        )


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or value.upper() not in _LOG_LEVELS:
        raise InvalidConfiguration(
            f"{ENV_PREFIX}{attribute.name.upper()} must be one of {', '.join(_LOG_LEVELS)},"
            f" got {value!r}"
        )


MAX_AWS_ATTEMPTS = 10
"""The most attempts ``LOC_AWS_MAX_ATTEMPTS`` may ask for (each may wait its timeouts)."""


def _at_most(bound: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    """A validator refusing a value above `bound`, naming the variable."""

    def check(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if value > bound:
            variable = f"{ENV_PREFIX}{attribute.name.upper()}"
            raise InvalidConfiguration(
                f"{variable} must be at most {bound}, got {value}", key=variable
            )

    return check


DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 60 * 60
"""The default of ``LOC_JWT_MAX_LIFETIME_SECONDS``: a day. A stolen token stops working
within a working day; identity providers' access tokens last an hour (Cognito's default)
and ``loc token`` mints 12 hours, both well inside it."""

SHORTEST_JWT_SECRET = 32
"""Bytes an HS256 secret needs at least (RFC 7518 3.2: a key as long as the hash): a
shorter one can be found offline from any token it signed, and then signs any caller."""


def check_jwt_secret(secret: str) -> None:
    """Refuse a ``LOC_JWT_SECRET`` shorter than `SHORTEST_JWT_SECRET` (empty: none set).

    Raises:
        InvalidConfiguration: naming the variable and its length, never its value.
    """
    length = len(secret.encode())
    if 0 < length < SHORTEST_JWT_SECRET:
        raise InvalidConfiguration(
            f"{ENV_PREFIX}JWT_SECRET is {length} bytes long: an HS256 secret needs at least "
            f"{SHORTEST_JWT_SECRET} (RFC 7518 3.2), or anyone holding one token it signed "
            "could find it and sign any caller's",
            key=f"{ENV_PREFIX}JWT_SECRET",
        )


@attrs.frozen(kw_only=True)
class Settings:
    """What differs between deployments; the defaults are the embedded one."""

    backend: Backend = Backend.MEMORY
    """``LOC_BACKEND``: ``memory`` or ``dynamodb``."""
    table_name: str = "dev-loc-service"
    """``LOC_TABLE_NAME``: the DynamoDB table (the Go service names it ``{env}-loc-service``)."""
    queue_url: str = ""
    """``LOC_QUEUE_URL``: the SQS queue of the collections work; required with dynamodb."""
    region: str = attrs.field(default="us-east-1", validator=_region)
    """``LOC_REGION``: the AWS region of the table and the queue."""
    endpoint_url: str = ""
    """``LOC_ENDPOINT_URL``: a local DynamoDB (and its streams)/SQS endpoint (moto,
    DynamoDB Local); empty for AWS itself."""
    aws_connect_timeout_seconds: int = attrs.field(default=2, validator=_positive)
    """``LOC_AWS_CONNECT_TIMEOUT_SECONDS``: how long an AWS call (DynamoDB and its streams,
    SQS, S3, Kinesis) may take to connect (`aws_config`)."""
    aws_read_timeout_seconds: int = attrs.field(default=3, validator=_positive)
    """``LOC_AWS_READ_TIMEOUT_SECONDS``: how long such a call may wait for each read of its
    answer."""
    aws_max_attempts: int = attrs.field(
        default=3, validator=[_positive, _at_most(MAX_AWS_ATTEMPTS)]
    )
    """``LOC_AWS_MAX_ATTEMPTS``: the attempts of one AWS call, the first included (botocore's
    ``standard`` retry mode)."""
    shards: int = attrs.field(default=1, validator=[_positive, _at_most_max_shards])
    """``LOC_SHARDS``: write shards of the hot index partitions (1: the seed's keys)."""
    lock_backend: LockBackend = LockBackend.TABLE
    """``LOC_LOCK_BACKEND``: ``table`` (the single table's ``LOCK#`` items) or
    ``dynamolock`` (the Go service's dynamolock table); dynamodb only."""
    dynamolock_table: str = ""
    """``LOC_DYNAMOLOCK_TABLE``: dynamolock's lock table; required with dynamolock."""
    dynamolock_partition_key: str = "key"
    """``LOC_DYNAMOLOCK_PARTITION_KEY``: its partition key attribute (dynamolock's default)."""
    rail_seed: int = 0
    """``LOC_RAIL_SEED``: the seed of the simulated rails and underwriting."""
    stand_ins: StandIns = StandIns.AUTO
    """``LOC_STAND_INS``: ``auto``, ``simulated`` or ``refused``: whether payment rails,
    underwriting and users with no settings are simulated (``auto``: on the memory
    backend only) or refused with `ServiceNotConfigured` at their first call."""
    payengine_base_url: str = ""
    """``LOC_PAYENGINE_BASE_URL``: PayEngine's base URL; set, the rails are `PayEngineRails`."""
    payengine_api_key: str = attrs.field(default="", repr=False)
    """``LOC_PAYENGINE_API_KEY``: PayEngine's API key (a secret: in no repr or error)."""
    payengine_webhook_secret: str = attrs.field(default="", repr=False)
    """``LOC_PAYENGINE_WEBHOOK_SECRET``: the webhooks' shared secret (a secret too)."""
    payengine_timeout: int = attrs.field(default=10, validator=_positive)
    """``LOC_PAYENGINE_TIMEOUT``: seconds one rail call may take, retries included."""
    iterable_api_key: str = attrs.field(default="", repr=False)
    """``LOC_ITERABLE_API_KEY``: Iterable's server-side key (a secret); set, the notifier
    is `IterableNotifier`."""
    iterable_base_url: str = ITERABLE_BASE_URL
    """``LOC_ITERABLE_BASE_URL``: Iterable's API (``https://api.eu.iterable.com`` in the EU)."""
    iterable_timeout_seconds: int = attrs.field(default=10, validator=_positive)
    """``LOC_ITERABLE_TIMEOUT_SECONDS``: the longest one notification may take, retries included."""
    slack_webhook_url: str = attrs.field(default="", repr=False)
    """``LOC_SLACK_WEBHOOK_URL``: the alerts channel's incoming webhook (a secret); set, the
    alerter is `SlackAlerter`."""
    slack_interval_seconds: int = attrs.field(default=1, validator=_positive)
    """``LOC_SLACK_INTERVAL_SECONDS``: the least time between two Slack messages."""
    users_base_url: str = ""
    """``LOC_USERS_BASE_URL``: the user service; set, the users are `HttpUsers`."""
    users_timeout_seconds: int = attrs.field(default=3, validator=_positive)
    """``LOC_USERS_TIMEOUT_SECONDS``: the timeout of one user-service request."""
    users_api_key: str = attrs.field(default="", repr=False)
    """``LOC_USERS_API_KEY``: sent as ``Authorization: Bearer <key>`` to the user service
    (a secret); empty: no header (a service reached inside the VPC)."""
    underwriting_base_url: str = ""
    """``LOC_UNDERWRITING_BASE_URL``: the underwriting service; set, underwriting is
    `HttpUnderwriting`."""
    underwriting_timeout_seconds: int = attrs.field(default=10, validator=_positive)
    """``LOC_UNDERWRITING_TIMEOUT_SECONDS``: the timeout of one underwriting decision."""
    underwriting_api_key: str = attrs.field(default="", repr=False)
    """``LOC_UNDERWRITING_API_KEY``: sent as ``Authorization: Bearer <key>`` to the
    underwriting service (a secret); empty: no header."""
    s3_documents_bucket: str = ""
    """``LOC_S3_DOCUMENTS_BUCKET``: agreements and statements; set, the document store is
    `S3DocumentStore` (in ``LOC_REGION``)."""
    s3_encryption: str = "AES256"
    """``LOC_S3_ENCRYPTION``: server-side encryption, ``AES256`` or ``aws:kms``."""
    s3_kms_key_id: str = ""
    """``LOC_S3_KMS_KEY_ID``: the KMS key of ``aws:kms``; empty: the account's ``aws/s3`` key."""
    s3_endpoint_url: str = ""
    """``LOC_S3_ENDPOINT_URL``: another S3 endpoint (moto, a local S3); empty for AWS."""
    creditor_name: str = attrs.field(default="loc", validator=_non_blank)
    """``LOC_CREDITOR_NAME``: the lender every document names (the creditor of 12 CFR
    1026.18(a) and 1002.9(a)(2))."""
    creditor_address: str = ""
    """``LOC_CREDITOR_ADDRESS``: the lender's address, which an adverse action notice must
    give (12 CFR 1002.9(a)(2)); empty: no notice is rendered (each is alerted and kept
    queued until it is set)."""
    audit_archive_bucket: str = ""
    """``LOC_AUDIT_ARCHIVE_BUCKET``: where committed audit records are archived; set, the
    `AuditArchive` is an `S3DocumentStore` on it (with the ``LOC_S3_*`` encryption)."""
    growthbook_features_file: str = ""
    """``LOC_GROWTHBOOK_FEATURES_FILE``: a local GrowthBook features JSON file; set, the
    flags are `GrowthBookFlags` read from it."""
    growthbook_api_host: str = ""
    """``LOC_GROWTHBOOK_API_HOST``: GrowthBook's API (``https://cdn.growthbook.io``); set
    with the client key, the flags are `GrowthBookFlags` fetched from it."""
    growthbook_client_key: str = attrs.field(default="", repr=False)
    """``LOC_GROWTHBOOK_CLIENT_KEY``: the SDK connection's client key (kept out of repr)."""
    log_level: str = attrs.field(default="INFO", validator=_log_level)
    """``LOC_LOG_LEVEL``: the least level logged by `configure_observability`
    (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``)."""
    metrics_namespace: str = ""
    """``LOC_METRICS_NAMESPACE``: set, metrics are CloudWatch embedded-metric-format lines
    in this namespace (`EmfMetrics`, the ``lambda`` extra); empty: no metrics."""
    service_name: str = "loc"
    """``LOC_SERVICE_NAME``: the ``service`` of every metric and log line."""
    jwt_secret: str = attrs.field(default="", repr=False)
    """``LOC_JWT_SECRET``: the HTTP API's HS256 secret for callers' tokens (a secret; local
    use). Empty with the memory backend and no JWKS URL: the public development secret."""
    jwt_jwks_url: str = ""
    """``LOC_JWT_JWKS_URL``: the JWKS URL whose keys verify callers' tokens (RS256/ES256)."""
    jwt_audience: str = ""
    """``LOC_JWT_AUDIENCE``: the ``aud`` callers' tokens must carry; empty: not checked."""
    jwt_issuer: str = ""
    """``LOC_JWT_ISSUER``: the ``iss`` callers' tokens must carry; required with
    ``LOC_JWT_JWKS_URL`` (a key set may be served for many issuers); empty: not checked."""
    jwt_max_lifetime_seconds: int = attrs.field(
        default=DEFAULT_JWT_MAX_LIFETIME_SECONDS, validator=_positive
    )
    """``LOC_JWT_MAX_LIFETIME_SECONDS``: the longest a caller's token may live, from its
    ``iat`` (or, without one, from now) to its ``exp``; ``loc token`` mints no longer one."""
    service_role_claim: str = "loc_role"
    """``LOC_SERVICE_ROLE_CLAIM``: the claim whose value ``service`` grants the operations
    routes."""

    def __attrs_post_init__(self) -> None:
        """Refuse a field of the wrong type (settings built in code are not parsed).

        A string where an enum belongs (``backend="memory"``) would otherwise build
        another deployment than the one asked for.

        Raises:
            InvalidConfiguration: naming the field and its variable (a secret's value never).
        """
        for field in attrs.fields(type(self)):
            expected = _FIELD_TYPES.get(str(field.type), object)  # a new type: add it there
            value = getattr(self, field.name)
            if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
                continue
            article = "an" if expected.__name__[0] in "aeiou" else "a"
            shown = f" {value!r}" if field.repr else ""
            hint = (
                f" such as {expected.__name__}.{next(iter(expected)).name}"
                if issubclass(expected, enum.Enum)
                else ""
            )
            raise InvalidConfiguration(
                f"{field.name} ({_variable(field.name)}) must be {article} {expected.__name__}"
                f"{hint}, got {type(value).__name__}{shown}",
                key=_variable(field.name),
            )

    def check(self) -> frozenset[str]:
        """Refuse settings that contradict each other; return the outside services configured.

        `from_env` and `bootstrap` both run it, so settings built in code are held to the
        same rules as those read from the environment.

        Every secret it holds (`secrets`) is registered with the log redactor first.

        Raises:
            InvalidConfiguration: naming the variable (see `lock_settings` and
                `outside_services`); the dynamodb backend without ``LOC_QUEUE_URL``; a
                JWKS URL without ``LOC_JWT_ISSUER``.
        """
        # Registered before anything can log them: a client library may print a secret
        # (the GrowthBook SDK logs its URL, which carries the client key).
        register_secrets(*self.secrets())
        check_jwt_secret(self.jwt_secret)
        if self.backend is Backend.DYNAMODB and not self.queue_url:
            raise InvalidConfiguration(
                f"{ENV_PREFIX}QUEUE_URL is required with dynamodb", key=_variable("queue_url")
            )
        self.lock_settings()
        outside = self.outside_services()
        if self.jwt_jwks_url and not self.jwt_issuer:
            # One URL may serve the keys of many issuers (a provider's tenants, a shared
            # pool): without the issuer, any of them could sign in as any borrower here.
            raise InvalidConfiguration(
                f"{_variable('jwt_issuer')} is required with {_variable('jwt_jwks_url')}: the"
                " key set may sign tokens of other issuers, so each token's iss is checked",
                key=_variable("jwt_issuer"),
            )
        return outside

    def secrets(self) -> tuple[str, ...]:
        """The secret values set: what no log line, repr or error may show.

        API keys, webhook secrets and URLs, client keys: the fields kept out of repr.
        """
        return tuple(
            value
            for field in attrs.fields(type(self))
            if not field.repr and (value := getattr(self, field.name))
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every ``LOC_*`` variable of `environ`; absent ones keep their default.

        Raises:
            InvalidConfiguration: naming the variable, for an unknown ``LOC_`` variable
                or a value that cannot be used.
        """
        if not isinstance(environ, Mapping):
            raise InvalidConfiguration(
                "the environment must be a mapping of variable names to text (os.environ),"
                f" got {type(environ).__name__}"
            )
        known = {f"{ENV_PREFIX}{field.name.upper()}": field for field in attrs.fields(cls)}
        values: dict[str, object] = {}
        for name, text in environ.items():
            if not isinstance(name, str) or not name.startswith(ENV_PREFIX):
                continue
            if not isinstance(text, str):
                raise InvalidConfiguration(
                    f"{name} must be text, as in an environment, got {type(text).__name__}",
                    key=name,
                )
            field = known.get(name)
            if field is None:
                raise InvalidConfiguration(
                    f"unknown setting {name}; the settings are {', '.join(sorted(known))}"
                )
            values[field.name] = _parse(name, text, field.type)
        settings = cls(**values)  # type: ignore[arg-type]  # values are parsed per field type
        settings.check()
        return settings

    def lock_settings(self) -> None:
        """Refuse a half-given lock backend: dynamolock without its table or off dynamodb.

        Raises:
            InvalidConfiguration: naming the variable.
        """
        dynamolock = self.lock_backend is LockBackend.DYNAMOLOCK
        if dynamolock and self.backend is not Backend.DYNAMODB:
            raise InvalidConfiguration(f"{_variable('lock_backend')}=dynamolock needs dynamodb")
        if dynamolock and not self.dynamolock_table:
            raise InvalidConfiguration(
                f"{_variable('dynamolock_table')} is required with {_variable('lock_backend')}"
                "=dynamolock"
            )
        given = self.dynamolock_table or self.dynamolock_partition_key != _default(
            "dynamolock_partition_key"
        )
        if given and not dynamolock:
            raise InvalidConfiguration(
                f"the {_variable('dynamolock_table')} settings need "
                f"{_variable('lock_backend')}=dynamolock"
            )

    def outside_services(self) -> frozenset[str]:
        """The outside services configured: the keys of ``_OUTSIDE`` whose settings are given.

        ``payengine``, ``iterable``, ``slack``, ``users``, ``underwriting``, ``s3``,
        ``audit_archive``, ``growthbook`` (the API) or ``growthbook_file`` (a features file,
        not both). A service none of whose settings is set keeps its in-memory stand-in.

        Raises:
            InvalidConfiguration: naming the variable, for a service with some of its
                settings but not all it needs (a PayEngine URL without a key), settings
                shared by services none of which is configured (an S3 encryption without
                a bucket), a URL that is not http(s), two sources of flags, or an S3
                encryption that does not exist or a KMS key without KMS. A secret's value
                is never in the message.
        """
        configured = set()
        for service, (required, optional) in _OUTSIDE.items():
            given = [name for name in required if getattr(self, name)]
            touched = [name for name in optional if getattr(self, name) != _default(name)]
            if not given and not touched:
                continue
            missing = [name for name in required if name not in given]
            if missing:
                by = _variable(given[0] if given else touched[0])
                raise InvalidConfiguration(
                    f"{_variable(missing[0])} is required with {by} ({service} is half configured)",
                    key=_variable(missing[0]),
                )
            configured.add(service)
        for options, services in _SHARED.items():
            touched = [name for name in options if getattr(self, name) != _default(name)]
            if touched and not configured.intersection(services):
                needed = " or ".join(_variable(_OUTSIDE[service][0][0]) for service in services)
                raise InvalidConfiguration(
                    f"{needed} is required with {_variable(touched[0])} (a setting of their"
                    " stores)",
                    key=_variable(touched[0]),
                )
        self._urls()
        if {"growthbook", "growthbook_file"} <= configured:
            raise InvalidConfiguration(
                f"{_variable('growthbook_features_file')} and {_variable('growthbook_api_host')}"
                " are exclusive (one source of flags)"
            )
        if self.s3_encryption not in _S3_ENCRYPTIONS:
            raise InvalidConfiguration(
                f"{_variable('s3_encryption')} must be one of {', '.join(_S3_ENCRYPTIONS)}"
            )
        if self.s3_kms_key_id and self.s3_encryption != "aws:kms":
            raise InvalidConfiguration(
                f"{_variable('s3_kms_key_id')} needs {_variable('s3_encryption')}=aws:kms"
            )
        return frozenset(configured)

    def _urls(self) -> None:
        """Refuse a URL setting (``*_URL``, ``*_HOST``) that is set but not http(s).

        Raises:
            InvalidConfiguration: naming the variable (never the value: a webhook URL is
                a secret).
        """
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if field.name.endswith(("_url", "_host")) and value and not _is_http_url(value):
                raise InvalidConfiguration(
                    f"{_variable(field.name)} must be an http(s) URL", key=_variable(field.name)
                )


_OUTSIDE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "payengine": (
        ("payengine_base_url", "payengine_api_key", "payengine_webhook_secret"),
        ("payengine_timeout",),
    ),
    "iterable": (("iterable_api_key",), ("iterable_base_url", "iterable_timeout_seconds")),
    "slack": (("slack_webhook_url",), ("slack_interval_seconds",)),
    "users": (("users_base_url",), ("users_timeout_seconds", "users_api_key")),
    "underwriting": (
        ("underwriting_base_url",),
        ("underwriting_timeout_seconds", "underwriting_api_key"),
    ),
    "s3": (("s3_documents_bucket",), ()),
    "audit_archive": (("audit_archive_bucket",), ()),
    "growthbook": (("growthbook_api_host", "growthbook_client_key"), ()),
    "growthbook_file": (("growthbook_features_file",), ()),
}
"""Each outside service's settings: those it needs, and those with a usable default."""

_SHARED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("s3_encryption", "s3_kms_key_id", "s3_endpoint_url"): ("s3", "audit_archive"),
}
"""Settings several outside services use, each with a usable default: meaningful once any
of those services is configured (both S3 stores, documents and the audit archive, are
built with the ``LOC_S3_*`` encryption and endpoint)."""

_S3_ENCRYPTIONS = ("AES256", "aws:kms")
"""``LOC_S3_ENCRYPTION``'s values, those of `loc_adapters.s3.Encryption`."""


def _variable(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def _default(name: str) -> object:
    return getattr(attrs.fields(Settings), name).default


def _is_http_url(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


_FIELD_TYPES: dict[str, type] = {
    "str": str,
    "int": int,
    "Backend": Backend,
    "LockBackend": LockBackend,
    "StandIns": StandIns,
}
"""Each settings field's type, by its annotation (a string under postponed annotations)."""

_CHOICES: dict[str, type[Backend | LockBackend | StandIns]] = {
    "Backend": Backend,
    "LockBackend": LockBackend,
    "StandIns": StandIns,
}
"""The settings that take one of an enum's values, by their type's name."""


def _parse(name: str, text: str, kind: object) -> object:
    """One variable's text as its field's type."""
    choice = _CHOICES.get(kind if isinstance(kind, str) else getattr(kind, "__name__", ""))
    if choice is not None:
        try:
            return choice(text.strip().lower())
        except ValueError:
            choices = ", ".join(b.value for b in choice)
            raise InvalidConfiguration(f"{name} must be one of {choices}, got {text!r}") from None
    if kind in {int, "int"}:
        try:
            return int(text.strip())
        except ValueError:
            raise InvalidConfiguration(f"{name} must be a whole number, got {text!r}") from None
    return text.strip()


def bootstrap(
    settings: Settings | None = None, *, overrides: Mapping[type, object] | None = None
) -> MessageBus:
    """Build the deployment `settings` describe and return its message bus.

    Each port gets one adapter, registered under the port's type; an adapter in
    `overrides` is used instead of the one the settings would build, and adapters built
    later (a lock, a queue, rails) use the overridden clock.

    The bus runs one command at a time, whatever thread hands it one: every handler
    shares the one registered unit of work (``docs/architecture.md``).

    Raises:
        InvalidConfiguration: `settings` that are not a `Settings` or contradict each
            other (as `Settings.check` says), an override that cannot stand for its port
            (a key that is not a type, None, a class, an object of another kind), or a
            failed start-up check.
    """
    settings = _checked_settings(settings)
    outside = settings.check()
    ports = _Ports(_checked_overrides(overrides))
    provide = ports.provide
    clock = provide(Clock, SystemClock)
    provide(Tracer, LogTracer)
    if settings.metrics_namespace:
        provide(Metrics, lambda: _emf(settings))
    if settings.backend is Backend.MEMORY:
        database = provide(InMemoryDatabase, lambda: InMemoryDatabase(clock))
        provide(UnitOfWork, lambda: InMemoryUnitOfWork(database))
        provide(EventOutbox, lambda: database)
        provide(Lock, lambda: InMemoryLock(clock, leases=database.leases))
        provide(IdempotencyStore, InMemoryIdempotencyStore)
        provide(WorkQueue, lambda: InMemoryQueue(clock))
        provide(IdGenerator, SequentialIds)
    else:
        _provide_aws(settings, clock, provide)
    _provide_money_and_people(settings, outside, clock, provide)
    if "s3" in outside:
        provide(DocumentStore, lambda: _s3_store(settings, settings.s3_documents_bucket))
    provide(DocumentStore, InMemoryDocumentStore)
    if "audit_archive" in outside:
        provide(AuditArchive, lambda: _s3_store(settings, settings.audit_archive_bucket))
    provide(AuditArchive, InMemoryDocumentStore)
    iterable = "iterable" in outside
    provide(Notifier, (lambda: _iterable(settings)) if iterable else RecordingNotifier)
    slack = "slack" in outside
    provide(Alerter, (lambda: _slack(settings, clock)) if slack else RecordingAlerter)
    if "growthbook" in outside or "growthbook_file" in outside:
        provide(FeatureFlags, lambda: _growthbook(settings))
    provide(FeatureFlags, StaticFeatureFlags)
    provide(InstallmentProduct, InstallmentProduct)
    provide(CreditLineProduct, CreditLineProduct)
    provide(CompliancePolicy, CompliancePolicy)
    provide(MovementWindows, MovementWindows)
    provide(
        DocumentFiler,
        lambda: DocumentFiler(
            ports.registered[DocumentStore],  # type: ignore[arg-type]  # provided above
            ports.registered[Users],  # type: ignore[arg-type]  # same
            ports.registered[Alerter],  # type: ignore[arg-type]  # same
            ports.registered[WorkQueue],  # type: ignore[arg-type]  # same
            pdf_renderer(settings),
        ),
    )
    return MessageBus(
        dependencies=ports.registered,
        handlers=HANDLERS,
        event_handlers=EVENT_HANDLERS,
        messages=MESSAGES,
        startup_checks=STARTUP_CHECKS,
    )


def _provide_money_and_people(
    settings: Settings, outside: frozenset[str], clock: Clock, provide: _Provide
) -> None:
    """The rails, users and underwriting the settings configure.

    Any of them without settings is a simulated stand-in or a refusing one (`StandIns`).
    """
    simulated = settings.stand_ins is StandIns.SIMULATED or (
        settings.stand_ins is StandIns.AUTO and settings.backend is Backend.MEMORY
    )
    if "users" in outside:
        provide(Users, lambda: _users(settings))
    users = provide(Users, InMemoryUsers if simulated else UnconfiguredUsers)
    if "payengine" in outside:
        _provide_payengine(settings, clock, provide, users)
    if simulated:
        provide(PaymentRails, lambda: SimulatedRails(clock, seed=settings.rail_seed))
    provide(PaymentRails, UnconfiguredRails)
    if "underwriting" in outside:
        provide(Underwriting, lambda: _underwriting(settings))
    if simulated:
        provide(Underwriting, lambda: SimulatedUnderwriting(seed=settings.rail_seed))
    provide(Underwriting, UnconfiguredUnderwriting)


def _kind(value: object) -> str:
    """What `value` is, for a refusal: its type, or the class itself when it is one."""
    return f"the class {value.__name__}" if isinstance(value, type) else type(value).__name__


def _checked_settings(settings: Settings | None) -> Settings:
    """`settings`, or the embedded default for None; anything else is refused.

    Raises:
        InvalidConfiguration: for a value that is not a `Settings` instance.
    """
    if settings is None:
        return Settings()
    if not isinstance(settings, Settings):
        raise InvalidConfiguration(
            f"settings must be a Settings (or None for the embedded default), got"
            f" {_kind(settings)}; read them with Settings.from_env(os.environ)"
        )
    return settings


def _checked_overrides(overrides: Mapping[type, object] | None) -> dict[type, object]:
    """`overrides` as a dict, each adapter able to stand for its port.

    Refused at once, rather than by a handler mid-command: a key that is not a type (the
    override would silently never be used), None, a class instead of an instance, an
    object that is not the class the key names, or one with none of a port's members. A
    fake that implements only some of a port's methods is accepted: tests use them.

    Raises:
        InvalidConfiguration: naming the port and what was given.
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise InvalidConfiguration(
            f"overrides must be a mapping of port types to adapters ({{Clock: clock}}),"
            f" got {_kind(overrides)}"
        )
    for port, adapter in overrides.items():
        if not isinstance(port, type):
            raise InvalidConfiguration(
                f"overrides keys must be port types such as Clock, got {type(port).__name__}"
                f" {port!r}"
            )
        name = port.__name__
        if adapter is None or isinstance(adapter, type):
            what = "None" if adapter is None else f"{_kind(adapter)}, not an instance"
            raise InvalidConfiguration(f"the override of {name} is {what}", key=name)
        if getattr(port, "_is_protocol", False):
            members = sorted(_protocol_members(port))
            if members and not any(hasattr(adapter, member) for member in members):
                raise InvalidConfiguration(
                    f"the override of {name}: {type(adapter).__name__} is not a {name}:"
                    f" it has no {', no '.join(members)}",
                    key=name,
                )
        elif not isinstance(adapter, port):
            article = "an" if name[0] in "AEIOU" else "a"
            raise InvalidConfiguration(
                f"the override of {name}: {type(adapter).__name__} is not {article} {name}",
                key=name,
            )
    return dict(overrides)


def _protocol_members(port: type) -> set[str]:
    """The public methods and attributes a `typing.Protocol` port declares."""
    members: set[str] = set()
    for base in port.__mro__:
        if base is object or not getattr(base, "_is_protocol", False):
            continue
        if base.__name__ in {"Protocol", "Generic"}:
            continue
        names = [*vars(base), *getattr(base, "__annotations__", {})]
        members.update(name for name in names if not name.startswith("_"))
    return members


_PDF_RENDERER = ("loc_adapters.documents", "PdfRenderer")
"""Where the fpdf2 renderer lives (the ``documents`` extra), imported by name when used."""
_said_no_renderer: list[bool] = []


def pdf_renderer(settings: Settings | None = None) -> DocumentRenderer | None:
    """The fpdf2 `PdfRenderer` when the ``documents`` extra is installed, else None.

    Its creditor is the settings' (``LOC_CREDITOR_NAME``, ``LOC_CREDITOR_ADDRESS``); with
    none, the defaults'. Without the extra documents are not rendered (the links answer
    404): an INFO line says so once per process.
    """
    module_name, name = _PDF_RENDERER
    chosen = Settings() if settings is None else settings
    try:
        module = importlib.import_module(module_name)
        renderer = getattr(module, name)
        creditor = module.Creditor(chosen.creditor_name, chosen.creditor_address)
    except (ImportError, AttributeError):
        if not _said_no_renderer:
            _said_no_renderer.append(True)
            _log.info(
                "documents are not rendered: install the 'documents' extra (fpdf2)",
                renderer=f"{module_name}.{name}",
            )
        return None
    return cast("DocumentRenderer", renderer(creditor=creditor))


@attrs.define
class _Ports:
    """The adapters registered so far, by port type."""

    registered: dict[type, object]

    def provide(self, port: type[T], build: Callable[[], object]) -> T:
        """The adapter for `port`: the one given, else the one `build` makes now."""
        if port not in self.registered:
            self.registered[port] = build()
        return cast("T", self.registered[port])


def aws_config(settings: Settings, **extra: Any) -> Config:  # noqa: ANN401 - botocore's Config options
    """The botocore `Config` of every AWS client the library builds (`aws_client`).

    botocore's defaults (60 s to read, 5 attempts in ``legacy`` mode) let an endpoint that
    accepts a connection and never answers hold a call for about four minutes: past a
    Lambda's or API Gateway's timeout, so the caller sees a timeout, never the error.
    These bound one call by ``attempts x (connect + read)`` plus the ``standard`` mode's
    backoff (at most 1 s, 2 s, 4 s ... between attempts): 3 x (2 + 3) + 3 = 18 s by
    default, inside the HTTP API's 29 s (``docs/configuration.md``).

    `extra` adds options of the client's own (S3's ``signature_version``).
    """
    from botocore import config  # noqa: PLC0415 - the aws extra is optional

    return config.Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
        **extra,
    )


AwsService = Literal["dynamodb", "dynamodbstreams", "sqs", "s3", "kinesis"]
"""The AWS services the library calls (Kinesis and DynamoDB Streams from the replay tool)."""


def aws_client(
    service: AwsService,
    settings: Settings,
    *,
    region: str | None = None,
    **extra: Any,  # noqa: ANN401 - botocore's Config options
) -> Any:  # noqa: ANN401 - boto3's clients are typed by service in the stubs only
    """A boto3 client of `service` with `aws_config`: the one place the library builds one.

    Its region is `region` when given (the replay tool reads a stream in the region its
    ARN names), else ``LOC_REGION``. DynamoDB, DynamoDB Streams and SQS use
    ``LOC_ENDPOINT_URL`` (DynamoDB Local and moto serve a table's stream where they serve
    the table), S3 ``LOC_S3_ENDPOINT_URL``, Kinesis AWS itself (empty: AWS for all).
    """
    import boto3  # noqa: PLC0415 - the aws extra is optional

    endpoint = {
        "s3": settings.s3_endpoint_url,
        "kinesis": "",
    }.get(service, settings.endpoint_url)
    return boto3.client(
        service,
        region_name=region or settings.region,
        endpoint_url=endpoint or None,
        config=aws_config(settings, **extra),
    )


def check_storage(settings: Settings) -> None:
    """Ask DynamoDB once whether the settings' table exists (and is a loc table).

    The long-running commands (``loc serve``, ``loc job run``, ``loc reconcile``) call it
    before they start, so a misspelt ``LOC_TABLE_NAME`` ends the start in one line instead
    of failing every request. The memory backend has nothing to check.

    Raises:
        NotFound: no such table in that region (naming the table and ``LOC_TABLE_NAME``).
        InvariantViolation: the table is not keyed by ``PK`` and ``SK``.
        ExternalServiceError: DynamoDB could not be reached or refused the call.
    """
    if settings.backend is not Backend.DYNAMODB:
        return
    from loc_adapters.dynamodb import DynamoTable  # noqa: PLC0415 - the aws extra
    from loc_adapters.dynamodb.adopt import check_table  # noqa: PLC0415 - same

    check_table(DynamoTable(aws_client("dynamodb", settings), settings.table_name))


def _provide_aws(settings: Settings, clock: Clock, provide: _Provide) -> None:
    """The DynamoDB table and the SQS queue, with boto3 clients built once here."""
    from loc_adapters.dynamodb import (  # noqa: PLC0415 - same
        DynamoEventOutbox,
        DynamoIdempotencyStore,
        DynamoIds,
        DynamoLock,
        DynamolockLock,
        DynamoTable,
        DynamoUnitOfWork,
    )
    from loc_adapters.sqs import SqsVisibility, SqsWorkQueue  # noqa: PLC0415 - same

    endpoint = settings.endpoint_url or None
    dynamodb = aws_client("dynamodb", settings)
    sqs = aws_client("sqs", settings)
    table = DynamoTable(dynamodb, settings.table_name, shards=settings.shards)
    if settings.lock_backend is LockBackend.DYNAMOLOCK:
        shared = DynamolockLock(
            dynamodb,
            settings.dynamolock_table,
            clock=clock,
            partition_key=settings.dynamolock_partition_key,
        )
        provide(
            UnitOfWork, lambda: DynamoUnitOfWork(table, clock=clock, lease_check=shared.lease_check)
        )
        provide(Lock, lambda: shared)
    else:
        provide(UnitOfWork, lambda: DynamoUnitOfWork(table, clock=clock))
        provide(Lock, lambda: DynamoLock(table, clock=clock))
    provide(IdempotencyStore, lambda: DynamoIdempotencyStore(table))
    provide(EventOutbox, lambda: DynamoEventOutbox(table))
    provide(IdGenerator, lambda: DynamoIds(table))
    provide(WorkQueue, lambda: SqsWorkQueue(sqs, settings.queue_url))
    provide(MessageVisibility, lambda: SqsVisibility(lambda: sqs, endpoint_url=endpoint))


def _provide_payengine(settings: Settings, clock: Clock, provide: _Provide, users: object) -> None:
    """PayEngine's rails, and the verifier its webhooks go through, under their types.

    With the user service configured, each transfer carries the borrower's account token
    read from it; otherwise PayEngine uses the account on file for the borrower.
    """
    from loc_adapters.payengine import (  # noqa: PLC0415 - the payengine extra is optional
        AccountTokens,
        PayEngineRails,
        WebhookVerifier,
    )

    timeout = dt.timedelta(seconds=settings.payengine_timeout)
    accounts = cast("AccountTokens", users) if hasattr(users, "account_token") else None
    provide(
        PaymentRails,
        lambda: PayEngineRails.connect(
            settings.payengine_base_url,
            settings.payengine_api_key,
            timeout=timeout,
            accounts=accounts,
        ),
    )
    secret = settings.payengine_webhook_secret.encode()
    provide(WebhookVerifier, lambda: WebhookVerifier(secret, clock))


def _iterable(settings: Settings) -> Notifier:
    """The Iterable notifier the settings describe."""
    from loc_adapters.iterable import IterableNotifier  # noqa: PLC0415 - the iterable extra

    return IterableNotifier.connect(
        settings.iterable_api_key,
        base_url=settings.iterable_base_url,
        timeout=dt.timedelta(seconds=settings.iterable_timeout_seconds),
    )


def _slack(settings: Settings, clock: Clock) -> Alerter:
    """The Slack alerter the settings describe, rate-limited on the deployment's clock."""
    import httpx  # noqa: PLC0415 - the slack extra is optional

    from loc_adapters.slack import SlackAlerter  # noqa: PLC0415 - same

    return SlackAlerter(
        httpx.Client(timeout=SLACK_POST_TIMEOUT.total_seconds()),
        settings.slack_webhook_url,
        clock,
        interval=dt.timedelta(seconds=settings.slack_interval_seconds),
    )


SLACK_POST_TIMEOUT = dt.timedelta(seconds=3)
"""The longest one Slack post may take (`SlackAlerter.connect`'s default)."""


def _users(settings: Settings) -> Users:
    """The user-service client the settings describe."""
    import httpx  # noqa: PLC0415 - the people extra is optional

    from loc_adapters.people import HttpUsers  # noqa: PLC0415 - same

    timeout = settings.users_timeout_seconds
    headers = _bearer(settings.users_api_key)
    return HttpUsers(
        httpx.Client(base_url=settings.users_base_url, timeout=timeout, headers=headers)
    )


def _bearer(key: str) -> dict[str, str]:
    """The ``Authorization`` header of a key, or none without one."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def _underwriting(settings: Settings) -> Underwriting:
    """The underwriting-service client the settings describe."""
    import httpx  # noqa: PLC0415 - the people extra is optional

    from loc_adapters.people import HttpUnderwriting  # noqa: PLC0415 - same

    timeout = settings.underwriting_timeout_seconds
    headers = _bearer(settings.underwriting_api_key)
    return HttpUnderwriting(
        httpx.Client(base_url=settings.underwriting_base_url, timeout=timeout, headers=headers)
    )


def _s3_store(settings: Settings, bucket: str) -> DocumentStore:
    """An S3 store on `bucket` as the settings describe it, with its boto3 client built here."""
    from loc_adapters.s3 import Encryption, S3DocumentStore  # noqa: PLC0415 - the aws extra

    # Presigned links to SSE-KMS objects need SigV4.
    client = aws_client("s3", settings, signature_version="s3v4")
    return S3DocumentStore(
        client,
        bucket,
        Encryption(settings.s3_encryption),
        settings.s3_kms_key_id or None,
    )


def _growthbook(settings: Settings) -> FeatureFlags:
    """GrowthBook flags from the features file, or else from the API (fetched on first use)."""
    from loc_adapters.growthbook import GrowthBookFlags  # noqa: PLC0415 - the flags extra

    path = settings.growthbook_features_file
    if path:
        variable = _variable("growthbook_features_file")
        try:
            return GrowthBookFlags.from_file(path)
        except (OSError, ValueError) as exc:  # ValueError: not JSON, or not a features payload
            reason = (
                f"cannot be read ({exc.strerror or exc})"
                if isinstance(exc, OSError)
                else f"is not a GrowthBook features file: {exc}"
            )
            raise InvalidConfiguration(f"{variable}={path} {reason}", key=variable) from exc
    return GrowthBookFlags.from_api(settings.growthbook_api_host, settings.growthbook_client_key)


def _emf(settings: Settings) -> Metrics:
    """CloudWatch embedded-metric-format metrics in the settings' namespace."""
    from loc_adapters.emf import EmfMetrics  # noqa: PLC0415 - the lambda extra is optional

    return EmfMetrics(settings.metrics_namespace, service=settings.service_name)


def configure_observability(settings: Settings | None = None) -> None:
    """Configure this process's structured logs from `settings`.

    JSON lines at ``LOC_LOG_LEVEL`` on standard error, the service bound to every line,
    and every secret of the settings redacted wherever it appears.

    Entrypoints (the CLI, each Lambda handler) call it once; a library that imports
    `bootstrap` keeps its own logging unless it calls this.

    Raises:
        InvalidConfiguration: for `settings` that are not a `Settings`.
    """
    settings = _checked_settings(settings)
    configure_logging(
        level=settings.log_level,
        secrets=settings.secrets(),
        fields={"service": settings.service_name},
    )


def finish(bus: MessageBus) -> None:
    """End a unit of work (a Lambda invocation, a CLI command): flush what is held.

    Posts the alerts held back by a rate limit and writes the buffered metrics, so a
    frozen or stopped process loses neither. A failure to flush never raises.

    Raises:
        InvalidConfiguration: for a `bus` that is not the `MessageBus` `bootstrap` built.
    """
    if not isinstance(bus, MessageBus):
        raise InvalidConfiguration(f"finish takes the bus bootstrap built, got {_kind(bus)}")
    for port in (Alerter, Metrics):
        adapter = bus.get(port)
        for method in ("drain", "flush"):
            done = getattr(adapter, method, None)
            if callable(done):
                try:
                    done()
                except Exception:  # noqa: BLE001 - the work is done; only its reports are late
                    _log.exception("finish failed", port=port.__name__)
                break
