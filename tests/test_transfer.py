"""Secure transfer: only the recipient agency opens a package, and tampering shows."""

from __future__ import annotations

import secrets

import pytest

from infra import transfer

KEK = secrets.token_bytes(32)


def test_only_the_recipient_agency_opens_a_sealed_package() -> None:
    police = transfer.new_agency_keypair(KEK)
    health = transfer.new_agency_keypair(KEK)
    aad = transfer.package_aad("pkg-1", "health_gp", "police")
    sealed = transfer.seal(police.public_key, b'{"items": []}', aad)

    police_private = transfer.unwrap_private_key(KEK, police.wrapped_private_key)
    assert transfer.open_sealed(police_private, sealed, aad) == b'{"items": []}'

    health_private = transfer.unwrap_private_key(KEK, health.wrapped_private_key)
    with pytest.raises(transfer.TransferError, match="wrong recipient or tampered"):
        transfer.open_sealed(health_private, sealed, aad)


def test_a_package_cannot_be_replayed_under_another_id() -> None:
    police = transfer.new_agency_keypair(KEK)
    private = transfer.unwrap_private_key(KEK, police.wrapped_private_key)
    sealed = transfer.seal(police.public_key, b"x", transfer.package_aad("a", "s", "police"))
    with pytest.raises(transfer.TransferError):
        transfer.open_sealed(private, sealed, transfer.package_aad("b", "s", "police"))


def test_a_flipped_bit_is_detected_and_changes_the_digest() -> None:
    police = transfer.new_agency_keypair(KEK)
    private = transfer.unwrap_private_key(KEK, police.wrapped_private_key)
    aad = transfer.package_aad("a", "s", "police")
    sealed = transfer.seal(police.public_key, b"content", aad)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert transfer.digest(tampered) != transfer.digest(sealed)
    with pytest.raises(transfer.TransferError):
        transfer.open_sealed(private, tampered, aad)


def test_sealing_twice_gives_different_ciphertexts() -> None:
    police = transfer.new_agency_keypair(KEK)
    aad = transfer.package_aad("a", "s", "police")
    assert transfer.seal(police.public_key, b"x", aad) != transfer.seal(
        police.public_key, b"x", aad
    )


def test_private_keys_do_not_open_under_another_kek() -> None:
    police = transfer.new_agency_keypair(KEK)
    with pytest.raises(transfer.TransferError, match="KEK"):
        transfer.unwrap_private_key(secrets.token_bytes(32), police.wrapped_private_key)


def test_rejects_a_malformed_recipient_key() -> None:
    with pytest.raises(transfer.TransferError, match="X25519"):
        transfer.seal("not-base64!", b"x", b"aad")
