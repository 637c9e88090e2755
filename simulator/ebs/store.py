"""A volume's disk: a sparse arena of fixed-size slots, one per written block, and the codecs.

The block (:data:`BLOCK_SIZE`, 32 KiB = 64 sectors) is the unit of sparseness, of
read-modify-write and of gcm authentication. It is larger than a 4 KiB file-system block on
purpose: one AES-GCM call costs about 1.2 µs of fixed overhead on top of ~0.1 ns per byte, so
4 KiB gcm blocks would spend three quarters of their time in call overhead (measured in
``bench/ebs_bench.py``). XTS still tweaks every 512-byte sector by its own number.

Stored blocks live in *chunks*: anonymous memory maps of :data:`CHUNK_SIZE` (2 MiB), each cut
into slots of one stored block (32 KiB for xts and unencrypted volumes, 32 KiB + 28 bytes for
gcm's ``nonce || ciphertext || tag``). A chunk is mapped only when a block inside it is first
written, and the kernel backs only the pages that are touched, so an unwritten 1 TiB volume
costs a few hundred bytes and a written one its blocks (plus at most one partly used chunk's
unused slots). Ciphers write straight into the slots and read straight out of them: no bytes
object per block, no joins.

Chunks of a store that goes away return to a :class:`ChunkPool` (one per simulation) and are
reused by the next store that needs one. On virtual machines where touching fresh memory is
slow (page faults cost ~0.8 ms per MiB on the 2-core VM the benchmark ran on) a simulation that
deletes volumes and writes new ones then does not pay that again and again.

Snapshots share chunks copy-on-write: ``clone()`` is cheap, and the first write to a shared
chunk copies that chunk's written slots.

Codecs turn plaintext blocks into stored blocks and back; the attachment owns the codec (and so
the plaintext data key), the store owns only ciphertext and the gcm metadata an attacker with the
disk cannot rewrite together with a block (who wrote it, under which write counter).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Protocol

from ..crypto.volume import (
    GCM_AAD_POSITION,
    GCM_NONCE_SIZE,
    GCM_OVERHEAD,
    SECTOR_SIZE,
    BlockAuthenticationError,
    GcmVolumeCipher,
    XtsVolumeCipher,
    gcm_aad_prefix,
)

__all__ = [
    "BLOCK_SIZE",
    "CHUNK_SIZE",
    "BlockCodec",
    "BlockStore",
    "ChunkPool",
    "GcmCodec",
    "PlainCodec",
    "StoredBlocks",
    "TamperedBlock",
    "XtsCodec",
]

BLOCK_SIZE: Final = 32 * 1024
CHUNK_SIZE: Final = 2 * 1024 * 1024
_SECTORS_PER_BLOCK: Final = BLOCK_SIZE // SECTOR_SIZE
_PRESENT: Final = b"\x01" * (CHUNK_SIZE // BLOCK_SIZE)
#: Read buffers up to this size are kept by the codec between reads (larger ones are not).
_KEPT_BUFFER: Final = 4 * 1024 * 1024


class TamperedBlock(Exception):
    """A stored block failed authentication; ``index`` says which (the service names the volume)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"block {index} failed authentication")
        self.index = index


def _zero(view: memoryview) -> None:
    view[:] = bytes(view.nbytes)


