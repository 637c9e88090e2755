"""The injective encoding of an encryption context, used as AES-GCM additional data.

moto, LocalStack and local-kms concatenate sorted keys and values, so ``{"ab": "c"}`` and
``{"a": "bc"}`` (and many other pairs of contexts) give the same AAD and decrypt each other's
ciphertext. Here each key and value is length-prefixed, pairs are sorted by the UTF-8 bytes of
their key, and the pair count leads, so two different contexts never give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

__all__ = ["encode_context"]


def encode_context(context: Mapping[str, str] | None) -> bytes:
    """Canonical, injective bytes for ``context``; ``None`` and ``{}`` are both ``b""``."""
    if not context:
        return b""
    return _encode(tuple(context.items()))


# A pure function of the pairs, memoised with a bounded LRU: the same context is encoded on
# every GenerateDataKey and Decrypt of a volume.
@lru_cache(maxsize=4096)
def _encode(pairs: tuple[tuple[str, str], ...]) -> bytes:
    # Keys and values are already ``str`` that encode to UTF-8 (KMS validates both).
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in pairs)
    out = bytearray(len(items).to_bytes(4, "big"))
    for k, v in items:
        out += len(k).to_bytes(4, "big")
        out += k
        out += len(v).to_bytes(4, "big")
        out += v
    return bytes(out)
