"""The journal: every operation that reaches a simulation is saved, and replayed on reopen.

A simulation is deterministic: the same seed and the same calls at the same virtual times give
the same state, down to entropy positions and scheduled work. So instead of a serializer per
state class, the state file holds the calls. :class:`Journal` is the simulation's lock when it
has a state file; the operation boundary (:mod:`simulator.boundary`) hands it every public
operation, and it appends the outermost ones (a service calling another is part of its
caller's call; scheduled work is part of the ``advance`` that ran it) to the file and commits
before the call returns. Failed calls are saved too: they leave audit records.

What is saved is what is needed to redo the call, never a secret:

* ``Encrypt``'s ``plaintext`` (any parameter of that name) is replaced by zeros of the same
  length: its result is the caller's, not state, and encrypting zeros draws the same entropy.
* A block-device write is saved as its effect: the stored (ciphertext) blocks it produced and
  their gcm metadata; replay puts them back on the volume's store. Writes are committed with
  the next operation, at :meth:`BlockDevice.flush`, at detach and snapshot (operations), once
  :data:`WRITE_BUFFER_BYTES` are pending, or :data:`FLUSH_SECONDS` after the first pending one.
* Key material and data keys are never written: they are drawn again from the seeded entropy.

Reopening replays the rows through a fresh simulation made with the saved settings; every
replayed call must end as it ended first (or the file is refused: it was written by another
version of the code). Then the process restart is simulated as a host recovery: every volume
that was attached is detached (its plaintext data key gone with the old process) and attached
again (``Simulation.recover_attachments``), which decrypts its data key through KMS, so a key
disabled before the restart fails that re-attach. The recovery is saved like any call, so the
next reopen replays it too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from contextlib import closing
from typing import Any, Final, Protocol

from ..boundary import SavingLock
from ..crypto.volume import GCM_NONCE_SIZE
from ..ebs.store import BLOCK_SIZE, BlockStore
from .codec import prepare, restore
from .file import StateFile, StateFileError

__all__ = ["FLUSH_SECONDS", "WRITE_BUFFER_BYTES", "Journal", "VolumeView"]

#: Block writes pending longer than this (wall-clock seconds) are committed by a timer.
FLUSH_SECONDS: Final = 1.0
#: Block writes are committed once this many bytes of them are pending.
WRITE_BUFFER_BYTES: Final = 64 * 1024 * 1024
#: Parameters replaced by zeros of their length: caller secrets whose value is not state.
SECRET_PARAMETERS: Final = frozenset({"plaintext"})
#: Public methods that are not operations on state (views).
_NOT_SAVED: Final = frozenset({"with_caller"})
_PLAIN: Final = frozenset({str, int, bool, type(None)})
_CALL: Final = "call"
_WRITE: Final = "write"


class VolumeView(Protocol):
    """What the journal reads of a volume to save and restore a block write."""

    volume_id: str
    encrypted: bool
    cipher: str
    store: BlockStore | None


Invoke = Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]


class Journal(SavingLock):
    """A simulation's re-entrant lock that also saves its operations to a :class:`StateFile`.

    It is the lock from the simulation's start and saves nothing until :meth:`bind` and
    :meth:`replay` have run.
    """

    def __init__(self, file: StateFile) -> None:
        self._lock = threading.RLock()
        self._file = file
        self._names: dict[type, str] = {}
        self._resolve: Callable[[str, Any, tuple[str, str] | None], Any] = _closed
        self._locate: Callable[[Any], tuple[str, str] | None] = _closed
        self._volume: Callable[[str], VolumeView] = _closed
        self._draw: Callable[[int], bytes] = _closed
        self._default_caller: Any = None
        self.depth = 0
        # True while the simulation is built (its own set-up is not a call to save) and while
        # the journal is replayed.
        self.replaying = True
        self._pending_bytes = 0
        self._timer: threading.Timer | None = None
        self.closed = False

    def bind(self, *, names: Mapping[type, str],
             resolve: Callable[[str, Any, tuple[str, str] | None], Any],
             locate: Callable[[Any], tuple[str, str] | None],
             volume: Callable[[str], VolumeView], draw: Callable[[int], bytes],
             default_caller: Any) -> None:
        """Give the journal the simulation it saves (once its services exist): ``names`` maps
        service classes to the name replay finds them by (``"kms"``); ``resolve`` gives the
        service of a name as a caller (None: the default caller) in an account and Region
        (None: the simulation's own); ``locate`` says which for a service object; ``volume``
        finds a volume's
        record; ``draw`` takes ``n`` bytes of the simulation's entropy (what a gcm write used
        for nonces)."""
        self._names = dict(names)
        self._resolve, self._locate, self._volume, self._draw = resolve, locate, volume, draw
        self._default_caller = default_caller

    # -- the lock ----------------------------------------------------------------------------

    def __enter__(self) -> bool:
        self._lock.acquire()
        self.depth += 1
        return True

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        self._lock.release()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    # -- recording ---------------------------------------------------------------------------

    def run(self, invoke: Invoke, target: Any, name: str, args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Any:
        """Run one operation under the lock; save it if it is an outermost one."""
        lock = self._lock
        lock.acquire()
        self.depth += 1
        try:
            if self.depth > 1 or self.replaying or name in _NOT_SAVED:
                return invoke(target, args, kwargs)
            self._check_open()
            kind = self._names.get(type(target))
            if kind == "device":
                return self._device(invoke, target, name, args, kwargs)
            if kind is None:
                raise StateFileError(
                    f"{type(target).__name__}.{name} cannot be saved in the state file: its "
                    "object is not a service of the Simulation (sim.<service>, "
                    "sim.as_principal(...).<service>, a block device or sim.ebs.tamper)")
            caller = getattr(target, "caller", None)
            saved = {}
            for key, value in kwargs.items():
                if key in SECRET_PARAMETERS:
                    value = _placeholder(value)
                saved[key] = value if type(value) in _PLAIN else prepare(value)
            row: dict[str, Any] = {"s": kind, "o": name, "r": "ok",
                   "c": None if caller is None or caller is self._default_caller
                   or caller == self._default_caller else prepare(caller),
                   "a": [prepare(a) for a in args], "k": saved}
            where = self._locate(target)
            if where is not None:
                row["x"] = list(where)
            try:
                return invoke(target, args, kwargs)
            except BaseException as err:
                row["r"] = type(err).__name__
                raise
            finally:
                self._file.append(_CALL, _dumps(row).encode())
                self._commit()
        finally:
            self.depth -= 1
            lock.release()

    def _device(self, invoke: Invoke, device: Any, name: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        result = invoke(device, args, kwargs)
        if name == "flush":
            self._commit()
        elif name == "write":
            offset, data = _write_args(args, kwargs)
            length = memoryview(data).nbytes
            if length:
                self._save_write(device.volume_id, offset, length)
        return result

    def _save_write(self, volume_id: str, offset: int, length: int) -> None:
        rec = self._volume(volume_id)
        store = rec.store
        assert store is not None
        first = offset // BLOCK_SIZE
        count = (offset + length - 1) // BLOCK_SIZE - first + 1
        views = []
        for index in range(first, first + count):
            slot = store.slot(index)
            assert slot is not None
            views.append(slot)
        offset, length, crc = self._file.append_blocks(views)
        gcm = rec.encrypted and rec.cipher == "gcm"
        header: dict[str, Any] = {"v": volume_id, "i": first, "n": count,
                                  "z": store.slot_size, "at": [offset, length, crc]}
        if gcm:
            header["w"] = [store.written[i] for i in range(first, first + count)]
            header["c"] = store.counter
            header["d"] = count * GCM_NONCE_SIZE
        body = _dumps(header).encode()
        self._file.append(_WRITE, body, commit=False)
        self._pending_bytes += length
        if self._pending_bytes >= WRITE_BUFFER_BYTES:
            self._commit()
        elif self._timer is None:
            self._timer = threading.Timer(FLUSH_SECONDS, self._timed_commit)
            self._timer.daemon = True
            self._timer.start()

    def _timed_commit(self) -> None:
        with self._lock:
            self._timer = None
            if not self.closed:
                self._commit()

    def _commit(self) -> None:
        self._file.commit()
        self._pending_bytes = 0
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    @property
    def path(self) -> str:
        """The state file's path."""
        return str(self._file.path)

    def _check_open(self) -> None:
        if self.closed:
            raise StateFileError(f"the state file {str(self._file.path)!r} was closed "
                                 "(Simulation.close()): this simulation takes no more calls")

    # -- replay and recovery -----------------------------------------------------------------

    def replay(self) -> int:
        """Redo every saved row; returns how many. Saving starts when it ends."""
        self.replaying = True
        count = 0
        try:
            rows = self._file.rows()
            with self, closing(rows):
                for count, (kind, body) in enumerate(rows, 1):
                    try:
                        self._replay_row(kind, body, count)
                    except StateFileError:
                        raise
                    except Exception as err:  # a row that no longer means what it meant
                        raise StateFileError(
                            f"state file {str(self._file.path)!r}: journal entry {count} "
                            f"cannot be replayed ({type(err).__name__}: {err}); was it written "
                            "by another version of envelope-sim?") from None
        finally:
            self.replaying = False
        return count

    def _replay_row(self, kind: str, body: bytes, n: int) -> None:
        if kind == _CALL:
            row = json.loads(body)
            if not isinstance(row["o"], str) or row["o"].startswith("_") \
                    or row["s"] not in self._names.values():
                raise ValueError(f"{row['s']}.{row['o']} is not an operation")
            where = row.get("x")
            target = self._resolve(row["s"], restore(row["c"]),
                                   None if where is None else (where[0], where[1]))
            outcome = "ok"
            try:
                getattr(target, row["o"])(*restore(row["a"]), **restore({"$d": row["k"]}))
            except Exception as err:  # it failed when it was made too (compared below)
                outcome = type(err).__name__
            if outcome != row["r"]:
                raise StateFileError(
                    f"state file {str(self._file.path)!r}: journal entry {n} ({row['o']}) "
                    f"ended with {outcome} on replay, {row['r']} when it was made; was it "
                    "written by another version of envelope-sim?")
        elif kind == _WRITE:
            self._restore_write(body)
        else:
            raise StateFileError(f"state file {str(self._file.path)!r}: journal entry {n} "
                                 f"has unknown kind {kind!r}")

    def _restore_write(self, body: bytes) -> None:
        header = json.loads(body)
        blocks = memoryview(self._file.read_blocks(*header["at"]))
        rec = self._volume(header["v"])
        store = rec.store
        assert store is not None
        size, first = header["z"], header["i"]
        store.layout(size)
        for i in range(header["n"]):
            store.put_raw(first + i, blocks[i * size:(i + 1) * size].tobytes())
        if "w" in header:
            for i, (binding, counter) in enumerate(header["w"]):
                store.written[first + i] = (binding, counter)
            store.counter = header["c"]
            self._draw(header["d"])  # the nonces the write drew, so what follows draws the same

    def abandon(self) -> None:
        """Release the file without committing anything (a reopen that failed)."""
        with self._lock:
            self.closed = True
            self._file.abandon()

    def close(self) -> None:
        """Commit what is pending and close the file; the simulation takes no more calls."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            self._file.close()
            # What the journal held of the simulation goes, so the simulation can be collected.
            self._names = {}
            self._resolve = self._locate = self._volume = self._draw = _closed


def _closed(*args: Any) -> Any:
    raise StateFileError("the state file was closed")


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _placeholder(value: Any) -> Any:
    """Zeros of ``value``'s length and kind (the secret is not needed to redo the call)."""
    if isinstance(value, str):
        return "\x00" * len(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(memoryview(value).nbytes)
    return value


def _write_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, Any]:
    values = list(args) + [kwargs[k] for k in ("offset", "data") if k in kwargs]
    return values[0], values[1]
