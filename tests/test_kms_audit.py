"""The CloudTrail-shaped audit trail: every call, success or failure, never a secret."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import structlog

from simulator import Simulation
from simulator.errors import DisabledException, ValidationException


def test_every_call_is_recorded_with_the_cloudtrail_envelope(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.generate_data_key(key_id=key.key_id, encryption_context={"a": "b"}, key_spec="AES_256")
    rec = sim.audit.events(event_name="GenerateDataKey")[0]
    assert rec["eventSource"] == "kms.amazonaws.com" and rec["eventVersion"] == "1.08"
    assert rec["awsRegion"] == "us-west-2" and rec["recipientAccountId"] == "123456789012"
    assert rec["eventTime"] == "2026-01-05T09:00:00Z"
    assert rec["readOnly"] is True and rec["eventType"] == "AwsApiCall"
    assert rec["requestParameters"] == {"keyId": key.key_id, "encryptionContext": {"a": "b"},
                                        "keySpec": "AES_256"}
    assert rec["resources"] == [{"accountId": "123456789012", "type": "AWS::KMS::Key", "ARN": key.arn}]
    assert rec["responseElements"] is None
    assert rec["userIdentity"]["type"] == "Root"
    assert "errorCode" not in rec


def test_key_id_is_logged_as_sent_and_the_resource_as_the_arn(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    sim.kms.encrypt(key_id="alias/app", plaintext=b"x")
    rec = sim.audit.events(event_name="Encrypt")[0]
    assert rec["requestParameters"]["keyId"] == "alias/app"
    assert rec["resources"][0]["ARN"] == key.arn


def test_failures_are_recorded_with_error_code_and_message(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    rec = sim.audit.events(event_name="Encrypt", error_code="DisabledException")[0]
    assert rec["errorMessage"] == f"{key.arn} is disabled."


def test_validation_failures_are_recorded_too(sim: Simulation) -> None:
    with pytest.raises(ValidationException):
        sim.kms.generate_random(number_of_bytes=0)
    assert sim.audit.events(event_name="GenerateRandom")[0]["errorCode"] == "ValidationException"


def test_create_grant_logs_the_grant_id_but_never_the_token(sim: Simulation) -> None:
    key = sim.kms.create_key()
    res = sim.kms.create_grant(key_id=key.key_id, grantee_principal="arn:aws:iam::123456789012:user/Bob",
                               operations=["Decrypt"])
    rec = sim.audit.events(event_name="CreateGrant")[0]
    assert rec["responseElements"] == {"grantId": res.grant_id}
    assert res.grant_token not in json.dumps(sim.audit.events())
    sim.kms.retire_grant(grant_token=res.grant_token)
    retire = sim.audit.events(event_name="RetireGrant")[0]
    assert retire["requestParameters"] is None
    assert retire["additionalEventData"] == {"grantId": res.grant_id}
    assert res.grant_token not in json.dumps(sim.audit.events())


def test_jsonl_sink_writes_every_record(tmp_path: Path, sim: Simulation) -> None:
    path = tmp_path / "audit.jsonl"
    sim.audit.write_jsonl(path)
    key = sim.kms.create_key()
    sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    sim.audit.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["eventName"] for r in lines] == ["CreateKey", "Encrypt"]


def test_user_processors_run_after_redaction(sim: Simulation) -> None:
    seen: list[dict[str, object]] = []

    def spy(_logger: object, _name: str, ev: dict[str, object]) -> dict[str, object]:
        seen.append(dict(ev))
        ev["customTag"] = "x"
        return ev

    sim.audit.add_processor(spy)
    key = sim.kms.create_key()
    sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    assert seen[-1]["eventName"] == "Encrypt"
    assert sim.audit.events(event_name="Encrypt")[0]["customTag"] == "x"


def test_odd_request_values_stay_json_serialisable(sim: Simulation) -> None:
    with pytest.raises(ValidationException):
        sim.kms.describe_key(key_id=object())  # type: ignore[arg-type]
    json.dumps(sim.audit.events())


def test_request_and_event_ids_are_distinct_uuids_that_replay_with_the_seed() -> None:
    def ids(seed: int) -> list[str]:
        sim = Simulation(seed=seed)
        key = sim.kms.create_key()
        for _ in range(20):
            sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
        return [i for r in sim.audit.events() for i in (r["requestID"], r["eventID"])]

    first = ids(3)
    assert len(set(first)) == len(first)
    for value in first:
        assert str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4
    assert ids(3) == first and ids(4) != first


def test_a_user_processor_can_drop_an_event_as_structlog_filters_do(sim: Simulation) -> None:
    def only_errors(_logger: object, _name: str, ev: dict[str, object]) -> dict[str, object]:
        if "errorCode" not in ev:
            raise structlog.DropEvent
        return ev

    sim.audit.add_processor(only_errors)
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.arn)
    with pytest.raises(DisabledException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    assert [r["eventName"] for r in sim.audit.events()] == ["Encrypt"]


def test_records_keep_cloudtrails_field_order(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.arn)
    with pytest.raises(DisabledException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x")
    failed = sim.audit.events(event_name="Encrypt")[0]
    assert list(failed) == [
        "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
        "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
        "responseElements", "requestID", "eventID", "readOnly", "resources", "eventType",
        "managementEvent", "recipientAccountId", "eventCategory"]


def test_every_record_gets_fresh_nested_dicts(sim: Simulation) -> None:
    key = sim.kms.create_key()
    ctx = {"a": "b"}
    sim.kms.generate_data_key(key_id=key.arn, encryption_context=ctx, key_spec="AES_256")
    sim.kms.generate_data_key(key_id=key.arn, encryption_context=ctx, key_spec="AES_256")
    first, second = sim.audit.events(event_name="GenerateDataKey")
    for field in ("userIdentity", "requestParameters", "resources"):
        assert first[field] == second[field] and first[field] is not second[field]
    assert first["resources"][0] is not second["resources"][0]
    assert first["requestParameters"]["encryptionContext"] is not ctx
    ctx["a"] = "changed"  # the caller's dict is not the record's
    assert first["requestParameters"]["encryptionContext"] == {"a": "b"}


def test_hook_handlers_keep_the_parameters_they_were_given(sim: Simulation) -> None:
    # The audit record redacts a copy when hook handlers have seen the parameters.
    seen: list[dict[str, object]] = []
    sim.runtime.hooks.register("before-call.kms.GenerateDataKey",
                               lambda **kw: seen.append(kw["params"]))
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256",
                                  encryption_context={"k": b"secret!"})  # type: ignore[dict-item]
    rec = sim.audit.events(event_name="GenerateDataKey")[0]
    assert rec["requestParameters"]["encryptionContext"] == {"k": "<redacted 7>"}
    assert seen[0]["encryptionContext"] == {"k": b"secret!"}
    assert rec["requestParameters"] is not seen[0]


def test_records_never_hold_what_callers_sent_unredacted(sim: Simulation) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.decrypt(ciphertext_blob=b"x" * 80, key_id=b"raw-bytes-key-id",  # type: ignore[arg-type]
                        encryption_context={"plaintext": "abc", "ok": "v"})
    sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256", encryption_context={"dataKey": "v"})
    failed, ok = sim.audit.events(event_name="Decrypt")[0], sim.audit.events(event_name="GenerateDataKey")[0]
    assert failed["requestParameters"] == {"keyId": "<redacted 16>",
                                           "encryptionContext": {"plaintext": "<redacted 3>", "ok": "v"},
                                           "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert ok["requestParameters"]["encryptionContext"] == {"dataKey": "<redacted 1>"}
    assert "ciphertextBlob" not in failed["requestParameters"]


def test_audit_ids_come_from_their_own_streams_and_shift_no_other_id() -> None:
    quiet, busy = Simulation(seed=5), Simulation(seed=5)
    for sim in (quiet, busy):
        sim.kms.create_key()
    for _ in range(5):
        busy.kms.list_keys()  # five more audit records
    assert quiet.runtime.ids.uuid() == busy.runtime.ids.uuid()
    assert quiet.kms.create_key().key_id == busy.kms.create_key().key_id


def test_a_processor_or_sink_that_is_not_callable_is_refused_when_added(sim: Simulation) -> None:
    with pytest.raises(ValidationException, match="processor must be callable"):
        sim.audit.add_processor(5)  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="sink must be callable"):
        sim.audit.subscribe("audit.jsonl")  # type: ignore[arg-type]
    sim.kms.create_key()  # the chain is unchanged: KMS calls still record
    assert [r["eventName"] for r in sim.audit.events()] == ["CreateKey"]
