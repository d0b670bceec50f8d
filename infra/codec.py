"""Temporal payload codec: every payload leaves the process encrypted (AES-256-GCM),
and nothing comes in that this hub did not encrypt for that very workflow.

Workflows carry ids, enums and :class:`~domain.events.Sealed` ciphertext only,
so nothing personal reaches Temporal by design. The codec is the second wall:
whatever payloads remain (inputs, results, update arguments, failures through
``encode_common_attributes``) are stored by the server as ciphertext.
The key is derived from the key-encryption key, so one secret serves both.

Temporal is not a trust boundary (anyone who reaches its frontend can start
workflows and send updates), so decoding is strict:

- a payload that is not our ciphertext is refused (plain JSON sent by any other
  client never reaches a workflow); search attributes and headers do not pass
  through a codec, so Temporal still reads what it must. A refused payload is
  not an error in the codec (that would fail the whole workflow task, so one
  stranger's update could wedge a request): it decodes to a marker that
  :class:`HubPayloadConverter` turns into a ``PayloadRefused`` error where the
  value is read. The SDK then rejects that update, drops that signal, fails that
  query, and fails a workflow started with it at once. A payload under another
  key id (most likely this process has the wrong KEK) is refused as retryable:
  a workflow task or activity attempt fails and is retried until the key is put
  right, and no workflow fails for good;
- format 2 binds each ciphertext (AES-GCM associated data) to the workflow it
  belongs to, from the SDK's serialization context: arguments copied from one
  workflow's history into another's fail to decrypt. A schedule encodes its
  action for the schedule's workflow id and the server starts each run as that
  id plus ``-<timestamp>``; a run accepts its schedule's binding and nothing else;
- format 1 (no binding, payloads recorded before format 2) still decodes, so
  old histories replay; the signed command envelope (``infra.signing``) refuses
  old ciphertext offered as a new command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    ActivitySerializationContext,
    EncodingPayloadConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)
from temporalio.exceptions import ApplicationError

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
FORMAT_METADATA = "encryption-format"
FORMAT_BOUND = b"2"
"""Format 2: associated data binds the ciphertext to its workflow. Absent: format 1."""

REFUSED_ENCODING = "mashflow/refused"
"""A payload the codec refused; its data says why (never what it held)."""
REFUSED_TYPE = "PayloadRefused"
RETRYABLE_METADATA = "refusal-retryable"

CODEC_KEY_INFO = b"mashflow temporal payload codec v1"
_AAD_PREFIX = b"mashflow payload v2\x00"

# The server names a scheduled run "<action id>-<nominal time, RFC 3339 to the second>".
_SCHEDULED_RUN = re.compile(r"(?P<action>.+)-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class PayloadRefusedError(ValueError):
    """A payload this hub did not encrypt for this workflow. Says why, never what it held."""


def derive_key(kek: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the KEK (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(kek)


def _workflow_of(context: SerializationContext | None) -> str:
    """The workflow a payload belongs to; empty when the SDK gives no context."""
    if isinstance(context, WorkflowSerializationContext):
        return context.workflow_id
    if isinstance(context, ActivitySerializationContext):
        return context.workflow_id or ""
    return ""


def scheduled_action(workflow_id: str) -> str | None:
    """The schedule action id a scheduled run's workflow id was made from, if it is one."""
    scheduled = _SCHEDULED_RUN.fullmatch(workflow_id)
    return scheduled["action"] if scheduled else None


def _accepted_bindings(workflow_id: str) -> tuple[str, ...]:
    action = scheduled_action(workflow_id)
    return (workflow_id,) if action is None else (workflow_id, action)


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-GCM over the serialised payload, bound to its workflow; the key id in the metadata."""

    def __init__(self, kek: bytes, workflow_id: str = "", previous: Sequence[bytes] = ()) -> None:
        self._aead, self.key_id = _codec_key(kek)
        self.workflow_id = workflow_id
        self._readers = {kid: aead for aead, kid in map(_codec_key, (kek, *previous))}
        """By key id: the current KEK's key and, while a KEK rotation lasts, the previous
        KEK's, so histories written before the rotation still decode."""

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        bound = EncryptionCodec.__new__(EncryptionCodec)
        bound._aead, bound.key_id, bound._readers = self._aead, self.key_id, self._readers
        bound.workflow_id = _workflow_of(context)
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        aad = _AAD_PREFIX + self.workflow_id.encode()
        return [
            Payload(
                metadata={
                    "encoding": ENCODING,
                    KEY_ID_METADATA: self.key_id,
                    FORMAT_METADATA: FORMAT_BOUND,
                },
                data=self._encrypt(p.SerializeToString(), aad),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_or_mark(p) for p in payloads]

    def _decode_or_mark(self, payload: Payload) -> Payload:
        try:
            return self._decode_one(payload)
        except PayloadRefusedError as exc:
            metadata = {"encoding": REFUSED_ENCODING.encode()}
            if payload.metadata.get("encoding") == ENCODING and (
                payload.metadata.get(KEY_ID_METADATA) not in self._readers
            ):
                # Another key: most likely this process was given the wrong KEK. A
                # retryable refusal fails a workflow task or an activity attempt (loud in
                # the log, retried) instead of failing workflows for good; an update
                # carrying it is still rejected at once.
                metadata[RETRYABLE_METADATA] = b"1"
            return Payload(metadata=metadata, data=str(exc).encode())

    def _decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding", b"") != ENCODING:
            raise PayloadRefusedError("payload refused: not encrypted by this hub")
        aead = self._readers.get(payload.metadata.get(KEY_ID_METADATA, b""))
        if aead is None:
            raise PayloadRefusedError("payload sealed with another key (check MASHFLOW_KEK)")
        fmt = payload.metadata.get(FORMAT_METADATA)
        if fmt is None:
            return Payload.FromString(_decrypt(aead, payload.data, None))
        if fmt != FORMAT_BOUND:
            raise PayloadRefusedError("payload refused: unknown encryption format")
        for workflow_id in _accepted_bindings(self.workflow_id):
            try:
                plain = _decrypt(aead, payload.data, _AAD_PREFIX + workflow_id.encode())
            except InvalidTag:
                continue
            return Payload.FromString(plain)
        raise PayloadRefusedError("payload refused: encrypted for another workflow")

    def _encrypt(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, aad)


def _codec_key(kek: bytes) -> tuple[AESGCM, bytes]:
    """The codec's cipher for a KEK, and its key id (not secret: a digest of the key)."""
    key = derive_key(kek, CODEC_KEY_INFO)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(key)
    return AESGCM(key), digest.finalize()[:8].hex().encode()


def _decrypt(aead: AESGCM, data: bytes, aad: bytes | None) -> bytes:
    try:
        return aead.decrypt(data[:12], data[12:], aad)
    except InvalidTag:
        if aad is None:
            raise PayloadRefusedError("payload refused: ciphertext does not verify") from None
        raise


class RefusedPayloadConverter(EncodingPayloadConverter):
    """Reads a refused payload as the refusal it is; never writes one."""

    @property
    def encoding(self) -> str:
        return REFUSED_ENCODING

    def to_payload(self, value: object) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> object:
        raise ApplicationError(
            payload.data.decode(errors="replace"),
            type=REFUSED_TYPE,
            non_retryable=payload.metadata.get(RETRYABLE_METADATA) != b"1",
        )


class HubPayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON, plus the reading of refused payloads."""

    def __init__(self) -> None:
        super().__init__()
        refused = RefusedPayloadConverter()
        self.converters = {**self.converters, refused.encoding.encode(): refused}
