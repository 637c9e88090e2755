"""Types of the compiled helper ``_xts.c`` (see its header comment)."""

from typing import Final

from _typeshed import ReadableBuffer, WriteableBuffer

SECTOR_SIZE: Final[int]

def masks(tweaks: ReadableBuffer, out: WriteableBuffer, /) -> None:
    """The XTS mask ``t_s * x^j`` of every lane ``j`` of every sector ``s`` into ``out``, in order."""
