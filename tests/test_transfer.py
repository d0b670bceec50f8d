"""Secure transfer: only the recipient agency opens a package, and tampering shows."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra import transfer
from infra.codec import derive_key

KEK = secrets.token_bytes(32)


def test_only_the_recipient_agency_opens_a_sealed_package() -> None:
    police = transfer.new_agency_keypair(KEK, "police")
    health = transfer.new_agency_keypair(KEK, "health_gp")
    aad = transfer.package_aad("pkg-1", "health_gp", "police")
    sealed = transfer.seal(police.public_key, b'{"items": []}', aad)

    police_private = transfer.unwrap_private_key(KEK, police.wrapped_private_key, "police")
    assert transfer.open_sealed(police_private, sealed, aad) == b'{"items": []}'

    health_private = transfer.unwrap_private_key(KEK, health.wrapped_private_key, "health_gp")
    with pytest.raises(transfer.TransferError, match="wrong recipient or tampered"):
        transfer.open_sealed(health_private, sealed, aad)


def test_a_package_cannot_be_replayed_under_another_id() -> None:
    police = transfer.new_agency_keypair(KEK, "police")
    private = transfer.unwrap_private_key(KEK, police.wrapped_private_key, "police")
    sealed = transfer.seal(police.public_key, b"x", transfer.package_aad("a", "s", "police"))
    with pytest.raises(transfer.TransferError):
        transfer.open_sealed(private, sealed, transfer.package_aad("b", "s", "police"))


def test_a_flipped_bit_is_detected_and_changes_the_digest() -> None:
    police = transfer.new_agency_keypair(KEK, "police")
    private = transfer.unwrap_private_key(KEK, police.wrapped_private_key, "police")
    aad = transfer.package_aad("a", "s", "police")
    sealed = transfer.seal(police.public_key, b"content", aad)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert transfer.digest(tampered) != transfer.digest(sealed)
    with pytest.raises(transfer.TransferError):
        transfer.open_sealed(private, tampered, aad)


def test_sealing_twice_gives_different_ciphertexts() -> None:
    police = transfer.new_agency_keypair(KEK, "police")
    aad = transfer.package_aad("a", "s", "police")
    assert transfer.seal(police.public_key, b"x", aad) != transfer.seal(
        police.public_key, b"x", aad
    )


def test_private_keys_do_not_open_under_another_kek() -> None:
    police = transfer.new_agency_keypair(KEK, "police")
    with pytest.raises(transfer.TransferError, match="KEK"):
        transfer.unwrap_private_key(secrets.token_bytes(32), police.wrapped_private_key, "police")


def test_rejects_a_malformed_recipient_key() -> None:
    with pytest.raises(transfer.TransferError, match="X25519"):
        transfer.seal("not-base64!", b"x", b"aad")


def test_a_private_key_moved_to_another_agency_does_not_open() -> None:
    # A database administrator copies police's wrapped key onto the housing agency's row:
    # the wrapping is bound to the agency code, so it opens for police only.
    police = transfer.new_agency_keypair(KEK, "police")
    assert transfer.unwrap_private_key(KEK, police.wrapped_private_key, "police")
    with pytest.raises(transfer.TransferError, match="housing"):
        transfer.unwrap_private_key(KEK, police.wrapped_private_key, "housing")


def test_keys_wrapped_before_the_binding_still_open() -> None:
    # Format 1, as the hub wrote agency keys before: nonce + ciphertext, no agency bound.
    raw = secrets.token_bytes(32)
    nonce = secrets.token_bytes(12)
    purpose = b"mashflow agency private key wrap v1"
    legacy = nonce + AESGCM(derive_key(KEK, purpose)).encrypt(nonce, raw, purpose)
    assert len(legacy) == 60
    assert transfer.unwrap_private_key(KEK, legacy, "police") == raw
