"""Narration of hand-built trace events: what each line says, with and without colour."""

from __future__ import annotations

import io
import re

import pytest

from simulator.clock import Clock
from simulator.errors import DisabledException
from simulator.present.narrate import STEP_TEXT, Narrator
from simulator.present.progress import Progress
from simulator.present.style import want_color
from simulator.trace import Trace

KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CTX = {
    "aws:workspaces:sid-directoryid": "[S-1-5-21-1-2-3-1107]@[d-1234abcd01]",
    "aws:ebs:id": "vol-0123456789abcdef0",
}
ANSI = re.compile(r"\x1b\[")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def make(color: bool = False) -> tuple[Clock, Trace, Narrator, io.StringIO]:
    clock = Clock()
    trace = Trace(clock)
    stream = io.StringIO()
    out = Narrator(stream, color=color)
    out.attach(trace)
    return clock, trace, out, stream


def test_event_line_shows_time_step_caller_callee_operation_key_and_outcome() -> None:
    clock, trace, _, stream = make()
    clock.advance(20 * 60)
    trace.record("EBS", "GenerateDataKeyWithoutPlaintext", KEY, step=3,
                 workspace_id="ws-abc123def", encryption_context=CTX, number_of_bytes=64)
    trace.record("KMS", "GenerateDataKeyWithoutPlaintext", KEY, step=4,
                 workspace_id="ws-abc123def", caller="arn:aws:sts::1:assumed-role/x/ebs")
    lines = stream.getvalue().splitlines()
    line = next(ln for ln in lines if "GenerateDataKey" in ln)
    assert line.startswith("09:20:00")
    assert "Step 3" in line
    assert "EBS -> KMS" in line
    assert "key/1234abcd" in line
    assert "number_of_bytes=64" in line
    assert "[ws-abc123def]" in line
    reply = next(ln for ln in lines if "reply:" in ln)  # the outcome is KMS's answer's
    assert "Step 4  KMS -> EBS" in reply and reply.endswith("ok")


def test_encryption_context_is_shown_in_full_on_its_own_line() -> None:
    _, trace, _, stream = make()
    trace.record("EBS", "Decrypt", KEY, step=5, encryption_context=CTX)
    lines = stream.getvalue().splitlines()
    ctx_line = next(ln for ln in lines if "context #1 {" in ln)
    assert "aws:workspaces:sid-directoryid=[S-1-5-21-1-2-3-1107]@[d-1234abcd01]" in ctx_line
    assert "aws:ebs:id=vol-0123456789abcdef0" in ctx_line


def test_each_step_is_explained_once_the_first_time_it_appears() -> None:
    _, trace, out, _ = make()
    for _ in range(3):
        trace.record("EBS", "Decrypt", KEY, step=5)
    explanations = [ln for ln in out.transcript if ln.startswith("Step 5:")]
    assert explanations == [f"Step 5: {STEP_TEXT[5]}"]


def test_failure_is_marked_failed_with_code_and_message_and_explained_once() -> None:
    _, trace, out, _ = make()
    for _ in range(2):
        trace.record("EBS", "Decrypt", KEY, step=5, outcome="DisabledException",
                     error_message=f"{KEY} is disabled.")
    failed = [ln for ln in out.transcript if "FAILED" in ln]
    assert len(failed) == 2
    assert f"FAILED DisabledException: {KEY} is disabled." in failed[0]
    assert failed[1].endswith("FAILED DisabledException (the refusal above)")
    assert sum("(DisabledException:" in ln for ln in out.transcript) == 1


def test_without_colour_output_has_no_escape_codes() -> None:
    _, trace, out, stream = make(color=False)
    out.title("launch")
    out.ok("fine")
    out.fail("broken")
    trace.record("EBS", "Decrypt", KEY, step=5, outcome="AccessDeniedException")
    assert not ANSI.search(stream.getvalue())


def test_with_colour_output_is_painted_but_says_the_same_words() -> None:
    _, trace, out, stream = make(color=True)
    trace.record("EBS", "Decrypt", KEY, step=5, outcome="AccessDeniedException")
    text = stream.getvalue()
    assert ANSI.search(text)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "EBS -> KMS" in plain and "FAILED AccessDeniedException" in plain
    assert not any(ANSI.search(ln) for ln in out.transcript)


