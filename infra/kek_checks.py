"""Checks of secrets given in settings: placeholders, the key-encryption key's encoding,
length and entropy, and keys that are public (refused in production).

Kept apart from :mod:`infra.settings` so the settings class stays a list of fields and the
rules between them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

from pydantic import SecretStr


class ConfigurationError(Exception):
    """A setting is missing, malformed or unusable. The message names the setting."""


PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "password", "placeholder", "example", "xxx"}
)


def is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS or len(set(value.strip())) <= 1


def decode_kek(text: str, setting: str) -> bytes:
    if is_placeholder(text):
        raise ConfigurationError(f"{setting}: is a placeholder; use 32 random bytes, base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{setting}: not valid base64") from None
    if len(raw) != 32:
        raise ConfigurationError(f"{setting}: must decode to 32 bytes, got {len(raw)}")
    if len(set(raw)) < 8:
        raise ConfigurationError(f"{setting}: too little entropy; use 32 random bytes")
    return raw


KNOWN_KEKS = frozenset(
    {
        # The test suite's key (tests/conftest.py): published, so never a production key.
        "c913ca4783af585a2798a7ba5d0b680533ad2913911dd4db2e6c833ebb5bbb53",
    }
)
"""SHA-256 digests (hex) of keys that are public: refused in production."""


def refuse_weak_kek(raw: bytes, setting: str) -> None:
    """Production refuses a published key and one with visibly little entropy: a short
    pattern repeated, or fewer than 16 distinct bytes (32 random bytes have about 30)."""
    if hashlib.sha256(raw).hexdigest() in KNOWN_KEKS:
        raise ConfigurationError(f"{setting}: is a published key (the tests'); make a new one")
    repeated = any(raw == raw[:n] * (len(raw) // n) for n in (1, 2, 4, 8, 16))
    if repeated or len(set(raw)) < 16:
        raise ConfigurationError(
            f"{setting}: too little entropy for production; use 32 random bytes "
            "(e.g. `openssl rand -base64 32`)"
        )


def read_kek(value: SecretStr | None, file: Path | None, made: Path, *, production: bool) -> bytes:
    """The KEK from ``MASHFLOW_KEK`` or ``MASHFLOW_KEK_FILE``; outside production, one
    made once at ``made`` when neither is given."""
    if value is not None:
        return decode_kek(value.get_secret_value(), "MASHFLOW_KEK")
    path = file
    if path is None:
        if production:
            raise ConfigurationError("MASHFLOW_KEK: required in production")
        path = made
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(base64.b64encode(secrets.token_bytes(32)).decode())
    raw = decode_kek(_read(path, "MASHFLOW_KEK_FILE"), "MASHFLOW_KEK_FILE")
    if production:
        refuse_weak_kek(raw, "MASHFLOW_KEK_FILE")
    return raw


def read_previous_kek(value: SecretStr | None, file: Path | None) -> bytes:
    """The KEK a rotation replaces: read, never refused as weak (it is being retired)."""
    if value is not None:
        return decode_kek(value.get_secret_value(), "MASHFLOW_KEK_PREVIOUS")
    assert file is not None
    return decode_kek(_read(file, "MASHFLOW_KEK_PREVIOUS_FILE"), "MASHFLOW_KEK_PREVIOUS_FILE")


def _read(path: Path, setting: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"{setting}: cannot read {path}: {exc.strerror}") from None
