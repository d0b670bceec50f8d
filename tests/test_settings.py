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


def test_production_accepts_real_services_and_a_real_key() -> None:
    s = load_settings(
        environment="production",
        database_url="postgresql://app:pw@db/mashflow",
        temporal_address="temporal:7233",
        kek=GOOD_KEK,
    )
    assert s.key_encryption_key() == base64.b64decode(GOOD_KEK)


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
