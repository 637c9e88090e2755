"""The README's asymmetric / HMAC / import example runs as printed, after the API example."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_asymmetric_example_prints_what_its_comments_say() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## The Python API\n")
    section = text[start:text.index("\n## ", start + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "<README.md>", "exec"), namespace)  # defines sim
        out.seek(0)
        out.truncate()
        exec(compile(blocks[2], "<README.md>", "exec"), namespace)
    assert out.getvalue().splitlines() == ["SecretBytes(<redacted 185 bytes>)", "Enabled"]
