"""EBS volume ciphers: the only code that holds a volume's data key and its nonces.

Two ciphers, chosen per volume:

``"xts"`` -- what EBS does: AES-256-XTS (IEEE 1619) with the 64-byte data key, ``K1 = key[:32]``
encrypts data and ``K2 = key[32:]`` encrypts tweaks, through cryptography's own ``modes.XTS``.
The XTS *data unit* is :data:`XTS_DATA_UNIT` (32 KiB, the store's block) and its tweak is the
unit's number as a 128-bit little-endian integer (the Linux dm-crypt ``plain64`` convention,
counted in data units). IEEE 1619 lets an implementation choose the data-unit size (up to
2^20 AES blocks); one unit per block means one cipher call per stored block, so the per-call
setup of a ``Cipher`` is paid once per 32 KiB instead of once per 512-byte sector (where it
would cost more than the encryption itself). Length-preserving and unauthenticated: a flipped
bit on disk decrypts to garbage, silently.

``"gcm"`` -- authenticated: AES-256-GCM per stored block, with a fresh 96-bit nonce per write and
additional data that binds the block to a volume, its index and its write counter, so a flipped
bit, a block moved to another index or volume, or an old version of a block replayed all fail
with :class:`BlockAuthenticationError`. The GCM key is HKDF-SHA256 of the 64-byte data key (see
:data:`GCM_KEY_INFO`): a data key is never used as-is by two algorithms.

Both ciphers keep a reference to the caller's ``data_key`` buffer, never a copy, until
``close()``; the caller keeps that buffer unchanged until it closes the cipher (EBS closes,
then wipes). Neither is safe to share between threads by itself: EBS calls them under the
simulation's lock (see ``simulator/boundary.py``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "DATA_KEY_SIZE",
    "GCM_AAD_POSITION",
    "GCM_KEY_INFO",
    "GCM_NONCE_SIZE",
    "GCM_OVERHEAD",
    "GCM_TAG_SIZE",
    "VOLUME_CIPHERS",
    "XTS_DATA_UNIT",
    "BlockAuthenticationError",
    "GcmVolumeCipher",
    "XtsVolumeCipher",
    "gcm_aad_prefix",
    "gcm_block_aad",
]

#: EBS asks KMS for 64 bytes: two AES-256 keys for XTS.
DATA_KEY_SIZE: Final = 64
#: The XTS data unit (bytes); its tweak is the unit's number. Equal to the store's block.
XTS_DATA_UNIT: Final = 32 * 1024
#: Stored gcm block: nonce || ciphertext || tag.
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16
GCM_OVERHEAD: Final = GCM_NONCE_SIZE + GCM_TAG_SIZE
#: HKDF ``info`` for the gcm block key (salt: none; the data key is uniformly random).
GCM_KEY_INFO: Final = b"envelope-sim/ebs/volume-cipher/gcm/v1"
VOLUME_CIPHERS: Final = ("xts", "gcm")
_MAX_UNIT: Final = 1 << 64


def _check_key(data_key: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data_key)
    if view.nbytes != DATA_KEY_SIZE:
        raise ValueError(f"a volume data key is {DATA_KEY_SIZE} bytes")
    return view


class XtsVolumeCipher:
    """AES-256-XTS over :data:`XTS_DATA_UNIT`-byte data units, one library call per unit.

    ``encrypt_into(first_unit, src, dst)`` / ``decrypt_into(...)`` process whole data units from
    ``src`` into the writable ``dst`` of the same length, unit ``i`` of ``src`` under the tweak
    ``first_unit + i``; ``encrypt`` and ``decrypt`` return a new bytearray. ``close()`` drops
    the reference to the key.
    """

    name: Final = "xts"

    def __init__(self, data_key: bytes | bytearray | memoryview) -> None:
        self.check_key(data_key)
        self._key: bytes | bytearray | memoryview | None = data_key
        self._aes: algorithms.AES | None = None

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
        """Forget the key (the attachment is going away)."""
        self._key = None
        self._aes = None

    def _live(self) -> algorithms.AES:
        aes = self._aes
        if aes is None:
            if self._key is None:
                raise ValueError("this volume cipher is closed")
            key = memoryview(self._key).cast("B")
            if key[:32] == key[32:]:  # e.g. all zeros: the buffer was wiped before close()
                raise ValueError("the data key changed after the cipher was made")
            aes = self._aes = algorithms.AES(bytes(key))
        return aes

    def encrypt(self, first_unit: int, plaintext: bytes | bytearray | memoryview) -> bytearray:
        """Ciphertext of whole data units starting at data unit ``first_unit``."""
        out = bytearray(memoryview(plaintext).nbytes)
        self.encrypt_into(first_unit, plaintext, out)
        return out

    def decrypt(self, first_unit: int, ciphertext: bytes | bytearray | memoryview) -> bytearray:
        """Plaintext of whole data units starting at data unit ``first_unit``."""
        out = bytearray(memoryview(ciphertext).nbytes)
        self.decrypt_into(first_unit, ciphertext, out)
        return out

    def encrypt_into(self, first_unit: int, src: bytes | bytearray | memoryview,
                     dst: bytearray | memoryview) -> None:
        """Encrypt whole data units of ``src`` into ``dst``."""
        self._run(first_unit, src, dst, encrypt=True)

    def decrypt_into(self, first_unit: int, src: bytes | bytearray | memoryview,
                     dst: bytearray | memoryview) -> None:
        """Decrypt whole data units of ``src`` into ``dst``."""
        self._run(first_unit, src, dst, encrypt=False)

    def _run(self, first_unit: int, src: bytes | bytearray | memoryview,
             dst: bytearray | memoryview, *, encrypt: bool) -> None:
        data = memoryview(src).cast("B")
        out = memoryview(dst).cast("B")
        size = data.nbytes
        if size % XTS_DATA_UNIT:
            raise ValueError(f"XTS works on whole {XTS_DATA_UNIT}-byte data units")
        if out.nbytes != size or out.readonly:
            raise ValueError("the destination must be writable and as long as the source")
        units = size // XTS_DATA_UNIT
        if first_unit < 0 or first_unit + units > _MAX_UNIT:
            raise ValueError("data unit numbers are 64-bit")
        aes = self._live()
        for i in range(units):
            cipher = Cipher(aes, modes.XTS((first_unit + i).to_bytes(16, "little")))
            ctx = cipher.encryptor() if encrypt else cipher.decryptor()
            at = i * XTS_DATA_UNIT
            ctx.update_into(data[at:at + XTS_DATA_UNIT], out[at:at + XTS_DATA_UNIT])


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

    The block key is derived and its AEAD object built on the first block sealed or opened.
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
