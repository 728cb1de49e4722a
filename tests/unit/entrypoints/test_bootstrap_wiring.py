"""The bootstrap builds users, underwriting, S3 documents and GrowthBook from settings.

Each adapter is built, never called: no request leaves this process.
"""

import datetime as dt
import json
import pathlib

import pytest

from loc_adapters.growthbook import GrowthBookFlags
from loc_adapters.memory import (
    InMemoryDocumentStore,
    InMemoryUsers,
    ManualClock,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_adapters.people import HttpUnderwriting, HttpUsers
from loc_adapters.s3 import Encryption, S3DocumentStore
from loc_core.errors import InvalidConfiguration
from loc_core.ports import Clock, DocumentStore, FeatureFlags, Underwriting, Users
from loc_entrypoints.bootstrap import Settings, bootstrap

CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


def test_unset_services_keep_their_in_memory_stand_ins() -> None:
    bus = bootstrap(Settings.from_env({}), overrides={Clock: CLOCK})
    assert isinstance(bus.get(Users), InMemoryUsers)
    assert isinstance(bus.get(Underwriting), SimulatedUnderwriting)
    assert isinstance(bus.get(DocumentStore), InMemoryDocumentStore)
    assert isinstance(bus.get(FeatureFlags), StaticFeatureFlags)


def test_users_underwriting_and_s3_are_built_from_their_settings() -> None:
    settings = Settings.from_env(
        {
            "LOC_USERS_BASE_URL": "http://127.0.0.1:1",
            "LOC_USERS_TIMEOUT_SECONDS": "4",
            "LOC_UNDERWRITING_BASE_URL": "http://127.0.0.1:2",
            "LOC_UNDERWRITING_TIMEOUT_SECONDS": "12",
            "LOC_S3_DOCUMENTS_BUCKET": "loc-documents",
            "LOC_S3_ENCRYPTION": "aws:kms",
            "LOC_S3_KMS_KEY_ID": "alias/loc",
            "LOC_S3_ENDPOINT_URL": "http://127.0.0.1:3",
        }
    )
    assert settings.outside_services() == {"users", "underwriting", "s3"}
    bus = bootstrap(settings, overrides={Clock: CLOCK})

    users = bus.get(Users)
    assert isinstance(users, HttpUsers)
    assert str(users.client.base_url) == "http://127.0.0.1:1"
    assert users.client.timeout.read == 4
    underwriting = bus.get(Underwriting)
    assert isinstance(underwriting, HttpUnderwriting)
    assert str(underwriting.client.base_url) == "http://127.0.0.1:2"
    assert underwriting.client.timeout.read == 12
    documents = bus.get(DocumentStore)
    assert isinstance(documents, S3DocumentStore)
    assert documents.bucket == "loc-documents"
    assert documents.encryption is Encryption.KMS
    assert documents.kms_key_id == "alias/loc"
    assert documents.client.meta.endpoint_url == "http://127.0.0.1:3"  # type: ignore[attr-defined]  # boto3 client


def test_s3_defaults_to_aes256_on_aws() -> None:
    bus = bootstrap(Settings.from_env({"LOC_S3_DOCUMENTS_BUCKET": "b"}), overrides={Clock: CLOCK})
    documents = bus.get(DocumentStore)
    assert isinstance(documents, S3DocumentStore)
    assert documents.encryption is Encryption.AES256
    assert documents.kms_key_id is None
    assert "amazonaws.com" in documents.client.meta.endpoint_url  # type: ignore[attr-defined]  # boto3 client
    assert documents.client.meta.config.signature_version == "s3v4"  # type: ignore[attr-defined]  # boto3 client


def test_growthbook_flags_from_a_features_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "features.json"
    path.write_text(json.dumps({"features": {"beta": {"defaultValue": True}}}), encoding="utf-8")
    settings = Settings.from_env({"LOC_GROWTHBOOK_FEATURES_FILE": str(path)})
    flags = bootstrap(settings, overrides={Clock: CLOCK}).get(FeatureFlags)
    assert isinstance(flags, GrowthBookFlags)
    assert flags.is_enabled("beta", default=False) is True


def test_growthbook_flags_from_the_api_are_built_without_fetching() -> None:
    settings = Settings.from_env(
        {"LOC_GROWTHBOOK_API_HOST": "http://127.0.0.1:9", "LOC_GROWTHBOOK_CLIENT_KEY": "sdk-k1"}
    )
    assert "sdk-k1" not in repr(settings)
    flags = bootstrap(settings, overrides={Clock: CLOCK}).get(FeatureFlags)
    assert isinstance(flags, GrowthBookFlags)


def test_a_missing_features_file_is_refused_naming_the_variable(tmp_path: pathlib.Path) -> None:
    settings = Settings.from_env({"LOC_GROWTHBOOK_FEATURES_FILE": str(tmp_path / "none.json")})
    with pytest.raises(InvalidConfiguration, match="LOC_GROWTHBOOK_FEATURES_FILE"):
        bootstrap(settings, overrides={Clock: CLOCK})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"LOC_USERS_TIMEOUT_SECONDS": "5"},
            "LOC_USERS_BASE_URL is required with LOC_USERS_TIMEOUT_SECONDS",
        ),
        ({"LOC_USERS_BASE_URL": "users.internal"}, "LOC_USERS_BASE_URL must be an http"),
        (
            {"LOC_UNDERWRITING_TIMEOUT_SECONDS": "5"},
            "LOC_UNDERWRITING_BASE_URL is required with LOC_UNDERWRITING_TIMEOUT_SECONDS",
        ),
        (
            {"LOC_S3_ENCRYPTION": "aws:kms"},
            (
                "LOC_S3_DOCUMENTS_BUCKET or LOC_AUDIT_ARCHIVE_BUCKET is required with "
                "LOC_S3_ENCRYPTION"
            ),
        ),
        (
            {"LOC_S3_DOCUMENTS_BUCKET": "b", "LOC_S3_ENCRYPTION": "rot13"},
            "LOC_S3_ENCRYPTION must be one of AES256, aws:kms",
        ),
        (
            {"LOC_S3_DOCUMENTS_BUCKET": "b", "LOC_S3_KMS_KEY_ID": "alias/x"},
            "LOC_S3_KMS_KEY_ID needs LOC_S3_ENCRYPTION=aws:kms",
        ),
        (
            {"LOC_S3_DOCUMENTS_BUCKET": "b", "LOC_S3_ENDPOINT_URL": "localhost:9000"},
            "LOC_S3_ENDPOINT_URL must be an http",
        ),
        (
            {"LOC_GROWTHBOOK_API_HOST": "https://cdn.growthbook.io"},
            "LOC_GROWTHBOOK_CLIENT_KEY is required with LOC_GROWTHBOOK_API_HOST",
        ),
        (
            {"LOC_GROWTHBOOK_CLIENT_KEY": "sdk-secret-9"},
            "LOC_GROWTHBOOK_API_HOST is required with LOC_GROWTHBOOK_CLIENT_KEY",
        ),
        (
            {
                "LOC_GROWTHBOOK_API_HOST": "https://cdn.growthbook.io",
                "LOC_GROWTHBOOK_CLIENT_KEY": "k",
                "LOC_GROWTHBOOK_FEATURES_FILE": "features.json",
            },
            "LOC_GROWTHBOOK_FEATURES_FILE and LOC_GROWTHBOOK_API_HOST are exclusive",
        ),
    ],
)
def test_a_half_configured_service_is_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message) as refused:
        Settings.from_env(environ)
    assert "sdk-secret-9" not in str(refused.value)
