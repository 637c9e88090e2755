"""One encrypted launch and terminate, step by step: the trace (steps 1-9 with actor, operation,
key ARN and encryption context) and the audit trail (exactly the KMS calls the steps imply)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from workspaces_support import alice_world

from simulator.iam.principals import ebs_identity_arn, workspaces_identity_arn
from simulator.testing.world import WorkspacesWorld

ACCOUNT = "123456789012"
WS_IDENTITY = workspaces_identity_arn(ACCOUNT)
EBS_IDENTITY = ebs_identity_arn(ACCOUNT)


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """Launch jdoe's WorkSpace (both volumes encrypted), then terminate it."""
    fleet = alice_world()
    sim = fleet.sim
    first_audit = len(sim.audit)
    ws = fleet.launch("jdoe")
    root, user = fleet.root_volume(ws), fleet.user_volume(ws)
    launch_audit = sim.audit.events()[first_audit:]
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    return {"fleet": fleet, "ws": ws, "root": root, "user": user,
            "trace": sim.trace.events(workspace_id=ws),
            "audit": sim.audit.events()[first_audit:], "launch_audit": launch_audit}


def _compress(steps: list[int]) -> list[int]:
    out: list[int] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return out


def test_every_step_from_1_to_9_is_traced_in_the_order_it_happens(walk: dict[str, Any]) -> None:
    steps = [e.step for e in walk["trace"] if e.step is not None]
    assert set(steps) == set(range(1, 10))
    first_seen = list(dict.fromkeys(steps))
    # EBS stores the encrypted data key (8) when it creates the volume, before the attach (5-7).
    assert first_seen == [1, 2, 3, 4, 8, 5, 6, 7, 9]
    # Per volume: create (2), request and receive the data key (3, 4), EBS's grant (2), store
    # it (8); later attach (5), KMS decrypts (6), EBS acknowledges (5), I/O ready (7).
    assert _compress(steps) == [1, 2, 3, 4, 2, 8, 2, 3, 4, 2, 8, 5, 6, 5, 7, 5, 6, 5, 7, 9]


def test_step_1_is_the_admin_through_workspaces_granting_the_workspaces_identity(
        walk: dict[str, Any]) -> None:
    fleet: WorkspacesWorld = walk["fleet"]
    (kms_grant,) = [e for e in walk["trace"] if e.step == 1 and e.actor == "KMS"]
    assert kms_grant.action == "CreateGrant"
    assert kms_grant.target == fleet.key_arn
    detail = kms_grant.detail
    assert detail["caller"] == fleet.admin_arn
    assert detail["invoked_by"] == "workspaces.amazonaws.com"
    assert detail["grantee"] == WS_IDENTITY
    assert detail["retiring_principal"] == WS_IDENTITY
    assert set(detail["operations"]) == {
        "CreateGrant", "GenerateDataKeyWithoutPlaintext", "Decrypt", "ReEncryptFrom",
        "ReEncryptTo", "DescribeKey", "RetireGrant"}
    sid_directory = f"[{fleet.sids['jdoe']}]@[{fleet.directory_id}]"
    assert detail["constraints"] == {
        "encryption_context_subset": {"aws:workspaces:sid-directoryid": sid_directory}}


def test_steps_2_to_4_and_8_create_each_volume_under_the_two_pair_context(
        walk: dict[str, Any]) -> None:
    fleet: WorkspacesWorld = walk["fleet"]
    for volume in (walk["root"], walk["user"]):
        context = fleet.context_of("jdoe", volume)
        created = [e for e in walk["trace"] if e.step == 2 and e.actor == "EBS"
                   and e.action == "CreateVolume" and e.target == volume]
        assert len(created) == 1
        ebs_grant = [e for e in walk["trace"] if e.step == 2 and e.actor == "EBS"
                     and e.action == "CreateGrant" and e.target == volume]
        assert ebs_grant[0].detail["grantee"] == EBS_IDENTITY
        assert ebs_grant[0].detail["encryption_context_subset"] == context
        generated = [e for e in walk["trace"] if e.step == 4 and e.actor == "KMS"
                     and e.action == "GenerateDataKeyWithoutPlaintext"
                     and e.detail.get("encryption_context") == context]
        assert len(generated) == 1
        assert generated[0].target == fleet.key_arn
        assert generated[0].detail["caller"] == WS_IDENTITY
        assert generated[0].detail["invoked_by"] == "ec2.amazonaws.com"
        stored = [e for e in walk["trace"] if e.step == 8 and e.target == volume]
        assert stored[0].actor == "EBS"
        assert stored[0].detail["encryption_context"] == context
        assert stored[0].detail["kms_key"] == fleet.key_arn
        (requested,) = [e for e in walk["trace"] if e.step == 3 and e.target == volume]
        assert requested.actor == "EBS"
        assert "GenerateDataKeyWithoutPlaintext" in (requested.action,
                                                     requested.detail.get("operation"))
        assert requested.detail["encryption_context"] == context
        assert requested.detail["kms_key"] == fleet.key_arn
        assert requested.detail["caller"] == WS_IDENTITY


