"""The README's "The Python API" examples (KMS, WorkSpaces, roles through STS, tags and filters)
run as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_api_examples_run_in_order() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## The Python API\n")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks:
            exec(compile(code, "<README.md>", "exec"), namespace)
    assert "arn:aws:sts::123456789012:assumed-role/app/build-7" in out.getvalue()
    found = namespace["found"]
    assert [v.volume_id for v in found.volumes] == [namespace["vol"].volume_id]
