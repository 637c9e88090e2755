"""The Mermaid sequence diagram, checked for structure (not wording)."""

from __future__ import annotations

import re

from simulator.clock import Clock
from simulator.present.mermaid import sequence_diagram
from simulator.trace import Trace, TraceEvent

KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CTX = {"aws:workspaces:sid-directoryid": "[S-1-5-21-1-2-3-1107]@[d-1234abcd01]",
       "aws:ebs:id": "vol-0123456789abcdef0"}

_PARTICIPANT = re.compile(r"^\s*participant (\w+)(?: as (.+))?$")
_ARROW = re.compile(r"^\s*(\w+)(->>|-->>|-x|--x|->|-->)(\w+): (.+)$")
_NOTE = re.compile(r"^\s*Note over (\w+)(?:,(\w+))?: (.+)$")


def check_structure(source: str) -> dict[str, object]:
    """Parse ``source``; assert every arrow and note uses declared participants only."""
    lines = source.splitlines()
    if lines[0] == "---":  # front matter (the title)
        end = lines.index("---", 1)
        assert all(ln.startswith("title: ") for ln in lines[1:end])
        lines = lines[end + 1:]
    assert lines[0] == "sequenceDiagram"
    declared: list[str] = []
    arrows: list[tuple[str, str, str, str]] = []
    steps: list[int] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if m := _PARTICIPANT.match(line):
            assert not arrows, "participants must be declared before the first arrow"
            assert m.group(1) not in declared, f"declared twice: {m.group(1)}"
            declared.append(m.group(1))
        elif m := _ARROW.match(line):
            assert m.group(1) in declared, f"undeclared caller in {line!r}"
            assert m.group(3) in declared, f"undeclared callee in {line!r}"
            assert ";" not in m.group(4) and "#" not in m.group(4)
            arrows.append((m.group(1), m.group(2), m.group(3), m.group(4)))
        elif m := _NOTE.match(line):
            for who in (m.group(1), m.group(2)):
                assert who is None or who in declared, f"undeclared participant in {line!r}"
            if s := re.match(r"Step (\d+)\b", m.group(3)):
                steps.append(int(s.group(1)))
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    return {"declared": declared, "arrows": arrows, "steps": steps}


def nine_step_events() -> list[TraceEvent]:
    trace = Trace(Clock())
    ws = "ws-abc123def"
    trace.record("WorkSpaces", "CreateGrant", KEY, step=1, workspace_id=ws)
    trace.record("WorkSpaces", "CreateVolume", "vol-0123456789abcdef0", step=2, workspace_id=ws)
    trace.record("EBS", "CreateGrant", KEY, step=2, workspace_id=ws)
    trace.record("EBS", "GenerateDataKeyWithoutPlaintext", KEY, step=3, workspace_id=ws,
                 encryption_context=CTX)
    trace.record("KMS", "GenerateDataKeyWithoutPlaintext", KEY, step=4, workspace_id=ws,
                 to="EBS")
    trace.record("WorkSpaces", "AttachVolume", "vol-0123456789abcdef0", step=5, workspace_id=ws)
    trace.record("EBS", "Decrypt", KEY, step=5, workspace_id=ws, encryption_context=CTX)
    trace.record("KMS", "Decrypt", KEY, step=6, workspace_id=ws, to="EBS")
    trace.record("EBS", "io_ready", "vol-0123456789abcdef0", step=7, workspace_id=ws)
    trace.record("EBS", "store_encrypted_key", "vol-0123456789abcdef0", step=8, workspace_id=ws)
    trace.record("Admin", "TerminateWorkspaces", ws, step=9, workspace_id=ws)
    trace.record("WorkSpaces", "RetireGrant", KEY, step=9, workspace_id=ws)
    trace.record("arn:aws:iam::123456789012:user/Alice", "Decrypt", KEY,
                 outcome="AccessDeniedException")
    trace.record("Faults", "DisableKey", KEY)
    return trace.events()


def test_diagram_declares_the_launch_participants_first_in_order() -> None:
    parsed = check_structure(sequence_diagram(nine_step_events()))
    declared = parsed["declared"]
    assert isinstance(declared, list)
    assert declared[:2] == ["Admin", "Alice"]
    assert [d for d in declared if d in ("WorkSpaces", "EBS", "KMS")] == ["WorkSpaces", "EBS",
                                                                          "KMS"]
    assert "Faults" in declared


def test_every_step_one_to_nine_starts_with_a_note() -> None:
    parsed = check_structure(sequence_diagram(nine_step_events()))
    assert parsed["steps"] == list(range(1, 10))


