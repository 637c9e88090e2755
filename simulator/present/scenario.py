"""Scenarios: runnable stories over the public API, and what they report back.

A scenario is a file ``scenarios/<name>.py`` with a module docstring (first line: the one-line
summary shown by ``envelope-sim scenario list``) and::

    ORDER = 1                               # position in the list
    SETTINGS = {"volume_cipher": "xts"}     # optional Simulation(...) keywords
    def add_arguments(parser): ...          # optional scenario options (e.g. --count)
    def run(sim, out, **options) -> ScenarioResult

``run`` narrates through ``out`` (a :class:`~simulator.present.narrate.Narrator`) and returns a
:class:`ScenarioResult` holding the key outcomes (states, error codes, data read back) that tests
assert on, and the checks the story made along the way.

Discovery reads each file's syntax tree and executes nothing: a file is a scenario when it has a
module docstring and a top-level ``def run`` (see :func:`read_scenario`). The folders searched
are :func:`search_path`: ``$ENVELOPE_SIM_SCENARIOS``, else the checkout's ``scenarios/`` and
the copy ``pip install`` puts under ``<prefix>/share/envelope-sim/scenarios``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import AwsError
from ..trace import TraceEvent
from .narrate import Narrator

__all__ = [
    "Check",
    "ScenarioInfo",
    "ScenarioResult",
    "UnknownScenario",
    "discover",
    "event_mentions",
    "info_for_module",
    "load_scenario",
    "not_found_message",
    "read_scenario",
    "scenarios_dir",
    "search_path",
]


@dataclass(frozen=True)
class Check:
    """A claim a scenario verified while running (``passed`` says whether it held)."""

    label: str
    passed: bool


@dataclass
class ScenarioResult:
    """What a scenario run produced: outcomes for assertions, errors seen, checks made."""

    name: str
    outcomes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    workspace_ids: list[str] = field(default_factory=list)
    #: Which trace events ``--mermaid`` draws (all when None).
    diagram_filter: Callable[[TraceEvent], bool] | None = None
    #: Participant renames for the diagram (``{"Alice": "Admin"}``).
    diagram_aliases: dict[str, str] = field(default_factory=dict)
    diagram_title: str | None = None

    def __getitem__(self, label: str) -> Any:
        return self.outcomes[label]

    @property
    def ok(self) -> bool:
        """True when every check held."""
        return all(c.passed for c in self.checks)

    @property
    def failed_checks(self) -> list[str]:
        return [c.label for c in self.checks if not c.passed]

    def record(self, label: str, value: Any, out: Narrator | None = None) -> Any:
        """Keep an outcome (and narrate it as ``=> label: value`` when ``out`` is given)."""
        self.outcomes[label] = value
        if out is not None:
            out.outcome(label, value)
        return value

    def error(self, label: str, error: object) -> str | None:
        """Keep the AWS error code of ``error`` (None if it is not an AWS error)."""
        code = error.code if isinstance(error, AwsError) else None
        if code is not None:
            self.errors[label] = code
        return code

    def expect(self, out: Narrator, label: str, passed: bool) -> bool:
        """Record and narrate a claim; the run's exit status fails if any claim fails."""
        self.checks.append(Check(label, bool(passed)))
        out.check(label, bool(passed))
        return bool(passed)


def event_mentions(event: TraceEvent, text: str) -> bool:
    """True when ``text`` (a volume id, a key ARN) appears in the event's target or detail."""
    return text in event.target or text in json.dumps(dict(event.detail), default=str)


_DISTRIBUTION = "envelope-sim"
#: Where the wheel installs the scenarios (pyproject's data-files), under the install prefix.
_INSTALLED_PARTS = ("envelope-sim", "scenarios")


class UnknownScenario(LookupError):
    """No scenario file has that name."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"unknown scenario {name!r}; known scenarios: {', '.join(known) or '(none found)'}"
        )


@dataclass(frozen=True)
class ScenarioInfo:
    """A discovered scenario: its name, one-line summary, longer description and file.

    Discovery reads the file without running it; :attr:`module` imports it on first use.
    """

    name: str
    order: int
    summary: str
    description: str
    path: Path
    #: The module when it is already imported (a script run as ``__main__``).
    loaded: ModuleType | None = field(default=None, compare=False, repr=False)

    @property
    def module(self) -> ModuleType:
        """The scenario's module, imported (once) when it is about to run."""
        return self.loaded if self.loaded is not None else _load_path(self.path.resolve())


