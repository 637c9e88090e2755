"""Finding scenarios reads files and runs none; "none found" names where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import main
from simulator.present.scenario import discover, read_scenario

ROOT = Path(__file__).resolve().parents[1]

# Executing this file leaves a trace on disk, as setup.py printing its usage did.
TOUCHING = '''"""{doc}"""
from pathlib import Path
Path(__file__).with_suffix(".ran").write_text("executed")

def run(sim, out):
    return None
'''


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "alpha.py").write_text(TOUCHING.format(doc="Alpha: a scenario."))
    (tmp_path / "beta.py").write_text(TOUCHING.format(doc="Beta: another one."))
    (tmp_path / "setup.py").write_text(
        "from pathlib import Path\nPath(__file__).with_suffix('.ran').write_text('x')\n")
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(tmp_path))
    return tmp_path


def test_list_and_help_execute_no_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    assert main(["--help"]) == 0
    assert main(["scenario", "run", "--help"]) == 0
    assert "alpha" in capsys.readouterr().out
    assert list(folder.glob("*.ran")) == []


def test_running_one_scenario_imports_only_that_one(folder: Path) -> None:
    assert main(["scenario", "run", "beta", "--seed", "1", "--quiet"]) == 0
    assert [p.name for p in folder.glob("*.ran")] == ["beta.ran"]


def test_a_file_without_the_scenario_marks_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "nodoc.py").write_text("def run(sim, out): pass\n")
    (tmp_path / "norun.py").write_text('"""Has a docstring."""\nrun = print\n')
    (tmp_path / "broken.py").write_text('"""Not Python."""\ndef run(:\n')
    (tmp_path / "ok.py").write_text('"""The one.\n\nLonger text."""\nORDER = 3\ndef run(sim, out): pass\n')
    assert [read_scenario(tmp_path / n) for n in ("nodoc.py", "norun.py", "broken.py")] == [None] * 3
    info = discover(tmp_path)["ok"]
    assert (info.order, info.summary, info.description) == (3, "The one.", "Longer text.")


def test_the_repository_root_is_not_a_scenario_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(ROOT))
    assert main(["scenario", "list"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"no scenarios found; looked in:\n  {ROOT}: holds no scenario file" in captured.err
    assert "ENVELOPE_SIM_SCENARIOS" in captured.err


def test_a_missing_folder_is_named_as_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("ENVELOPE_SIM_SCENARIOS", str(missing))
    assert main(["scenario", "list"]) == 1
    assert f"{missing}: does not exist" in capsys.readouterr().err
    assert main(["scenario", "run", "launch"]) == 2
    assert f"{missing}: does not exist" in capsys.readouterr().err
