"""No module of the simulator reads another package's underscore names.

A package here is one directory of ``simulator/`` (``simulator.kms``, ``simulator.ebs``... and
``simulator`` itself for its top-level modules). Inside a package, modules share what they
like; across packages, only public names. Two forms are checked, with ``ast``:

- ``from <module> import _name`` where the module lives in another package;
- an attribute ``x._name`` (or ``getattr(x, "_name")``) where ``_name`` is defined (as a
  module-level name, a class attribute, a method or a ``self._name`` assignment) only in other
  packages. ``self._name`` and ``cls._name`` are the object's own. A name defined in the
  reader's own package too is taken as its own (the check cannot know ``x``'s type); a name
  defined nowhere in the simulator is a library's (``NamedTuple._replace``) and not ours to rule.

Tests are white-box and outside the rule; the rule is for the package users install.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simulator"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(path: Path) -> str:
    return ".".join(path.parent.relative_to(ROOT).parts)


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(PACKAGE.rglob("*.py"))}


def _definitions(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """Underscore name -> the packages that define it."""
    where: dict[str, set[str]] = defaultdict(set)
    for path, tree in trees.items():
        package = _package_of(path)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.append(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.append(node.target.id)
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                names.extend(c.value for c in ast.walk(node.value)
                             if isinstance(c, ast.Constant) and isinstance(c.value, str))
            elif isinstance(node, ast.alias):
                names.append(node.asname or node.name.split(".")[-1])
            for name in names:
                if _is_private(name):
                    where[name].add(package)
    return where


def _resolve_from(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _module_of(path).split(".")
    if path.name != "__init__.py":
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _package_of_module(module: str) -> str | None:
    path = ROOT.joinpath(*module.split("."))
    if path.is_dir():
        return module
    if path.with_suffix(".py").exists():
        return module.rpartition(".")[0]
    return None


def violations() -> list[str]:
    trees = _sources()
    defined = _definitions(trees)
    found: list[str] = []
    for path, tree in trees.items():
        package = _package_of(path)
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve_from(path, node)
                source_package = _package_of_module(source)
                if source_package is None or source_package == package:
                    continue
                for alias in node.names:
                    if _is_private(alias.name):
                        found.append(f"{where}:{node.lineno}: imports {alias.name} from {source}")
                    elif _is_private(source.rpartition(".")[2]):
                        found.append(f"{where}:{node.lineno}: imports from private {source}")
                continue
            name = None
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                name = node.attr
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1
                  and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str) and _is_private(node.args[1].value)):
                name = node.args[1].value
            if name is None:
                continue
            owners = defined.get(name, set())
            if owners and package not in owners:
                found.append(f"{where}:{node.lineno}: reads {name} "
                             f"(private to {', '.join(sorted(owners))})")
    return found


def test_no_module_reads_another_packages_underscore_names() -> None:
    found = violations()
    assert not found, "private names read across packages:\n" + "\n".join(found)


def test_the_check_names_file_line_and_name_of_a_cross_package_read(tmp_path: Path) -> None:
    # The checker itself, on two made-up packages: it must see both forms.
    global ROOT, PACKAGE
    saved = ROOT, PACKAGE
    try:
        ROOT, PACKAGE = tmp_path, tmp_path / "simulator"
        (PACKAGE / "a").mkdir(parents=True)
        (PACKAGE / "b").mkdir()
        for d in (PACKAGE, PACKAGE / "a", PACKAGE / "b"):
            (d / "__init__.py").write_text("")
        (PACKAGE / "a" / "store.py").write_text(
            "class Store:\n    def _flip(self):\n        self._state = 1\n\n_TABLE = {}\n")
        (PACKAGE / "b" / "user.py").write_text(
            "from ..a.store import _TABLE\n\n\ndef f(store):\n    store._flip()\n"
            "    return getattr(store, '_state'), _TABLE\n")
        found = violations()
    finally:
        ROOT, PACKAGE = saved
    assert found == [
        "simulator/b/user.py:1: imports _TABLE from simulator.a.store",
        "simulator/b/user.py:5: reads _flip (private to simulator.a)",
        "simulator/b/user.py:6: reads _state (private to simulator.a)",
    ]
