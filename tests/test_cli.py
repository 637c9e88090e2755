"""The ``envelope-sim`` command line: help, version, listing, errors (via ``main([...])``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import simulator
from simulator.cli import main

SCENARIO = '''"""Say hello to the simulation.

A tiny scenario used by the CLI tests.
"""
ORDER = {order}

def add_arguments(parser):
    parser.add_argument("--count", type=int, default=3, help="how many hellos")

def run(sim, out, count=3):
    raise NotImplementedError
'''


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "hello.py").write_text(SCENARIO.format(order=2))
    (tmp_path / "aaa-first.py").write_text(SCENARIO.format(order=1).replace("Say hello",
                                                                              "Come first"))
    (tmp_path / "_helpers.py").write_text("def run(sim, out): pass\n")
    (tmp_path / "notes.py").write_text('"""Not a scenario: no run()."""\n')
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(tmp_path))
    return tmp_path


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"envelope-sim {simulator.__version__}"


def test_help_explains_the_commands_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "scenario" in out and "examples:" in out and "envelope-sim scenario list" in out


def test_no_command_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: envelope-sim" in capsys.readouterr().out


def test_scenario_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario"]) == 2
    assert "choose an action" in capsys.readouterr().err


def test_scenario_list_gives_one_line_per_scenario_in_order(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["aaa-first  Come first to the simulation.",
                     "hello      Say hello to the simulation."]


def test_unknown_scenario_is_a_clear_error_with_exit_2(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'nope'" in err and "aaa-first, hello" in err
    assert "scenario list" in err


def test_helper_modules_are_not_scenarios(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "_helpers"]) == 2
    assert main(["scenario", "run", "notes"]) == 2


def test_run_without_a_name_is_a_usage_error(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run"]) == 2
    assert "name a scenario" in capsys.readouterr().err


def test_run_help_lists_scenarios(scenario_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "hello" in out and "Say hello to the simulation." in out and "examples:" in out


def test_scenario_help_shows_common_and_scenario_options_with_an_example(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "hello", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--seed", "--mermaid", "--audit", "--trace", "--describe", "--no-color",
                   "--count"):
        assert option in out
    assert "A tiny scenario used by the CLI tests." in out
    assert "envelope-sim scenario run hello --seed 7" in out


def test_bad_option_value_is_a_usage_error(
    scenario_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "hello", "--seed", "seven"]) == 2
    assert "--seed: not a whole number: 'seven'" in capsys.readouterr().err


def test_output_into_a_missing_directory_is_refused_before_running(
    scenario_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "missing" / "out.mmd"
    assert main(["scenario", "run", "hello", "--mermaid", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err
