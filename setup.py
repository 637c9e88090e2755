"""Build hook for the one compiled helper; everything else about the project is in pyproject.toml.

``simulator/crypto/_xts.c`` computes the XTS tweak masks of whole requests (see its header and
``simulator/crypto/volume.py``). ``optional=True``: where no C compiler is available the install
still succeeds and numpy computes the masks (same bytes; the xts path about 40% slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("simulator.crypto._xts", ["simulator/crypto/_xts.c"], optional=True)])
