"""A volume's disk: a sparse map of block index -> stored bytes, and the codecs that fill it.

Unwritten blocks are absent (they read as zeros and cost nothing), so an unwritten 1 TiB volume
is a few hundred bytes and a written one costs its blocks plus a dict entry each.

The block (:data:`BLOCK_SIZE`, 32 KiB = 64 sectors) is the unit of sparseness, of
read-modify-write and of gcm authentication. It is larger than a 4 KiB file-system block on
purpose: one AES-GCM call costs about 1.2 µs of fixed overhead on top of ~0.1 ns per byte, so
4 KiB gcm blocks would spend three quarters of their time in call overhead (measured in
``bench/ebs_bench.py``). XTS still tweaks every 512-byte sector by its own number.

Codecs turn plaintext blocks into stored blocks and back; the attachment owns the codec (and so
the plaintext data key), the store owns only ciphertext and the gcm metadata an attacker with the
disk cannot rewrite together with a block (who wrote it, under which write counter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from ..crypto.volume import (
    SECTOR_SIZE,
    BlockAuthenticationError,
    GcmVolumeCipher,
    XtsVolumeCipher,
    gcm_block_aad,
)

__all__ = [
    "BLOCK_SIZE",
    "BlockCodec",
    "BlockStore",
    "GcmCodec",
    "PlainCodec",
    "TamperedBlock",
    "XtsCodec",
]

BLOCK_SIZE: Final = 32 * 1024
_SECTORS_PER_BLOCK: Final = BLOCK_SIZE // SECTOR_SIZE
_ZERO_BLOCK: Final = bytes(BLOCK_SIZE)


class TamperedBlock(Exception):
    """A stored block failed authentication; ``index`` says which (the service names the volume)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"block {index} failed authentication")
        self.index = index


