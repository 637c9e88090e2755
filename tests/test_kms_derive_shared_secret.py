"""DeriveSharedSecret: ECDH between a KMS key agreement key and a peer's public key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator import Simulation
from simulator.errors import InvalidKeyUsageException, UnsupportedOperationException, ValidationException
from tests.conftest import kms_fingerprint


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def test_both_sides_derive_the_same_secret(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    assert key.key_agreement_algorithms == ("ECDH",)
    peer = ec.generate_private_key(ec.SECP256R1())
    out = sim.kms.derive_shared_secret(key_id=key.arn, key_agreement_algorithm="ECDH",
                                       public_key=_spki(peer))
    kms_public = serialization.load_der_public_key(sim.kms.get_public_key(key_id=key.arn).public_key)
    assert isinstance(kms_public, ec.EllipticCurvePublicKey)
    assert out.shared_secret == peer.exchange(ec.ECDH(), kms_public)
    assert out.key_origin == "AWS_KMS" and out.key_agreement_algorithm == "ECDH"
    assert out.shared_secret.hex() not in repr(out) + sim.audit.to_jsonl() + sim.trace.to_json()


def test_wrong_curve_garbage_and_wrong_usage_are_refused(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P384", key_usage="KEY_AGREEMENT")
    signing = sim.kms.create_key(key_spec="ECC_NIST_P384", key_usage="SIGN_VERIFY")
    before = kms_fingerprint(sim)
    with pytest.raises(ValidationException, match="curve"):
        sim.kms.derive_shared_secret(key_id=key.arn, key_agreement_algorithm="ECDH",
                                     public_key=_spki(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ValidationException, match="SubjectPublicKeyInfo"):
        sim.kms.derive_shared_secret(key_id=key.arn, key_agreement_algorithm="ECDH", public_key=b"junk")
    with pytest.raises(ValidationException):
        sim.kms.derive_shared_secret(key_id=key.arn, key_agreement_algorithm="DH", public_key=b"junk")
    with pytest.raises(InvalidKeyUsageException, match="SIGN_VERIFY which is not valid for DeriveSharedSecret"):
        sim.kms.derive_shared_secret(key_id=signing.arn, key_agreement_algorithm="ECDH",
                                     public_key=_spki(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(UnsupportedOperationException, match="Nitro"):
        sim.kms.derive_shared_secret(key_id=key.arn, key_agreement_algorithm="ECDH", public_key=b"x",
                                     recipient={"attestation_document": b"x"})
    assert kms_fingerprint(sim) == before
