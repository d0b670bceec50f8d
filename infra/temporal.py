"""The Temporal client, built one way for every process (worker, API, CLI, tests)."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from infra.codec import EncryptionCodec, HubPayloadConverter
from infra.guard import CommandGuard
from infra.settings import ConfigurationError, Settings


def data_converter(kek: bytes, *previous: bytes) -> DataConverter:
    """Pydantic JSON, then AES-GCM; failures encoded too, so no message leaks in clear.
    ``previous``: a rotated-out KEK whose payloads are still read (never written)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=HubPayloadConverter,
        payload_codec=EncryptionCodec(kek, previous=previous),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def client_interceptors(kek: bytes, *previous: bytes) -> list[CommandGuard]:
    """What every client of the hub carries: the guard that signs its commands, and that
    workers built on the client use to check the commands they receive."""
    return [CommandGuard(kek, *previous)]


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert is None and settings.temporal_tls_ca is None:
        return bool(settings.temporal_api_key)  # Temporal Cloud API keys need TLS
    try:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes()
            if settings.temporal_tls_cert
            else None,
            client_private_key=(
                settings.temporal_tls_key.read_bytes() if settings.temporal_tls_key else None
            ),
            server_root_ca_cert=(
                settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None
            ),
        )
    except OSError as exc:
        raise ConfigurationError(f"MASHFLOW_TEMPORAL_TLS_*: cannot read {exc.filename}") from None


async def connect_client(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """A client for the configured server; ``lazy`` connects on the first call instead;
    ``runtime`` (a worker's, serving metrics) instead of the process's default one."""
    if settings.temporal_address is None:
        raise ConfigurationError(
            "MASHFLOW_TEMPORAL_ADDRESS: not set and no embedded server running"
        )
    kek = settings.key_encryption_key()
    previous = settings.previous_key_encryption_keys()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(kek, *previous),
        interceptors=client_interceptors(kek, *previous),
        tls=tls_config(settings),
        api_key=(
            settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
        ),
        lazy=lazy,
        runtime=runtime,
    )