class BlockStore:
    """Stored blocks of one volume or snapshot (ciphertext for encrypted volumes).

    ``blocks`` maps block index -> stored bytes. ``written`` maps block index -> (binding, write
    counter) for gcm blocks: the volume metadata each read checks the block against.
    """

    __slots__ = ("blocks", "counter", "size_bytes", "written")

    def __init__(self, size_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.blocks: dict[int, bytes] = {}
        self.written: dict[int, tuple[str, int]] = {}
        self.counter = 0  # gcm write counter, monotonic per store

    @property
    def block_count(self) -> int:
        return -(-self.size_bytes // BLOCK_SIZE)

    def clone(self, size_bytes: int | None = None) -> BlockStore:
        """A copy sharing the (immutable) stored blocks: snapshots and restores are cheap."""
        copy = BlockStore(self.size_bytes if size_bytes is None else size_bytes)
        copy.blocks = dict(self.blocks)
        copy.written = dict(self.written)
        copy.counter = self.counter
        return copy

    def read(self, codec: BlockCodec, offset: int, length: int) -> bytes:
        """``length`` plaintext bytes from ``offset`` (the caller checked the range)."""
        if length == 0:
            return b""
        first = offset // BLOCK_SIZE
        last = (offset + length - 1) // BLOCK_SIZE
        plain = codec.decode(self, first, last - first + 1)
        head = offset - first * BLOCK_SIZE
        if head == 0 and len(plain) == length:
            return plain if isinstance(plain, bytes) else bytes(plain)
        return bytes(memoryview(plain)[head:head + length])

    def write(self, codec: BlockCodec, offset: int, data: memoryview) -> None:
        """Write ``data`` at ``offset``; partial blocks at either end are read, merged, rewritten."""
        length = data.nbytes
        if length == 0:
            return
        first = offset // BLOCK_SIZE
        last = (offset + length - 1) // BLOCK_SIZE
        count = last - first + 1
        head = offset - first * BLOCK_SIZE
        if head == 0 and length == count * BLOCK_SIZE:
            codec.encode(self, first, data)
            return
        buf = bytearray(count * BLOCK_SIZE)
        # Decode before changing anything: a tampered edge block fails the write cleanly.
        if head:
            buf[:BLOCK_SIZE] = codec.decode(self, first, 1)
        tail = (offset + length) - last * BLOCK_SIZE
        if tail < BLOCK_SIZE and (last != first or not head):
            buf[(count - 1) * BLOCK_SIZE:] = codec.decode(self, last, 1)
        buf[head:head + length] = data
        codec.encode(self, first, memoryview(buf))


class BlockCodec(Protocol):
    """Plaintext blocks <-> stored blocks for one attachment (or one copy job)."""

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        """Store whole blocks ``first..`` from ``plaintext`` (a multiple of BLOCK_SIZE)."""

    def decode(self, store: BlockStore, first: int, count: int) -> bytearray | bytes:
        """Plaintext of blocks ``first..first+count-1``; unwritten blocks are zeros."""

    def close(self) -> None:
        """Drop the key material this codec holds."""


def _split(store: BlockStore, first: int, stored: bytes | bytearray) -> None:
    view = memoryview(stored)
    blocks = store.blocks
    for i in range(len(stored) // BLOCK_SIZE):
        blocks[first + i] = bytes(view[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE])


class PlainCodec:
    """An unencrypted volume: stored bytes are the plaintext (what AWS does without encryption)."""

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        _split(store, first, bytes(plaintext))

    def decode(self, store: BlockStore, first: int, count: int) -> bytes:
        get = store.blocks.get
        return b"".join(get(i, _ZERO_BLOCK) for i in range(first, first + count))

    def close(self) -> None:
        pass


class XtsCodec:
    """AES-256-XTS; block ``b`` holds sectors ``64 b .. 64 b + 63``, each tweaked by its number."""

    def __init__(self, cipher: XtsVolumeCipher) -> None:
        self._cipher = cipher

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        _split(store, first, self._cipher.encrypt(first * _SECTORS_PER_BLOCK, plaintext))

    def decode(self, store: BlockStore, first: int, count: int) -> bytearray | bytes:
        get = store.blocks.get
        stored = [get(i) for i in range(first, first + count)]
        if all(s is None for s in stored):
            return bytes(count * BLOCK_SIZE)
        # Decrypt the whole range in one call, then put zeros where nothing was ever written.
        plain = self._cipher.decrypt(
            first * _SECTORS_PER_BLOCK, b"".join(s if s is not None else _ZERO_BLOCK for s in stored))
        for i, s in enumerate(stored):
            if s is None:
                plain[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE] = _ZERO_BLOCK
        return plain

    def close(self) -> None:
        self._cipher.close()


class GcmCodec:
    """AES-256-GCM per block; the additional data binds writer volume, index and write counter.

    ``binding`` is the id of the volume writing (new writes); blocks restored from a snapshot keep
    the binding they were written under, recorded in ``store.written``. ``nonces(n)`` returns
    ``n`` fresh bytes from the simulation's entropy.
    """

    def __init__(self, cipher: GcmVolumeCipher, binding: str,
                 nonces: Callable[[int], bytes]) -> None:
        self._cipher = cipher
        self._binding = binding
        self._binding_bytes = binding.encode()
        self._nonces = nonces

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        count = plaintext.nbytes // BLOCK_SIZE
        base = store.counter
        binding = self._binding_bytes
        aads = [gcm_block_aad(binding, first + i, base + 1 + i) for i in range(count)]
        sealed = self._cipher.seal_many(self._nonces(12 * count), plaintext, BLOCK_SIZE, aads)
        store.counter = base + count
        blocks, written, who = store.blocks, store.written, self._binding
        for i, block in enumerate(sealed):
            blocks[first + i] = block
            written[first + i] = (who, base + 1 + i)

    def decode(self, store: BlockStore, first: int, count: int) -> bytes:
        parts: list[bytes] = []
        blocks, written = store.blocks, store.written
        for index in range(first, first + count):
            stored = blocks.get(index)
            expected = written.get(index)
            if stored is None and expected is None:
                parts.append(_ZERO_BLOCK)  # never written: zeros
                continue
            if stored is None or expected is None:
                raise TamperedBlock(index)  # a block appeared or vanished behind our back
            aad = gcm_block_aad(expected[0].encode(), index, expected[1])
            try:
                parts.append(self._cipher.open(stored, aad))
            except BlockAuthenticationError:
                raise TamperedBlock(index) from None
        return b"".join(parts)

    def close(self) -> None:
        self._cipher.close()