def test_steps_5_to_7_attach_each_volume_decrypting_as_the_ebs_identity(
        walk: dict[str, Any]) -> None:
    fleet: WorkspacesWorld = walk["fleet"]
    for volume in (walk["root"], walk["user"]):
        context = fleet.context_of("jdoe", volume)
        attach = [e for e in walk["trace"] if e.step == 5 and e.target == volume]
        assert [e.action for e in attach] == ["AttachVolume", "DecryptDataKey"]
        assert attach[1].detail["encryption_context"] == context
        decrypt = [e for e in walk["trace"] if e.step == 6 and e.actor == "KMS"
                   and e.detail.get("encryption_context") == context]
        assert len(decrypt) == 1
        assert decrypt[0].action == "Decrypt"
        assert decrypt[0].target == fleet.key_arn
        assert decrypt[0].detail["caller"] == EBS_IDENTITY
        ready = [e for e in walk["trace"] if e.step == 7 and e.target == volume]
        assert [(e.actor, e.action) for e in ready] == [("EBS", "VolumeIoReady")]


def test_step_9_detaches_deletes_and_retires_every_grant(walk: dict[str, Any]) -> None:
    fleet: WorkspacesWorld = walk["fleet"]
    nine = [e for e in walk["trace"] if e.step == 9]
    retired = [e for e in nine if e.actor == "KMS" and e.action == "RetireGrant"]
    assert len(retired) == 3
    assert {e.detail["caller"] for e in retired} == {EBS_IDENTITY, WS_IDENTITY}
    assert {e.target for e in retired} == {fleet.key_arn}
    assert {e.target for e in nine if e.action == "DeleteVolume"} == {walk["root"], walk["user"]}
    assert list(fleet.sim.kms.grants.list(fleet.key_arn)) == []
    assert fleet.sim.ebs.describe_volumes().volumes == ()


def _who(record: dict[str, Any]) -> tuple[str, str | None, str | None]:
    identity = record["userIdentity"]
    return record["eventName"], identity.get("arn"), identity.get("invokedBy")


def test_the_audit_trail_holds_exactly_the_kms_calls_of_the_nine_steps(
        walk: dict[str, Any]) -> None:
    fleet: WorkspacesWorld = walk["fleet"]
    via_ec2 = "ec2.amazonaws.com"
    per_volume_create = [("GenerateDataKeyWithoutPlaintext", WS_IDENTITY, via_ec2),
                         ("CreateGrant", WS_IDENTITY, via_ec2)]
    expected = (
        [("CreateGrant", fleet.admin_arn, "workspaces.amazonaws.com")]    # step 1
        + per_volume_create * 2                                           # steps 2-4, 8
        + [("Decrypt", EBS_IDENTITY, None)] * 2                           # steps 5-6
        + [("RetireGrant", EBS_IDENTITY, None)] * 2                       # step 9 (EBS)
        + [("RetireGrant", WS_IDENTITY, None)]                            # step 9 (WorkSpaces)
    )
    audit = walk["audit"]
    assert [_who(r) for r in audit] == expected
    assert all("errorCode" not in r for r in audit)
    assert {r["resources"][0]["ARN"] for r in audit} == {fleet.key_arn}
    # The encryption context of each data-key call names the user's SID, the directory and
    # the volume.
    contexts = [r["requestParameters"]["encryptionContext"] for r in audit
                if r["eventName"] in ("GenerateDataKeyWithoutPlaintext", "Decrypt")]
    assert contexts == [fleet.context_of("jdoe", v) for v in
                        (walk["root"], walk["user"], walk["root"], walk["user"])]
    step1 = audit[0]["requestParameters"]
    assert step1["granteePrincipal"] == WS_IDENTITY
    assert step1["constraints"] == {"encryptionContextSubset": {
        "aws:workspaces:sid-directoryid": f"[{fleet.sids['jdoe']}]@[{fleet.directory_id}]"}}


def test_no_secret_reaches_the_trace_or_the_audit() -> None:
    fleet = alice_world(seed=9)
    sim = fleet.sim
    ws = fleet.launch()
    # Collect every secret of the run while it is live: grant tokens, encrypted data keys and
    # the plaintext data keys the attachments hold.
    record = sim.workspaces.state.workspaces[ws]
    secrets: list[bytes] = [record.grant_token.encode()] if record.grant_token else []
    assert record.grant_token and record.grant_token not in repr(record)
    for volume_id in (fleet.root_volume(ws), fleet.user_volume(ws)):
        volume = sim._ebs_state.volumes[volume_id]
        secrets.append(volume.grant_token.encode())
        secrets.append(bytes(volume.encrypted_data_key))
        secrets.append(bytes(volume.attachment.plaintext_data_key))
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    dumped = (sim.trace.to_json() + sim.audit.to_jsonl()).encode()
    described = repr(sim.workspaces.describe_workspaces()).encode()
    assert len(secrets) == 7
    for secret in secrets:
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
            assert form not in dumped
            assert form not in described


def test_the_same_seed_replays_the_same_trace() -> None:
    def run() -> str:
        fleet = alice_world(seed=42)
        ws = fleet.launch()
        fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
        fleet.sim.run_until_idle()
        fleet.admin.workspaces.terminate_workspaces(workspace_ids=[ws])
        fleet.sim.run_until_idle()
        return fleet.sim.trace.to_json() + fleet.sim.audit.to_jsonl()

    assert run() == run()
