"""A small secret sealed under a file key (AES-256-GCM): how a state file keeps its seed, so
that the database alone, without its key file, recreates no key."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["FILE_KEY_BYTES", "NONCE_BYTES", "open_sealed", "seal_under"]

FILE_KEY_BYTES = 32
NONCE_BYTES = 12


def seal_under(file_key: bytes, label: bytes, secret: bytes, nonce: bytes) -> bytes:
    """``nonce || AES-GCM(file_key, secret, aad=label)``; ``nonce`` must never repeat under
    one key (draw it)."""
    if len(file_key) != FILE_KEY_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("a file key is 32 bytes and a nonce 12")
    return nonce + AESGCM(file_key).encrypt(nonce, secret, label)


def open_sealed(file_key: bytes, label: bytes, sealed: bytes) -> bytes:
    """The secret :func:`seal_under` sealed; ValueError if the key, label or bytes differ."""
    if len(file_key) != FILE_KEY_BYTES or len(sealed) < NONCE_BYTES + 16:
        raise ValueError("not a sealed secret under a file key")
    try:
        return AESGCM(file_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], label)
    except InvalidTag:
        raise ValueError("the file key does not open this secret") from None
