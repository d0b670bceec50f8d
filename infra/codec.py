"""Temporal payload codec: every payload leaves the process encrypted (AES-256-GCM).

Workflows carry ids, enums and :class:`~domain.events.Sealed` ciphertext only,
so nothing personal reaches Temporal by design. The codec is the second wall:
whatever payloads remain (inputs, results, update arguments, failures through
``encode_common_attributes``) are stored by the server as ciphertext.
The key is derived from the key-encryption key, so one secret serves both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"


def derive_key(kek: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the KEK (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(kek)


class EncryptionCodec(PayloadCodec):
    """AES-GCM over the serialised payload; the key id travels in the metadata."""

    def __init__(self, kek: bytes) -> None:
        key = derive_key(kek, b"mashflow temporal payload codec v1")
        self._aead = AESGCM(key)
        # The key id says which key sealed a payload (not secret: a digest of the derived key).
        digest = hashes.Hash(hashes.SHA256())
        digest.update(key)
        self.key_id = digest.finalize()[:8].hex().encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, KEY_ID_METADATA: self.key_id},
                data=self._encrypt(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out: list[Payload] = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            if p.metadata.get(KEY_ID_METADATA) != self.key_id:
                raise ValueError("payload sealed with another key (check MASHFLOW_KEK)")
            out.append(Payload.FromString(self._decrypt(p.data)))
        return out

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        return self._aead.decrypt(data[:12], data[12:], None)
