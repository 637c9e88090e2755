"""Presentation: narration of a run, Mermaid diagrams, the console's WorkSpaces table, scenarios.

Everything here reads the public trace, audit trail and service results; nothing here changes
how the simulation behaves.
"""

from __future__ import annotations

from .describe import describe_simulation, workspaces_table
from .mermaid import sequence_diagram
from .narrate import Narrator
from .progress import Progress
from .scenario import ScenarioResult, discover, load_scenario
from .style import Style, want_color

__all__ = [
    "Narrator",
    "Progress",
    "ScenarioResult",
    "Style",
    "describe_simulation",
    "discover",
    "load_scenario",
    "sequence_diagram",
    "want_color",
    "workspaces_table",
]
