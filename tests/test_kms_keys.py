"""Key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/Disable, deletion, tags, key specs."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import (
    AwsError,
    DisabledException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KMSInvalidStateException,
    NotFoundException,
    TagException,
    ValidationException,
)
from tests.conftest import kms_fingerprint


def test_create_key_defaults_to_an_enabled_symmetric_customer_managed_key(sim: Simulation) -> None:
    md = sim.kms.create_key(description="ws key")
    assert md.key_state == "Enabled" and md.enabled
    assert md.key_spec == "SYMMETRIC_DEFAULT" and md.key_usage == "ENCRYPT_DECRYPT"
    assert md.key_manager == "CUSTOMER" and md.origin == "AWS_KMS"
    assert md.arn == f"arn:aws:kms:us-west-2:123456789012:key/{md.key_id}"
    assert md.encryption_algorithms == ("SYMMETRIC_DEFAULT",)
    assert md.current_key_material_id is not None and len(md.current_key_material_id) == 64
    assert md.deletion_date is None and md.description == "ws key"


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "SIGN_VERIFY"), ("RSA_4096", "ENCRYPT_DECRYPT"),
                                        ("ECC_NIST_P256", "SIGN_VERIFY"), ("HMAC_256", "GENERATE_VERIFY_MAC")])
def test_asymmetric_and_hmac_keys_are_created_with_their_usage(sim: Simulation, spec: str, usage: str) -> None:
    md = sim.kms.create_key(key_spec=spec, key_usage=usage)
    assert (md.key_spec, md.key_usage) == (spec, usage)
    assert md.current_key_material_id is None


def test_non_symmetric_key_without_key_usage_is_a_validation_error(sim: Simulation) -> None:
    with pytest.raises(ValidationException, match="You must specify a KeyUsage value"):
        sim.kms.create_key(key_spec="RSA_2048")


def test_incompatible_key_usage_is_refused(sim: Simulation) -> None:
    with pytest.raises(ValidationException):
        sim.kms.create_key(key_spec="HMAC_256", key_usage="ENCRYPT_DECRYPT")


def test_data_keys_from_sign_verify_key_are_invalid_key_usage(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY")
    with pytest.raises(InvalidKeyUsageException, match="SIGN_VERIFY which is not valid for Encrypt"):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    with pytest.raises(InvalidKeyUsageException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256")


def test_data_keys_from_asymmetric_encryption_key_are_invalid_key_usage(sim: Simulation) -> None:
    key = sim.kms.create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT")
    with pytest.raises(InvalidKeyUsageException, match="RSA_2048"):
        sim.kms.generate_data_key_without_plaintext(key_id=key.arn, number_of_bytes=64)
    # RSA encryption needs an explicit RSAES_OAEP algorithm (the default is SYMMETRIC_DEFAULT).
    with pytest.raises(InvalidKeyUsageException, match="SYMMETRIC_DEFAULT"):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")


def test_describe_key_accepts_all_four_key_id_forms(sim: Simulation) -> None:
    md = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/ws", target_key_id=md.key_id)
    forms = [md.key_id, md.arn, "alias/ws", "arn:aws:kms:us-west-2:123456789012:alias/ws"]
    assert {sim.kms.describe_key(key_id=f).arn for f in forms} == {md.arn}


def test_operations_taking_only_key_ids_refuse_aliases(sim: Simulation) -> None:
    md = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/ws", target_key_id=md.key_id)
    with pytest.raises(NotFoundException, match="Invalid keyId 'alias/ws'"):
        sim.kms.disable_key(key_id="alias/ws")
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Enabled"


def test_unknown_key_is_not_found_with_the_key_arn_in_the_message(sim: Simulation) -> None:
    kid = "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(NotFoundException) as err:
        sim.kms.describe_key(key_id=kid)
    assert err.value.message == f"Key 'arn:aws:kms:us-west-2:123456789012:key/{kid}' does not exist"


@pytest.mark.parametrize("bad", ["not-a-key", "arn:aws:kms:us-west-2:123456789012:foo/bar", "mrk-123"])
def test_malformed_key_ids_are_not_found(sim: Simulation, bad: str) -> None:
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id=bad)


def test_key_arn_from_another_region_is_invalid_arn(sim: Simulation) -> None:
    md = sim.kms.create_key()
    with pytest.raises(NotFoundException, match="Invalid arn eu-west-1"):
        sim.kms.describe_key(key_id=md.arn.replace("us-west-2", "eu-west-1"))


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"], ""])
def test_key_id_of_the_wrong_type_is_a_validation_error(sim: Simulation, bad: object) -> None:
    with pytest.raises(ValidationException):
        sim.kms.describe_key(key_id=bad)  # type: ignore[arg-type]


def test_disable_and_enable_are_idempotent(sim: Simulation) -> None:
    md = sim.kms.create_key()
    sim.kms.disable_key(key_id=md.key_id)
    sim.kms.disable_key(key_id=md.key_id)
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Disabled"
    assert not sim.kms.describe_key(key_id=md.key_id).enabled
    sim.kms.enable_key(key_id=md.key_id)
    sim.kms.enable_key(key_id=md.key_id)
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Enabled"


def test_disabled_key_refuses_cryptographic_use_with_the_arn(sim: Simulation) -> None:
    md = sim.kms.create_key()
    sim.kms.disable_key(key_id=md.arn)
    with pytest.raises(DisabledException) as err:
        sim.kms.generate_data_key(key_id=md.key_id, key_spec="AES_256")
    assert err.value.message == f"{md.arn} is disabled."


def test_schedule_key_deletion_defaults_to_30_days_and_blocks_use(sim: Simulation) -> None:
    md = sim.kms.create_key()
    res = sim.kms.schedule_key_deletion(key_id=md.key_id)
    assert res.pending_window_in_days == 30 and res.key_state == "PendingDeletion"
    assert (res.deletion_date - sim.clock.now()).days == 30
    desc = sim.kms.describe_key(key_id=md.key_id)
    assert desc.deletion_date == res.deletion_date and desc.pending_deletion_window_in_days == 30
    with pytest.raises(KMSInvalidStateException, match=r"is pending deletion\."):
        sim.kms.encrypt(key_id=md.key_id, plaintext=b"x")
    with pytest.raises(KMSInvalidStateException):
        sim.kms.enable_key(key_id=md.key_id)
    with pytest.raises(KMSInvalidStateException):
        sim.kms.schedule_key_deletion(key_id=md.key_id, pending_window_in_days=7)


@pytest.mark.parametrize("days", [6, 31, 0])
def test_pending_window_outside_7_to_30_is_refused(sim: Simulation, days: int) -> None:
    md = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.schedule_key_deletion(key_id=md.key_id, pending_window_in_days=days)
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Enabled"


def test_cancel_key_deletion_returns_the_key_to_disabled(sim: Simulation) -> None:
    md = sim.kms.create_key()
    sim.kms.schedule_key_deletion(key_id=md.key_id, pending_window_in_days=7)
    assert sim.kms.cancel_key_deletion(key_id=md.key_id) == md.arn
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Disabled"
    sim.advance(seconds=8 * 86400)
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Disabled"


def test_cancel_key_deletion_of_a_key_not_pending_is_invalid_state(sim: Simulation) -> None:
    md = sim.kms.create_key()
    with pytest.raises(KMSInvalidStateException) as caught:
        sim.kms.cancel_key_deletion(key_id=md.key_id)
    assert caught.value.message == f"{md.arn} is not pending deletion."


def test_key_is_deleted_with_its_aliases_when_the_window_ends(sim: Simulation) -> None:
    md = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=md.arn, plaintext=b"secret").ciphertext_blob
    sim.kms.create_alias(alias_name="alias/doomed", target_key_id=md.key_id)
    sim.kms.schedule_key_deletion(key_id=md.key_id, pending_window_in_days=7)
    sim.advance(seconds=7 * 86400 - 1)
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "PendingDeletion"
    sim.advance(seconds=1)
    with pytest.raises(NotFoundException, match="does not exist"):
        sim.kms.describe_key(key_id=md.key_id)
    assert "alias/doomed" not in {a.alias_name for a in sim.kms.list_aliases().aliases}
    with pytest.raises(NotFoundException):
        sim.kms.decrypt(ciphertext_blob=blob)
    delete_events = sim.audit.events(event_name="DeleteKey")
    assert len(delete_events) == 1 and delete_events[0]["eventType"] == "AwsServiceEvent"
    assert delete_events[0]["resources"][0]["ARN"] == md.arn


def test_list_keys_pages_with_markers(sim: Simulation) -> None:
    made = [sim.kms.create_key().key_id for _ in range(5)]
    page1 = sim.kms.list_keys(limit=2)
    assert page1.truncated and page1.next_marker is not None
    page2 = sim.kms.list_keys(limit=2, marker=page1.next_marker)
    page3 = sim.kms.list_keys(limit=2, marker=page2.next_marker)
    assert not page3.truncated and page3.next_marker is None
    assert [k.key_id for k in page1.keys + page2.keys + page3.keys] == made


def test_list_keys_bad_marker_and_limit(sim: Simulation) -> None:
    with pytest.raises(InvalidMarkerException):
        sim.kms.list_keys(marker="garbage")
    with pytest.raises(ValidationException):
        sim.kms.list_keys(limit=0)
    with pytest.raises(ValidationException):
        sim.kms.list_keys(limit=1001)


def test_update_key_description(sim: Simulation) -> None:
    md = sim.kms.create_key(description="old")
    sim.kms.update_key_description(key_id=md.key_id, description="new")
    assert sim.kms.describe_key(key_id=md.key_id).description == "new"
    with pytest.raises(ValidationException):
        sim.kms.update_key_description(key_id=md.key_id, description="x" * 8193)


def test_tags_are_added_listed_and_removed(sim: Simulation) -> None:
    md = sim.kms.create_key(tags=[{"tag_key": "team", "tag_value": "euc"}])
    sim.kms.tag_resource(key_id=md.key_id, tags=[{"tag_key": "env", "tag_value": "prod"}])
    tags = {t.tag_key: t.tag_value for t in sim.kms.list_resource_tags(key_id=md.key_id).tags}
    assert tags == {"team": "euc", "env": "prod"}
    sim.kms.untag_resource(key_id=md.key_id, tag_keys=["team"])
    assert [t.tag_key for t in sim.kms.list_resource_tags(key_id=md.key_id).tags] == ["env"]


def test_aws_prefixed_tags_are_reserved(sim: Simulation) -> None:
    md = sim.kms.create_key()
    with pytest.raises(TagException, match="Tags beginning with aws: are reserved"):
        sim.kms.tag_resource(key_id=md.key_id, tags=[{"tag_key": "aws:x", "tag_value": "y"}])


@pytest.mark.parametrize("tags", [[{"key": "a"}], "team=euc", [{"tag_key": 1, "tag_value": "v"}]])
def test_malformed_tags_are_a_validation_error_and_change_nothing(sim: Simulation, tags: object) -> None:
    md = sim.kms.create_key()
    before = kms_fingerprint(sim)
    with pytest.raises(ValidationException):
        sim.kms.tag_resource(key_id=md.key_id, tags=tags)  # type: ignore[arg-type]
    assert kms_fingerprint(sim) == before


def test_failed_create_key_creates_nothing(sim: Simulation) -> None:
    before = kms_fingerprint(sim)
    for bad in [dict(key_spec="NOPE"), dict(description=5), dict(key_usage="SIGN_VERIFY"),
                dict(policy="{not json"), dict(tags=[{"tag_key": "aws:x", "tag_value": ""}])]:
        with pytest.raises(AwsError) as err:
            sim.kms.create_key(**bad)  # type: ignore[arg-type]
        assert type(err.value).__module__ == "simulator.errors"
    assert kms_fingerprint(sim) == before
