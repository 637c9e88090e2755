"""``envelope-sim serve`` refuses bad options with one line, never a traceback."""

from __future__ import annotations

import io

import pytest

from simulator.cli import _main


@pytest.mark.parametrize(("args", "expected"), [
    (["--port", "99999"], "--port: must be 0 to 65535, not 99999"),
    (["--port", "x"], "--port: not a whole number: 'x'"),
    (["--seed", "-1"], "--seed: must be 0 or more, not -1"),
])
def test_serve_refuses_an_option_out_of_range_before_starting(args: list[str], expected: str,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    assert _main(["serve", *args], io.StringIO(), io.StringIO()) == 2
    assert expected in capsys.readouterr().err


def test_an_audit_log_that_cannot_be_opened_is_reported_as_that_file(tmp_path) -> None:
    missing = tmp_path / "no-such-dir" / "audit.jsonl"
    out, err = io.StringIO(), io.StringIO()
    assert _main(["serve", "--clock", "manual", "--audit-log", str(missing)], out, err) == 2
    assert err.getvalue() == (f"envelope-sim serve: error: cannot write {missing}: "
                              "No such file or directory\n")
    assert out.getvalue() == ""
