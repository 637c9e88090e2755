"""A volume's disk: a sparse arena of fixed-size slots, one per written block, and the codecs.

The block (:data:`BLOCK_SIZE`, 32 KiB) is the unit of sparseness, of read-modify-write, of gcm
authentication and the XTS data unit: every codec makes one cipher call per block. It is larger
than a 4 KiB file-system block on purpose: each cipher call has a fixed cost, which 4 KiB blocks
would pay eight times as often (``bench/ebs_bench.py`` measures the ciphers).

Stored blocks live in *chunks*: anonymous memory maps of :data:`CHUNK_SIZE` (2 MiB), each cut
into slots of one stored block (32 KiB for xts and unencrypted volumes, 32 KiB + 28 bytes for
gcm's ``nonce || ciphertext || tag``). A chunk is mapped only when a block inside it is first
written, and the kernel backs only the pages that are touched, so an unwritten 1 TiB volume
costs a few hundred bytes and a written one its blocks (plus at most one partly used chunk's
unused slots). Ciphers write straight into the slots and read straight out of them: no bytes
object per block, no joins.

Chunks of a store that goes away return to a :class:`ChunkPool` (one per simulation) and are
reused by the next store that needs one: where touching fresh memory is slow (page faults on
virtual machines), a simulation that deletes volumes and writes new ones does not pay that again
and again.

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
    XTS_DATA_UNIT,
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

#: One block is one XTS data unit (see simulator/crypto/volume.py).
BLOCK_SIZE: Final = XTS_DATA_UNIT
CHUNK_SIZE: Final = 2 * 1024 * 1024
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
    """The one codec path: runs of consecutive slots, handed to the cipher a run at a time.

    Subclasses say how a run of ``n`` whole blocks is sealed into its ``n`` slots and opened from
    them (``stored`` is None for a run of blocks never written); XTS makes one library call per
    block inside a run, gcm one per block too."""

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

    def _seal(self, store: BlockStore, first: int, plaintext: memoryview, slots: memoryview) -> None:
        raise NotImplementedError

    def _open(self, store: BlockStore, first: int, stored: memoryview | None,
              out: memoryview) -> None:
        raise NotImplementedError

    def encode(self, store: BlockStore, first: int, plaintext: memoryview) -> None:
        size = self.slot_size
        store.layout(size)
        for number, slot, n, pos in store.runs(first, plaintext.nbytes // BLOCK_SIZE):
            chunk = store.writable_chunk(number)
            self._seal(store, first + pos, plaintext[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE],
                       chunk.view[slot * size:(slot + n) * size])
            chunk.present[slot:slot + n] = _PRESENT[:n]

    def decode_into(self, store: BlockStore, first: int, count: int, out: memoryview) -> None:
        if not store.slot_size:  # nothing was ever written (written blocks fix the layout)
            self._open(store, first, None, out)
            return
        size = self.slot_size
        for number, slot, n, pos in store.runs(first, count):
            chunk = store.chunk(number)
            if chunk is None:
                self._open(store, first + pos, None, out[pos * BLOCK_SIZE:(pos + n) * BLOCK_SIZE])
                continue
            for at, m, present in _present_runs(chunk.present, slot, n):
                index = first + pos + at - slot
                dst = out[(index - first) * BLOCK_SIZE:(index - first + m) * BLOCK_SIZE]
                self._open(store, index, chunk.view[at * size:(at + m) * size] if present else None,
                           dst)


class PlainCodec(_Codec):
    """An unencrypted volume: stored bytes are the plaintext (what AWS does without encryption)."""

    def _seal(self, store: BlockStore, first: int, plaintext: memoryview, slots: memoryview) -> None:
        slots[:] = plaintext

    def _open(self, store: BlockStore, first: int, stored: memoryview | None,
              out: memoryview) -> None:
        if stored is None:
            _zero(out)
        else:
            out[:] = stored


class XtsCodec(_Codec):
    """AES-256-XTS; block ``b`` is one XTS data unit with tweak ``b``."""

    def __init__(self, cipher: XtsVolumeCipher) -> None:
        super().__init__()
        self._cipher = cipher

    def _seal(self, store: BlockStore, first: int, plaintext: memoryview, slots: memoryview) -> None:
        self._cipher.encrypt_into(first, plaintext, slots)

    def _open(self, store: BlockStore, first: int, stored: memoryview | None,
              out: memoryview) -> None:
        if stored is None:
            _zero(out)
        else:
            self._cipher.decrypt_into(first, stored, out)

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

    def _aad(self, binding: str, index: int, counter: int) -> bytes:
        """``gcm_block_aad``, with the binding part kept per writer (a codec sees one or two)."""
        prefix = self._prefixes.get(binding)
        if prefix is None:
            prefix = self._prefixes[binding] = gcm_aad_prefix(binding.encode())
        return prefix + GCM_AAD_POSITION.pack(index, counter)

    def _seal(self, store: BlockStore, first: int, plaintext: memoryview, slots: memoryview) -> None:
        count = plaintext.nbytes // BLOCK_SIZE
        base, who = store.counter, self._binding
        self._cipher.seal_run(memoryview(self._nonces(GCM_NONCE_SIZE * count)), plaintext,
                              [self._aad(who, first + i, base + 1 + i) for i in range(count)],
                              slots)
        for i in range(count):
            store.written[first + i] = (who, base + 1 + i)
        store.counter = base + count

    def _open(self, store: BlockStore, first: int, stored: memoryview | None,
              out: memoryview) -> None:
        count = out.nbytes // BLOCK_SIZE
        expected = [store.written.get(index) for index in range(first, first + count)]
        if stored is None:
            if any(expected):
                raise TamperedBlock(first + next(i for i, w in enumerate(expected) if w))
            _zero(out)  # never written: zeros
            return
        aads = []
        for index, w in enumerate(expected, first):
            if w is None:
                raise TamperedBlock(index)  # a block appeared behind our back
            aads.append(self._aad(w[0], index, w[1]))
        failed = self._cipher.open_run(stored, aads, out)
        if failed >= 0:
            _zero(out)  # the blocks before the failing one were opened: keep none of the run
            raise TamperedBlock(first + failed)

    def close(self) -> None:
        super().close()
        self._cipher.close()
