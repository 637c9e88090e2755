"""The README's asymmetric / HMAC / import example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_kms_example_prints_what_its_comments_say() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## KMS beyond envelope encryption\n")
    section = text[start:text.index("\n## ", start + 1)]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README.md>", "exec"), {})
    assert out.getvalue().splitlines() == ["SecretBytes(<redacted 185 bytes>)", "Enabled"]
