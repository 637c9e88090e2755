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
"""

from __future__ import annotations

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
    "scenarios_dir",
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
    """A discovered scenario: its name, one-line summary, longer description, module."""

    name: str
    order: int
    summary: str
    description: str
    path: Path
    module: ModuleType


def scenarios_dir() -> Path:
    """The scenarios folder: ``$ENVELOPE_SIM_SCENARIOS``, else the checkout's ``scenarios/``."""
    env = os.environ.get("ENVELOPE_SIM_SCENARIOS", "")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "scenarios"


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


def _info(path: Path, module: ModuleType) -> ScenarioInfo:
    doc = (module.__doc__ or "").strip()
    summary, _, rest = doc.partition("\n")
    return ScenarioInfo(
        name=path.stem, order=int(getattr(module, "ORDER", 1000)), summary=summary.strip(),
        description=rest.strip(), path=path, module=module,
    )


def info_for_module(module: ModuleType) -> ScenarioInfo:
    """The :class:`ScenarioInfo` of an already imported scenario module."""
    return _info(Path(str(module.__file__)), module)


def discover(directory: Path | None = None) -> dict[str, ScenarioInfo]:
    """Every scenario in ``directory`` (default :func:`scenarios_dir`), in list order."""
    root = directory or scenarios_dir()
    if not root.is_dir():
        return {}
    found = []
    for path in sorted(root.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = _load_path(path.resolve())
        if callable(getattr(module, "run", None)):
            found.append(_info(path, module))
    found.sort(key=lambda i: (i.order, i.name))
    return {i.name: i for i in found}


def load_scenario(name: str, directory: Path | None = None) -> ScenarioInfo:
    """The scenario called ``name``; :class:`UnknownScenario` if there is none."""
    root = directory or scenarios_dir()
    path = root / f"{name}.py"
    if name.startswith("_") or "/" in name or "\\" in name or not path.is_file():
        raise UnknownScenario(name, list(discover(root)))
    module = _load_path(path.resolve())
    if not callable(getattr(module, "run", None)):
        raise UnknownScenario(name, list(discover(root)))
    return _info(path, module)
