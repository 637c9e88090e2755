"""``envelope-sim scenario run`` end to end: output files, exit codes, colour, the installed
command and the scenario scripts themselves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_mermaid import check_structure

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "launch_seed7_trace.json"
ANSI = re.compile(r"\x1b\[")


def test_scenario_list_shows_the_fourteen_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names[0] == "launch" and names[-1] == "multi-region" and len(names) == 14


def test_run_launch_writes_trace_audit_and_mermaid_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    trace, audit, mermaid = tmp_path / "t.json", tmp_path / "a.jsonl", tmp_path / "d.mmd"
    audit.write_text("stale line from an earlier run\n")
    code = main(["scenario", "run", "launch", "--seed", "7", "--trace", str(trace),
                 "--audit", str(audit), "--mermaid", str(mermaid), "--no-color"])
    out = capsys.readouterr().out
    assert code == 0
    assert trace.read_text() == GOLDEN.read_text()
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert records and all(r["eventSource"] == "kms.amazonaws.com" for r in records)
    assert {"CreateGrant", "GenerateDataKeyWithoutPlaintext", "Decrypt", "RetireGrant"} <= {
        r["eventName"] for r in records}
    parsed = check_structure(mermaid.read_text())
    assert parsed["declared"][:1] == ["Admin"]  # type: ignore[index]
    assert "all 6 checks held" in out
    assert not ANSI.search(out)


def test_run_narrates_steps_time_and_calls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "launch", "--seed", "7", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\d\d:\d\d:\d\d  Step 5  EBS -> KMS +Decrypt ", out, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d  Step 6  KMS -> EBS +reply: plaintext data key ", out,
                     re.M)
    assert "context #1 {aws:workspaces:sid-directoryid=[S-1-5-21-" in out
    assert "Step 1: " in out and "Step 9: " in out


def test_quiet_run_prints_the_story_but_not_every_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "launch", "--seed", "7", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "## Step 9: Alice terminates the WorkSpace" in out
    assert "EBS -> KMS" not in out


def test_describe_shows_the_volume_encryption_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "restrictions", "--seed", "7", "--quiet",
                 "--describe"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("WorkSpace ID"):]
    assert "Volume Encryption" in table and "Encrypted Volumes" in table
    assert re.search(r"jdoe .* AVAILABLE +Enabled +Root, User +alias/workspaces-demo", table)


def test_fleet_count_option_and_periodic_progress(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "fleet", "--seed", "3", "--count", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    progress = [ln for ln in out.splitlines() if ln.startswith("rebooting [")]
    assert 2 <= len(progress) <= 11
    assert progress[-1].startswith("rebooting [########################] 20/20 (100%)")
    assert "\r" not in out


def test_fleet_count_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "fleet", "--count", "0"]) == 2
    assert "between 1 and 2000" in capsys.readouterr().err


def test_an_option_of_another_scenario_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "launch", "--count", "3"]) == 2
    assert "unrecognized arguments: --count" in capsys.readouterr().err


def test_force_color_paints_the_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["scenario", "run", "key-disabled", "--seed", "7"]) == 0
    assert ANSI.search(capsys.readouterr().out)


def test_a_failed_check_gives_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "broken.py").write_text(
        '"""A scenario whose claim does not hold."""\n'
        "from simulator.present import ScenarioResult\n"
        "def run(sim, out):\n"
        "    result = ScenarioResult('broken')\n"
        "    result.expect(out, 'a new key starts disabled',\n"
        "                  sim.kms.create_key().key_state == 'Disabled')\n"
        "    return result\n")
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(tmp_path))
    assert main(["scenario", "run", "broken", "--seed", "1"]) == 1
    assert "1 check(s) failed: a new key starts disabled" in capsys.readouterr().out


def test_an_unexpected_aws_error_gives_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "oops.py").write_text(
        '"""A scenario calling KMS with a key that does not exist."""\n'
        "def run(sim, out):\n"
        "    sim.kms.disable_key(key_id='1234abcd-12ab-34cd-56ef-1234567890ab')\n")
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(tmp_path))
    assert main(["scenario", "run", "oops"]) == 1
    assert "stopped on an unexpected AWS error: NotFoundException" in capsys.readouterr().err


def test_installed_command_prints_help() -> None:
    exe = shutil.which("envelope-sim")
    assert exe is not None, "envelope-sim is not installed (pip install -e .)"
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: envelope-sim")
    assert "envelope-sim scenario run launch --seed 7" in done.stdout


def test_scenario_script_runs_on_its_own_with_the_same_options(tmp_path: Path) -> None:
    trace = tmp_path / "t.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scenarios" / "launch.py"), "--seed", "7", "--quiet",
         "--trace", str(trace)], capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert trace.read_text() == GOLDEN.read_text()
    assert "launch: all 6 checks held" in done.stdout


@pytest.mark.parametrize("flag", ["--trace", "--mermaid", "--audit"])
def test_an_output_file_that_cannot_be_written_is_an_error_line_and_status_2(
    flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "out.txt"
    real_write = Path.write_text

    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        if self == target:
            raise PermissionError(13, "Permission denied")
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", refuse)
    assert main(["scenario", "run", "launch", "--seed", "7", "--quiet", flag, str(target)]) == 2
    assert f"cannot write {target}: Permission denied" in capsys.readouterr().err
