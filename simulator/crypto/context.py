"""The injective encoding of an encryption context, used as AES-GCM additional data.

moto, LocalStack and local-kms concatenate sorted keys and values, so ``{"ab": "c"}`` and
``{"a": "bc"}`` (and many other pairs of contexts) give the same AAD and decrypt each other's
ciphertext. Here each key and value is length-prefixed, pairs are sorted by the UTF-8 bytes of
their key, and the pair count leads, so two different contexts never give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["encode_context"]

_EMPTY = b""
_CACHE: dict[tuple[tuple[str, str], ...], bytes] = {}
_CACHE_SIZE = 4096
_ONE = (1).to_bytes(4, "big")


def encode_context(context: Mapping[str, str] | None) -> bytes:
    """Canonical, injective bytes for ``context``; ``None`` and ``{}`` are both ``b""``.

    Memoised (a pure function of the pairs; bounded): the same context is encoded on every
    GenerateDataKey and Decrypt of a volume.
    """
    if not context:
        return _EMPTY
    key = tuple(context.items())
    cached = _CACHE.get(key)
    if cached is None:
        cached = _encode(context)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()  # contexts repeat (one per volume); a rare reset keeps it bounded
        _CACHE[key] = cached
    return cached


def _encode(context: Mapping[str, str]) -> bytes:
    # Keys and values are already ``str`` (the KMS service validates that).
    if len(context) == 1:  # the common case (EBS: one or two pairs), without the sort
        ((key, value),) = context.items()
        kb, vb = key.encode("utf-8"), value.encode("utf-8")
        return b"".join((_ONE, len(kb).to_bytes(4, "big"), kb, len(vb).to_bytes(4, "big"), vb))
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in context.items())
    out = bytearray(len(items).to_bytes(4, "big"))
    for k, v in items:
        out += len(k).to_bytes(4, "big")
        out += k
        out += len(v).to_bytes(4, "big")
        out += v
    return bytes(out)
