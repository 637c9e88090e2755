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

How XTS runs a whole request in a few library calls
---------------------------------------------------
Building a cryptography ``Cipher(AES, XTS(tweak))`` costs 10-20 µs of Python and OpenSSL setup,
more than encrypting the sector, so one cipher per sector cannot keep up. XTS is, by
definition, for sector ``s`` and 16-byte lane ``j`` (0..31)::

    T(s, j) = E_K2(s) * x^j in GF(2^128),   C = E_K1(P xor T) xor T

so a request (in pieces of up to 1 MiB) is: one ECB call for ``E_K2`` of all its sector numbers,
the masks ``T``, a numpy XOR, one bulk ``E_K1`` call, a numpy XOR.

The masks come from the compiled helper ``_xts.masks`` (``simulator/crypto/_xts.c``, built by
``setup.py`` at install wherever a C compiler exists; :func:`xts_backend` says which path runs):
each mask one GF(2^128) doubling of the one before. It never sees ``K1`` or ``K2``; all AES
stays in OpenSSL. Without it numpy builds the masks of a piece without per-lane arithmetic (same
bytes; the xts path is then about 40% slower end to end):

* ``t * x^j = (t << j mod 2^128) xor fold(t >> (128 - j))`` where ``fold(h) = h * (x^7+x^2+x+1)``.
  Let ``X = t * 2^128 xor fold(t)`` (a 263-bit integer, computed once per sector). Then the
  128-bit window ``X >> (128 - j)`` equals ``T(s, j)`` except in its 7 lowest bits, which need
  ``c(L) = L xor L >> 5 xor L >> 6`` of the window's own top 7 bits ``L`` XORed in: the fold of
  the bits of ``t`` just below the window that the window cut off.
* A window at a bit offset ``8k + r`` is a *byte* window of ``X << r``. So eight shifted copies
  of ``X`` per sector (``r = 0..7``, 24-byte records, built with a few whole-request shifts)
  hold every lane ``j = 8k + r`` as the 16 bytes at record offset ``7 - k``, and numpy copies
  with 16-byte elements and the right strides lay all 32 lanes of every sector out in the
  request's order.
* Lanes ``k = 0..3`` of a record overlap, and lane ``k``'s correction byte is byte 1 of lane
  ``k + 1``; so the lanes are copied for ``k = 3, 2, 1, 0`` and each lane's correction is XORed
  into its record byte just before its copy (lane ``k`` never reads the bytes of the lanes
  copied before it).

The bulk ``E_K1`` runs through OpenSSL's XTS with a fixed second key ``Z`` and the tweak
``D_Z(0)``: its tweaks are then ``E_Z(D_Z(0)) * x^j = 0``, so that call is plain ECB under
``K1``, and OpenSSL's XTS has a vector-AES path its ECB lacks (about twice as fast here).