def _checkout_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "scenarios"


def _installed_dir() -> Path | None:
    """Where ``pip install`` put the scenarios (``share/envelope-sim/scenarios``), if it did."""
    try:
        dist = importlib.metadata.distribution(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.parts[-3:-1] == _INSTALLED_PARTS and file.suffix == ".py":
            return Path(str(dist.locate_file(file))).parent
    return None


def search_path() -> list[Path]:
    """The folders searched for scenarios, in order: ``$ENVELOPE_SIM_SCENARIOS`` alone when
    set; otherwise the checkout's ``scenarios/`` (a clone, or an editable install) and the
    folder an installed wheel put them in."""
    env = os.environ.get("ENVELOPE_SIM_SCENARIOS", "")
    if env:
        return [Path(env)]
    checkout = _checkout_dir()
    places = [checkout] if (checkout.parent / "pyproject.toml").is_file() else []
    installed = _installed_dir()
    if installed is not None and installed not in places:
        places.append(installed)
    return places or [checkout]


def scenarios_dir() -> Path:
    """The first folder of :func:`search_path` that exists (else the first one)."""
    places = search_path()
    return next((p for p in places if p.is_dir()), places[0])


def _module_name(path: Path) -> str:
    return "envelope_sim_scenarios." + path.stem.replace("-", "_")


def _load_path(path: Path) -> ModuleType:
    name = _module_name(path)
    cached = sys.modules.get(name)
    if cached is not None and getattr(cached, "__file__", None) == str(path):
        return cached
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-.py paths
        raise ImportError(f"cannot load scenario file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses defined in a scenario need their module registered
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def read_scenario(path: Path) -> ScenarioInfo | None:
    """The scenario in ``path``, read without running it; None when it is not one.

    The marker is the scenario contract itself, found in the file's syntax tree: a module
    docstring and a top-level ``def run``. ``ORDER`` is read when it is an integer literal.
    Listing or ``--help`` therefore never executes a file (a ``setup.py`` beside them stays
    inert); only the scenario being run is imported.
    """
    if path.name.startswith("_") or path.suffix != ".py":
        return None
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    doc = ast.get_docstring(tree)
    has_run = any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body)
    if not doc or not has_run:
        return None
    order = 1000
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "ORDER"
                and isinstance(node.value, ast.Constant) and type(node.value.value) is int):
            order = node.value.value
    summary, _, rest = doc.strip().partition("\n")
    return ScenarioInfo(name=path.stem, order=order, summary=summary.strip(),
                        description=rest.strip(), path=path)


def info_for_module(module: ModuleType) -> ScenarioInfo:
    """The :class:`ScenarioInfo` of an already imported scenario module."""
    path = Path(str(module.__file__))
    info = read_scenario(path)
    if info is None:
        raise UnknownScenario(path.stem, [])
    return dataclasses.replace(info, loaded=module)


def discover(directory: Path | None = None) -> dict[str, ScenarioInfo]:
    """Every scenario in ``directory`` (default: the first folder of :func:`search_path`
    holding any), in list order. No file is executed."""
    roots = [directory] if directory is not None else search_path()
    for root in roots:
        if not root.is_dir():
            continue
        found = [i for i in (read_scenario(p) for p in sorted(root.glob("*.py"))) if i]
        if found:
            found.sort(key=lambda i: (i.order, i.name))
            return {i.name: i for i in found}
    return {}


def not_found_message(directory: Path | None = None) -> str:
    """What "no scenarios found" means here: each folder searched, and how to fix it."""
    roots = [directory] if directory is not None else search_path()
    lines = ["no scenarios found; looked in:"]
    for root in roots:
        if not root.exists():
            state = "does not exist"
        elif not root.is_dir():
            state = "is not a folder"
        else:
            state = "holds no scenario file (a .py file with a docstring and a top-level run())"
        lines.append(f"  {root}: {state}")
    lines.append("point ENVELOPE_SIM_SCENARIOS at a folder of scenarios, or reinstall "
                 "envelope-sim (the package ships them)")
    return "\n".join(lines)


def load_scenario(name: str, directory: Path | None = None) -> ScenarioInfo:
    """The scenario called ``name``; :class:`UnknownScenario` if there is none."""
    found = discover(directory)
    if name not in found:
        raise UnknownScenario(name, list(found))
    return found[name]
