"""Encrypt, Decrypt and ReEncrypt with RSA keys: explicit algorithms and AWS's size limits."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator import Simulation
from simulator.errors import (
    DisabledException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    ValidationException,
)
from tests.conftest import kms_fingerprint


@pytest.fixture
def rsa_key(sim: Simulation) -> str:
    return sim.kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT").arn


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_a_client_encrypts_with_the_public_key_and_kms_decrypts(sim: Simulation, rsa_key: str,
                                                                algorithm: str) -> None:
    pub = sim.kms.get_public_key(key_id=rsa_key)
    assert pub.encryption_algorithms == ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
    public = serialization.load_der_public_key(pub.public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    h = hashes.SHA1() if algorithm.endswith("_1") else hashes.SHA256()
    blob = public.encrypt(b"offline secret", padding.OAEP(padding.MGF1(h), h, None))
    out = sim.kms.decrypt(ciphertext_blob=blob, key_id=rsa_key, encryption_algorithm=algorithm)
    assert out.plaintext == b"offline secret" and out.encryption_algorithm == algorithm
    enc = sim.kms.encrypt(key_id=rsa_key, plaintext=b"kms side", encryption_algorithm=algorithm)
    assert enc.encryption_algorithm == algorithm and len(enc.ciphertext_blob) == 256
    assert sim.kms.decrypt(ciphertext_blob=enc.ciphertext_blob, key_id=rsa_key,
                           encryption_algorithm=algorithm).plaintext == b"kms side"


@pytest.mark.parametrize(("spec", "limits"), [("RSA_2048", (214, 190)), ("RSA_3072", (342, 318)),
                                             ("RSA_4096", (470, 446))])
def test_plaintext_limits_per_key_spec_and_algorithm(spec: str, limits: tuple[int, int]) -> None:
    sim = Simulation()  # unseeded: the library generates the larger RSA keys in milliseconds
    key = sim.kms.create_key(key_spec=spec, key_usage="ENCRYPT_DECRYPT").arn
    for algorithm, limit in zip(("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"), limits, strict=True):
        sim.kms.encrypt(key_id=key, plaintext=b"p" * limit, encryption_algorithm=algorithm)
        with pytest.raises(ValidationException,
                           match=f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes"):
            sim.kms.encrypt(key_id=key, plaintext=b"p" * (limit + 1), encryption_algorithm=algorithm)


def test_wrong_algorithm_wrong_key_or_context_fail(sim: Simulation, rsa_key: str) -> None:
    blob = sim.kms.encrypt(key_id=rsa_key, plaintext=b"x", encryption_algorithm="RSAES_OAEP_SHA_256").ciphertext_blob
    before = kms_fingerprint(sim)
    with pytest.raises(InvalidCiphertextException):
        sim.kms.decrypt(ciphertext_blob=blob, key_id=rsa_key, encryption_algorithm="RSAES_OAEP_SHA_1")
    with pytest.raises(InvalidKeyUsageException, match="SYMMETRIC_DEFAULT"):
        sim.kms.decrypt(ciphertext_blob=blob, key_id=rsa_key)
    with pytest.raises(InvalidCiphertextException):  # without KeyId KMS cannot tell the key
        sim.kms.decrypt(ciphertext_blob=blob, encryption_algorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ValidationException, match="no encryption context"):
        sim.kms.encrypt(key_id=rsa_key, plaintext=b"x", encryption_algorithm="RSAES_OAEP_SHA_256",
                        encryption_context={"a": "b"})
    symmetric = sim.kms.create_key().arn
    with pytest.raises(InvalidKeyUsageException, match="RSAES_OAEP_SHA_256"):
        sim.kms.encrypt(key_id=symmetric, plaintext=b"x", encryption_algorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ValidationException):
        sim.kms.encrypt(key_id=rsa_key, plaintext=b"x", encryption_algorithm="RSA_PLEASE")
    signing = sim.kms.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY").arn
    with pytest.raises(InvalidKeyUsageException, match="SIGN_VERIFY which is not valid for Encrypt"):
        sim.kms.encrypt(key_id=signing, plaintext=b"x", encryption_algorithm="RSAES_OAEP_SHA_256")
    sim.kms.disable_key(key_id=rsa_key)
    with pytest.raises(DisabledException):
        sim.kms.decrypt(ciphertext_blob=blob, key_id=rsa_key, encryption_algorithm="RSAES_OAEP_SHA_256")
    sim.kms.enable_key(key_id=rsa_key)
    assert kms_fingerprint(sim)[0][0] == before[0][0]


def test_re_encrypt_moves_between_rsa_and_symmetric_keys(sim: Simulation, rsa_key: str) -> None:
    symmetric = sim.kms.create_key().arn
    blob = sim.kms.encrypt(key_id=symmetric, plaintext=b"move me", encryption_context={"a": "1"}).ciphertext_blob
    to_rsa = sim.kms.re_encrypt(ciphertext_blob=blob, source_encryption_context={"a": "1"},
                                destination_key_id=rsa_key,
                                destination_encryption_algorithm="RSAES_OAEP_SHA_256")
    assert to_rsa.destination_encryption_algorithm == "RSAES_OAEP_SHA_256"
    back = sim.kms.re_encrypt(ciphertext_blob=to_rsa.ciphertext_blob, source_key_id=rsa_key,
                              source_encryption_algorithm="RSAES_OAEP_SHA_256",
                              destination_key_id=symmetric, destination_encryption_context={"b": "2"})
    assert back.source_encryption_algorithm == "RSAES_OAEP_SHA_256"
    assert sim.kms.decrypt(ciphertext_blob=back.ciphertext_blob,
                           encryption_context={"b": "2"}).plaintext == b"move me"


def test_the_audit_names_the_algorithm_and_never_the_plaintext(sim: Simulation, rsa_key: str) -> None:
    sim.kms.encrypt(key_id=rsa_key, plaintext=b"very private words", encryption_algorithm="RSAES_OAEP_SHA_1")
    [event] = sim.audit.events(event_name="Encrypt")
    assert event["requestParameters"]["encryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    assert "very private" not in sim.audit.to_jsonl() + sim.trace.to_json()
