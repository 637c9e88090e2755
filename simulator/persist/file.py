"""The state file: one SQLite database holding a simulation's settings and its journal.

The file knows no rules: it stores settings (``meta``) and an append-only journal of rows
``(seq, kind, body, chain)`` that :mod:`simulator.persist.journal` writes and replays. Each
row's ``chain`` is a BLAKE2b digest over the previous row's digest, its kind and its body, so
a flipped bit, a row removed or rows swapped is found when the journal is read.

Crash safety: write-ahead log (``journal_mode=WAL``) with ``synchronous=NORMAL``. A commit
is in the log before :meth:`StateFile.commit` returns, so a process that is killed (SIGKILL,
a crash) loses nothing committed, and a reopen never sees half a transaction. Against an
operating-system crash or a power cut the database stays consistent but the last commits
since the log was last synced may be lost (``synchronous=FULL`` would sync every commit, a
disk flush per API call). ``locking_mode=EXCLUSIVE`` holds the file's lock from open to
close, so a second process (or a second Simulation) opening it is refused, and the WAL index
lives in memory (no ``-shm`` side file). The file and its ``-wal`` side file are created
readable by their owner only (0600).

Block writes are large: their stored (ciphertext) blocks go to a side file ``<file>-blocks``,
an append-only log the journal rows refer to by offset, length and CRC-32; it is appended
before the row is committed and synced before every checkpoint.

A file that is not ours, from a newer schema, empty, truncated or corrupt, or locked, is
refused with :class:`StateFileError` before anything is written to it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import struct
import zlib
from collections.abc import Generator
from pathlib import Path
from typing import Final

from ..errors import ValidationException

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "StateFile", "StateFileError"]

#: ``PRAGMA application_id``: "ESIM" (envelope-sim), read from the file header before opening.
APPLICATION_ID: Final = 0x4553494D
SCHEMA_VERSION: Final = 1
_HEADER: Final = b"SQLite format 3\x00"
_CHAIN_SIZE: Final = 16
_GENESIS: Final = bytes(_CHAIN_SIZE)
_CHECKPOINT_EVERY: Final = 1000
_BLOCKS_STEP: Final = 64 * 1024 * 1024
_SCHEMA: Final = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE journal (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL, "
    "chain BLOB NOT NULL)",
)


class StateFileError(ValidationException):
    """The state file cannot be used (not ours, newer, corrupt, locked); it was not modified."""


def _chain(previous: bytes, kind: str, body: bytes) -> bytes:
    h = hashlib.blake2b(previous, digest_size=_CHAIN_SIZE)
    h.update(kind.encode())
    h.update(b"\x00")
    h.update(body)
    return h.digest()


class StateFile:
    """An open, locked state file. ``StateFile.open(path)`` creates or validates it."""

    def __init__(self, path: Path, db: sqlite3.Connection, meta: dict[str, str],
                 created: bool, last_seq: int, last_chain: bytes, blocks_fd: int) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = db
        # The block file: an append-only log of stored (ciphertext) blocks that journal rows
        # refer to by offset; its size is where the next append goes.
        self._blocks = blocks_fd
        # Where the next append goes: past every block a row refers to (read_blocks moves it
        # there during replay); the file is allocated ahead of it in steps.
        self._blocks_end = 0
        self._blocks_allocated = os.fstat(blocks_fd).st_size
        self._commits = 0
        db.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints are ours (see commit())
        self.meta = meta
        self.created = created
        self._seq = last_seq
        self._chain = last_chain
        self._pending = 0  # rows appended since the last commit

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], new_meta: dict[str, str]) -> StateFile:
        """Open ``path``; create it with ``new_meta`` if it does not exist."""
        p = Path(path)
        created = False
        try:
            fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            _check_header(p)
        except OSError as err:
            raise StateFileError(f"state file {str(p)!r} cannot be created: "
                                 f"{err.strerror}") from None
        else:
            os.close(fd)
            created = True
        try:
            db = sqlite3.connect(p, timeout=0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            if created:
                p.unlink(missing_ok=True)
            raise StateFileError(f"state file {str(p)!r} cannot be opened: {err}") from None
        try:
            # Exclusive locking before WAL: the WAL index then lives in this process's memory.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")  # takes the lock now, or fails if another holds it
        except sqlite3.OperationalError as err:
            db.close()
            if created:
                p.unlink(missing_ok=True)
            if "locked" in str(err) or "busy" in str(err):
                raise StateFileError(f"state file {str(p)!r} is in use by another process "
                                     "(or another Simulation); it was not opened") from None
            raise StateFileError(f"state file {str(p)!r} is not a usable SQLite database: "
                                 f"{err}") from None
        except sqlite3.DatabaseError as err:
            db.close()
            raise StateFileError(f"state file {str(p)!r} is corrupt: {err}") from None
        try:
            if created:
                return cls._create(p, db, new_meta)
            return cls._validate(p, db)
        except BaseException:
            db.close()
            if created:
                p.unlink(missing_ok=True)
            raise

    @classmethod
    def _create(cls, p: Path, db: sqlite3.Connection, meta: dict[str, str]) -> StateFile:
        db.execute("COMMIT")
        db.execute("PRAGMA page_size=1024")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
        # The header (application id, version) reaches the main file at once, so a reader
        # of the header alone recognises the file even after a crash.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        side = _side_path(p)
        fd = os.open(side, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        return cls(p, db, dict(meta), True, 0, _GENESIS, fd)

    @classmethod
    def _validate(cls, p: Path, db: sqlite3.Connection) -> StateFile:
        try:
            app, = db.execute("PRAGMA application_id").fetchone()
            version, = db.execute("PRAGMA user_version").fetchone()
            if app != APPLICATION_ID:
                raise StateFileError(f"{str(p)!r} is an SQLite database, not an envelope-sim "
                                     "state file; it was not modified")
            if version > SCHEMA_VERSION:
                raise StateFileError(
                    f"state file {str(p)!r} has schema version {version}, newer than this "
                    f"envelope-sim's {SCHEMA_VERSION}: upgrade envelope-sim to open it")
            if version != SCHEMA_VERSION:
                raise StateFileError(f"state file {str(p)!r} has unknown schema version "
                                     f"{version}")
            check = [row[0] for row in db.execute("PRAGMA quick_check")]
            if check != ["ok"]:
                raise StateFileError(f"state file {str(p)!r} is corrupt: {check[0]}")
            meta = dict(db.execute("SELECT name, value FROM meta"))
            row = db.execute("SELECT seq, chain FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError as err:
            raise StateFileError(f"state file {str(p)!r} is corrupt: {err}") from None
        last_seq, last_chain = (0, _GENESIS) if row is None else (int(row[0]), bytes(row[1]))
        try:
            fd = os.open(_side_path(p), os.O_RDWR)
        except OSError as err:
            raise StateFileError(f"state file {str(p)!r}: its block file "
                                 f"{str(_side_path(p))!r} cannot be opened ({err.strerror}); "
                                 "it was not modified") from None
        db.execute("COMMIT")
        return cls(p, db, meta, False, last_seq, last_chain, fd)

    # -- the journal -----------------------------------------------------------------------

    def rows(self) -> Generator[tuple[str, bytes], None, None]:
        """The journal's rows in order, ``(kind, body)``, each checked against its chain."""
        previous, expected_seq = _GENESIS, 1
        try:
            cursor = self._open_db.execute("SELECT seq, kind, body, chain FROM journal ORDER BY seq")
            try:
                for seq, kind, body, chain in cursor:
                    body = bytes(body)
                    if seq != expected_seq or not isinstance(kind, str) \
                            or _chain(previous, kind, body) != chain:
                        raise StateFileError(f"state file {str(self.path)!r} is corrupt: "
                                             f"journal entry {seq} does not match its checksum")
                    previous, expected_seq = chain, seq + 1
                    yield kind, body
            finally:
                cursor.close()  # an open statement would keep the log file from going away
        except sqlite3.DatabaseError as err:
            raise StateFileError(f"state file {str(self.path)!r} is corrupt: {err}") from None

    def append(self, kind: str, body: bytes, *, commit: bool = True) -> None:
        """Add one row; ``commit`` makes it and every row before it durable now, else it is
        durable at the next :meth:`commit`."""
        db = self._open_db
        if not (commit or db.in_transaction):
            db.execute("BEGIN")
        self._seq += 1
        self._chain = chain = _chain(self._chain, kind, body)
        db.execute("INSERT INTO journal VALUES (?, ?, ?, ?)", (self._seq, kind, body, chain))
        self._pending += 1
        if commit:
            self.commit()

    def append_blocks(self, views: list[memoryview]) -> tuple[int, int, int]:
        """Append ``views`` to the block file: ``(offset, length, crc32)`` for a row to keep.

        Written before the row that refers to them is committed, so a committed row never
        refers to blocks that are not there (a crash in between leaves bytes nothing uses)."""
        offset = self._blocks_end
        crc = 0
        length = 0
        for view in views:
            crc = zlib.crc32(view, crc)
            length += view.nbytes
        if offset + length > self._blocks_allocated:
            # Allocating ahead in large steps: extending a file a write at a time costs the
            # file system more than writing the blocks.
            step = min(_BLOCKS_STEP, max(1 << 20, self._blocks_allocated))  # doubling
            grow = max(step, offset + length - self._blocks_allocated)
            try:
                os.posix_fallocate(self._blocks, self._blocks_allocated, grow)
                self._blocks_allocated += grow
            except OSError:
                pass  # not supported here: the write below extends the file
        written = os.pwritev(self._blocks, views, offset)
        if written != length:  # a short write (disk full): write the rest, or fail loudly
            data = b"".join(bytes(v) for v in views)
            while written < length:
                written += os.pwrite(self._blocks, data[written:], offset + written)
        self._blocks_end = offset + length
        return offset, length, crc

    def read_blocks(self, offset: int, length: int, crc: int) -> bytes:
        """The bytes :meth:`append_blocks` wrote, checked against their CRC."""
        data = os.pread(self._blocks, length, offset)
        self._blocks_end = max(self._blocks_end, offset + length)
        if len(data) != length or zlib.crc32(data) != crc:
            raise StateFileError(f"state file {str(self.path)!r}: its block file is truncated "
                                 f"or corrupt at offset {offset}")
        return data

    @property
    def pending(self) -> int:
        """Rows appended and not yet committed."""
        return self._pending

    def commit(self) -> None:
        """Make every appended row durable (one transaction).

        Every :data:`_CHECKPOINT_EVERY` commits, the block file is synced and the log is
        copied into the database (a checkpoint, which syncs it), so the log stays small and
        what is checkpointed never refers to blocks a power cut could lose."""
        if self._pending:
            db = self._open_db
            if db.in_transaction:
                db.execute("COMMIT")
            self._pending = 0
            self._commits += 1
            if self._commits % _CHECKPOINT_EVERY == 0:
                self.checkpoint()

    def checkpoint(self) -> None:
        """Sync the block file, then copy the log into the database file."""
        os.fsync(self._blocks)
        self._open_db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Commit, checkpoint the log into the file and release the lock."""
        db = self._db
        if db is None:
            return
        try:
            if db.in_transaction:
                db.execute("COMMIT")
            # What was allocated ahead and never written goes (a reopen appends at the end).
            os.ftruncate(self._blocks, self._blocks_end)
            self.checkpoint()
        finally:
            self._release()

    def abandon(self) -> None:
        """Release the lock without committing anything (an open that failed)."""
        db = self._db
        if db is not None:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._release()

    def _release(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()
            os.close(self._blocks)

    @property
    def _open_db(self) -> sqlite3.Connection:
        db = self._db
        if db is None:
            raise StateFileError(f"state file {str(self.path)!r} is closed")
        return db


def _side_path(p: Path) -> Path:
    return p.with_name(p.name + "-blocks")


def _check_header(p: Path) -> None:
    """Refuse, before SQLite touches it, a file that cannot be ours."""
    try:
        with open(p, "rb") as f:
            head = f.read(100)
    except OSError as err:
        raise StateFileError(f"state file {str(p)!r} cannot be read: {err.strerror}") from None
    if not head:
        raise StateFileError(f"state file {str(p)!r} is empty (zero bytes): not an envelope-sim "
                             "state file; it was not modified")
    if len(head) < 100 or not head.startswith(_HEADER):
        raise StateFileError(f"{str(p)!r} is not an envelope-sim state file (not an SQLite "
                             "database); it was not modified")
    version, = struct.unpack_from(">I", head, 60)
    app, = struct.unpack_from(">I", head, 68)
    if app != APPLICATION_ID:
        raise StateFileError(f"{str(p)!r} is an SQLite database, not an envelope-sim state "
                             "file; it was not modified")
    if version > SCHEMA_VERSION:
        raise StateFileError(
            f"state file {str(p)!r} has schema version {version}, newer than this "
            f"envelope-sim's {SCHEMA_VERSION}: upgrade envelope-sim to open it")
    size = p.stat().st_size
    page_size, = struct.unpack_from(">H", head, 16)
    page_size = 65536 if page_size == 1 else page_size
    pages, = struct.unpack_from(">I", head, 28)
    if page_size and size % page_size:
        raise StateFileError(f"state file {str(p)!r} is truncated ({size} bytes is not a whole "
                             f"number of {page_size}-byte pages); it was not modified")
    if pages and size < pages * page_size:
        raise StateFileError(f"state file {str(p)!r} is truncated ({size} bytes, its header "
                             f"says {pages * page_size}); it was not modified")
