"""The README's examples of the kit and of fault injection are code that runs, as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(heading: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end if end != -1 else None], re.S)


def test_the_users_property_test_is_under_15_lines_and_passes() -> None:
    code = _blocks("Property tests with the kit")[0]
    assert len(code.strip().splitlines()) < 15
    namespace: dict[str, object] = {}
    exec(compile(code, "<README.md>", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 1
    tests[0]()  # a hypothesis @given test: runs its examples, raises on a counterexample


def test_the_machine_subclass_example_runs() -> None:
    code = _blocks("Property tests with the kit")[1]
    namespace: dict[str, object] = {}
    exec(compile(code, "<README.md>", "exec"), namespace)
    run_state_machine_as_test(namespace["MyMachine"], settings=settings(
        max_examples=10, stateful_step_count=15, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))


def test_the_fault_injection_example_prints_what_its_comments_say() -> None:
    code = _blocks("Fault injection")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README.md>", "exec"), {})
    printed = out.getvalue().splitlines()
    assert printed[0] == ("[key disabled before the attach] before step 5 of any WorkSpace: "
                          "DisableKey (the key in play)")
    assert printed[1] == "DisabledException"
    assert printed[2:4] == ["5 Faults DisableKey ok", "6 KMS Decrypt DisabledException"]


def test_the_python_api_examples_run_in_sequence() -> None:
    blocks = _blocks("The Python API")
    assert len(blocks) == 3
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks:
            exec(compile(code, "<README.md>", "exec"), namespace)
    printed = out.getvalue().splitlines()
    # the third block: a role assumed through STS, a tagged volume found by a filter
    assert printed.pop() == "arn:aws:sts::123456789012:assumed-role/app/build-7"
    found = namespace["found"]
    assert [v.volume_id for v in found.volumes] == [namespace["vol"].volume_id]  # type: ignore[attr-defined]
    assert printed[0] == "SecretBytes(<redacted 32 bytes>)"
    assert printed[1].startswith("DisabledException: arn:aws:kms:us-west-2:123456789012:key/")
    assert printed[2] == "DisabledException"
    steps = [line.split()[0] for line in printed[3:]]
    assert [s for s in steps if s != "None"][:1] == ["1"] and "9" not in steps


def test_the_readme_diagram_is_the_committed_launch_diagram() -> None:
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"```mermaid\n(.*?)```", text, re.S)
    committed = (README.parent / "docs" / "diagrams" / "launch.mmd").read_text(encoding="utf-8")
    assert shown is not None and shown.group(1) == committed, (
        "README's nine-step diagram differs from docs/diagrams/launch.mmd: paste the file in")