Cost on the 2-core VM the benchmark ran on, per MiB (raw AES-256-GCM: ~0.1 ms): the ``E_K2``
call ~0.01 ms, the compiled masks ~0.05 ms (numpy's 0.2-0.3 ms), the ECB call ~0.08 ms, the two
XORs ~0.05 ms each on warm buffers and more when the destination is outside the caches.
``bench/ebs_bench.py`` prints the parts and the end-to-end rates of both paths.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Final

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:  # the compiled tweak masks; setup.py builds them wherever a C compiler is available
    from . import _xts

    _compiled_masks: Callable[[Any, Any], None] | None = _xts.masks
except ImportError:  # pragma: no cover - depends on how the package was installed
    _compiled_masks = None

__all__ = [
    "DATA_KEY_SIZE",
    "GCM_AAD_POSITION",
    "GCM_KEY_INFO",
    "GCM_NONCE_SIZE",
    "GCM_OVERHEAD",
    "GCM_TAG_SIZE",
    "SECTOR_SIZE",
    "VOLUME_CIPHERS",
    "BlockAuthenticationError",
    "GcmVolumeCipher",
    "XtsVolumeCipher",
    "gcm_aad_prefix",
    "gcm_block_aad",
    "xts_backend",
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

_Array = np.ndarray[Any, Any]
_U64 = np.dtype("<u8")
#: Requests are processed in pieces of at most this many sectors (bounds the scratch memory).
_PIECE_SECTORS: Final = 2048  # 1 MiB
#: Scratch sets kept per cipher (one per piece size seen; the usual sizes are few).
_SCRATCH_SIZES: Final = 4
_S64 = tuple(np.uint64(i) for i in range(65))
#: Per record r (rows): X >> (8 - r) and X << (56 + r) give record r = (X << r) >> 8.
_RECORD_RIGHT = np.array([[8 - r] for r in range(8)], np.uint64)
_RECORD_LEFT = np.array([[56 + r] for r in range(8)], np.uint64)
_RECORD_SHIFT = np.array([[r] for r in range(8)], np.uint64)
_LANE_BYTES = np.array([[[0xFF << (32 + 8 * m)]] for m in range(4)], np.uint64)
#: The public second key of the XTS-as-ECB trick (any fixed key works; see the module docstring).
_ZERO_TWEAK_KEY: Final = hashlib.sha256(b"envelope-sim/xts-as-ecb/v1").digest()


def xts_backend() -> str:
    """Which path computes the XTS tweak masks: ``"compiled"`` (``simulator/crypto/_xts.c``,
    built at install where a C compiler exists) or ``"numpy"`` (the fallback; same bytes, slower)."""
    return "compiled" if _compiled_masks is not None else "numpy"


def _check_key(data_key: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data_key)
    if view.nbytes != DATA_KEY_SIZE:
        raise ValueError(f"a volume data key is {DATA_KEY_SIZE} bytes")
    return view


@cache
def _zero_tweak() -> bytes:
    """The tweak whose encryption under :data:`_ZERO_TWEAK_KEY` is all zeros."""
    ctx: Any = Cipher(algorithms.AES(_ZERO_TWEAK_KEY), modes.ECB()).decryptor()
    out: bytes = ctx.update(bytes(16))
    return out


@cache
def _zero_tweak_mode() -> modes.XTS:
    """The XTS mode of every bulk context (modes hold no key: one object serves all ciphers)."""
    return modes.XTS(_zero_tweak())


#: Shared for the same reason: a context keeps its mode object alive, one per context otherwise.
_ECB: Final = modes.ECB()


def _bulk_ecb(key: bytes, *, encrypt: bool) -> Any:
    """A long-lived context that is AES-256-ECB under ``key`` (one call per request piece)."""
    mode: modes.Mode
    if key == _ZERO_TWEAK_KEY:  # XTS refuses equal halves; 2^-256 unlikely, but stay correct
        algorithm, mode = algorithms.AES(key), _ECB
    else:
        algorithm, mode = algorithms.AES(key + _ZERO_TWEAK_KEY), _zero_tweak_mode()
    cipher: Any = Cipher(algorithm, mode)
    return cipher.encryptor() if encrypt else cipher.decryptor()


class _XtsScratch:
    """Reusable buffers for request pieces of ``n`` sectors (no allocation per request).

    Byte views for OpenSSL are numpy ``uint8`` views, not memoryviews: numpy arrays are not
    tracked by the cyclic garbage collector, memoryviews are (two objects each).
    """

    __slots__ = ("lanes", "mask_words", "masked", "masked_view", "masked_words", "n", "sectors",
                 "sectors_view", "tweak_bytes", "tweaks")

    def __init__(self, n: int) -> None:
        self.n = n
        self.sectors = np.zeros((n, 2), _U64)  # sector numbers as 128-bit little-endian
        self.sectors_view = self.sectors.reshape(-1).view(np.uint8)
        self.tweaks = bytearray(n * 16 + 16)  # E_K2(sector); update_into wants one spare block
        self.tweak_bytes = np.frombuffer(self.tweaks, np.uint8, count=16 * n)
        self.lanes = np.arange(n, dtype=_U64)
        self.masked = bytearray(n * SECTOR_SIZE + 16)  # + the spare block update_into wants
        self.masked_view = np.frombuffer(self.masked, np.uint8, count=n * SECTOR_SIZE)
        self.masked_words = np.frombuffer(self.masked, _U64, count=n * SECTOR_SIZE // 8)
        self.mask_words = np.empty(n * SECTOR_SIZE // 8, _U64)  # every lane's tweak mask, in order


class _MaskScratch(_XtsScratch):
    """The numpy path's extra buffers: what builds the masks without the compiled helper."""

    __slots__ = ("a", "b", "corr", "corr_bytes", "half_hi", "mask_lanes", "rec_low", "records",
                 "spill", "spill2", "t", "tmp", "windows", "x", "x_words")

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.t = np.frombuffer(self.tweaks, _U64, count=2 * n).reshape(n, 2)
        self.a, self.b = np.empty(n, _U64), np.empty(n, _U64)
        self.spill, self.spill2 = np.empty((n, 2), _U64), np.empty((n, 2), _U64)
        # X per sector as its words 1..3 (bits 64..255; word 0 is never read), flat with one
        # more word, so "X >> s" of every sector is two flat shifts and an or. The word after a
        # sector's X3 is the next sector's X1: it only reaches record byte 23, never read.
        self.x = np.zeros(3 * n + 1, _U64)
        self.x_words = self.x[:3 * n].reshape(n, 3)
        self.records = np.empty((8, 3 * n), _U64)  # record (r, sector): (X << r) bytes 8..31
        self.tmp = np.empty((8, 3 * n), _U64)
        self.rec_low = self.records.reshape(8, n, 3)[:, :, 0]  # record bytes 0..7
        self.half_hi = np.empty(n, _U64)
        self.corr = np.empty((2, 8, n), _U64)
        self.corr_bytes = np.empty((4, 8, n), _U64)  # corr with only lane k = 3 - m's byte
        self.mask_lanes = self.mask_words.view("V16").reshape(n, 4, 8)  # [sector, k, r]: lane 8k + r
        self.windows = np.ndarray((n, 4, 8), dtype="V16", buffer=self.records, offset=7,
                                  strides=(24, -1, n * 24))


class XtsVolumeCipher:
    """AES-256-XTS over 512-byte sectors, whole requests at a time (see the module docstring).

    ``encrypt_into(first_sector, src, dst)`` / ``decrypt_into(...)`` process whole sectors from
    ``src`` into the writable ``dst`` of the same length; ``encrypt`` and ``decrypt`` return a
    new bytearray.

    The OpenSSL contexts are built on the first request that needs them (the encrypting ones on
    the first write, the decrypting one on the first read): most attached volumes are never
    read or written, and three contexts per attachment cost setup time and objects the garbage
    collector walks for as long as the attachment lives. Until ``close()`` the cipher keeps a
    reference to the caller's ``data_key`` buffer, never a copy of it: the caller keeps that
    buffer unchanged until it closes the cipher (EBS closes, then wipes). ``close()`` drops the
    reference, the contexts and the scratch buffers.
    """

    name: Final = "xts"

    def __init__(self, data_key: bytes | bytearray | memoryview) -> None:
        self.check_key(data_key)
        self._key: bytes | bytearray | memoryview | None = data_key
        self._enc: Any = None
        self._dec: Any = None
        self._tweak: Any = None
        self._scratch: dict[int, _XtsScratch] = {}
        #: Bit n set: a piece of n sectors was seen before (its scratch is then kept).
        self._sizes_seen = 0

    @staticmethod
    def check_key(data_key: bytes | bytearray | memoryview) -> None:
        """Raise ValueError unless ``data_key`` can make this cipher (what ``__init__`` checks)."""
        key = _check_key(data_key)
        if key[:32] == key[32:]:
            # IEEE 1619 and OpenSSL refuse XTS keys whose halves are equal.
            raise ValueError("the two halves of an XTS key must differ")

    def __repr__(self) -> str:
        return f"XtsVolumeCipher(<key redacted>, open={self._key is not None})"

    def close(self) -> None:
        """Forget the key, its schedules and the scratch (the attachment is going away)."""
        self._key = None
        self._enc = self._dec = self._tweak = None
        self._scratch = {}

    def _live_key(self) -> memoryview:
        if self._key is None:
            raise ValueError("this volume cipher is closed")
        key = memoryview(self._key).cast("B")
        if key[:32] == key[32:]:  # e.g. all zeros: the buffer was wiped before close()
            raise ValueError("the data key changed after the cipher was made")
        return key

    def _open(self, *, encrypt: bool) -> Any:
        """Build the bulk context of one direction on its first use."""
        ecb = _bulk_ecb(bytes(self._live_key()[:32]), encrypt=encrypt)
        if encrypt:
            self._enc = ecb
        else:
            self._dec = ecb
        return ecb

    def _open_tweak(self) -> Any:
        """Build the context that encrypts sector numbers under K2 on its first use."""
        self._tweak = Cipher(algorithms.AES(bytes(self._live_key()[32:])), _ECB).encryptor()
        return self._tweak

    def _piece_scratch(self, n: int, kind: type[_XtsScratch]) -> _XtsScratch:
        """Buffers for a piece of ``n`` sectors: kept for reuse when the size is the bulk piece
        or was seen before; a one-off size (an attachment's single small write) keeps none."""
        s = self._scratch.get(n)
        if s is None or type(s) is not kind:
            s = kind(n)
            bit = 1 << n
            if n == _PIECE_SECTORS or self._sizes_seen & bit:
                if len(self._scratch) >= _SCRATCH_SIZES:
                    self._scratch.clear()
                self._scratch[n] = s
            else:
                self._sizes_seen |= bit
        return s

    def encrypt(self, first_sector: int, plaintext: bytes | bytearray | memoryview) -> bytearray:
        """Ciphertext of whole sectors starting at sector number ``first_sector``."""
        out = bytearray(memoryview(plaintext).nbytes)
        self.encrypt_into(first_sector, plaintext, out)
        return out

    def decrypt(self, first_sector: int, ciphertext: bytes | bytearray | memoryview) -> bytearray:
        """Plaintext of whole sectors starting at sector number ``first_sector``."""
        out = bytearray(memoryview(ciphertext).nbytes)
        self.decrypt_into(first_sector, ciphertext, out)
        return out

    def encrypt_into(self, first_sector: int, src: bytes | bytearray | memoryview,
                     dst: bytearray | memoryview) -> None:
        """Encrypt whole sectors of ``src`` into ``dst``."""
        self._run(first_sector, src, dst, encrypt=True)

    def decrypt_into(self, first_sector: int, src: bytes | bytearray | memoryview,
                     dst: bytearray | memoryview) -> None:
        """Decrypt whole sectors of ``src`` into ``dst``."""
        self._run(first_sector, src, dst, encrypt=False)

    def _run(self, first_sector: int, src: bytes | bytearray | memoryview,
             dst: bytearray | memoryview, *, encrypt: bool) -> None:
        ecb = self._enc if encrypt else self._dec
        if ecb is None:
            ecb = self._open(encrypt=encrypt)
        data = memoryview(src).cast("B")
        out = memoryview(dst).cast("B")
        size = data.nbytes
        if size % SECTOR_SIZE:
            raise ValueError("XTS works on whole 512-byte sectors")
        if out.nbytes != size or out.readonly:
            raise ValueError("the destination must be writable and as long as the source")
        if first_sector < 0 or first_sector + size // SECTOR_SIZE > 1 << 64:
            raise ValueError("sector numbers are 64-bit")
        sectors = size // SECTOR_SIZE
        compiled = _compiled_masks
        kind = _XtsScratch if compiled is not None else _MaskScratch
        for start in range(0, sectors, _PIECE_SECTORS):
            n = min(_PIECE_SECTORS, sectors - start)
            s = self._piece_scratch(n, kind)
            at, end = start * SECTOR_SIZE, (start + n) * SECTOR_SIZE
            self._tweaks(first_sector + start, s)
            if compiled is not None:
                compiled(s.tweak_bytes, s.mask_words)
            else:
                assert isinstance(s, _MaskScratch)
                _numpy_masks(s)
            mask = s.mask_words
            np.bitwise_xor(np.frombuffer(data[at:end], _U64), mask, out=s.masked_words)
            ecb.update_into(s.masked_view, s.masked)  # in place: OpenSSL allows in == out
            np.bitwise_xor(s.masked_words, mask, out=np.frombuffer(out[at:end], _U64))

    def _tweaks(self, first: int, s: _XtsScratch) -> None:
        """``E_K2`` of the sector numbers ``first .. first + s.n - 1`` into ``s.tweaks``: one ECB call."""
        np.add(s.lanes, np.uint64(first), out=s.sectors[:, 0])
        tweak = self._tweak if self._tweak is not None else self._open_tweak()
        tweak.update_into(s.sectors_view, s.tweaks)


def _numpy_masks(s: _MaskScratch) -> _Array:
    """The numpy path: the tweak mask of every 16-byte lane of ``s.n`` sectors into ``s.mask_words``,
    in order, from their ``E_K2(sector)`` already in ``s.tweaks``."""
    n = s.n
    sh = _S64
    t, a, b, spill, spill2 = s.t, s.a, s.b, s.spill, s.spill2
    lo, hi = t[:, 0], t[:, 1]
    # X = t * 2^128 xor fold(t), fold(t) = t xor t << 1 xor t << 2 xor t << 7 (135 bits):
    # X1 = fold(hi) mod 2^64 xor spill(lo), X2 = lo xor spill(hi), X3 = hi, where
    # spill(w) = w >> 57 xor w >> 62 xor w >> 63 (the bits fold pushes past the word).
    np.right_shift(t, sh[57], out=spill)
    np.right_shift(spill, sh[5], out=spill2)
    spill ^= spill2
    spill2 >>= sh[1]
    spill ^= spill2
    np.left_shift(hi, sh[1], out=a)
    a ^= hi
    np.left_shift(hi, sh[2], out=b)
    a ^= b
    np.left_shift(hi, sh[7], out=b)
    a ^= b
    words = s.x_words
    np.bitwise_xor(a, spill[:, 0], out=words[:, 0])
    np.bitwise_xor(lo, spill[:, 1], out=words[:, 1])
    np.copyto(words[:, 2], hi)
    # Record r of a sector = (X << r) >> 8 as three words, all eight r at once.
    np.right_shift(s.x[None, :3 * n], _RECORD_RIGHT, out=s.records)
    np.left_shift(s.x[None, 1:], _RECORD_LEFT, out=s.tmp)
    s.records |= s.tmp
    # Corrections c(L) = L xor L >> 5 xor L >> 6 of the top 7 bits L of each lane, four
    # lanes per word, already where they go: bits 32..63 of record word 0 = record bytes
    # 4..7 = the first byte of lanes k = 3, 2, 1, 0. L of lane (k, r) is bits 32 + 8m ..
    # 38 + 8m (m = 3 - k) of (hi >> 1) << r.
    np.right_shift(hi, sh[1], out=s.half_hi)
    corr, c1 = s.corr[0], s.corr[1]
    np.left_shift(s.half_hi[None, :], _RECORD_SHIFT, out=corr)
    corr &= np.uint64(0x7F7F7F7F_00000000)
    np.right_shift(corr, sh[5], out=c1)
    c1 &= np.uint64(0x03030303_00000000)
    corr ^= c1
    c1 >>= sh[1]
    c1 &= np.uint64(0x01010101_00000000)
    corr ^= c1
    np.bitwise_and(corr[None], _LANE_BYTES, out=s.corr_bytes)
    # Lanes k = 3, 2, 1, 0: correct the record byte that is lane k's first, then copy the
    # lanes (lane k never reads the first bytes of the lanes copied before it).
    rec_low, lanes, windows = s.rec_low, s.mask_lanes, s.windows
    for m in range(4):
        rec_low ^= s.corr_bytes[m]
        np.copyto(lanes[:, 3 - m, :], windows[:, 3 - m, :])
    return s.mask_words


#: The where-and-which-write part of a gcm block's additional data: index, write counter.
GCM_AAD_POSITION: Final = struct.Struct(">QQ")


def gcm_aad_prefix(binding: bytes) -> bytes:
    """The who part of a gcm block's additional data: the writer's binding, length-prefixed."""
    return len(binding).to_bytes(2, "big") + binding


def gcm_block_aad(binding: bytes, index: int, counter: int) -> bytes:
    """The additional data of one gcm block: who wrote it (length-prefixed), where, which write."""
    return gcm_aad_prefix(binding) + GCM_AAD_POSITION.pack(index, counter)


class BlockAuthenticationError(Exception):
    """A stored gcm block failed authentication (tampered, moved or replayed)."""


class GcmVolumeCipher:
    """AES-256-GCM per block; stored block = nonce (12) || ciphertext || tag (16).

    The caller supplies nonces (drawn from the simulation's entropy, so seeded runs replay) and
    the per-block binding, index and write counter that go into the additional data.

    The block key is derived and its AEAD object built on the first block sealed or opened (as
    :class:`XtsVolumeCipher` builds its contexts); until ``close()`` the cipher keeps a
    reference to the caller's ``data_key`` buffer, never a copy, and the caller keeps that
    buffer unchanged until then.
    """

    name: Final = "gcm"

    def __init__(self, data_key: bytes | bytearray | memoryview) -> None:
        key = _check_key(data_key)
        self._key: bytes | bytearray | memoryview | None = data_key
        #: An all-zero key stays usable; a key that *becomes* all zeros was wiped too early.
        self._zero_key = not any(key)
        self._aead: AESGCM | None = None

    def __repr__(self) -> str:
        return f"GcmVolumeCipher(<key redacted>, open={self._key is not None})"

    def close(self) -> None:
        """Forget the key (the attachment is going away)."""
        self._key = None
        self._aead = None

    def _live(self) -> AESGCM:
        aead = self._aead
        if aead is None:
            if self._key is None:
                raise ValueError("this volume cipher is closed")
            key = memoryview(self._key).cast("B")
            if not self._zero_key and not any(key):
                raise ValueError("the data key changed after the cipher was made")
            aead = self._aead = AESGCM(
                HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=GCM_KEY_INFO)
                .derive(bytes(key)))
        return aead

    def seal(self, nonce: bytes, plaintext: bytes | memoryview, aad: bytes) -> bytes:
        """One stored block: ``nonce || AES-GCM(plaintext, aad)``."""
        if len(nonce) != GCM_NONCE_SIZE:
            raise ValueError("gcm nonces are 12 bytes")
        return nonce + self._live().encrypt(nonce, plaintext, aad)

    def open_into(self, stored: bytes | bytearray | memoryview, aad: bytes,
                  plaintext: bytearray | memoryview) -> None:
        """Decrypt one stored block into ``plaintext``, or :class:`BlockAuthenticationError`
        (``plaintext`` then holds no plaintext of the block)."""
        view = memoryview(stored).cast("B")
        if view.nbytes != memoryview(plaintext).nbytes + GCM_OVERHEAD:
            raise BlockAuthenticationError("stored block has the wrong length")
        try:
            self._live().decrypt_into(view[:GCM_NONCE_SIZE], view[GCM_NONCE_SIZE:], aad, plaintext)
        except InvalidTag:
            # OpenSSL has already written the unauthenticated plaintext: do not keep it.
            out = memoryview(plaintext).cast("B")
            out[:] = bytes(out.nbytes)
            raise BlockAuthenticationError("block failed authentication") from None

    def seal_run(self, nonces: memoryview, plaintext: memoryview, aads: Sequence[bytes],
                 stored: memoryview) -> None:
        """Seal ``len(aads)`` consecutive blocks into consecutive stored blocks in ``stored``
        (``nonces`` holds 12 bytes per block)."""
        count = len(aads)
        size = plaintext.nbytes // count if count else 0
        slot = size + GCM_OVERHEAD
        if (plaintext.nbytes != count * size or stored.nbytes != count * slot
                or nonces.nbytes != count * GCM_NONCE_SIZE):
            raise ValueError("nonces, plaintext, aads and stored blocks must describe the same blocks")
        encrypt = self._live().encrypt_into
        for i, aad in enumerate(aads):
            at = i * slot
            nonce = nonces[i * GCM_NONCE_SIZE:(i + 1) * GCM_NONCE_SIZE]
            stored[at:at + GCM_NONCE_SIZE] = nonce
            encrypt(nonce, plaintext[i * size:(i + 1) * size], aad,
                    stored[at + GCM_NONCE_SIZE:at + slot])

    def open_run(self, stored: memoryview, aads: Sequence[bytes], plaintext: memoryview) -> int:
        """Open consecutive stored blocks into consecutive plaintext blocks. Returns -1, or the
        position of the first block that fails authentication (its plaintext wiped; the blocks
        after it are not opened)."""
        count = len(aads)
        size = plaintext.nbytes // count if count else 0
        slot = size + GCM_OVERHEAD
        if plaintext.nbytes != count * size or stored.nbytes != count * slot:
            raise ValueError("stored blocks, aads and plaintext must describe the same blocks")
        decrypt = self._live().decrypt_into
        for i, aad in enumerate(aads):
            at = i * slot
            out = plaintext[i * size:(i + 1) * size]
            try:
                decrypt(stored[at:at + GCM_NONCE_SIZE], stored[at + GCM_NONCE_SIZE:at + slot],
                        aad, out)
            except InvalidTag:
                out[:] = bytes(size)  # OpenSSL has already written the unauthenticated plaintext
                return i
        return -1

    def open(self, stored: bytes | bytearray | memoryview, aad: bytes) -> bytes:
        """The plaintext of a stored block, or :class:`BlockAuthenticationError`."""
        view = memoryview(stored).cast("B")
        if view.nbytes < GCM_OVERHEAD:
            raise BlockAuthenticationError("stored block is too short")
        try:
            return self._live().decrypt(bytes(view[:GCM_NONCE_SIZE]), view[GCM_NONCE_SIZE:], aad)
        except InvalidTag:
            raise BlockAuthenticationError("block failed authentication") from None