class _Chunk:
    """2 MiB of anonymous memory cut into slots, and which slots hold a stored block."""

    __slots__ = ("mem", "owners", "present")

    def __init__(self) -> None:
        # Private, not mmap's default shared mapping: shared anonymous memory is shmem (slower
        # faults, never transparent huge pages).
        self.mem = mmap.mmap(-1, CHUNK_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.present = bytearray()
        self.owners = 1  # stores holding this chunk (snapshots share chunks copy-on-write)

    @property
    def view(self) -> memoryview:
        """The chunk's bytes. Made per use (~0.1 us): a kept memoryview would be two more
        objects the garbage collector walks for every live chunk (one per written volume)."""
        return memoryview(self.mem)


class ChunkPool:
    """Chunks of stores that went away, kept mapped for the next store (at most ``limit``).

    A reused chunk still holds its old bytes; they are never visible, because a store reads and
    shows only the slots it has written itself.
    """

    __slots__ = ("_free", "limit")

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._free: list[_Chunk] = []

    def __len__(self) -> int:
        return len(self._free)

    def take(self, slots: int) -> _Chunk:
        chunk = self._free.pop() if self._free else _Chunk()
        chunk.present = bytearray(slots)
        chunk.owners = 1
        return chunk

    def give(self, chunk: _Chunk) -> None:
        if len(self._free) < self.limit:
            self._free.append(chunk)


class BlockStore:
    """Stored blocks of one volume or snapshot (ciphertext for encrypted volumes).

    ``blocks`` is the disk: block index -> stored bytes, for written blocks only (see
    :class:`StoredBlocks`). ``written`` maps block index -> (binding, write counter) for gcm
    blocks: the volume metadata each read checks the block against. The slot size is fixed by
    the first codec that writes (or the first raw block put there).
    """

    __slots__ = ("_chunks", "_per_chunk", "_pool", "counter", "size_bytes", "slot_size",
                 "written")

    def __init__(self, size_bytes: int, pool: ChunkPool | None = None) -> None:
        self.size_bytes = size_bytes
        self._pool = pool if pool is not None else ChunkPool(0)
        self._chunks: dict[int, _Chunk] = {}
        self.slot_size = 0
        self._per_chunk = 0
        self.written: dict[int, tuple[str, int]] = {}
        self.counter = 0  # gcm write counter, monotonic per store

    def __del__(self) -> None:
        pool = self._pool
        for chunk in self._chunks.values():
            chunk.owners -= 1
            if chunk.owners == 0:
                pool.give(chunk)
        self._chunks = {}

    @property
    def block_count(self) -> int:
        return -(-self.size_bytes // BLOCK_SIZE)

    @property
    def blocks(self) -> StoredBlocks:
        """The disk view: block index -> stored bytes (a live, read-only mapping)."""
        return StoredBlocks(self)

    @property
    def arena_bytes(self) -> int:
        """Memory mapped for this store's chunks (each counted in full, shared or not)."""
        return len(self._chunks) * CHUNK_SIZE

    def clone(self, size_bytes: int | None = None) -> BlockStore:
        """A copy sharing the chunks copy-on-write: snapshots and restores are cheap."""
        copy = BlockStore(self.size_bytes if size_bytes is None else size_bytes, self._pool)
        copy.slot_size, copy._per_chunk = self.slot_size, self._per_chunk
        copy._chunks = dict(self._chunks)
        for chunk in copy._chunks.values():
            chunk.owners += 1
        copy.written = dict(self.written)
        copy.counter = self.counter
        return copy

    # --- slots --------------------------------------------------------------------------

    def layout(self, slot_size: int) -> None:
        """Fix the stored block size (a codec calls this before it writes)."""
        if self.slot_size != slot_size:
            if self.slot_size:
                raise ValueError(f"this store holds {self.slot_size}-byte blocks")
            self.slot_size = slot_size
            self._per_chunk = CHUNK_SIZE // slot_size

    def runs(self, first: int, count: int) -> Iterator[tuple[int, int, int, int]]:
        """``(chunk number, first slot, slots, position in the run)`` covering the blocks
        ``first .. first + count - 1``, one tuple per chunk."""
        per = self._per_chunk
        index, end = first, first + count
        while index < end:
            number, slot = divmod(index, per)
            n = min(per - slot, end - index)
            yield number, slot, n, index - first
            index += n

    def chunk(self, number: int) -> _Chunk | None:
        return self._chunks.get(number)

    def writable_chunk(self, number: int) -> _Chunk:
        """Chunk ``number``, mapped now if new, copied first if a snapshot shares it."""
        chunk = self._chunks.get(number)
        if chunk is None:
            chunk = self._chunks[number] = self._pool.take(self._per_chunk)
        elif chunk.owners > 1:
            own = self._pool.take(self._per_chunk)
            size = self.slot_size
            for start, n, present in _present_runs(chunk.present, 0, self._per_chunk):
                if present:
                    own.view[start * size:(start + n) * size] = \
                        chunk.view[start * size:(start + n) * size]
            own.present[:] = chunk.present
            chunk.owners -= 1
            chunk = self._chunks[number] = own
        return chunk

    def slot(self, index: int) -> memoryview | None:
        """The stored bytes of block ``index`` (a view into the arena), or None if unwritten."""
        if not self._per_chunk or index < 0:
            return None
        number, slot = divmod(index, self._per_chunk)
        chunk = self._chunks.get(number)
        if chunk is None or not chunk.present[slot]:
            return None
        return chunk.view[slot * self.slot_size:(slot + 1) * self.slot_size]

    def indexes(self) -> Iterator[int]:
        """Written block indexes, ascending."""
        per = self._per_chunk
        for number in sorted(self._chunks):
            present = self._chunks[number].present
            base = number * per
            slot = present.find(1)
            while slot >= 0:
                yield base + slot
                slot = present.find(1, slot + 1)

    def count(self) -> int:
        return sum(c.present.count(1) for c in self._chunks.values())

    def put_raw(self, index: int, stored: bytes) -> None:
        """Put ``stored`` at block ``index`` as an attacker with the disk would."""
        if len(stored) != self.slot_size or index < 0:
            raise ValueError(f"a stored block of this volume is {self.slot_size} bytes")
        number, slot = divmod(index, self._per_chunk)
        chunk = self.writable_chunk(number)
        chunk.view[slot * self.slot_size:(slot + 1) * self.slot_size] = stored
        chunk.present[slot] = 1

    def flip_bit(self, index: int, bit: int) -> None:
        """Flip bit ``bit`` (modulo the block's bits) of stored block ``index``."""
        if self.slot(index) is None:
            raise KeyError(index)
        number, slot = divmod(index, self._per_chunk)
        view = self.writable_chunk(number).view
        at = slot * self.slot_size + (bit // 8) % self.slot_size
        view[at] ^= 1 << (bit % 8)

    # --- plaintext I/O ------------------------------------------------------------------

    def read(self, codec: BlockCodec, offset: int, length: int) -> bytes:
        """``length`` plaintext bytes from ``offset`` (the caller checked the range)."""
        if length == 0:
            return b""
        first = offset // BLOCK_SIZE
        count = (offset + length - 1) // BLOCK_SIZE - first + 1
        buf = codec.buffer(count * BLOCK_SIZE)
        codec.decode_into(self, first, count, buf)
        head = offset - first * BLOCK_SIZE
        return bytes(buf[head:head + length])

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
        buf = codec.buffer(count * BLOCK_SIZE)  # every byte is decoded or overwritten below
        # Decode before changing anything: a tampered edge block fails the write cleanly.
        if head:
            codec.decode_into(self, first, 1, buf[:BLOCK_SIZE])
        tail = (offset + length) - last * BLOCK_SIZE
        if tail < BLOCK_SIZE and (last != first or not head):
            codec.decode_into(self, last, 1, buf[(count - 1) * BLOCK_SIZE:])
        buf[head:head + length] = data
        codec.encode(self, first, buf)


class StoredBlocks(Mapping[int, bytes]):
    """What sits on a store's disk: block index -> a copy of its stored bytes (written blocks)."""

    __slots__ = ("_store",)

    def __init__(self, store: BlockStore) -> None:
        self._store = store

    def __getitem__(self, index: int) -> bytes:
        view = self._store.slot(index) if isinstance(index, int) else None
        if view is None:
            raise KeyError(index)
        return bytes(view)

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self._store.slot(index) is not None

    def __iter__(self) -> Iterator[int]:
        return self._store.indexes()

    def __len__(self) -> int:
        return self._store.count()


def _present_runs(present: bytearray, start: int, count: int) -> Iterator[tuple[int, int, bool]]:
    """Maximal runs ``(first slot, slots, written?)`` of ``present[start:start + count]``."""
    end = start + count
    at = start
    while at < end:
        stop = present.find(0 if present[at] else 1, at, end)
        stop = end if stop < 0 else stop
        yield at, stop - at, bool(present[at])
        at = stop


class BlockCodec(Protocol):
    """Plaintext blocks <-> stored blocks for one attachment (or one copy job)."""

    slot_size: int

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        """Store whole blocks ``first..`` from ``plaintext`` (a multiple of BLOCK_SIZE)."""

    def decode_into(self, store: BlockStore, first: int, count: int, out: memoryview) -> None:
        """Plaintext of blocks ``first..first+count-1`` into ``out``; unwritten blocks are zeros."""

    def buffer(self, size: int) -> memoryview:
        """A writable scratch buffer of ``size`` bytes for one read (reused between reads)."""

    def close(self) -> None:
        """Drop the key material this codec holds."""


class _Codec:
    """Shared parts: the read buffer."""

    slot_size = BLOCK_SIZE

    def __init__(self) -> None:
        self._buffer = bytearray()

    def buffer(self, size: int) -> memoryview:
        if size > _KEPT_BUFFER:
            return memoryview(bytearray(size))
        if len(self._buffer) < size:
            self._buffer = bytearray(size)
        return memoryview(self._buffer)[:size]

    def close(self) -> None:
        self._buffer = bytearray()


def _copy(first_sector: int, src: memoryview, dst: memoryview) -> None:
    dst[:] = src


class _SectorCodec(_Codec):
    """Stored block = transformed plaintext block, same size: runs of slots in one call each.

    ``_seal`` / ``_open(first sector, src, dst)`` transform whole blocks (a copy, or XTS)."""

    def __init__(self, seal: Callable[[int, memoryview, memoryview], None],
                 open_: Callable[[int, memoryview, memoryview], None]) -> None:
        super().__init__()
        self._seal, self._open = seal, open_

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        store.layout(BLOCK_SIZE)
        seal = self._seal
        for number, slot, n, pos in store.runs(first, plaintext.nbytes // BLOCK_SIZE):
            chunk = store.writable_chunk(number)
            seal((first + pos) * _SECTORS_PER_BLOCK,
                 plaintext[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE],
                 chunk.view[slot * BLOCK_SIZE:(slot + n) * BLOCK_SIZE])
            chunk.present[slot:slot + n] = _PRESENT[:n]

    def decode_into(self, store: BlockStore, first: int, count: int, out: memoryview) -> None:
        if not store.slot_size:
            _zero(out)
            return
        open_ = self._open
        for number, slot, n, pos in store.runs(first, count):
            chunk = store.chunk(number)
            if chunk is None:
                _zero(out[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE])
                continue
            for at, m, present in _present_runs(chunk.present, slot, n):
                index = first + pos + at - slot
                dst = out[(index - first) * BLOCK_SIZE:(index - first + m) * BLOCK_SIZE]
                if present:
                    open_(index * _SECTORS_PER_BLOCK,
                          chunk.view[at * BLOCK_SIZE:(at + m) * BLOCK_SIZE], dst)
                else:
                    _zero(dst)


class PlainCodec(_SectorCodec):
    """An unencrypted volume: stored bytes are the plaintext (what AWS does without encryption)."""

    def __init__(self) -> None:
        super().__init__(_copy, _copy)


class XtsCodec(_SectorCodec):
    """AES-256-XTS; block ``b`` holds sectors ``64 b .. 64 b + 63``, each tweaked by its number."""

    def __init__(self, cipher: XtsVolumeCipher) -> None:
        super().__init__(cipher.encrypt_into, cipher.decrypt_into)
        self._cipher = cipher

    def close(self) -> None:
        super().close()
        self._cipher.close()


class GcmCodec(_Codec):
    """AES-256-GCM per block; the additional data binds writer volume, index and write counter.

    ``binding`` is the id of the volume writing (new writes); blocks restored from a snapshot keep
    the binding they were written under, recorded in ``store.written``. ``nonces(n)`` returns
    ``n`` fresh bytes from the simulation's entropy.
    """

    slot_size = BLOCK_SIZE + GCM_OVERHEAD

    def __init__(self, cipher: GcmVolumeCipher, binding: str,
                 nonces: Callable[[int], bytes]) -> None:
        super().__init__()
        self._cipher = cipher
        self._binding = binding
        self._nonces = nonces
        self._prefixes: dict[str, bytes] = {}

    def _prefix(self, binding: str) -> bytes:
        """``gcm_block_aad``'s binding part (length-prefixed), cached per writer."""
        prefix = self._prefixes.get(binding)
        if prefix is None:
            prefix = self._prefixes[binding] = gcm_aad_prefix(binding.encode())
        return prefix

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        size = self.slot_size
        store.layout(size)
        count = plaintext.nbytes // BLOCK_SIZE
        base = store.counter
        nonces = memoryview(self._nonces(GCM_NONCE_SIZE * count))
        prefix = self._prefix(self._binding)
        position = GCM_AAD_POSITION.pack
        written, who = store.written, self._binding
        for number, slot, n, pos in store.runs(first, count):
            chunk = store.writable_chunk(number)
            self._cipher.seal_run(
                nonces[pos * GCM_NONCE_SIZE:(pos + n) * GCM_NONCE_SIZE],
                plaintext[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE],
                [prefix + position(first + i, base + 1 + i) for i in range(pos, pos + n)],
                chunk.view[slot * size:(slot + n) * size])
            for i in range(pos, pos + n):
                written[first + i] = (who, base + 1 + i)
            chunk.present[slot:slot + n] = _PRESENT[:n]
        store.counter = base + count

    def decode_into(self, store: BlockStore, first: int, count: int, out: memoryview) -> None:
        if not store.slot_size:  # nothing was ever written (written blocks fix the layout)
            _zero(out)
            return
        size = self.slot_size
        written = store.written
        position = GCM_AAD_POSITION.pack
        prefixes = self._prefixes
        for number, slot, n, pos in store.runs(first, count):
            chunk = store.chunk(number)
            start = first + pos
            expected = [written.get(index) for index in range(start, start + n)]
            if chunk is not None and None not in expected and chunk.present.count(0, slot,
                                                                                 slot + n) == 0:
                # The usual case: a run of written blocks, opened with one call.
                aads = [(prefixes.get(w[0]) or self._prefix(w[0])) + position(index, w[1])
                        for index, w in enumerate(expected, start) if w is not None]
                failed = self._cipher.open_run(chunk.view[slot * size:(slot + n) * size], aads,
                                               out[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE])
                if failed >= 0:
                    raise TamperedBlock(start + failed)
                continue
            self._decode_blocks(store, start, n, out[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE])

    def _decode_blocks(self, store: BlockStore, first: int, count: int, out: memoryview) -> None:
        """Block by block, for runs that mix written and unwritten blocks."""
        written = store.written
        open_into, position = self._cipher.open_into, GCM_AAD_POSITION.pack
        for pos in range(count):
            index = first + pos
            dst = out[pos * BLOCK_SIZE:(pos + 1) * BLOCK_SIZE]
            stored = store.slot(index)
            expected = written.get(index)
            if stored is None and expected is None:
                _zero(dst)  # never written: zeros
                continue
            if stored is None or expected is None:
                raise TamperedBlock(index)  # a block appeared or vanished behind our back
            try:
                open_into(stored, self._prefix(expected[0]) + position(index, expected[1]), dst)
            except BlockAuthenticationError:
                raise TamperedBlock(index) from None

    def close(self) -> None:
        super().close()
        self._cipher.close()

