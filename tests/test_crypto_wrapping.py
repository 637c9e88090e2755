"""Import wrapping: material wrapped by a client with the library unwraps to the same bytes."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from simulator.crypto.asymmetric import AsymmetricKey, CryptoInputError
from simulator.crypto.wrapping import WRAPPING_ALGORITHMS, unwrap_key_material
from simulator.entropy import Entropy


@pytest.fixture(scope="module")
def wrapping_key() -> AsymmetricKey:
    return AsymmetricKey.generate("RSA_2048", Entropy(31))


def _client_wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """What the AWS guide tells a client to do, with the library only."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    h = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)
    if algorithm.startswith("RSAES"):
        return public.encrypt(material, oaep)
    aes = os.urandom(32)
    return public.encrypt(aes, oaep) + aes_key_wrap_with_padding(aes, material)


@pytest.mark.parametrize("algorithm", sorted(WRAPPING_ALGORITHMS))
def test_client_wrapped_material_unwraps(wrapping_key: AsymmetricKey, algorithm: str) -> None:
    material = os.urandom(32)
    blob = _client_wrap(wrapping_key.public_key_der(), algorithm, material)
    assert unwrap_key_material(wrapping_key, algorithm, blob) == material


def test_key_wrap_carries_material_too_large_for_oaep(wrapping_key: AsymmetricKey) -> None:
    pkcs8 = AsymmetricKey.generate("RSA_2048", Entropy(32)).private_key_der()
    blob = _client_wrap(wrapping_key.public_key_der(), "RSA_AES_KEY_WRAP_SHA_256", bytes(pkcs8))
    assert unwrap_key_material(wrapping_key, "RSA_AES_KEY_WRAP_SHA_256", blob) == pkcs8


def test_wrong_algorithm_or_tampering_is_refused(wrapping_key: AsymmetricKey) -> None:
    material = os.urandom(32)
    blob = _client_wrap(wrapping_key.public_key_der(), "RSA_AES_KEY_WRAP_SHA_256", material)
    with pytest.raises(CryptoInputError):
        unwrap_key_material(wrapping_key, "RSA_AES_KEY_WRAP_SHA_1", blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(CryptoInputError):
        unwrap_key_material(wrapping_key, "RSA_AES_KEY_WRAP_SHA_256", tampered)
    with pytest.raises(CryptoInputError):
        unwrap_key_material(wrapping_key, "RSA_AES_KEY_WRAP_SHA_256", blob[:256])
    with pytest.raises(CryptoInputError):
        unwrap_key_material(wrapping_key, "RSAES_OAEP_SHA_256", b"\x00" * 256)
