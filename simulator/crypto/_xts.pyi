"""Types of the compiled helper ``_xts.c`` (see its header comment)."""

from typing import Final

from _typeshed import ReadableBuffer, WriteableBuffer

SECTOR_SIZE: Final[int]

def whiten(tweaks: ReadableBuffer, src: ReadableBuffer, dst: WriteableBuffer, /) -> None:
    """Write ``src`` xor the tweak mask of every 16-byte lane into ``dst`` (``src`` may be ``dst``)."""
