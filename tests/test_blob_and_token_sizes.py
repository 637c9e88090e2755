"""Ciphertext blobs and grant tokens are as long as AWS KMS's for the same request.

AWS figures: a GenerateDataKey AES_256 blob is 184 bytes (recorded real outputs), so a symmetric
blob is the plaintext plus 152 bytes; a grant token is 491 characters (the CreateGrant example
in the KMS API reference).
"""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.crypto import open_token, seal_token
from simulator.crypto.tokens import TOKEN_LENGTH, TokenError

CTX = {"purpose": "sizes"}


@pytest.mark.parametrize(("kwargs", "size"), [
    ({"key_spec": "AES_256"}, 184), ({"key_spec": "AES_128"}, 168),
    ({"number_of_bytes": 64}, 216), ({"number_of_bytes": 1}, 153)])
def test_generate_data_key_blob_sizes(sim: Simulation, kwargs: dict[str, object],
                                      size: int) -> None:
    key = sim.kms.create_key()
    made = sim.kms.generate_data_key(key_id=key.arn, encryption_context=CTX, **kwargs)  # type: ignore[arg-type]
    assert len(made.ciphertext_blob) == size
    bare = sim.kms.generate_data_key_without_plaintext(key_id=key.arn, **kwargs)  # type: ignore[arg-type]
    assert len(bare.ciphertext_blob) == size


@pytest.mark.parametrize(("length", "size"), [(1, 153), (32, 184), (4096, 4248)])
def test_encrypt_and_re_encrypt_blob_sizes(sim: Simulation, length: int, size: int) -> None:
    key, other = sim.kms.create_key(), sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x" * length).ciphertext_blob
    assert len(blob) == size
    again = sim.kms.re_encrypt(ciphertext_blob=blob, destination_key_id=other.arn).ciphertext_blob
    assert len(again) == size
    assert sim.kms.decrypt(ciphertext_blob=again).plaintext == b"x" * length


def test_grant_tokens_are_491_characters(sim: Simulation) -> None:
    key = sim.kms.create_key()
    bob = sim.iam.create_user(user_name="Bob").arn
    made = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    assert len(made.grant_token) == TOKEN_LENGTH == 491
    sim.as_principal(bob).kms.encrypt(key_id=key.arn, plaintext=b"x",
                                      grant_tokens=[made.grant_token])


def test_a_token_has_one_spelling_and_its_padding_is_authenticated() -> None:
    mac = b"k" * 32
    token = seal_token(mac, b"p" * 48, b"n" * 16)
    assert open_token(mac, token, 48, 16) == b"p" * 48
    last = "A" if token[-1] != "A" else "B"
    with pytest.raises(TokenError):
        open_token(mac, token[:-1] + last, 48, 16)
    middle = len(token) // 2  # inside the zero padding
    flipped = token[:middle] + ("B" if token[middle] != "B" else "C") + token[middle + 1:]
    with pytest.raises(TokenError):
        open_token(mac, flipped, 48, 16)


def test_the_reserved_bytes_of_a_blob_are_authenticated(sim: Simulation) -> None:
    from simulator.errors import InvalidCiphertextException

    key = sim.kms.create_key()
    blob = bytearray(sim.kms.encrypt(key_id=key.arn, plaintext=b"secret").ciphertext_blob)
    blob[60] ^= 1  # inside the reserved bytes, after the key and material ids
    with pytest.raises(InvalidCiphertextException):
        sim.kms.decrypt(ciphertext_blob=bytes(blob))