def test_no_color_environment_variable_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert want_color(FakeTty()) is True
    assert want_color(io.StringIO()) is False
    assert want_color(FakeTty(), no_color=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert want_color(FakeTty()) is False


def test_a_new_virtual_day_is_announced() -> None:
    clock, trace, out, _ = make()
    trace.record("Admin", "DisableKey", KEY)
    clock.advance(86_400)
    trace.record("Admin", "EnableKey", KEY)
    days = [ln for ln in out.transcript if ln.startswith("-- virtual time")]
    assert days == ["-- virtual time, 2026-01-05 (UTC) --", "-- virtual time, 2026-01-06 (UTC) --"]


def test_quiet_counts_events_without_printing_them() -> None:
    _, trace, out, stream = make()
    with out.quiet():
        for _ in range(5):
            trace.record("EBS", "Decrypt", KEY, step=5)
    assert stream.getvalue() == ""
    assert out.events_seen == 5


def test_detach_stops_narration() -> None:
    _, trace, out, stream = make()
    out.detach()
    trace.record("EBS", "Decrypt", KEY)
    assert stream.getvalue() == ""


def test_service_principal_arns_are_shown_as_their_services() -> None:
    _, trace, out, _ = make()
    trace.record("arn:aws:sts::123456789012:assumed-role/aws:ec2-infrastructure/ebs", "Decrypt",
                 KEY)
    trace.record("arn:aws:iam::123456789012:user/Alice", "kms:Decrypt", KEY)
    trace.record("arn:aws:iam::123456789012:root", "DisableKey", KEY)
    lines = [ln for ln in out.transcript if "->" in ln]
    assert "EBS -> KMS" in lines[0]
    assert "Alice -> KMS" in lines[1]
    assert "Admin -> KMS" in lines[2]


def test_internal_action_shows_only_the_actor() -> None:
    _, trace, out, _ = make()
    trace.record("EBS", "io_ready", "vol-0123456789abcdef0", step=7, to="EBS")
    line = next(ln for ln in out.transcript if "io_ready" in ln)
    assert "->" not in line and " EBS " in line


def test_attempt_returns_the_aws_error_and_narrates_it() -> None:
    _, _, out, _ = make()

    def boom() -> None:
        raise DisabledException(f"{KEY} is disabled.")

    err = out.attempt("Reboot with the key disabled", boom)
    assert isinstance(err, DisabledException)
    assert any(ln.endswith(f"[error] DisabledException: {KEY} is disabled.")
               for ln in out.transcript)
    assert out.attempt("Works", lambda: 42) == 42
    assert any("[ok] succeeded" in ln for ln in out.transcript)


def test_progress_off_a_terminal_prints_a_line_per_quarter_for_any_length() -> None:
    stream = io.StringIO()
    with Progress(stream, 1000, "rebooting", tty=False) as bar:
        for _ in range(1000):
            bar.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("rebooting [") and "1000/1000 (100%)" in lines[-1]
    assert "\r" not in stream.getvalue()


def test_progress_on_a_terminal_redraws_one_line_in_place() -> None:
    stream = FakeTty()
    with Progress(stream, 50, "rebooting", tty=True) as bar:
        for _ in range(50):
            bar.advance(note="3 failed")
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 51
    assert "50/50 (100%) 3 failed" in text


def test_narrator_progress_uses_the_periodic_form_when_not_a_terminal() -> None:
    out = Narrator.silent()
    with out.progress(20, "launching") as bar:
        for _ in range(20):
            bar.advance()
    assert out.transcript[-1] == "launching [########################] 20/20 (100%)"


def test_call_recorded_by_the_callee_shows_the_service_that_made_it() -> None:
    _, trace, out, _ = make()
    trace.record("KMS", "GenerateDataKeyWithoutPlaintext", KEY, step=4,
                 caller="arn:aws:sts::123456789012:assumed-role/aws:workspaces-infrastructure/x",
                 invoked_by="ec2.amazonaws.com", encryption_context=CTX)
    trace.record("KMS", "Decrypt", KEY, outcome="AccessDeniedException",
                 caller="arn:aws:iam::123456789012:user/Alice", error="User Alice is not allowed")
    request, reply, second = (ln for ln in out.transcript
                              if "KMS" in ln and not ln.startswith(("Step ", "   (")))
    assert "Step 3  EBS -> KMS" in request and "as WorkSpaces" in request
    assert "caller" not in request
    assert "Step 4  KMS -> EBS" in reply and "reply: encrypted data key only" in reply
    assert "Alice -> KMS" in second
    assert "FAILED AccessDeniedException: User Alice is not allowed" in second


def test_bytes_in_a_hand_made_event_are_never_printed() -> None:
    from datetime import UTC, datetime

    from simulator.trace import TraceEvent

    out = Narrator.silent()
    secret = bytes(range(32))
    out.on_event(TraceEvent(seq=1, time=datetime(2026, 1, 5, tzinfo=UTC), step=6, actor="KMS",
                            action="Decrypt", target=KEY, detail={"blob": secret,
                                                                  "nested": [secret]}))
    text = "\n".join(out.transcript)
    assert "<redacted 32>" in text
    assert repr(secret) not in text and secret.hex() not in text


def test_brief_names_only_known_episode_kinds_and_verbose_overrides_it() -> None:
    from simulator.errors import ValidationException

    out = Narrator.silent()
    with pytest.raises(ValidationException, match="unknown episode kinds"):
        out.brief("launch", "lunch")
    out.brief("launch")
    assert out.is_brief("launch") and not out.is_brief("reboot")
    verbose = Narrator(io.StringIO(), color=False, verbose=True)
    verbose.brief("launch")
    assert not verbose.is_brief("launch")


def test_a_kms_reply_line_never_prints_bytes_it_was_handed() -> None:
    from datetime import UTC, datetime

    from simulator.trace import TraceEvent

    out = Narrator.silent()
    secret = bytes(range(64))
    out.on_event(TraceEvent(seq=1, time=datetime(2026, 1, 5, tzinfo=UTC), step=6, actor="KMS",
                            action="Decrypt", target=KEY, workspace_id="ws-abc123def",
                            detail={"caller": "arn:aws:sts::1:assumed-role/x/ebs",
                                    "key_material_id": secret, "data_key_bytes": 64}))
    reply = next(ln for ln in out.transcript if "reply:" in ln)
    assert "<redacted 64>" in reply
    assert secret.hex() not in "\n".join(out.transcript)
