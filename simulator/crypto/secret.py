"""Bytes that never show themselves: plaintext data keys and key material."""

from __future__ import annotations

__all__ = ["SecretBytes", "wipe"]


class SecretBytes(bytes):
    """``bytes`` whose ``repr``, ``str`` and format are redacted.

    It behaves as bytes everywhere else (comparison, hashing, slicing, passing to a cipher), so
    ``dk.plaintext == other`` and ``AESGCM(dk.plaintext)`` work. Revealing it is explicit:
    ``bytes(secret)``, ``secret.hex()``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SecretBytes(<redacted {len(self)} bytes>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


def wipe(buffer: bytearray) -> None:
    """Overwrite a mutable key buffer with zeros (best effort: Python may hold copies)."""
    buffer[:] = bytes(len(buffer))
