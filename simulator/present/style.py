"""Terminal styling: ANSI colours when wanted, plain text otherwise.

Colour is on only when the stream is a terminal, ``NO_COLOR`` is not set (https://no-color.org)
and the user did not pass ``--no-color``. Plain output carries the same information: colour is
decoration, never the only signal (failures also say ``FAILED``).
"""

from __future__ import annotations

import os
from typing import TextIO

__all__ = ["Style", "is_tty", "want_color"]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def is_tty(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # closed or detached streams
        return False


def want_color(stream: TextIO, *, no_color: bool = False) -> bool:
    """Whether to colour output on ``stream``: a TTY, no ``NO_COLOR``, no ``--no-color``."""
    if no_color or os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("FORCE_COLOR", ""):
        return True
    return is_tty(stream)


class Style:
    """Wraps text in ANSI codes when ``color`` is true; the identity otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, *styles: str) -> str:
        """``text`` in the given styles (``"bold"``, ``"red"``...)."""
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")

    def good(self, text: str) -> str:
        return self.paint(text, "green")

    def bad(self, text: str) -> str:
        return self.paint(text, "bold", "red")

    def warn(self, text: str) -> str:
        return self.paint(text, "yellow")

    def actor(self, text: str) -> str:
        return self.paint(text, "cyan")

    def action(self, text: str) -> str:
        return self.paint(text, "bold")

    def step(self, text: str) -> str:
        return self.paint(text, "bold", "magenta")
