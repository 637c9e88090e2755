"""Property tests of the encryption-context binding and blob integrity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import InvalidCiphertextException, NotFoundException

contexts = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=4)


def _sim_and_key() -> tuple[Simulation, str]:
    sim = Simulation(seed=3)
    return sim, sim.kms.create_key().arn


@given(contexts, contexts, st.binary(min_size=1, max_size=64))
def test_data_encrypted_under_a_never_decrypts_under_b(a: dict[str, str], b: dict[str, str], data: bytes) -> None:
    sim, key = _sim_and_key()
    blob = sim.kms.encrypt(key_id=key, plaintext=data, encryption_context=a).ciphertext_blob
    if a == b:
        assert sim.kms.decrypt(ciphertext_blob=blob, encryption_context=b).plaintext == data
    else:
        with pytest.raises(InvalidCiphertextException):
            sim.kms.decrypt(ciphertext_blob=blob, encryption_context=b)


@given(contexts, st.randoms(use_true_random=False))
def test_it_decrypts_under_every_reordering(a: dict[str, str], rnd: object) -> None:
    sim, key = _sim_and_key()
    blob = sim.kms.generate_data_key(key_id=key, encryption_context=a, key_spec="AES_256")
    items = list(a.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert sim.kms.decrypt(ciphertext_blob=blob.ciphertext_blob,
                           encryption_context=dict(items)).plaintext == blob.plaintext


@settings(max_examples=40)
@given(st.data())
def test_a_flip_of_any_single_bit_is_rejected(data: st.DataObject) -> None:
    sim, key = _sim_and_key()
    blob = sim.kms.encrypt(key_id=key, plaintext=b"x" * 32, encryption_context={"k": "v"}).ciphertext_blob
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    flipped = bytearray(blob)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises((InvalidCiphertextException, NotFoundException)):
        sim.kms.decrypt(ciphertext_blob=bytes(flipped), encryption_context={"k": "v"})


def test_every_single_bit_flip_of_one_blob_is_rejected() -> None:
    sim, key = _sim_and_key()
    blob = sim.kms.encrypt(key_id=key, plaintext=b"y" * 16).ciphertext_blob
    for bit in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(InvalidCiphertextException):
            sim.kms.decrypt(ciphertext_blob=bytes(flipped))


@settings(max_examples=20)
@given(st.lists(st.sampled_from(["encrypt", "rotate"]), max_size=12))
def test_blobs_from_before_any_number_of_rotations_still_decrypt(plan: list[str]) -> None:
    sim, key = _sim_and_key()
    blobs = []
    for i, step in enumerate(plan):
        if step == "encrypt":
            blobs.append((sim.kms.encrypt(key_id=key, plaintext=str(i).encode()).ciphertext_blob, str(i).encode()))
        else:
            sim.kms.rotate_key_on_demand(key_id=key)
    for blob, expected in blobs:
        assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == expected
