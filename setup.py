"""Build hook for the one compiled helper; everything else about the project is in pyproject.toml.

``simulator/crypto/_xts.c`` XORs XTS tweak masks over whole requests (see its header and
``simulator/crypto/volume.py``). ``optional=True``: where no C compiler is available the install
still succeeds and the volume cipher uses its numpy path (same bytes, about half the speed).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("simulator.crypto._xts", ["simulator/crypto/_xts.c"], optional=True)])
