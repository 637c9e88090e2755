"""Every example the ``--help`` pages print runs and succeeds (each page a user may ask for)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from simulator.cli import main, run_script

ROOT = Path(__file__).resolve().parents[1]
HELP_PAGES = [[], ["scenario"], ["scenario", "list"], ["scenario", "run"],
              ["scenario", "run", "launch"]]


def _examples(capsys: pytest.CaptureFixture[str]) -> list[str]:
    found: list[str] = []
    for page in HELP_PAGES:
        assert main([*page, "--help"]) == 0
        for line in capsys.readouterr().out.splitlines():
            text = line.strip()
            if text.startswith(("envelope-sim ", "python scenarios/")):
                command = text.split("    (")[0].strip()  # drop a trailing "(what it shows)"
                if command not in found:
                    found.append(command)
    return found


def test_every_example_printed_by_help_runs_and_writes_what_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    examples = _examples(capsys)
    assert "envelope-sim scenario run key-disabled --seed 7 --describe --audit audit.jsonl" \
        in examples
    assert len(examples) >= 8
    for example in examples:
        words = shlex.split(example)
        script = words[0] == "python"
        code = run_script(str(ROOT / words[1]), words[2:]) if script else main(words[1:])
        out = capsys.readouterr()
        assert code == 0, f"{example}: exit {code}\n{out.err}"
        for flag in ("--audit", "--mermaid", "--trace"):
            if flag in words:
                written = tmp_path / words[words.index(flag) + 1]
                assert written.stat().st_size > 0, f"{example}: {written} is empty"
