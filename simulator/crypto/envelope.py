"""KMS ciphertext blobs: AES-256-GCM under a key's backing material, context bound as AAD.

Blob layout (version 1)::

    0      1               17                   49                124         136
    | 0x01 | key id (16 B) | material id (32 B) | reserved (75 B) | nonce 12 B | ciphertext | tag 16 B |

A blob is as long as AWS KMS's for the same plaintext: the plaintext plus 152 bytes (a
GenerateDataKey AES_256 blob is 184 bytes, as recorded from AWS), because applications size
their storage from what they see. The reserved bytes are zeros that only carry that length. The
whole 136-byte header (reserved bytes included) is part of the additional data, followed by the
injective context encoding, so changing the key id, the material id, the reserved bytes, the
nonce, the ciphertext, the tag or the context all fail authentication; every field has a fixed
length, so the layout stays injective. The nonce is an explicit argument: the caller (KMS) draws it
from the simulation's entropy, which is what makes seeded runs replay byte for byte.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .context import encode_context
from .secret import SecretBytes

__all__ = [
    "AWS_BLOB_OVERHEAD",
    "BLOB_VERSION",
    "HEADER_SIZE",
    "NONCE_SIZE",
    "BackingKey",
    "BlobError",
    "BlobHeader",
    "header_ids",
    "open_blob",
    "parse_header",
    "seal",
]

BLOB_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
#: AWS KMS's symmetric ciphertext blob is the plaintext plus this many bytes.
AWS_BLOB_OVERHEAD = 152
_RESERVED = bytes(AWS_BLOB_OVERHEAD - (1 + 16 + 32 + NONCE_SIZE + TAG_SIZE))
HEADER_SIZE = 1 + 16 + 32 + len(_RESERVED) + NONCE_SIZE
MATERIAL_SIZE = 32


class BlobError(Exception):
    """The blob is malformed or fails authentication (KMS maps it to InvalidCiphertext)."""


class BackingKey:
    """One version of a KMS key's 256-bit material; never shows its bytes."""

    __slots__ = ("_aead", "_material", "material_id")

    def __init__(self, material_id: str, material: bytes) -> None:
        if len(material) != MATERIAL_SIZE:
            raise ValueError("backing key material must be 32 bytes")
        if len(bytes.fromhex(material_id)) != 32:
            raise ValueError("material id must be 64 hex characters")
        self.material_id = material_id
        self._material = bytes(material)  # kept for leak scanners only; never printed
        self._aead = AESGCM(material)  # built once: constructing AESGCM per call is slow

    def __repr__(self) -> str:
        return f"BackingKey(material_id={self.material_id!r}, material=<redacted>)"


@dataclass(frozen=True)
class BlobHeader:
    """What a blob says about itself before it is authenticated."""

    key_id: str
    material_id: str


@lru_cache(maxsize=4096)
def _prefix(key_id: str, material_id: str) -> bytes:
    # Cached: parsing the UUID and the hex material id costs more than the AES-GCM itself.
    return (bytes((BLOB_VERSION,)) + uuid.UUID(key_id).bytes + bytes.fromhex(material_id)
            + _RESERVED)


def seal(
    backing: BackingKey,
    key_id: str,
    plaintext: bytes,
    context: Mapping[str, str] | None,
    nonce: bytes,
) -> bytes:
    """Encrypt ``plaintext`` for ``key_id`` under ``backing``, binding ``context``."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError("nonce must be 12 bytes")
    header = _prefix(key_id, backing.material_id) + nonce
    aad = header + encode_context(context)
    return header + backing._aead.encrypt(nonce, plaintext, aad)


def parse_header(blob: bytes) -> BlobHeader:
    """Read the key id and material id a blob claims (unauthenticated until opened)."""
    return BlobHeader(*header_ids(blob))


def header_ids(blob: bytes) -> tuple[str, str]:
    """``(key_id, material_id)`` as :func:`parse_header` reads them, without the dataclass
    (KMS reads them on every Decrypt)."""
    if len(blob) < HEADER_SIZE + TAG_SIZE or blob[0] != BLOB_VERSION:
        raise BlobError("not a ciphertext blob of this simulator")
    raw = blob[1:49]
    return _ids(raw if type(raw) is bytes else bytes(raw))


@lru_cache(maxsize=4096)
def _ids(raw: bytes) -> tuple[str, str]:
    # Cached: a key's blobs share these 48 bytes (key id + material id).
    return str(uuid.UUID(bytes=raw[:16])), raw[16:].hex()


def open_blob(backing: BackingKey, blob: bytes, context: Mapping[str, str] | None) -> SecretBytes:
    """Authenticate and decrypt ``blob`` with ``backing``, under ``context``."""
    if type(blob) is not bytes:
        blob = bytes(blob)
    header = blob[:HEADER_SIZE]
    aad = header + encode_context(context)
    try:
        # Wrapped at once: the plaintext never sits in a frame local as plain bytes.
        return SecretBytes(backing._aead.decrypt(header[HEADER_SIZE - NONCE_SIZE:],
                                                 blob[HEADER_SIZE:], aad))
    except InvalidTag:
        raise BlobError("authentication failed") from None
