"""Imported key material, the whole AWS procedure with the library on the client side."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator import Simulation
from simulator.errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.conftest import kms_fingerprint
from tests.test_crypto_wrapping import _client_wrap as _wrap


@pytest.fixture
def sim() -> Simulation:
    """Unseeded: a seeded simulation finds each RSA wrapping key by its own prime search, which
    costs a few hundred milliseconds (tests/test_crypto_keygen.py covers it); these tests are
    about the import rules."""
    return Simulation()


def _import(sim: Simulation, key_id: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256",
            wrapping_key_spec: str = "RSA_2048", **kwargs: object) -> str:
    params = sim.kms.get_parameters_for_import(key_id=key_id, wrapping_algorithm=algorithm,
                                               wrapping_key_spec=wrapping_key_spec)
    out = sim.kms.import_key_material(
        key_id=key_id, import_token=params.import_token,
        encrypted_key_material=_wrap(params.public_key, algorithm, material), **kwargs)  # type: ignore[arg-type]
    return out.key_material_id


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256",
                                       "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_the_whole_import_procedure_with_each_wrapping_algorithm(sim: Simulation, algorithm: str) -> None:
    key = sim.kms.create_key(origin="EXTERNAL")
    assert key.key_state == "PendingImport" and key.origin == "EXTERNAL"
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    material = os.urandom(32)
    params = sim.kms.get_parameters_for_import(key_id=key.arn, wrapping_algorithm=algorithm,
                                               wrapping_key_spec="RSA_2048")
    assert params.parameters_valid_to == sim.clock.now() + timedelta(hours=24)
    sim.kms.import_key_material(key_id=key.arn, import_token=params.import_token,
                                encrypted_key_material=_wrap(params.public_key, algorithm, material),
                                expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    md = sim.kms.describe_key(key_id=key.arn)
    assert md.key_state == "Enabled" and md.expiration_model == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"hello", encryption_context={"a": "b"}).ciphertext_blob
    assert sim.kms.decrypt(ciphertext_blob=blob, encryption_context={"a": "b"}).plaintext == b"hello"


def test_expiry_on_the_virtual_clock_and_reimport_of_the_same_material(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    material = os.urandom(32)
    valid_to = sim.clock.now() + timedelta(days=2)
    material_id = _import(sim, key, material, valid_to=valid_to)
    md = sim.kms.describe_key(key_id=key)
    assert md.expiration_model == "KEY_MATERIAL_EXPIRES" and md.valid_to == valid_to
    blob = sim.kms.encrypt(key_id=key, plaintext=b"before expiry").ciphertext_blob
    sim.advance(seconds=2 * 86400 + 1)
    assert sim.kms.describe_key(key_id=key).key_state == "PendingImport"
    [expired] = sim.audit.events(event_name="DeleteExpiredKeyMaterial")
    assert expired["eventType"] == "AwsServiceEvent"
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        sim.kms.decrypt(ciphertext_blob=blob)
    with pytest.raises(IncorrectKeyMaterialException):
        _import(sim, key, os.urandom(32), expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert sim.kms.describe_key(key_id=key).key_state == "PendingImport"
    assert _import(sim, key, material, expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE") == material_id
    assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == b"before expiry"


def test_delete_imported_key_material_and_reimport(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    material = os.urandom(32)
    _import(sim, key, material, expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    blob = sim.kms.encrypt(key_id=key, plaintext=b"x").ciphertext_blob
    out = sim.kms.delete_imported_key_material(key_id=key)
    assert out.key_id == key and sim.kms.describe_key(key_id=key).key_state == "PendingImport"
    with pytest.raises(KMSInvalidStateException):
        sim.kms.decrypt(ciphertext_blob=blob)
    with pytest.raises(KMSInvalidStateException):
        sim.kms.delete_imported_key_material(key_id=key)
    _import(sim, key, material, expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert sim.kms.decrypt(ciphertext_blob=blob).plaintext == b"x"


def test_import_tokens_expire_after_24_hours_and_are_bound_to_the_last_request(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    material = os.urandom(32)
    first = sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                              wrapping_key_spec="RSA_2048")
    second = sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                               wrapping_key_spec="RSA_2048")
    before = kms_fingerprint(sim)
    with pytest.raises(InvalidImportTokenException):
        sim.kms.import_key_material(key_id=key, import_token=first.import_token,
                                    encrypted_key_material=_wrap(first.public_key, "RSAES_OAEP_SHA_256", material),
                                    expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    with pytest.raises(InvalidCiphertextException):  # wrapped under the superseded key
        sim.kms.import_key_material(key_id=key, import_token=second.import_token,
                                    encrypted_key_material=_wrap(first.public_key, "RSAES_OAEP_SHA_256", material),
                                    expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    sim.advance(seconds=24 * 3600 + 1)
    with pytest.raises(ExpiredImportTokenException):
        sim.kms.import_key_material(key_id=key, import_token=second.import_token,
                                    encrypted_key_material=_wrap(second.public_key, "RSAES_OAEP_SHA_256", material),
                                    expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms_fingerprint(sim)[0] == before[0]


def test_expiration_parameters_are_validated(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    now = sim.clock.now()
    params = sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                               wrapping_key_spec="RSA_2048")
    wrapped = _wrap(params.public_key, "RSAES_OAEP_SHA_256", os.urandom(32))
    for kwargs, match in (
            ({}, "ValidTo is required"),
            ({"valid_to": now - timedelta(seconds=1)}, "future"),
            ({"valid_to": now + timedelta(days=366)}, "365 days"),
            ({"valid_to": now + timedelta(days=1), "expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE"}, "omitted"),
            ({"valid_to": "tomorrow"}, "datetime"),
            ({"expiration_model": "SOMETIMES"}, "enum")):
        with pytest.raises(ValidationException, match=match):
            sim.kms.import_key_material(key_id=key, import_token=params.import_token,
                                        encrypted_key_material=wrapped, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="32 bytes"):
        sim.kms.import_key_material(key_id=key, import_token=params.import_token,
                                    encrypted_key_material=_wrap(params.public_key, "RSAES_OAEP_SHA_256",
                                                                 os.urandom(16)),
                                    expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert sim.kms.describe_key(key_id=key).key_state == "PendingImport"


def test_keys_created_in_kms_refuse_import(sim: Simulation) -> None:
    key = sim.kms.create_key().arn
    with pytest.raises(UnsupportedOperationException, match="origin is AWS_KMS"):
        sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                          wrapping_key_spec="RSA_2048")
    with pytest.raises(UnsupportedOperationException, match="origin is AWS_KMS"):
        sim.kms.delete_imported_key_material(key_id=key)
    external = sim.kms.create_key(origin="EXTERNAL").arn
    for algorithm, spec, error in (("RSAES_PKCS1_V1_5", "RSA_2048", ValidationException),
                                   ("SM2PKE", "SM2", UnsupportedOperationException)):
        with pytest.raises(error):
            sim.kms.get_parameters_for_import(key_id=external, wrapping_algorithm=algorithm,
                                              wrapping_key_spec=spec)


def test_imported_asymmetric_and_hmac_material(sim: Simulation) -> None:
    ec_key = sim.kms.create_key(origin="EXTERNAL", key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY").arn
    private = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    _import(sim, ec_key, pkcs8, algorithm="RSA_AES_KEY_WRAP_SHA_256",
            expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    sig = sim.kms.sign(key_id=ec_key, message=b"m", signing_algorithm="ECDSA_SHA_256").signature
    private.public_key().verify(sig, b"m", ec.ECDSA(hashes.SHA256()))
    rsa_key = sim.kms.create_key(origin="EXTERNAL", key_spec="RSA_2048", key_usage="SIGN_VERIFY").arn
    with pytest.raises(ValidationException, match="RSA_AES"):
        sim.kms.get_parameters_for_import(key_id=rsa_key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                          wrapping_key_spec="RSA_4096")
    with pytest.raises(ValidationException, match="not a RSA_2048 private key"):  # ECC into RSA
        _import(sim, rsa_key, pkcs8, algorithm="RSA_AES_KEY_WRAP_SHA_1",
                expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    mac_key = sim.kms.create_key(origin="EXTERNAL", key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC").arn
    with pytest.raises(ValidationException, match="32 to 64 bytes"):
        _import(sim, mac_key, os.urandom(16), expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    secret = os.urandom(40)
    _import(sim, mac_key, secret, expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    import hmac as std_hmac
    mac = sim.kms.generate_mac(key_id=mac_key, message=b"m", mac_algorithm="HMAC_SHA_256").mac
    assert mac == std_hmac.digest(secret, b"m", "sha256")


def test_enable_and_disable_refuse_a_key_pending_import(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    for call in (sim.kms.enable_key, sim.kms.disable_key):
        with pytest.raises(KMSInvalidStateException, match="pending import"):
            call(key_id=key)


def test_a_seeded_import_replays_byte_for_byte() -> None:
    def run() -> tuple[bytes, str]:
        sim = Simulation(seed=8)
        key = sim.kms.create_key(origin="EXTERNAL").arn
        params = sim.kms.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_1",
                                                   wrapping_key_spec="RSA_2048")
        return params.public_key + params.import_token, sim.audit.to_jsonl()

    assert run() == run()


def test_the_audit_shows_parameters_never_material(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    material = os.urandom(32)
    _import(sim, key, material, algorithm="RSA_AES_KEY_WRAP_SHA_256",
            valid_to=sim.clock.now() + timedelta(days=30))
    [event] = sim.audit.events(event_name="ImportKeyMaterial")
    assert event["requestParameters"]["expirationModel"] is None
    [gp] = sim.audit.events(event_name="GetParametersForImport")
    assert gp["requestParameters"]["wrappingAlgorithm"] == "RSA_AES_KEY_WRAP_SHA_256"
    text = sim.audit.to_jsonl() + sim.trace.to_json()
    assert material.hex() not in text


def test_rotation_and_signing_refuse_keys_without_kms_material(sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    for call in (sim.kms.enable_key_rotation, sim.kms.rotate_key_on_demand):
        with pytest.raises(UnsupportedOperationException, match="origin is EXTERNAL"):
            call(key_id=key)
    _import(sim, key, os.urandom(32), expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    with pytest.raises(UnsupportedOperationException, match="origin is EXTERNAL"):
        sim.kms.rotate_key_on_demand(key_id=key)
    signer = sim.kms.create_key(origin="EXTERNAL", key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY").arn
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        sim.kms.sign(key_id=signer, message=b"m", signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        sim.kms.get_public_key(key_id=signer)


def test_expiry_during_pending_deletion_keeps_the_deletion_and_cancel_returns_to_pending_import(
        sim: Simulation) -> None:
    key = sim.kms.create_key(origin="EXTERNAL").arn
    _import(sim, key, os.urandom(32), valid_to=sim.clock.now() + timedelta(days=1))
    sim.kms.schedule_key_deletion(key_id=key, pending_window_in_days=7)
    sim.advance(seconds=2 * 86400)  # the material expires while the key waits for deletion
    assert sim.kms.describe_key(key_id=key).key_state == "PendingDeletion"
    assert sim.kms.cancel_key_deletion(key_id=key) == key
    assert sim.kms.describe_key(key_id=key).key_state == "PendingImport"
    sim.kms.schedule_key_deletion(key_id=key, pending_window_in_days=7)
    sim.advance(seconds=8 * 86400)
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id=key)
