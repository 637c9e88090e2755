"""Sign, Verify and GetPublicKey through KMS: signatures a client verifies with the library alone."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import (
    AwsError,
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.conftest import kms_fingerprint
from tests.test_crypto_asymmetric import _outside_verify as _client_verify


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
                                  "ECC_SECG_P256K1"])
def test_every_signing_algorithm_of_a_key_signs_and_verifies(sim: Simulation, spec: str) -> None:
    key = sim.kms.create_key(key_spec=spec, key_usage="SIGN_VERIFY")
    pub = sim.kms.get_public_key(key_id=key.arn)
    assert pub.key_usage == "SIGN_VERIFY" and pub.key_spec == spec
    assert pub.signing_algorithms == key.signing_algorithms and pub.encryption_algorithms == ()
    for algorithm in key.signing_algorithms:
        out = sim.kms.sign(key_id=key.key_id, message=b"header.payload", signing_algorithm=algorithm)
        assert out.key_id == key.arn and out.signing_algorithm == algorithm
        _client_verify(pub.public_key, algorithm, b"header.payload", out.signature)
        ok = sim.kms.verify(key_id=key.arn, message=b"header.payload", signature=out.signature,
                            signing_algorithm=algorithm)
        assert ok.signature_valid and ok.key_id == key.arn
        digest = hashlib.new("sha" + algorithm.rsplit("_", 1)[1], b"header.payload").digest()
        dsig = sim.kms.sign(key_id=key.arn, message=digest, message_type="DIGEST",
                            signing_algorithm=algorithm).signature
        _client_verify(pub.public_key, algorithm, digest, dsig, digest=True)
        sim.kms.verify(key_id=key.arn, message=b"header.payload", signature=dsig, signing_algorithm=algorithm)


def test_ecc_keys_pair_each_curve_with_one_hash(sim: Simulation) -> None:
    expected = {"ECC_NIST_P256": ("ECDSA_SHA_256",), "ECC_NIST_P384": ("ECDSA_SHA_384",),
                "ECC_NIST_P521": ("ECDSA_SHA_512",), "ECC_SECG_P256K1": ("ECDSA_SHA_256",)}
    for spec, algorithms in expected.items():
        key = sim.kms.create_key(key_spec=spec, key_usage="SIGN_VERIFY")
        assert key.signing_algorithms == algorithms
        with pytest.raises(InvalidKeyUsageException, match="does not support the signing algorithm"):
            sim.kms.sign(key_id=key.arn, message=b"m",
                         signing_algorithm="ECDSA_SHA_384" if algorithms[0] != "ECDSA_SHA_384" else "ECDSA_SHA_256")


def test_a_bad_signature_is_kms_invalid_signature(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    sig = sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256").signature
    with pytest.raises(KMSInvalidSignatureException):
        sim.kms.verify(key_id=key.arn, message=b"n", signature=sig, signing_algorithm="ECDSA_SHA_256")
    bad = bytearray(sig)
    bad[-1] ^= 1
    with pytest.raises(KMSInvalidSignatureException):
        sim.kms.verify(key_id=key.arn, message=b"m", signature=bytes(bad), signing_algorithm="ECDSA_SHA_256")
    [event] = sim.audit.events(event_name="Verify")[-1:]
    assert event["errorCode"] == "KMSInvalidSignatureException"


def test_raw_messages_are_limited_to_4096_bytes_and_digests_to_their_length(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY")
    sim.kms.sign(key_id=key.arn, message=b"x" * 4096, signing_algorithm="RSASSA_PSS_SHA_256")
    with pytest.raises(ValidationException, match="4096"):
        sim.kms.sign(key_id=key.arn, message=b"x" * 4097, signing_algorithm="RSASSA_PSS_SHA_256")
    with pytest.raises(ValidationException, match="Digest is invalid length"):
        sim.kms.sign(key_id=key.arn, message=b"x" * 48, message_type="DIGEST",
                     signing_algorithm="RSASSA_PSS_SHA_256")
    with pytest.raises(ValidationException, match="Digest is invalid length"):
        sim.kms.verify(key_id=key.arn, message=b"x" * 31, message_type="DIGEST", signature=b"s",
                       signing_algorithm="RSASSA_PKCS1_V1_5_SHA_256")
    with pytest.raises(InvalidKeyUsageException, match="EXTERNAL_MU"):
        sim.kms.sign(key_id=key.arn, message=b"x" * 64, message_type="EXTERNAL_MU",
                     signing_algorithm="RSASSA_PSS_SHA_256")


def test_sign_needs_a_sign_verify_key(sim: Simulation) -> None:
    for spec, usage in (("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("RSA_2048", "ENCRYPT_DECRYPT"),
                        ("HMAC_256", "GENERATE_VERIFY_MAC"), ("ECC_NIST_P256", "KEY_AGREEMENT")):
        key = sim.kms.create_key(key_spec=spec, key_usage=usage)
        with pytest.raises(InvalidKeyUsageException, match=f"key usage is {usage} which is not valid for Sign"):
            sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="RSASSA_PSS_SHA_256")
        with pytest.raises(InvalidKeyUsageException, match="not valid for Verify"):
            sim.kms.verify(key_id=key.arn, message=b"m", signature=b"s",
                           signing_algorithm="RSASSA_PSS_SHA_256")


def test_key_states_apply_to_sign_verify_and_get_public_key(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    sig = sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256").signature
    sim.kms.disable_key(key_id=key.arn)
    for call in (lambda: sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256"),
                 lambda: sim.kms.verify(key_id=key.arn, message=b"m", signature=sig,
                                        signing_algorithm="ECDSA_SHA_256"),
                 lambda: sim.kms.get_public_key(key_id=key.arn)):
        with pytest.raises(DisabledException, match="is disabled"):
            call()
    sim.kms.enable_key(key_id=key.arn)
    sim.kms.schedule_key_deletion(key_id=key.arn, pending_window_in_days=7)
    with pytest.raises(KMSInvalidStateException, match="pending deletion"):
        sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256")


def test_get_public_key_of_a_symmetric_or_hmac_key_is_unsupported(sim: Simulation) -> None:
    for spec, usage in (("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("HMAC_384", "GENERATE_VERIFY_MAC")):
        key = sim.kms.create_key(key_spec=spec, key_usage=usage)
        with pytest.raises(UnsupportedOperationException, match="only asymmetric KMS keys have a public key"):
            sim.kms.get_public_key(key_id=key.arn)


def test_bad_input_is_a_validation_error_and_changes_nothing(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    before = kms_fingerprint(sim)
    bad_calls = [
        dict(message=b"", signing_algorithm="ECDSA_SHA_256"),
        dict(message=123, signing_algorithm="ECDSA_SHA_256"),
        dict(message=b"m", signing_algorithm="ECDSA_SHA_999"),
        dict(message=b"m", signing_algorithm=None),
        dict(message=b"m", signing_algorithm="ECDSA_SHA_256", message_type="HASHED"),
        dict(message=b"m", signing_algorithm="ECDSA_SHA_256", grant_tokens="tok"),
        dict(message=b"m", signing_algorithm="ECDSA_SHA_256", dry_run="yes"),
    ]
    for kwargs in bad_calls:
        with pytest.raises(ValidationException):
            sim.kms.sign(key_id=key.arn, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationException):
        sim.kms.verify(key_id=key.arn, message=b"m", signature="not bytes",  # type: ignore[arg-type]
                       signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(NotFoundException):
        sim.kms.sign(key_id="alias/nope", message=b"m", signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(DryRunOperationException):
        sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256", dry_run=True)
    assert kms_fingerprint(sim) == before


def test_signing_by_alias_and_the_audit_record_shape(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY")
    sim.kms.create_alias(alias_name="alias/jwt", target_key_id=key.key_id)
    message = b"a secret claim set 0123456789"
    sig = sim.kms.sign(key_id="alias/jwt", message=message, signing_algorithm="RSASSA_PKCS1_V1_5_SHA_256")
    [event] = sim.audit.events(event_name="Sign")
    assert event["requestParameters"] == {"keyId": "alias/jwt", "messageType": "RAW",
                                          "signingAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256"}
    assert event["additionalEventData"]["keySpec"] == "RSA_2048"
    assert event["resources"][0]["ARN"] == key.arn
    text = repr(event) + sim.trace.to_json()
    assert message.hex() not in text and "secret claim" not in text and sig.signature.hex() not in text


def test_seeded_runs_replay_signatures_and_public_keys_byte_for_byte() -> None:
    def run() -> tuple[bytes, ...]:
        sim = Simulation(seed=42)
        out: list[bytes] = []
        for spec in ("RSA_2048", "ECC_NIST_P256"):
            key = sim.kms.create_key(key_spec=spec, key_usage="SIGN_VERIFY")
            out.append(sim.kms.get_public_key(key_id=key.arn).public_key)
            for algorithm in key.signing_algorithms:
                out.append(sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm=algorithm).signature)
        out.append(sim.audit.to_jsonl().encode())
        return tuple(out)

    assert run() == run()


def test_a_failed_call_raises_only_aws_errors() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    with pytest.raises(AwsError):
        sim.kms.verify(key_id=key.arn, message=b"m", signature=b"\x30\x02\x00\x00",
                       signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(InvalidSignature):  # the library agrees it is not a signature
        _client_verify(sim.kms.get_public_key(key_id=key.arn).public_key, "ECDSA_SHA_256", b"m",
                       b"\x30\x02\x00\x00")


def test_a_deleted_key_drops_its_private_key(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    sim.kms.schedule_key_deletion(key_id=key.arn, pending_window_in_days=7)
    record = sim._kms_state.keys[key.key_id]
    sim.advance(seconds=7 * 86400)
    assert record.asymmetric is None and key.key_id not in sim._kms_state.keys
    with pytest.raises(NotFoundException):
        sim.kms.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256")


_SHARED: dict[str, tuple[Simulation, str]] = {}


def _signer(spec: str) -> tuple[Simulation, str]:
    """One simulation and key per spec for the property below (RSA keys take time to find)."""
    if spec not in _SHARED:
        sim = Simulation(seed=9)
        _SHARED[spec] = (sim, sim.kms.create_key(key_spec=spec, key_usage="SIGN_VERIFY").arn)
    return _SHARED[spec]


@settings(max_examples=30, deadline=None)
@given(message=st.binary(min_size=1, max_size=4096), bit=st.integers(min_value=0),
       target=st.sampled_from(["message", "signature"]),
       case=st.sampled_from([("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256"),
                             ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512")]))
def test_kms_signatures_verify_outside_and_fail_after_any_single_bit_flip(
        message: bytes, bit: int, target: str, case: tuple[str, str]) -> None:
    spec, algorithm = case
    sim, key = _signer(spec)
    sig = sim.kms.sign(key_id=key, message=message, signing_algorithm=algorithm).signature
    public = sim.kms.get_public_key(key_id=key).public_key
    _client_verify(public, algorithm, message, sig)
    flipped = bytearray(message if target == "message" else sig)
    flipped[(bit // 8) % len(flipped)] ^= 1 << (bit % 8)
    msg, bad = (bytes(flipped), sig) if target == "message" else (message, bytes(flipped))
    with pytest.raises(KMSInvalidSignatureException):
        sim.kms.verify(key_id=key, message=msg, signature=bad, signing_algorithm=algorithm)
    with pytest.raises(InvalidSignature):
        _client_verify(public, algorithm, msg, bad)
