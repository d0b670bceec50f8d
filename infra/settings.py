"""Settings: one class, read once per process, passed down.

Nothing reads the environment at import time: the entry points call
:func:`load_settings` and hand the result to whatever they wire up.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from domain.policy import HubPolicy
from infra.kek_checks import ConfigurationError as ConfigurationError
from infra.kek_checks import (
    decode_kek,
    is_placeholder,
    read_kek,
    read_previous_kek,
    refuse_weak_kek,
)
from infra.oidc_settings import OidcSettings


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class Settings(OidcSettings):
    """Every knob of a mashflow process. Environment variables use the ``MASHFLOW_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="MASHFLOW_", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user:pass@host:5432/db). Unset: embedded.",
    )
    database_admin_url: str | None = Field(
        default=None,
        description="URL of a role allowed to run migrations; defaults to database_url.",
    )
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = 10

    temporal_address: str | None = Field(
        default=None, description="host:port of a Temporal frontend. Unset: embedded dev server."
    )
    temporal_namespace: str = "default"
    temporal_task_queue: str = "mashflow"
    worker_metrics_address: str | None = Field(
        default=None, description="host:port where a worker serves Prometheus /metrics."
    )
    worker_max_cached_workflows: Annotated[int, Field(ge=10, le=100_000)] = 250
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    private_network: bool = Field(
        default=False,
        description=(
            "Production only: the network between the hub's processes, Temporal and "
            "PostgreSQL is private, so plain connections to them are allowed."
        ),
    )

    data_dir: Path = Path(".data")
    embedded_temporal_port: Annotated[int, Field(ge=1, le=65535)] = 7233
    embedded_temporal_ui_port: Annotated[int, Field(ge=1, le=65535)] = 8233

    kek: SecretStr | None = Field(
        default=None,
        description="Key-encryption key: 32 random bytes, base64. Or give kek_file.",
    )
    kek_file: Path | None = None
    kek_previous: SecretStr | None = Field(
        default=None,
        description="While a KEK rotation lasts only: the KEK being replaced, still read "
        "(never written). Or give kek_previous_file. See docs/operations.md, Keys.",
    )
    kek_previous_file: Path | None = None

    api_host: str = "127.0.0.1"
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto the API believes (for `mashflow api` and `mashflow up`); "
        "empty: none, the connecting address is the client's.",
    )
    max_request_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        default=1024 * 1024,
        description="Larger request bodies are refused with 413 before they are read.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="If set, /metrics answers only requests bearing this token "
        "(Authorization: Bearer ...).",
    )
    api_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    session_max_age_s: Annotated[int, Field(ge=300, le=86_400)] = 8 * 3600
    session_idle_timeout_s: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=30 * 60, description="A web session unused this long ends."
    )
    signin_failure_limit: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=10,
        description="Failed sign-ins (web form or bearer token) one client may make per window.",
    )
    signin_failure_window_s: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=300, description="The sliding window of signin_failure_limit, in seconds."
    )

    policy_file: Path | None = Field(
        default=None,
        description="The hub's policy (TOML): deadlines, calendar, escalation, retention. "
        "Unset: the shipped defaults (infra/hub-policy.example.toml).",
    )

    retention_review_interval_hours: Annotated[int, Field(ge=1, le=24 * 31)] = Field(
        default=24, description="How often the retention schedule looks for records due."
    )
    checkpoint_interval_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        default=60,
        description="How often the checkpoint schedule hashes every stream head into the store.",
    )
    anchor_dir: Path | None = Field(
        default=None,
        description="Where signed checkpoints are also written, write-once, outside the "
        "database (default: <data_dir>/anchor). Point it at storage the database's "
        "administrators cannot write.",
    )

    public_url: str | None = Field(
        default=None,
        description="The address people open the pages at, for links in e-mails "
        "(default http://api_host:api_port).",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for notification e-mails. Unset: no e-mail."
    )
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(
        default="mashflow@localhost", description="The From address of notification e-mails."
    )
    smtp_timeout_s: Annotated[float, Field(gt=0, le=120)] = 20.0

    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "INFO"

    @property
    def link_base(self) -> str:
        """Where links in messages point (no trailing slash)."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @field_validator("database_url", "database_admin_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme not in {"postgres", "postgresql", "postgresql+asyncpg"}:
            raise ValueError(f"must be a postgresql:// URL, got scheme {scheme!r}")
        return value

    @field_validator("temporal_address", "worker_metrics_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"must be host:port, got {value!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @model_validator(mode="after")
    def _production_needs_real_services_and_secrets(self) -> Settings:
        if self.kek is not None:
            decode_kek(self.kek.get_secret_value(), "MASHFLOW_KEK")
        if self.temporal_api_key is not None and is_placeholder(
            self.temporal_api_key.get_secret_value()
        ):
            raise ValueError("temporal_api_key is a placeholder; set a real key")
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("temporal_tls_cert and temporal_tls_key go together")
        for name in (
            "oidc_jwks_url",
            "oidc_discovery_url",
            "oidc_redirect_uri",
            "oidc_post_logout_redirect_uri",
            "oidc_issuer",
        ):
            url = getattr(self, name)
            if (
                url is not None
                and urlsplit(url).scheme != "https"
                and self.environment is Environment.PRODUCTION
            ):
                raise ValueError(f"{name} must be https in production")
        if (
            self.environment is Environment.PRODUCTION
            and self.oidc_client_id is not None
            and self.oidc_redirect_uri is None
            and urlsplit(self.link_base).scheme != "https"
        ):
            raise ValueError(
                "oidc_client_id in production needs oidc_redirect_uri or an https public_url "
                "(the callback the provider sends people back to)"
            )
        if self.environment is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("MASHFLOW_DATABASE_URL", self.database_url),
                    ("MASHFLOW_TEMPORAL_ADDRESS", self.temporal_address),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"production needs {', '.join(missing)}: the embedded stack is for one machine"
                )
            if self.kek is None and self.kek_file is None:
                raise ValueError("production needs MASHFLOW_KEK or MASHFLOW_KEK_FILE")
            if self.kek is not None:
                refuse_weak_kek(
                    decode_kek(self.kek.get_secret_value(), "MASHFLOW_KEK"), "MASHFLOW_KEK"
                )
            if self.metrics_token is not None and is_placeholder(
                self.metrics_token.get_secret_value()
            ):
                raise ValueError("metrics_token is a placeholder; set a real token")
            if not self.private_network:
                self._production_transport_is_authenticated()
        return self

    def _production_transport_is_authenticated(self) -> None:
        """Temporal and PostgreSQL are reached over authenticated, encrypted connections,
        unless MASHFLOW_PRIVATE_NETWORK says the network itself is private."""
        mtls = self.temporal_tls_cert is not None and self.temporal_tls_key is not None
        if not mtls and self.temporal_api_key is None:
            raise ValueError(
                "production needs mTLS (MASHFLOW_TEMPORAL_TLS_CERT and _KEY) or "
                "MASHFLOW_TEMPORAL_API_KEY to reach Temporal; set MASHFLOW_PRIVATE_NETWORK=true "
                "only if the network to it is private"
            )
        for name, url in (
            ("MASHFLOW_DATABASE_URL", self.database_url),
            ("MASHFLOW_DATABASE_ADMIN_URL", self.database_admin_url),
        ):
            if url is not None and _sslmode(url) != "verify-full":
                raise ValueError(
                    f"production needs sslmode=verify-full in {name}; set "
                    "MASHFLOW_PRIVATE_NETWORK=true only if the network to PostgreSQL is private"
                )

    # -- derived values -----------------------------------------------------------------

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    def hub_policy(self) -> HubPolicy:
        """The hub's policy from ``policy_file`` (read once per process; see
        :mod:`infra.policy_file`)."""
        from infra.policy_file import load_policy  # it reports through this module's error

        return load_policy(self.policy_file)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some values replaced (the embedded stack fills in its URLs this way)."""
        return self.model_copy(update=changes)

    def checkpoint_anchor_dir(self) -> Path:
        """The anchor directory: ``anchor_dir``, else ``<data_dir>/anchor``."""
        return self.anchor_dir if self.anchor_dir is not None else self.data_dir / "anchor"

    def key_encryption_key(self) -> bytes:
        """The 32-byte KEK. In development a key is made once under the data directory."""
        production = self.environment is Environment.PRODUCTION
        return read_kek(self.kek, self.kek_file, self.data_dir / "kek", production=production)

    def previous_key_encryption_keys(self) -> tuple[bytes, ...]:
        """During a KEK rotation, the KEK being replaced (``MASHFLOW_KEK_PREVIOUS``)."""
        if self.kek_previous is None and self.kek_previous_file is None:
            return ()
        return (read_previous_kek(self.kek_previous, self.kek_previous_file),)


def _sslmode(url: str) -> str | None:
    modes = parse_qs(urlsplit(url).query).get("sslmode")
    return modes[-1] if modes else None


def redact_url(url: str) -> str:
    """A database URL with its password removed, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def load_settings(**overrides: Any) -> Settings:
    """Read the environment once, and the hub's policy file with it, so a bad file stops the
    process at start; errors become one :class:`ConfigurationError` naming the setting."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "_".join(str(part) for part in first["loc"]) or "settings"
        name = f"MASHFLOW_{loc.upper()}" if first["loc"] else "settings"
        raise ConfigurationError(f"{name}: {first['msg']}") from None
    settings.hub_policy()
    return settings
