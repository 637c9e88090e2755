"""What a user or contributor is told to read is in the repository: no README or docs/ page
points outside it, and every repository path they name in backticks exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PATH = re.compile(r"`((?:\.\./|docs/|simulator/|scenarios/|tests/|bench/)[\w./-]+)`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_name_only_files_of_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(?<!\.)\.\./", text), f"{page.name} points outside the repository"
    for name in PATH.findall(text):
        if "<" in name or "*" in name:
            continue
        assert (ROOT / name.rstrip(".")).exists(), f"{page.name} names {name}, which does not exist"
