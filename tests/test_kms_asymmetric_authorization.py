"""Key policies, IAM, grants and condition keys on the asymmetric, HMAC and import operations."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator import Simulation
from simulator.errors import AccessDeniedException, ValidationException


def _policy(account: str, statements: list[dict[str, object]]) -> str:
    root = {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


@pytest.fixture
def sim() -> Simulation:
    # Grants take effect at once here: these tests are about what a grant allows, not about
    # grant eventual consistency (on by default).
    return Simulation(seed=1, grant_propagation_seconds=0)


@pytest.fixture
def bob(sim: Simulation) -> str:
    return sim.iam.create_user(user_name="Bob").arn


def test_a_grant_without_constraints_lets_bob_sign(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    as_bob = sim.as_principal(bob).kms
    with pytest.raises(AccessDeniedException, match="kms:Sign"):
        as_bob.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256")
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Sign", "GetPublicKey"])
    sig = as_bob.sign(key_id=key.arn, message=b"m", signing_algorithm="ECDSA_SHA_256").signature
    assert as_bob.get_public_key(key_id=key.arn).public_key
    with pytest.raises(AccessDeniedException, match="kms:Verify"):
        as_bob.verify(key_id=key.arn, message=b"m", signature=sig, signing_algorithm="ECDSA_SHA_256")


def test_a_generate_data_key_grant_does_not_allow_data_key_pairs(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["GenerateDataKey"])
    as_bob = sim.as_principal(bob).kms
    as_bob.generate_data_key(key_id=key.arn, key_spec="AES_256")
    with pytest.raises(AccessDeniedException, match="kms:GenerateDataKeyPair"):
        as_bob.generate_data_key_pair(key_id=key.arn, key_pair_spec="ECC_NIST_P256")
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["GenerateDataKeyPairWithoutPlaintext"])
    as_bob.generate_data_key_pair_without_plaintext(key_id=key.arn, key_pair_spec="ECC_NIST_P256")
    with pytest.raises(AccessDeniedException):
        as_bob.generate_data_key_pair(key_id=key.arn, key_pair_spec="ECC_NIST_P256")


def test_grant_constraints_on_asymmetric_and_hmac_keys_are_refused_at_create_grant(sim: Simulation, bob: str) -> None:
    for spec, usage, op in (("RSA_2048", "SIGN_VERIFY", "Sign"), ("HMAC_256", "GENERATE_VERIFY_MAC", "GenerateMac"),
                            ("RSA_2048", "ENCRYPT_DECRYPT", "Decrypt")):
        key = sim.kms.create_key(key_spec=spec, key_usage=usage)
        with pytest.raises(ValidationException, match="only valid for symmetric"):
            sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=[op],
                                 constraints={"encryption_context_subset": {"a": "b"}})
        assert not sim.kms.list_grants(key_id=key.arn).grants
    hmac = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    with pytest.raises(ValidationException, match="not valid"):
        sim.kms.create_grant(key_id=hmac.arn, grantee_principal=bob, operations=["Sign"])


def test_mac_grants_and_iam_policies(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["GenerateMac"])
    as_bob = sim.as_principal(bob).kms
    mac = as_bob.generate_mac(key_id=key.arn, message=b"m", mac_algorithm="HMAC_SHA_256").mac
    with pytest.raises(AccessDeniedException, match="kms:VerifyMac"):
        as_bob.verify_mac(key_id=key.arn, message=b"m", mac=mac, mac_algorithm="HMAC_SHA_256")
    # The default key policy delegates to IAM: an identity policy allows VerifyMac.
    sim.iam.put_user_policy(user_name="Bob", policy_name="mac", policy_document=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:VerifyMac",
                                                "Resource": key.arn}]}))
    assert as_bob.verify_mac(key_id=key.arn, message=b"m", mac=mac, mac_algorithm="HMAC_SHA_256").mac_valid


@pytest.mark.parametrize(("condition_key", "allowed", "denied", "call"), [
    ("kms:SigningAlgorithm", "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "sign"),
    ("kms:MessageType", "RAW", "DIGEST", "sign"),
    ("kms:MacAlgorithm", "HMAC_SHA_256", None, "mac"),
    ("kms:DataKeyPairSpec", "ECC_NIST_P256", "ECC_NIST_P384", "pair"),
    ("kms:EncryptionAlgorithm", "RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "rsa"),
    ("kms:KeyOrigin", "AWS_KMS", None, "sign"),
])
def test_condition_keys_of_the_new_operations_allow_and_deny(sim: Simulation, bob: str, condition_key: str,
                                                             allowed: str, denied: str | None, call: str) -> None:
    account = "123456789012"
    spec, usage, action = {"sign": ("RSA_2048", "SIGN_VERIFY", "kms:Sign"),
                           "mac": ("HMAC_256", "GENERATE_VERIFY_MAC", "kms:GenerateMac"),
                           "pair": ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "kms:GenerateDataKeyPair"),
                           "rsa": ("RSA_2048", "ENCRYPT_DECRYPT", "kms:Encrypt")}[call]
    policy = _policy(account, [
        {"Sid": "allow", "Effect": "Allow", "Principal": {"AWS": bob}, "Action": action, "Resource": "*",
         "Condition": {"StringEquals": {condition_key: allowed}}},
        {"Sid": "deny", "Effect": "Deny", "Principal": {"AWS": bob}, "Action": action, "Resource": "*",
         "Condition": {"StringEquals": {condition_key: denied or "NEVER"}}},
    ])
    key = sim.kms.create_key(key_spec=spec, key_usage=usage, policy=policy).arn
    as_bob = sim.as_principal(bob).kms

    def run(value: str) -> None:
        if call == "sign":
            algorithm = value if condition_key == "kms:SigningAlgorithm" else "RSASSA_PSS_SHA_256"
            mtype = value if condition_key == "kms:MessageType" else "RAW"
            as_bob.sign(key_id=key, message=b"m" * (32 if mtype == "DIGEST" else 1), message_type=mtype,
                        signing_algorithm=algorithm)
        elif call == "mac":
            as_bob.generate_mac(key_id=key, message=b"m", mac_algorithm=value)
        elif call == "pair":
            as_bob.generate_data_key_pair(key_id=key, key_pair_spec=value)
        else:
            as_bob.encrypt(key_id=key, plaintext=b"m", encryption_algorithm=value)

    run(allowed)
    if denied is not None:
        with pytest.raises(AccessDeniedException, match="explicit deny"):
            run(denied)


def test_import_condition_keys(sim: Simulation, bob: str) -> None:
    policy = _policy("123456789012", [
        {"Sid": "import", "Effect": "Allow", "Principal": {"AWS": bob},
         "Action": ["kms:GetParametersForImport", "kms:ImportKeyMaterial"], "Resource": "*"},
        {"Sid": "no-sha1", "Effect": "Deny", "Principal": {"AWS": bob}, "Action": "kms:GetParametersForImport",
         "Resource": "*", "Condition": {"StringEquals": {"kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1"}}},
        {"Sid": "must-expire", "Effect": "Deny", "Principal": {"AWS": bob}, "Action": "kms:ImportKeyMaterial",
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}}},
    ])
    sim2 = Simulation()  # unseeded: fast wrapping keys
    bob2 = sim2.iam.create_user(user_name="Bob").arn
    key = sim2.kms.create_key(origin="EXTERNAL", policy=policy.replace(bob, bob2)).arn
    as_bob = sim2.as_principal(bob2).kms
    with pytest.raises(AccessDeniedException):
        as_bob.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_1",
                                         wrapping_key_spec="RSA_2048")
    params = as_bob.get_parameters_for_import(key_id=key, wrapping_algorithm="RSAES_OAEP_SHA_256",
                                              wrapping_key_spec="RSA_2048")
    public = serialization.load_der_public_key(params.public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    wrapped = public.encrypt(os.urandom(32), padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        as_bob.import_key_material(key_id=key, import_token=params.import_token, encrypted_key_material=wrapped,
                                   expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert sim2.kms.describe_key(key_id=key).key_state == "PendingImport"
    when = sim2.clock.now().replace(microsecond=0)
    as_bob.import_key_material(key_id=key, import_token=params.import_token, encrypted_key_material=wrapped,
                               valid_to=when + timedelta(days=1))
    assert sim2.kms.describe_key(key_id=key).key_state == "Enabled"
