"""Secure transfer: packages sealed for one recipient agency's public key.

The construction is the usual ECIES shape: an ephemeral X25519 key agrees a
secret with the agency's static key, HKDF-SHA256 derives a one-time AES-256
key, AES-GCM seals the package with its id and parties as associated data,
so a package cannot be replayed under another id or to another agency.
``digest`` (SHA-256 of the sealed bytes) goes into the event log when the
package is sent; the recipient's acknowledgement checks it.

Agencies' private keys are kept by the hub wrapped under the KEK (AES-GCM),
the way a hub without its own HSM would; a hub with a KMS or HSM swaps
:func:`wrap_private_key` / :func:`unwrap_private_key` for calls to it. The
wrapping is bound to the agency's code (associated data, format 2: a version
byte, the nonce, the ciphertext), so a database administrator who copies one
agency's wrapped key onto another agency's row gets a key that does not open.
Keys wrapped before the binding (format 1: nonce and ciphertext, no version
byte, 60 bytes) still open.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infra.codec import derive_key

VERSION = b"\x01"
_INFO = b"mashflow package v1"
_WRAP_PURPOSE = b"mashflow agency private key wrap v1"


class TransferError(Exception):
    """A package or key that cannot be opened: wrong key, tampered, or malformed."""


@dataclass(frozen=True)
class AgencyKeyPair:
    public_key: str
    """Raw X25519 public key, base64: what the agency register shows and senders seal to."""
    wrapped_private_key: bytes
    """The private key sealed under the KEK; only the hub's key vault can open it."""


def new_agency_keypair(kek: bytes, agency: str) -> AgencyKeyPair:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return AgencyKeyPair(
        public_key=base64.b64encode(public).decode(),
        wrapped_private_key=wrap_private_key(kek, raw_private, agency),
    )


_WRAP_V2 = b"\x02"
_V1_LENGTH = 12 + 32 + 16
"""Format 1: a 12-byte nonce, the 32-byte key, the 16-byte tag; bound to nothing."""


def _wrap_aad(agency: str) -> bytes:
    return _WRAP_PURPOSE + b"\x00" + agency.encode()


def wrap_private_key(kek: bytes, raw_private: bytes, agency: str) -> bytes:
    """Format 2: bound to ``agency`` (its code) as associated data."""
    nonce = os.urandom(12)
    body = AESGCM(derive_key(kek, _WRAP_PURPOSE)).encrypt(nonce, raw_private, _wrap_aad(agency))
    return _WRAP_V2 + nonce + body


def unwrap_private_key(
    kek: bytes, wrapped: bytes, agency: str, previous: Sequence[bytes] = ()
) -> bytes:
    """The agency's raw private key; format 1 (unbound) keys still open. ``previous``: the
    KEK a rotation replaces, tried when the KEK does not open the key."""
    *first, last = (kek, *previous)
    for candidate in first:
        with contextlib.suppress(TransferError):
            return _unwrap(candidate, wrapped, agency)
    return _unwrap(last, wrapped, agency)


def _unwrap(kek: bytes, wrapped: bytes, agency: str) -> bytes:
    aead = AESGCM(derive_key(kek, _WRAP_PURPOSE))
    try:
        if len(wrapped) == _V1_LENGTH:
            return aead.decrypt(wrapped[:12], wrapped[12:], _WRAP_PURPOSE)
        if wrapped[:1] != _WRAP_V2:
            raise TransferError("agency private key: unknown wrapping format")
        return aead.decrypt(wrapped[1:13], wrapped[13:], _wrap_aad(agency))
    except InvalidTag:
        raise TransferError(
            f"agency private key does not open under this KEK for agency {agency!r}"
        ) from None


def package_aad(package_id: str, sender: str, recipient: str) -> bytes:
    return f"{package_id}|{sender}|{recipient}".encode()


def _key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes, aad: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral_public + recipient_public,
        info=_INFO + b"|" + aad,
    ).derive(shared)


def seal(recipient_public_b64: str, plaintext: bytes, aad: bytes) -> bytes:
    """Seal ``plaintext`` so only the holder of the recipient's private key can open it."""
    try:
        recipient_public = base64.b64decode(recipient_public_b64, validate=True)
        recipient = X25519PublicKey.from_public_bytes(recipient_public)
    except ValueError:
        raise TransferError("recipient public key is not a base64 X25519 key") from None
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _key(ephemeral.exchange(recipient), ephemeral_public, recipient_public, aad)
    nonce = os.urandom(12)
    return VERSION + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(raw_private: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Open a package with the recipient's private key; any tampering raises."""
    if len(sealed) < 1 + 32 + 12 + 16 or sealed[:1] != VERSION:
        raise TransferError("not a sealed package of a known version")
    ephemeral_public, nonce, body = sealed[1:33], sealed[33:45], sealed[45:]
    private = X25519PrivateKey.from_private_bytes(raw_private)
    recipient_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    key = _key(shared, ephemeral_public, recipient_public, aad)
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise TransferError("package does not open: wrong recipient or tampered") from None


def digest(sealed: bytes) -> str:
    """What the event log records of a sent package, and the acknowledgement checks."""
    return hashlib.sha256(sealed).hexdigest()
