"""Progress for long runs: a line redrawn in place on a terminal, periodic lines otherwise."""

from __future__ import annotations

from typing import TextIO

from .style import Style

__all__ = ["Progress"]

_BAR = 24
_REPORTS = 4  # lines off a terminal: one per quarter


class Progress:
    """Shows ``done/total`` for a long piece of work.

    On a terminal one line is redrawn in place (``\\r``); elsewhere (a pipe, a CI log) a line is
    printed at every tenth of the way, so logs stay short.
    """

    def __init__(
        self, stream: TextIO, total: int, label: str, *, tty: bool, style: Style | None = None,
        transcript: list[str] | None = None,
    ) -> None:
        self.stream = stream
        self.total = max(0, total)
        self.label = label
        self.tty = tty
        self.style = style or Style(False)
        self.done = 0
        self._transcript = transcript
        self._next_report = max(1, self.total // _REPORTS)
        self._drawn = ""
        self._last_line = ""
        self._note = ""
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _text(self, note: str) -> str:
        total = self.total or 1
        filled = _BAR * min(self.done, total) // total
        bar = "#" * filled + "." * (_BAR - filled)
        pct = 100 * min(self.done, total) // total
        text = f"{self.label} [{bar}] {self.done}/{self.total} ({pct}%)"
        return f"{text} {note}" if note else text

    def advance(self, n: int = 1, note: str = "") -> None:
        """Count ``n`` more units done."""
        self.update(self.done + n, note)

    def update(self, done: int, note: str = "") -> None:
        """Set how many units are done (``note`` is shown after the count)."""
        self._note = note
        self.done = min(max(0, done), self.total) if self.total else max(0, done)
        if self.tty:
            text = self._text(note)
            if text != self._drawn:
                self._drawn = text
                self.stream.write("\r" + text + "\x1b[K")
                self.stream.flush()
            return
        if self.done >= self._next_report:
            self._emit(self._text(note))
            step = max(1, self.total // _REPORTS)
            self._next_report = (self.done // step + 1) * step

    def _emit(self, text: str) -> None:
        self._last_line = text
        if self._transcript is not None:
            self._transcript.append(text)
        self.stream.write(text + "\n")

    def close(self, note: str = "") -> None:
        """Finish: leave the final state on its own line."""
        if self._closed:
            return
        self._closed = True
        final = self._text(note or self._note)
        if self.tty:
            self.stream.write("\r" + final + "\x1b[K\n")
            if self._transcript is not None:
                self._transcript.append(final)
        elif final != self._last_line:  # unless the last periodic line already said it
            self._emit(final)
        self.stream.flush()
