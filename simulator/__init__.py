"""envelope-sim: AWS envelope encryption as Amazon WorkSpaces uses it, simulated in process.

``from simulator import Simulation`` is the entry point; everything else hangs off a simulation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Simulation", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .simulation import Simulation


def __dir__() -> list[str]:
    # Simulation is imported lazily, so it is not in globals() until first use; list it anyway.
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import simulator.crypto` (or the errors module) stays light.
    if name == "Simulation":
        from .simulation import Simulation

        return Simulation
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
