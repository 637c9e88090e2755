"""A wheel built from this tree, installed into a fresh virtual environment, ships the scenarios:
``envelope-sim scenario list`` and ``scenario run launch`` work from a folder outside the checkout.

Offline and quick: the wheel is built with the running environment's setuptools
(``--no-build-isolation``) and installed with ``--no-deps --no-index``; the new environment sees
the running one's dependencies (cryptography, structlog) through a ``.pth`` line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "launch_seed7_trace.json"
SOURCES = ("pyproject.toml", "setup.py", "README.md", "simulator", "scenarios")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build_wheel(tmp: Path) -> Path:
    # A copy, so the build's egg-info and build/ folders never land in the checkout.
    src = tmp / "src"
    src.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.egg-info", "build")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=skip)
        elif path.exists():
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "--wheel-dir", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("envelope_sim-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--no-index", str(wheel)], cwd=tmp)
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp).strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "running_env_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def test_a_wheel_installs_the_scenarios_and_they_run_outside_the_checkout(tmp_path: Path) -> None:
    venv = _fresh_venv(tmp_path, _build_wheel(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "NO_COLOR": "1",
           "HOME": os.environ.get("HOME", str(tmp_path))}
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import simulator, json; from simulator.present.scenario import scenarios_dir; "
                  "print(json.dumps([simulator.__file__, str(scenarios_dir())]))"],
                 cwd=elsewhere, env=env)
    package, scenarios = (Path(p) for p in json.loads(where))
    assert package.is_relative_to(venv) and scenarios.is_relative_to(venv)

    names = [ln.split()[0] for ln in _run(["envelope-sim", "scenario", "list"], elsewhere, env)
             .splitlines()]
    assert names[0] == "launch" and names[-1] == "multi-region" and len(names) == 14

    out = _run(["envelope-sim", "scenario", "run", "launch", "--seed", "7", "--trace", "t.json"],
               elsewhere, env)
    assert "launch: all 6 checks held" in out
    assert (elsewhere / "t.json").read_text() == GOLDEN.read_text()