def test_arrows_follow_the_calls_and_failures_end_in_a_cross() -> None:
    parsed = check_structure(sequence_diagram(nine_step_events()))
    arrows = parsed["arrows"]
    assert isinstance(arrows, list)
    pairs = [(a, b) for a, _, b, _ in arrows]
    assert ("EBS", "KMS") in pairs and ("KMS", "EBS") in pairs and ("WorkSpaces", "EBS") in pairs
    assert ("EBS", "EBS") in pairs  # internal work is a self-message
    denied = [a for a in arrows if a[0] == "Alice"]
    assert denied and denied[0][1] == "-x" and "AccessDeniedException" in denied[0][3]


def test_the_encryption_context_keys_appear_without_values() -> None:
    source = sequence_diagram(nine_step_events())
    assert "ctx {workspaces:sid-directoryid, ebs:id}" in source
    assert "S-1-5-21" not in source


def test_labels_never_carry_characters_that_break_mermaid() -> None:
    trace = Trace(Clock())
    trace.record("Admin", "Weird;action#1<b>", "x;y")
    parsed = check_structure(sequence_diagram(trace.events()))
    assert len(parsed["arrows"]) == 1  # type: ignore[arg-type]


def test_odd_actor_names_get_safe_identifiers_and_keep_their_label() -> None:
    trace = Trace(Clock())
    trace.record("Help Desk", "DescribeKey", KEY)
    source = sequence_diagram(trace.events())
    check_structure(source)
    assert "participant Help_Desk as Help Desk" in source


def test_empty_trace_still_gives_a_valid_diagram() -> None:
    parsed = check_structure(sequence_diagram([]))
    assert parsed["declared"] == ["Admin", "WorkSpaces", "EBS", "KMS"]


def test_a_call_recorded_by_kms_and_by_its_caller_is_drawn_once_with_its_reply() -> None:
    trace = Trace(Clock())
    ebs_role = "arn:aws:sts::123456789012:assumed-role/aws:ec2-infrastructure/ebs"
    trace.record("KMS", "Decrypt", KEY, step=6, caller=ebs_role, encryption_context=CTX)
    trace.record("EBS", "DecryptDataKey", "vol-0123456789abcdef0", step=5, kms_key=KEY)
    trace.record("KMS", "CreateGrant", KEY, step=2, caller=ebs_role, grant_id="g1")
    trace.record("EBS", "CreateGrant", "vol-0123456789abcdef0", step=2, grant_id="g1")
    parsed = check_structure(sequence_diagram(trace.events()))
    arrows = [(a, arrow, b, text.split()[0]) for a, arrow, b, text in parsed["arrows"]]  # type: ignore[attr-defined]
    assert arrows == [("EBS", "->>", "KMS", "Decrypt"), ("KMS", "-->>", "EBS", "plaintext"),
                      ("EBS", "->>", "KMS", "CreateGrant")]


def test_a_refused_call_recorded_by_kms_replies_with_a_cross_and_the_error() -> None:
    trace = Trace(Clock())
    trace.record("KMS", "Decrypt", KEY, step=6, outcome="DisabledException",
                 caller="arn:aws:sts::123456789012:assumed-role/aws:ec2-infrastructure/ebs")
    arrows = check_structure(sequence_diagram(trace.events()))["arrows"]
    assert [(a, arrow, b) for a, arrow, b, _ in arrows] == [  # type: ignore[attr-defined]
        ("EBS", "->>", "KMS"), ("KMS", "--x", "EBS")]
    assert arrows[1][3] == "DisabledException"  # type: ignore[index]


def test_aliases_draw_one_participant_as_another() -> None:
    trace = Trace(Clock())
    trace.record("WorkSpaces", "CreateWorkspaces", "ws-abc123def",
                 caller="arn:aws:iam::123456789012:user/Alice")
    source = sequence_diagram(trace.events(), aliases={"Alice": "Admin"})
    parsed = check_structure(source)
    assert parsed["declared"] == ["Admin", "WorkSpaces", "EBS", "KMS"]
    assert parsed["arrows"] == [("Admin", "->>", "WorkSpaces", "CreateWorkspaces ws-abc123def")]


def test_the_title_goes_in_front_matter_without_breaking_characters() -> None:
    source = sequence_diagram([], title="launch: user volume; #1")
    assert source.startswith("---\ntitle: launch - user volume   1\n---\nsequenceDiagram\n")
    check_structure(source)
