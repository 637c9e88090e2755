"""Reading the trace as a conversation: one reader for narration and diagrams."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.clock import Clock
from simulator.faults import EC2_OPERATIONS, KMS_OPERATIONS
from simulator.present.explain import show_grants
from simulator.present.mermaid import sequence_diagram
from simulator.present.narrate import Narrator
from simulator.present.participants import Conversation, callee_of
from simulator.trace import Trace

KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WS_ROLE = "arn:aws:sts::123456789012:assumed-role/aws:workspaces-infrastructure/workspaces"
EBS_ROLE = "arn:aws:sts::123456789012:assumed-role/aws:ec2-infrastructure/ebs"
WS = "ws-abc123def"
VOL = "vol-0123456789abcdef0"


@pytest.mark.parametrize("operation", KMS_OPERATIONS)
def test_every_kms_operation_the_faults_know_is_addressed_to_kms(operation: str) -> None:
    trace = Trace(Clock())
    trace.record("arn:aws:iam::123456789012:user/Alice", operation, "-")
    assert callee_of(trace.events()[0]) == "KMS"


@pytest.mark.parametrize("operation", EC2_OPERATIONS)
def test_every_ebs_operation_the_faults_know_is_addressed_to_ebs(operation: str) -> None:
    trace = Trace(Clock())
    trace.record("arn:aws:iam::123456789012:user/Alice", operation, "-")
    assert callee_of(trace.events()[0]) == "EBS"


def _launch_like(trace: Trace, *, rebuild: bool = False) -> None:
    if rebuild:
        trace.record("WorkSpaces", "StateChange", WS, workspace_id=WS,
                     old_state="AVAILABLE", new_state="REBUILDING")
    trace.record("EBS", "GenerateDataKeyWithoutPlaintext", VOL, step=3, workspace_id=WS,
                 kms_key=KEY, caller=WS_ROLE)
    trace.record("KMS", "GenerateDataKeyWithoutPlaintext", KEY, step=4, workspace_id=WS,
                 caller=WS_ROLE, invoked_by="ec2.amazonaws.com", data_key_bytes=64)
    trace.record("EBS", "StoreEncryptedDataKey", VOL, step=8, workspace_id=WS, caller=WS_ROLE)
    trace.record("KMS", "Decrypt", KEY, step=6, workspace_id=WS, caller=EBS_ROLE)
    trace.record("EBS", "DecryptDataKey", VOL, step=5, workspace_id=WS, caller=EBS_ROLE)
    trace.record("EBS", "VolumeIoReady", VOL, step=7, workspace_id=WS, caller=WS_ROLE)
    trace.record("KMS", "RetireGrant", KEY, step=9, workspace_id=WS, caller=EBS_ROLE)


def test_kms_answers_steps_4_and_6_and_ebs_does_steps_7_and_8_itself() -> None:
    trace = Trace(Clock())
    _launch_like(trace)
    conversation = Conversation()
    said = [(line.step, line.kind, line.caller, line.callee)
            for event in trace.events() for line in conversation.read(event)]
    assert said[:6] == [
        (3, "call", "EBS", "KMS"), (4, "reply", "KMS", "EBS"), (8, "self", "EBS", "EBS"),
        (5, "call", "EBS", "KMS"), (6, "reply", "KMS", "EBS"), (7, "self", "EBS", "EBS")]


def test_grants_retired_outside_a_terminate_are_not_step_9() -> None:
    trace = Trace(Clock())
    _launch_like(trace, rebuild=True)
    conversation = Conversation()
    steps = [line.step for event in trace.events() for line in conversation.read(event)
             if event.action == "RetireGrant"]
    assert steps == [None]
    assert "Step 9" not in sequence_diagram(trace.events())


def test_an_unencrypted_workspace_has_no_steps() -> None:
    trace = Trace(Clock())
    trace.record("WorkSpaces", "CreateWorkspaces", WS, workspace_id=WS,
                 root_volume_encryption_enabled=False, user_volume_encryption_enabled=False)
    trace.record("EBS", "CreateVolume", VOL, step=2, workspace_id=WS, encrypted=False)
    trace.record("EBS", "VolumeIoReady", VOL, step=7, workspace_id=WS, volume_cipher="none")
    conversation = Conversation()
    assert [line.step for event in trace.events() for line in conversation.read(event)] == [
        None, None, None]


def test_the_diagram_draws_kms_answers_as_replies_and_ebs_work_as_its_own() -> None:
    trace = Trace(Clock())
    _launch_like(trace)
    source = sequence_diagram(trace.events())
    assert "KMS-->>EBS: encrypted data key only" in source
    assert "KMS-->>EBS: plaintext data key" in source
    assert "EBS->>EBS: VolumeIoReady" in source
    assert "WorkSpaces->>EBS: VolumeIoReady" not in source


def test_show_grants_lists_every_page_of_grants() -> None:
    sim = Simulation(seed=3)
    key = sim.kms.create_key().arn
    for n in range(120):  # ListGrants answers 50 a page unless asked for more
        sim.kms.create_grant(key_id=key, grantee_principal=f"arn:aws:iam::123456789012:user/u{n}",
                             operations=["Decrypt"])
    out = Narrator.silent()
    shown = show_grants(out, sim, key)
    assert len(shown) == 120
    assert sum(line.startswith("   grant ") for line in out.transcript) == 120
