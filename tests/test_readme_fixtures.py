"""The README's test file using each pytest fixture runs, as a user's test file, and passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"


def _fixture_example() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n### The pytest fixtures\n")
    end = text.index("\n## ", start)
    (block,) = re.findall(r"```python\n(.*?)```", text[start:end], re.S)
    return block


def test_the_fixture_examples_pass_as_a_users_test_file(pytester: pytest.Pytester) -> None:
    code = _fixture_example()
    for fixture in ("sim", "seeded_sim", "audit_capture", "workspaces_world", "fault_records"):
        assert re.search(rf"def test_\w+\([^)]*\b{fixture}\b", code), fixture
    pytester.makepyfile(test_user=code)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_sim_fixture_inside_given_is_what_hypothesis_refuses(pytester: pytest.Pytester) -> None:
    # What the README warns about, so the advice stays true.
    pytester.makepyfile(test_user='''
from hypothesis import given, strategies as st

@given(st.integers())
def test_uses_the_fixture(sim, n):
    sim.kms.create_key()
''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "function_scoped_fixture" in result.stdout.str()
