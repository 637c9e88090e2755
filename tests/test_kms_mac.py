"""GenerateMac and VerifyMac through KMS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import (
    DisabledException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    ValidationException,
)
from tests.conftest import kms_fingerprint


@pytest.mark.parametrize("spec", ["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"])
def test_each_hmac_key_makes_and_checks_its_macs(sim: Simulation, spec: str) -> None:
    key = sim.kms.create_key(key_spec=spec, key_usage="GENERATE_VERIFY_MAC")
    (algorithm,) = key.mac_algorithms
    out = sim.kms.generate_mac(key_id=key.arn, message=b"token", mac_algorithm=algorithm)
    assert out.key_id == key.arn and len(out.mac) == int(spec.split("_")[1]) // 8
    ok = sim.kms.verify_mac(key_id=key.arn, message=b"token", mac=out.mac, mac_algorithm=algorithm)
    assert ok.mac_valid and ok.mac_algorithm == algorithm
    other = "HMAC_SHA_256" if algorithm != "HMAC_SHA_256" else "HMAC_SHA_512"
    with pytest.raises(InvalidKeyUsageException, match="does not support the MAC algorithm"):
        sim.kms.generate_mac(key_id=key.arn, message=b"token", mac_algorithm=other)


@settings(max_examples=25, deadline=None)
@given(message=st.binary(min_size=1, max_size=4096), other=st.binary(min_size=1, max_size=64))
def test_a_mac_verifies_only_for_its_own_message_and_key(message: bytes, other: bytes) -> None:
    sim = Simulation(seed=3)
    a = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC").arn
    b = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC").arn
    mac = sim.kms.generate_mac(key_id=a, message=message, mac_algorithm="HMAC_SHA_256").mac
    sim.kms.verify_mac(key_id=a, message=message, mac=mac, mac_algorithm="HMAC_SHA_256")
    with pytest.raises(KMSInvalidMacException):
        sim.kms.verify_mac(key_id=b, message=message, mac=mac, mac_algorithm="HMAC_SHA_256")
    if other != message:
        with pytest.raises(KMSInvalidMacException):
            sim.kms.verify_mac(key_id=a, message=other, mac=mac, mac_algorithm="HMAC_SHA_256")


def test_errors_and_bad_input_change_nothing(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    symmetric = sim.kms.create_key()
    before = kms_fingerprint(sim)
    with pytest.raises(InvalidKeyUsageException, match="ENCRYPT_DECRYPT which is not valid for GenerateMac"):
        sim.kms.generate_mac(key_id=symmetric.arn, message=b"m", mac_algorithm="HMAC_SHA_256")
    for kwargs in (dict(message=b"", mac_algorithm="HMAC_SHA_256"),
                   dict(message=b"m" * 4097, mac_algorithm="HMAC_SHA_256"),
                   dict(message=b"m", mac_algorithm="HMAC_MD5"),
                   dict(message=["m"], mac_algorithm="HMAC_SHA_256")):
        with pytest.raises(ValidationException):
            sim.kms.generate_mac(key_id=key.arn, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationException):
        sim.kms.verify_mac(key_id=key.arn, message=b"m", mac=b"", mac_algorithm="HMAC_SHA_256")
    assert kms_fingerprint(sim) == before
    sim.kms.disable_key(key_id=key.arn)
    with pytest.raises(DisabledException):
        sim.kms.generate_mac(key_id=key.arn, message=b"m", mac_algorithm="HMAC_SHA_256")


def test_audit_names_the_algorithm_never_the_message_or_mac(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="HMAC_512", key_usage="GENERATE_VERIFY_MAC")
    mac = sim.kms.generate_mac(key_id=key.arn, message=b"session cookie value",
                               mac_algorithm="HMAC_SHA_512").mac
    [event] = sim.audit.events(event_name="GenerateMac")
    assert event["requestParameters"] == {"keyId": key.arn, "macAlgorithm": "HMAC_SHA_512"}
    text = sim.audit.to_jsonl() + sim.trace.to_json()
    assert "session cookie" not in text and mac.hex() not in text
