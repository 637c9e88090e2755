"""GenerateDataKeyPair(WithoutPlaintext): the private key sealed exactly as a data key is."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import (
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.conftest import kms_fingerprint

CTX = {"purpose": "device-identity", "tenant": "t1"}


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
                                  "ECC_SECG_P256K1"])
def test_the_pair_is_usable_and_the_private_key_decrypts_under_its_context(sim: Simulation, spec: str) -> None:
    kek = sim.kms.create_key()
    pair = sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec=spec, encryption_context=CTX)
    assert pair.key_id == kek.arn and pair.key_pair_spec == spec
    assert pair.key_material_id == kek.current_key_material_id
    private = serialization.load_der_private_key(bytes(pair.private_key_plaintext), None)
    public = serialization.load_der_public_key(pair.public_key)
    assert private.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair.public_key
    if isinstance(private, ec.EllipticCurvePrivateKey):
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(private.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m", ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    out = sim.kms.decrypt(ciphertext_blob=pair.private_key_ciphertext_blob, encryption_context=CTX)
    assert out.plaintext == pair.private_key_plaintext
    assert repr(bytes(pair.private_key_plaintext)) not in repr(pair)


def test_without_plaintext_returns_no_private_key(sim: Simulation) -> None:
    kek = sim.kms.create_key()
    pair = sim.kms.generate_data_key_pair_without_plaintext(key_id=kek.arn, key_pair_spec="ECC_NIST_P256")
    assert not hasattr(pair, "private_key_plaintext")
    der = sim.kms.decrypt(ciphertext_blob=pair.private_key_ciphertext_blob).plaintext
    private = serialization.load_der_private_key(bytes(der), None)
    assert private.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair.public_key


@settings(max_examples=15, deadline=None)
@given(ctx=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text("xyz", max_size=3),
                           min_size=1, max_size=3),
       other=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text("xyz", max_size=3), max_size=3))
def test_the_private_key_decrypts_only_under_its_own_context(ctx: dict[str, str], other: dict[str, str]) -> None:
    sim = Simulation(seed=5)
    kek = sim.kms.create_key()
    pair = sim.kms.generate_data_key_pair_without_plaintext(
        key_id=kek.arn, key_pair_spec="ECC_NIST_P256", encryption_context=ctx)
    assert sim.kms.decrypt(ciphertext_blob=pair.private_key_ciphertext_blob, encryption_context=ctx).plaintext
    if other != ctx:
        with pytest.raises(InvalidCiphertextException):
            sim.kms.decrypt(ciphertext_blob=pair.private_key_ciphertext_blob, encryption_context=other)


def test_only_symmetric_encryption_keys_make_pairs(sim: Simulation) -> None:
    for spec, usage in (("RSA_2048", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC"),
                        ("ECC_NIST_P256", "SIGN_VERIFY")):
        key = sim.kms.create_key(key_spec=spec, key_usage=usage)
        with pytest.raises(InvalidKeyUsageException):
            sim.kms.generate_data_key_pair(key_id=key.arn, key_pair_spec="ECC_NIST_P256")


def test_bad_input_and_unsupported_specs_change_nothing(sim: Simulation) -> None:
    kek = sim.kms.create_key()
    before = kms_fingerprint(sim)
    for spec in ("RSA_1024", None, 7):
        with pytest.raises(ValidationException):
            sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec=spec)  # type: ignore[arg-type]
    for spec in ("SM2", "ECC_NIST_EDWARDS25519"):
        with pytest.raises(UnsupportedOperationException, match=spec):
            sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec=spec)
    with pytest.raises(UnsupportedOperationException, match="Nitro Enclaves"):
        sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec="ECC_NIST_P256",
                                       recipient={"attestation_document": b"x"})
    with pytest.raises(ValidationException):
        sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec="ECC_NIST_P256",
                                       encryption_context={"a": 1})  # type: ignore[dict-item]
    assert kms_fingerprint(sim) == before
    sim.kms.schedule_key_deletion(key_id=kek.arn, pending_window_in_days=7)
    with pytest.raises(KMSInvalidStateException):
        sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec="ECC_NIST_P256")


def test_audit_shows_the_pair_spec_never_the_private_key(sim: Simulation) -> None:
    kek = sim.kms.create_key()
    pair = sim.kms.generate_data_key_pair(key_id=kek.arn, key_pair_spec="ECC_NIST_P384",
                                          encryption_context=CTX)
    [event] = sim.audit.events(event_name="GenerateDataKeyPair")
    assert event["requestParameters"]["keyPairSpec"] == "ECC_NIST_P384"
    text = sim.audit.to_jsonl() + sim.trace.to_json()
    der = bytes(pair.private_key_plaintext)
    assert der.hex() not in text and der[-32:].hex() not in text


def test_seeded_pairs_and_rsa_ciphertexts_replay_byte_for_byte() -> None:
    def run() -> tuple[bytes, ...]:
        sim = Simulation(seed=21)
        kek = sim.kms.create_key().arn
        pair = sim.kms.generate_data_key_pair(key_id=kek, key_pair_spec="RSA_2048")
        rsa_key = sim.kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT").arn
        blob = sim.kms.encrypt(key_id=rsa_key, plaintext=b"p", encryption_algorithm="RSAES_OAEP_SHA_256")
        mac_key = sim.kms.create_key(key_spec="HMAC_384", key_usage="GENERATE_VERIFY_MAC").arn
        mac = sim.kms.generate_mac(key_id=mac_key, message=b"m", mac_algorithm="HMAC_SHA_384").mac
        return (bytes(pair.private_key_plaintext), pair.private_key_ciphertext_blob, blob.ciphertext_blob, mac,
                sim.audit.to_jsonl().encode(), sim.trace.to_json().encode())

    assert run() == run()
