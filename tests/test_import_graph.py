"""The package's import graph keeps its layers: read with ``ast`` from the source files.

- nothing in ``iam/`` imports ``kms/`` (IAM knows principals and the policy language only);
- nothing in ``kms/`` imports ``ebs/`` or ``workspaces/``; nothing in ``ebs/`` imports
  ``workspaces/`` (services call downwards only, through operations);
- no core service (``iam``, ``kms``, ``ebs``, ``workspaces``) imports ``faults``, ``testing``,
  ``present`` or ``cli``;
- ``crypto/`` imports no service.

Imports under ``if TYPE_CHECKING:`` count too: a type-only import still ties the layers.
A failure names each offending import as ``file:line imports module``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simulator

PACKAGE = Path(simulator.__file__).parent
SERVICES = ("iam", "kms", "ebs", "workspaces")
OUTER = ("faults", "testing", "present", "cli")

RULES: dict[str, tuple[str, ...]] = {
    "iam": ("kms", "ebs", "workspaces", *OUTER),
    "kms": ("ebs", "workspaces", *OUTER),
    "ebs": ("workspaces", *OUTER),
    "workspaces": OUTER,
    "crypto": SERVICES,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, absolute (``simulator.kms.grants``), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # ``from . import faults`` / ``from .. import kms`` import a subpackage by name.
            out.extend((node.lineno, f"{mod}.{alias.name}") for alias in node.names)
    return sorted(out, key=lambda item: item[0])  # ast.walk is breadth-first


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "simulator" else None


def violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    root = PACKAGE / layer
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    found = []
    for path in files:
        seen: set[int] = set()
        for line, module in _imports(path):
            if _layer(module) in forbidden and line not in seen:  # one report per statement
                seen.add(line)
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_nothing_above_or_beside_it(layer):
    bad = violations(layer, RULES[layer])
    assert not bad, f"{layer}/ must not import {', '.join(RULES[layer])}:\n" + "\n".join(bad)


def test_the_reader_sees_relative_and_type_only_imports(tmp_path, monkeypatch):
    # The checker itself: a relative import inside a TYPE_CHECKING block is found and named.
    fake = tmp_path / "simulator"
    (fake / "iam").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "iam" / "__init__.py").write_text("")
    (fake / "iam" / "x.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..kms.grants import Grant\n"
        "from .. import faults\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert violations("iam", RULES["iam"]) == [
        "simulator/iam/x.py:3 imports simulator.kms.grants",
        "simulator/iam/x.py:4 imports simulator.faults",
    ]
