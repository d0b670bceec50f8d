"""Settings: read once, validated, refusing placeholders where it matters."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from infra.settings import ConfigurationError, Environment, Settings, load_settings, redact_url

GOOD_KEK = base64.b64encode(secrets.token_bytes(32)).decode()


def test_defaults_run_the_embedded_stack_in_development() -> None:
    s = Settings()
    assert s.environment is Environment.DEVELOPMENT
    assert s.embedded_database and s.embedded_temporal
    assert s.temporal_task_queue == "mashflow"


def test_reads_the_mashflow_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASHFLOW_TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("MASHFLOW_TEMPORAL_NAMESPACE", "hub-north")
    s = load_settings()
    assert s.temporal_address == "temporal.internal:7233"
    assert s.temporal_namespace == "hub-north"
    assert not s.embedded_temporal


def test_rejects_a_database_url_that_is_not_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASHFLOW_DATABASE_URL", "mysql://db/x")
    with pytest.raises(ConfigurationError, match=r"^MASHFLOW_DATABASE_URL: .*postgresql"):
        load_settings()


def test_rejects_a_temporal_address_without_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASHFLOW_TEMPORAL_ADDRESS", "temporal.internal")
    with pytest.raises(ConfigurationError, match=r"^MASHFLOW_TEMPORAL_ADDRESS: .*host:port"):
        load_settings()


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "A" * 44])
def test_refuses_placeholder_key_encryption_keys(placeholder: str) -> None:
    with pytest.raises(ConfigurationError, match="MASHFLOW_KEK"):
        load_settings(kek=placeholder)


def test_refuses_a_key_of_the_wrong_length() -> None:
    short = base64.b64encode(secrets.token_bytes(16)).decode()
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load_settings(kek=short)


def test_production_refuses_the_embedded_stack_and_a_missing_key() -> None:
    with pytest.raises(
        ConfigurationError, match="MASHFLOW_DATABASE_URL, MASHFLOW_TEMPORAL_ADDRESS"
    ):
        load_settings(environment="production", kek=GOOD_KEK)
    with pytest.raises(ConfigurationError, match="MASHFLOW_KEK"):
        load_settings(
            environment="production",
            database_url="postgresql://app@db/mashflow",
            temporal_address="temporal:7233",
        )


VERIFIED_DB = "postgresql://app:pw@db/mashflow?sslmode=verify-full&sslrootcert=/etc/ca.pem"


def test_production_accepts_real_services_and_a_real_key() -> None:
    s = load_settings(
        environment="production",
        database_url=VERIFIED_DB,
        temporal_address="temporal:7233",
        temporal_api_key="k-" + secrets.token_hex(16),
        kek=GOOD_KEK,
    )
    assert s.key_encryption_key() == base64.b64decode(GOOD_KEK)


def _production(**extra: object) -> Settings:
    settings: dict[str, object] = {
        "environment": "production",
        "database_url": VERIFIED_DB,
        "temporal_address": "temporal:7233",
        "kek": GOOD_KEK,
    }
    return load_settings(**(settings | extra))


def test_production_refuses_temporal_without_mtls_or_an_api_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"mTLS .* or MASHFLOW_TEMPORAL_API_KEY"):
        _production()
    # Server TLS alone authenticates the server, not the hub: still refused.
    with pytest.raises(ConfigurationError, match="mTLS"):
        _production(temporal_tls_ca=tmp_path / "ca.pem")
    mtls = _production(
        temporal_tls_cert=tmp_path / "client.pem", temporal_tls_key=tmp_path / "client.key"
    )
    assert mtls.temporal_tls_cert is not None
    assert _production(temporal_api_key="k-" + secrets.token_hex(16)).temporal_api_key


@pytest.mark.parametrize(
    "query", ["", "?sslmode=require", "?sslmode=verify-ca", "?sslmode=disable", "?ssl=true"]
)
def test_production_refuses_a_database_url_without_verify_full(query: str) -> None:
    key = "k-" + secrets.token_hex(16)
    with pytest.raises(ConfigurationError, match="sslmode=verify-full in MASHFLOW_DATABASE_URL"):
        _production(database_url=f"postgresql://app:pw@db/mashflow{query}", temporal_api_key=key)
    with pytest.raises(ConfigurationError, match="MASHFLOW_DATABASE_ADMIN_URL"):
        _production(
            database_admin_url=f"postgresql://admin@db/mashflow{query}", temporal_api_key=key
        )


def test_production_on_a_private_network_allows_plain_connections_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MASHFLOW_PRIVATE_NETWORK", "true")
    s = _production(database_url="postgresql://app:pw@db/mashflow")
    assert s.private_network and s.temporal_api_key is None


def test_development_makes_a_private_key_file_once(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    first = s.key_encryption_key()
    assert len(first) == 32
    assert (tmp_path / "kek").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path).key_encryption_key() == first


def test_tls_certificate_and_key_go_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="temporal_tls_cert and temporal_tls_key"):
        load_settings(temporal_tls_cert=tmp_path / "cert.pem")


def test_redacts_passwords_from_urls_in_messages() -> None:
    assert redact_url("postgresql://app:hunter2@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_url("postgresql://app@db/x") == "postgresql://app@db/x"
