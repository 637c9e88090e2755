"""The package's front door: ``dir(simulator)`` and ``python -m simulator``."""

from __future__ import annotations

import subprocess
import sys

import simulator


def test_dir_lists_the_lazily_imported_simulation() -> None:
    assert "Simulation" in dir(simulator)
    assert "__version__" in dir(simulator)


def test_python_dash_m_simulator_is_the_envelope_sim_command() -> None:
    done = subprocess.run([sys.executable, "-m", "simulator", "scenario", "list"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("launch ")
