"""Output that cannot be written is one clear line (or, for a closed pipe, silence), never a
traceback; two outputs naming one file are refused; usage errors show the right usage."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main

COMMAND = [sys.executable, "-m", "simulator"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [[*COMMAND, "scenario", "run", "fleet", "--seed", "7"],
                                     [sys.executable, str(ROOT / "scenarios" / "launch.py")]])
def test_a_closed_pipe_ends_the_run_quietly(command: list[str]) -> None:
    # `envelope-sim scenario run fleet --seed 7 | head -2`, with the reader gone before the
    # first line (so the outcome does not depend on how much fits in the pipe).
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == ""
    assert proc.returncode == 1


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_in_process_returns_1_without_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["scenario", "run", "launch", "--seed", "7"]) == 1
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_standard_output_on_a_full_device_is_one_error_line() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([*COMMAND, "scenario", "run", "launch", "--seed", "7"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
                              check=False)
    assert done.returncode == 1
    assert done.stderr == ("envelope-sim: error: cannot write to standard output: "
                           "No space left on device\n")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("flag", ["--audit", "--trace", "--mermaid"])
def test_an_output_file_on_a_full_device_is_one_error_line(
    flag: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "launch", "--seed", "7", "--quiet", flag, "/dev/full"]) == 2
    err = capsys.readouterr().err
    assert err == "envelope-sim: error: cannot write /dev/full: No space left on device\n"


@pytest.mark.parametrize(("first", "second"), [("--audit", "--trace"), ("--trace", "--mermaid"),
                                               ("--mermaid", "--audit")])
def test_two_outputs_naming_the_same_file_are_refused_before_running(
    first: str, second: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["scenario", "run", "launch", "--seed", "7", first, "out.json",
                 second, str(tmp_path / "out.json")])
    captured = capsys.readouterr()
    assert code == 2
    assert "name the same file" in captured.err
    assert first in captured.err and second in captured.err
    assert captured.out == "" and not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("flag", ["--mermaid", "--audit", "--trace"])
def test_an_empty_file_name_is_a_usage_error(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "launch", flag, ""]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: expects a file name, not an empty string" in err
    assert "is a directory" not in err


def test_an_unknown_option_shows_the_scenarios_own_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "launch", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: envelope-sim scenario run launch ")
    assert "envelope-sim scenario run launch: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("seed", ["-1", "-5"])
def test_a_negative_seed_is_a_usage_error(seed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "launch", "--seed", seed]) == 2
    assert f"argument --seed: must be 0 or more, not {seed}" in capsys.readouterr().err


def test_describe_explains_an_empty_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "launch", "--seed", "7", "--quiet", "--describe"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("WorkSpaces (as the console lists them)"):]
    assert "the scenario terminated its 1 WorkSpace(s) (ws-" in table
    assert "DescribeWorkspaces stops listing a terminated WorkSpace" in table
