"""The package installs without a C compiler and without numpy: no extension sources, no build
hook, and the EBS volume ciphers run on cryptography alone."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_has_no_extension_sources_or_build_hook() -> None:
    assert not (ROOT / "setup.py").exists()
    compiled = [p.relative_to(ROOT) for pattern in ("*.c", "*.pyx", "*.pyi")
                for p in (ROOT / "simulator").rglob(pattern)]
    assert compiled == []


def test_numpy_is_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("[")[0].strip().lower()
             for d in project["dependencies"]]
    assert "numpy" not in names


def test_xts_and_gcm_volumes_run_without_importing_numpy() -> None:
    script = (
        "import sys\n"
        "from simulator import Simulation\n"
        "for cipher in ('xts', 'gcm'):\n"
        "    sim = Simulation(seed=1, volume_cipher=cipher)\n"
        "    vol = sim.ebs.create_volume(size=1, encrypted=True)\n"
        "    sim.run_until_idle()\n"
        "    sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id='i-0123456789abcdef0',\n"
        "                          device='/dev/sdf')\n"
        "    sim.run_until_idle()\n"
        "    dev = sim.ebs.block_device(vol.volume_id)\n"
        "    dev.write(100, b'data')\n"
        "    assert dev.read(100, 4) == b'data'\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
