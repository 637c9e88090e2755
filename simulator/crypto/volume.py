"""EBS volume ciphers: the only code that holds a volume's data key and its nonces.

Two ciphers, chosen per volume:

``"xts"`` -- what EBS does: AES-256-XTS (IEEE 1619) with the 64-byte data key, ``K1 = key[:32]``
encrypts data and ``K2 = key[32:]`` encrypts tweaks. The XTS *data unit* is the 512-byte sector
and its tweak is the sector number as a 128-bit little-endian integer (the Linux dm-crypt
``aes-xts-plain64`` convention; cryptography's ``modes.XTS(tweak)`` over one sector gives the
same bytes, which the tests check). Length-preserving and unauthenticated: a flipped bit on disk
decrypts to garbage, silently.

``"gcm"`` -- authenticated: AES-256-GCM per stored block, with a fresh 96-bit nonce per write and
additional data that binds the block to a volume, its index and its write counter, so a flipped
bit, a block moved to another index or volume, or an old version of a block replayed all fail
with :class:`BlockAuthenticationError`. The GCM key is HKDF-SHA256 of the 64-byte data key (see
:data:`GCM_KEY_INFO`): a data key is never used as-is by two algorithms.

Why XTS is not one ``Cipher(AES, XTS(tweak))`` per sector: building a cryptography cipher costs
about 20 µs of Python and OpenSSL setup, more than encrypting the sector. Instead a whole request
is encrypted with two ECB contexts built once per attachment, using XTS's definition

    T(s, j) = E_K2(s) * alpha^j in GF(2^128),   C = E_K1(P xor T) xor T

for sector ``s`` and 16-byte lane ``j``. The ``E_K2(s)`` of all sectors take one ECB call; the
``alpha^j`` products are computed for all sectors at once with numpy by doubling (lanes ``m..2m-1``
are lanes ``0..m-1`` times ``alpha^m``, a shift plus a reduction by x^7 + x^2 + x + 1), laid
out lane-major (so every numpy call walks long contiguous rows) and transposed tile by tile
into the request's layout; then the request is XORed, ECB-encrypted in one call, and XORed
again. numpy is used because the work is 16-byte-lane arithmetic over the whole request: Python
integers pay ~0.7 ns per byte just to convert a buffer to an int and back, numpy works on the
buffer in place.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "DATA_KEY_SIZE",
    "GCM_KEY_INFO",
    "GCM_NONCE_SIZE",
    "GCM_OVERHEAD",
    "GCM_TAG_SIZE",
    "SECTOR_SIZE",
    "VOLUME_CIPHERS",
    "BlockAuthenticationError",
    "GcmVolumeCipher",
    "XtsVolumeCipher",
    "gcm_block_aad",
]

#: EBS asks KMS for 64 bytes: two AES-256 keys for XTS.
DATA_KEY_SIZE: Final = 64
#: The XTS data unit; its tweak is the sector number.
SECTOR_SIZE: Final = 512
#: Stored gcm block: nonce || ciphertext || tag.
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16
GCM_OVERHEAD: Final = GCM_NONCE_SIZE + GCM_TAG_SIZE
#: HKDF ``info`` for the gcm block key (salt: none; the data key is uniformly random).
GCM_KEY_INFO: Final = b"envelope-sim/ebs/volume-cipher/gcm/v1"
VOLUME_CIPHERS: Final = ("xts", "gcm")

_LANES: Final = SECTOR_SIZE // 16  # 32 lanes of 16 bytes per sector
_U64 = np.dtype("<u8")
#: Sectors per tile of the lane-major -> request-layout transposition (a tile fits in L1).
_TILE: Final = 64
#: Requests are processed in chunks of at most this many sectors (bounds the scratch memory).
_CHUNK_SECTORS: Final = 2048  # 1 MiB
_SHIFTS = tuple(np.uint64(i) for i in range(65))


def _check_key(data_key: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data_key)
    if view.nbytes != DATA_KEY_SIZE:
        raise ValueError(f"a volume data key is {DATA_KEY_SIZE} bytes")
    return view


class _XtsScratch:
    """Reusable buffers for one chunk size (avoids allocating ~5 MiB per request)."""

    __slots__ = ("h", "hi", "hi_tiles", "lanes", "lo", "lo_tiles", "mask", "mask_tiles",
                 "masked", "masked_view", "sectors", "tiles", "tmp", "tweak_view", "tweaks",
                 "tweaks_enc")

    def __init__(self, sectors: int) -> None:
        n = self.sectors = sectors
        self.tiles = -(-n // _TILE)
        width = self.tiles * _TILE
        self.lanes = np.arange(width, dtype=_U64)
        self.tweaks = np.zeros((width, 2), _U64)
        self.tweak_view = memoryview(self.tweaks.data).cast("B")
        self.tweaks_enc = bytearray(width * 16 + 16)  # update_into wants one spare block
        self.lo = np.empty((_LANES, width), _U64)
        self.hi = np.empty((_LANES, width), _U64)
        self.h = np.empty((_LANES // 2, width), _U64)
        self.tmp = np.empty((_LANES // 2, width), _U64)
        self.lo_tiles = np.empty((self.tiles, _LANES, _TILE), _U64)
        self.hi_tiles = np.empty((self.tiles, _LANES, _TILE), _U64)
        self.mask = np.empty((width, _LANES, 2), _U64)
        self.mask_tiles = self.mask.reshape(self.tiles, _TILE, _LANES, 2)
        self.masked = bytearray(n * SECTOR_SIZE + 16)
        self.masked_view = memoryview(self.masked)


class XtsVolumeCipher:
    """AES-256-XTS over 512-byte sectors, whole requests at a time (see the module docstring).

    ``encrypt(first_sector, plaintext)`` / ``decrypt(first_sector, ciphertext)`` take and return
    whole sectors. The cipher keeps no copy of the data key, only OpenSSL contexts; ``close()``
    drops them.
    """

    name: Final = "xts"

    def __init__(self, data_key: bytes | bytearray | memoryview) -> None:
        key = _check_key(data_key)
        if key[:32] == key[32:]:
            # IEEE 1619 and OpenSSL refuse XTS keys whose halves are equal.
            raise ValueError("the two halves of an XTS key must differ")
        k1 = algorithms.AES(bytes(key[:32]))
        k2 = algorithms.AES(bytes(key[32:]))
        self._enc: Any = Cipher(k1, modes.ECB()).encryptor()
        self._dec: Any = Cipher(k1, modes.ECB()).decryptor()
        self._tweak: Any = Cipher(k2, modes.ECB()).encryptor()
        self._scratch: _XtsScratch | None = None

    def __repr__(self) -> str:
        return f"XtsVolumeCipher(<key redacted>, open={self._enc is not None})"

    def close(self) -> None:
        """Forget the key schedules and scratch (the attachment is going away)."""
        self._enc = self._dec = self._tweak = None
        self._scratch = None

    def encrypt(self, first_sector: int, plaintext: bytes | bytearray | memoryview) -> bytearray:
        """Ciphertext of whole sectors starting at sector number ``first_sector``."""
        return self._run(first_sector, plaintext, encrypt=True)

    def decrypt(self, first_sector: int, ciphertext: bytes | bytearray | memoryview) -> bytearray:
        """Plaintext of whole sectors starting at sector number ``first_sector``."""
        return self._run(first_sector, ciphertext, encrypt=False)

    def _run(self, first_sector: int, data: bytes | bytearray | memoryview, *,
             encrypt: bool) -> bytearray:
        if self._enc is None:
            raise ValueError("this volume cipher is closed")
        view = memoryview(data).cast("B")
        size = view.nbytes
        if size % SECTOR_SIZE:
            raise ValueError("XTS works on whole 512-byte sectors")
        if first_sector < 0 or first_sector + size // SECTOR_SIZE > 1 << 64:
            raise ValueError("sector numbers are 64-bit")
        out = bytearray(size)
        step = _CHUNK_SECTORS * SECTOR_SIZE
        for start in range(0, size, step):
            chunk = view[start:start + step]
            self._chunk(first_sector + start // SECTOR_SIZE, chunk, out, start, encrypt)
        return out

    def _chunk(self, first: int, data: memoryview, out: bytearray, at: int, encrypt: bool) -> None:
        n = data.nbytes // SECTOR_SIZE
        s = self._scratch
        if s is None or s.sectors != n:
            s = self._scratch = _XtsScratch(n)
        mask = self._masks(first, n, s)
        words = n * SECTOR_SIZE // 8
        masked = np.frombuffer(s.masked, _U64, count=words)
        np.bitwise_xor(np.frombuffer(data, _U64), mask, out=masked)
        ecb = self._enc if encrypt else self._dec
        ecb.update_into(s.masked_view[:n * SECTOR_SIZE], s.masked)
        result = np.frombuffer(out, _U64, count=words, offset=at)
        np.bitwise_xor(masked, mask, out=result)

    def _masks(self, first: int, n: int, s: _XtsScratch) -> np.ndarray[Any, np.dtype[np.uint64]]:
        """The tweak mask of every 16-byte lane of ``n`` sectors from ``first``, request layout."""
        width = s.tiles * _TILE
        # One ECB call encrypts every sector number (128-bit little-endian) under K2. The
        # padding sectors of the last tile get tweaks too; their masks are never used.
        np.add(s.lanes, np.uint64(first), out=s.tweaks[:, 0])  # wraps mod 2^64 past the end
        self._tweak.update_into(s.tweak_view, s.tweaks_enc)
        t0 = np.frombuffer(s.tweaks_enc, _U64, count=2 * width).reshape(width, 2)
        lo, hi, h, tmp = s.lo, s.hi, s.h, s.tmp
        lo[0] = t0[:, 0]
        hi[0] = t0[:, 1]
        # Doubling, lane-major (every view below is contiguous: numpy's fast loops): rows
        # m..2m-1 = rows 0..m-1 times x^m. With m <= 16 the bits pushed out of the top (h, m
        # bits) fold back as h * (x^7 + x^2 + x + 1) < 2^23, inside the low word.
        m = 1
        sh = _SHIFTS
        while m < _LANES:
            slo, shi, dlo, dhi = lo[:m], hi[:m], lo[m:2 * m], hi[m:2 * m]
            hh, tt = h[:m], tmp[:m]
            np.right_shift(shi, sh[64 - m], out=hh)
            np.left_shift(shi, sh[m], out=dhi)
            np.right_shift(slo, sh[64 - m], out=tt)
            dhi |= tt
            np.left_shift(slo, sh[m], out=dlo)
            dlo ^= hh
            np.left_shift(hh, sh[1], out=tt)
            dlo ^= tt
            np.left_shift(hh, sh[2], out=tt)
            dlo ^= tt
            np.left_shift(hh, sh[7], out=tt)
            dlo ^= tt
            m *= 2
        # (lane, sector) -> (sector, lane, lo/hi) in two cache-friendly moves: whole 256-byte
        # row pieces into tiles of _TILE sectors, then a transpose inside each small tile.
        tiles = s.tiles
        s.lo_tiles[...] = lo.reshape(_LANES, tiles, _TILE).transpose(1, 0, 2)
        s.hi_tiles[...] = hi.reshape(_LANES, tiles, _TILE).transpose(1, 0, 2)
        s.mask_tiles[..., 0] = s.lo_tiles.transpose(0, 2, 1)
        s.mask_tiles[..., 1] = s.hi_tiles.transpose(0, 2, 1)
        return s.mask.reshape(-1)[: n * _LANES * 2]


_AAD = struct.Struct(">QQ")


def gcm_block_aad(binding: bytes, index: int, counter: int) -> bytes:
    """The additional data of one gcm block: who wrote it (length-prefixed), where, which write."""
    return len(binding).to_bytes(2, "big") + binding + _AAD.pack(index, counter)


class BlockAuthenticationError(Exception):
    """A stored gcm block failed authentication (tampered, moved or replayed)."""


class GcmVolumeCipher:
    """AES-256-GCM per block; stored block = nonce (12) || ciphertext || tag (16).

    The caller supplies nonces (drawn from the simulation's entropy, so seeded runs replay) and
    the per-block binding, index and write counter that go into the additional data.
    """

    name: Final = "gcm"

    def __init__(self, data_key: bytes | bytearray | memoryview) -> None:
        key = _check_key(data_key)
        derived = bytearray(
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=GCM_KEY_INFO)
            .derive(bytes(key)))
        self._aead: AESGCM | None = AESGCM(bytes(derived))
        derived[:] = bytes(len(derived))

    def __repr__(self) -> str:
        return f"GcmVolumeCipher(<key redacted>, open={self._aead is not None})"

    def close(self) -> None:
        """Forget the key (the attachment is going away)."""
        self._aead = None

    def _live(self) -> AESGCM:
        if self._aead is None:
            raise ValueError("this volume cipher is closed")
        return self._aead

    def seal(self, nonce: bytes, plaintext: bytes | memoryview, aad: bytes) -> bytes:
        """One stored block: ``nonce || AES-GCM(plaintext, aad)``."""
        if len(nonce) != GCM_NONCE_SIZE:
            raise ValueError("gcm nonces are 12 bytes")
        return nonce + self._live().encrypt(nonce, plaintext, aad)

    def seal_many(self, nonces: bytes, plaintext: bytes | bytearray | memoryview,
                  block_size: int, aads: Sequence[bytes]) -> list[bytes]:
        """Seal consecutive blocks of ``plaintext``; ``nonces`` holds 12 bytes per block."""
        view = memoryview(plaintext).cast("B")
        count = len(aads)
        if view.nbytes != count * block_size or len(nonces) != count * GCM_NONCE_SIZE:
            raise ValueError("plaintext, nonces and aads must describe the same blocks")
        enc = self._live().encrypt
        out = []
        for i, aad in enumerate(aads):
            nonce = nonces[i * GCM_NONCE_SIZE:(i + 1) * GCM_NONCE_SIZE]
            out.append(nonce + enc(nonce, view[i * block_size:(i + 1) * block_size], aad))
        return out

    def open(self, stored: bytes | bytearray | memoryview, aad: bytes) -> bytes:
        """The plaintext of a stored block, or :class:`BlockAuthenticationError`."""
        view = memoryview(stored).cast("B")
        if view.nbytes < GCM_OVERHEAD:
            raise BlockAuthenticationError("stored block is too short")
        try:
            return self._live().decrypt(bytes(view[:GCM_NONCE_SIZE]), view[GCM_NONCE_SIZE:], aad)
        except InvalidTag:
            raise BlockAuthenticationError("block failed authentication") from None
