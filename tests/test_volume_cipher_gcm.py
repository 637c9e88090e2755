"""AES-256-GCM volume cipher: HKDF-derived key, nonce || ciphertext || tag, bound additional data."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from simulator.crypto.volume import (
    GCM_KEY_INFO,
    GCM_OVERHEAD,
    BlockAuthenticationError,
    GcmVolumeCipher,
    gcm_block_aad,
)

KEY = bytes(range(64))
NONCE = bytes(range(12))


def test_stored_block_is_nonce_ciphertext_tag_under_the_hkdf_key() -> None:
    aad = gcm_block_aad(b"vol-0123456789abcdef0", 3, 7)
    stored = GcmVolumeCipher(KEY).seal(NONCE, b"x" * 4096, aad)
    assert len(stored) == 4096 + GCM_OVERHEAD and stored[:12] == NONCE
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=GCM_KEY_INFO).derive(KEY)
    assert AESGCM(derived).decrypt(NONCE, stored[12:], aad) == b"x" * 4096


def test_round_trip_with_the_same_binding_index_and_counter() -> None:
    cipher = GcmVolumeCipher(KEY)
    aad = gcm_block_aad(b"vol-a", 1, 1)
    assert cipher.open(cipher.seal(NONCE, b"data", aad), aad) == b"data"


@pytest.mark.parametrize("other", [
    gcm_block_aad(b"vol-b", 1, 1),  # another volume
    gcm_block_aad(b"vol-a", 2, 1),  # another block index
    gcm_block_aad(b"vol-a", 1, 2),  # another write (replay)
])
def test_open_with_other_binding_index_or_counter_fails(other: bytes) -> None:
    cipher = GcmVolumeCipher(KEY)
    stored = cipher.seal(NONCE, b"data", gcm_block_aad(b"vol-a", 1, 1))
    with pytest.raises(BlockAuthenticationError):
        cipher.open(stored, other)


def test_every_flipped_bit_fails_authentication() -> None:
    cipher = GcmVolumeCipher(KEY)
    aad = gcm_block_aad(b"vol-a", 0, 1)
    stored = cipher.seal(NONCE, b"0123456789abcdef", aad)
    for bit in range(len(stored) * 8):
        bad = bytearray(stored)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BlockAuthenticationError):
            cipher.open(bytes(bad), aad)


def test_binding_is_length_prefixed_so_ids_cannot_run_into_the_index() -> None:
    assert gcm_block_aad(b"ab", 1, 1) != gcm_block_aad(b"a", 1, 1)
    assert len({gcm_block_aad(b"vol-1", 12, 3), gcm_block_aad(b"vol-11", 2, 3)}) == 2


def test_truncated_block_and_closed_cipher_are_refused() -> None:
    cipher = GcmVolumeCipher(KEY)
    with pytest.raises(BlockAuthenticationError):
        cipher.open(b"short", b"")
    with pytest.raises(ValueError):
        cipher.seal(b"bad", b"x", b"")
    cipher.close()
    assert "redacted" in repr(cipher)
    with pytest.raises(ValueError):
        cipher.seal(NONCE, b"x", b"")


def test_seal_run_and_open_run_match_seal_and_open_block_by_block() -> None:
    cipher = GcmVolumeCipher(KEY)
    aads = [gcm_block_aad(b"v", i, i + 1) for i in range(3)]
    nonces = bytes(range(36))
    plain = bytes(range(256)) * 3
    stored = bytearray(3 * (256 + GCM_OVERHEAD))
    cipher.seal_run(memoryview(nonces), memoryview(plain), aads, memoryview(stored))
    assert bytes(stored) == b"".join(
        cipher.seal(nonces[i * 12:(i + 1) * 12], plain[i * 256:(i + 1) * 256], aads[i])
        for i in range(3))
    out = bytearray(len(plain))
    assert cipher.open_run(memoryview(stored), aads, memoryview(out)) == -1
    assert bytes(out) == plain


def test_open_run_names_the_failing_block_and_keeps_none_of_its_plaintext() -> None:
    cipher = GcmVolumeCipher(KEY)
    aads = [gcm_block_aad(b"v", i, 1) for i in range(3)]
    stored = bytearray(3 * (256 + GCM_OVERHEAD))
    cipher.seal_run(memoryview(bytes(36)), memoryview(b"p" * 768), aads, memoryview(stored))
    stored[(256 + GCM_OVERHEAD) + 40] ^= 1  # block 1's ciphertext
    out = bytearray(b"?" * 768)
    assert cipher.open_run(memoryview(stored), aads, memoryview(out)) == 1
    assert out[:256] == b"p" * 256 and out[256:512] == bytes(256)


def test_block_key_waits_for_the_first_block_and_a_key_wiped_before_is_refused() -> None:
    key = bytearray(KEY)
    cipher = GcmVolumeCipher(key)
    assert cipher._aead is None
    aad = gcm_block_aad(b"v", 0, 1)
    stored = cipher.seal(NONCE, b"data", aad)
    assert GcmVolumeCipher(KEY).open(stored, aad) == b"data"
    late = GcmVolumeCipher(key)
    key[:] = bytes(64)  # wiped (EBS detach) before the cipher derived its block key
    with pytest.raises(ValueError):
        late.seal(NONCE, b"data", aad)
    assert GcmVolumeCipher(bytes(64)).open(GcmVolumeCipher(bytes(64)).seal(NONCE, b"z", aad),
                                           aad) == b"z"  # an all-zero key as given still works


def test_close_drops_the_reference_to_the_key() -> None:
    key = bytearray(KEY)
    cipher = GcmVolumeCipher(key)
    cipher.close()
    assert all(value is not key for value in vars(cipher).values())
    with pytest.raises(ValueError):
        cipher.seal(NONCE, b"data", gcm_block_aad(b"v", 0, 1))
