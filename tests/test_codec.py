"""The payload codec: ciphertext bound to its workflow, format 1 still read, the rest refused.

Pure code (AES-GCM and protobuf), so these run without a server; the attacks the
codec stops are run against the real stack in ``tests/workflows/test_trust_boundary.py``.
"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext
from temporalio.exceptions import ApplicationError

from infra.codec import (
    CODEC_KEY_INFO,
    ENCODING,
    KEY_ID_METADATA,
    REFUSED_ENCODING,
    REFUSED_TYPE,
    EncryptionCodec,
    HubPayloadConverter,
    derive_key,
)
from tests.conftest import TEST_KEK

KEK = base64.b64decode(TEST_KEK)
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"user_id":"u-1"}')


def _for(workflow_id: str) -> EncryptionCodec:
    context = WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    return EncryptionCodec(KEK).with_context(context)


async def test_a_payload_decodes_for_its_own_workflow_only() -> None:
    sealed = await _for("request-a").encode([PLAIN])
    assert await _for("request-a").decode(sealed) == [PLAIN]
    (refused,) = await _for("request-b").decode(sealed)
    assert refused.metadata["encoding"] == REFUSED_ENCODING.encode()
    assert b"encrypted for another workflow" in refused.data


async def test_a_schedule_s_action_decodes_in_its_runs_and_nowhere_else() -> None:
    sealed = await _for("mashflow-retention-review-run").encode([PLAIN])
    run = "mashflow-retention-review-run-2026-12-05T02:00:00Z"
    assert await _for(run).decode(sealed) == [PLAIN]
    for other in ("mashflow-retention-review-run-x", "request-a-2026-12-05T02:00:00Z"):
        (refused,) = await _for(other).decode(sealed)
        assert refused.metadata["encoding"] == REFUSED_ENCODING.encode()


async def test_format_1_payloads_recorded_before_the_binding_still_decode() -> None:
    codec = EncryptionCodec(KEK)
    nonce = os.urandom(12)
    data = AESGCM(derive_key(KEK, CODEC_KEY_INFO)).encrypt(nonce, PLAIN.SerializeToString(), None)
    legacy = Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: codec.key_id}, data=nonce + data
    )
    assert await _for("any-workflow").decode([legacy]) == [PLAIN]


FORGED_TAG = Payload(
    metadata={"encoding": ENCODING, KEY_ID_METADATA: EncryptionCodec(KEK).key_id},
    data=os.urandom(64),
)


@pytest.mark.parametrize(
    ("payload", "reason", "final"),
    [
        (PLAIN, b"not encrypted by this hub", True),
        (Payload(metadata={"encoding": b"binary/null"}), b"not encrypted by this hub", True),
        (FORGED_TAG, b"ciphertext does not verify", True),
        (
            Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"0123456789abcdef"}),
            b"another key",
            False,
        ),
    ],
    ids=["plain json", "null", "forged ciphertext", "another key"],
)
async def test_anything_not_encrypted_by_this_hub_is_refused_not_read(
    payload: Payload, reason: bytes, final: bool
) -> None:
    (refused,) = await _for("request-a").decode([payload])
    assert refused.metadata["encoding"] == REFUSED_ENCODING.encode() and reason in refused.data
    # Read as a value, the refusal is an error naming only why; another key (a worker
    # given the wrong KEK) is retryable, so no workflow fails for good over it.
    with pytest.raises(ApplicationError) as error:
        HubPayloadConverter().from_payloads([refused])
    assert error.value.type == REFUSED_TYPE and error.value.non_retryable is final
    assert b"u-1" not in str(error.value).encode()


async def test_the_key_id_and_format_travel_in_clear_and_the_value_does_not() -> None:
    (sealed,) = await _for("request-a").encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING
    assert b"u-1" not in sealed.data and b"json/plain" not in sealed.data


async def test_during_a_kek_rotation_the_previous_kek_s_payloads_still_decode() -> None:
    context = WorkflowSerializationContext(namespace="default", workflow_id="request-a")
    new_kek = os.urandom(32)
    sealed_before = await _for("request-a").encode([PLAIN])
    during = EncryptionCodec(new_kek, previous=[KEK]).with_context(context)
    assert await during.decode(sealed_before) == [PLAIN]
    sealed_during = await during.encode([PLAIN])
    assert sealed_during[0].metadata[KEY_ID_METADATA] == EncryptionCodec(new_kek).key_id
    after = EncryptionCodec(new_kek).with_context(context)
    assert await after.decode(sealed_during) == [PLAIN]
    (refused,) = await after.decode(sealed_before)  # the previous KEK retired
    assert refused.metadata["encoding"] == REFUSED_ENCODING.encode()
