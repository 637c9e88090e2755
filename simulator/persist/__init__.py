"""Persistence: ``Simulation(state="path.db")`` keeps a simulation in an SQLite file.

:mod:`.file` is the file (schema, locking, crash safety, checks); :mod:`.journal` saves every
operation that reaches the simulation and replays them on reopen; :mod:`.codec` turns
parameters into JSON. The store knows no AWS rules: replay runs the services themselves.

The seed recreates every key, so the file keeps it sealed (AES-256-GCM) under a file key held
in a separate file ``<file>-key`` (0600), written when the state file is created: the database
and its side files alone reveal no key. A missing or wrong key file is refused, nothing
modified.
"""

from __future__ import annotations

import base64
import binascii
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..crypto.filekey import FILE_KEY_BYTES, NONCE_BYTES, open_sealed, seal_under
from ..entropy import Entropy
from ..errors import ValidationException
from .codec import decode, encode
from .file import SCHEMA_VERSION, StateFile, StateFileError
from .journal import FLUSH_SECONDS, WRITE_BUFFER_BYTES, Journal

__all__ = ["FLUSH_SECONDS", "SCHEMA_VERSION", "WRITE_BUFFER_BYTES", "Journal", "StateFile",
           "StateFileError", "key_file_path", "open_state"]

_DEFAULTS = {"account_id": "123456789012", "region": "us-west-2"}
#: The sealed seed's associated data: a sealed value opens only as what it was sealed as.
_SEED_LABEL = b"envelope-sim state file: seed"
#: The key file's one line: this prefix, then the key in base64.
_KEY_PREFIX = "envelope-sim-state-file-key-v1 "


def key_file_path(path: str | os.PathLike[str]) -> Path:
    """Where the file key of the state file at ``path`` is kept: ``<file>-key``."""
    p = Path(path)
    return p.with_name(p.name + "-key")


def _write_key(path: Path, key: bytes) -> None:
    """Create (or replace a stale) key file, readable by its owner only, synced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (_KEY_PREFIX + base64.b64encode(key).decode() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key(state: str, path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise StateFileError(
            f"state file {state!r} cannot be opened without its key file {str(path)!r}, which "
            "is missing (the seed that recreates the keys is sealed under it); it was not "
            "modified") from None
    except (OSError, UnicodeDecodeError) as err:
        raise StateFileError(f"the key file {str(path)!r} of state file {state!r} cannot be "
                             f"read ({err}); the state file was not modified") from None
    try:
        if not text.startswith(_KEY_PREFIX):
            raise ValueError
        key = base64.b64decode(text[len(_KEY_PREFIX):].strip(), validate=True)
        if len(key) != FILE_KEY_BYTES:
            raise ValueError
    except (ValueError, binascii.Error):
        raise StateFileError(f"{str(path)!r} is not an envelope-sim key file; state file "
                             f"{state!r} was not modified") from None
    return key


def _unseal_seed(state: str, key_path: Path, meta: dict[str, str]) -> int:
    key = _read_key(state, key_path)
    try:
        sealed = base64.b64decode(meta["sealed_seed"], validate=True)
        return int(open_sealed(key, _SEED_LABEL, sealed).decode("ascii"))
    except KeyError:
        raise StateFileError(f"state file {state!r} is corrupt: it holds no sealed seed; it "
                             "was not modified") from None
    except (ValueError, binascii.Error):
        raise StateFileError(
            f"the key file {str(key_path)!r} does not open state file {state!r} (the key file "
            "of another state file, or either was changed); it was not modified") from None


def open_state(
    path: str | os.PathLike[str], seed: int | None, account_id: str, region: str,
    start_time: datetime, settings: dict[str, Any],
) -> tuple[StateFile, int, str, str, datetime, dict[str, Any]]:
    """Open or create the state file at ``path``; returns it with the simulation's settings.

    A new file records the given settings, and a seed (drawn from the OS when ``seed`` is
    None: replay needs one) sealed under a new file key written to :func:`key_file_path`. An
    existing file's settings win; a setting given explicitly that differs from the file's is
    refused (the file is not modified).
    """
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise ValidationException(f"state must be a file path; got {path!r}")
    os_entropy = Entropy(None)
    drawn = seed if seed is not None else os_entropy.randint(0, 2**63 - 1)
    file_key = os_entropy.token_bytes(FILE_KEY_BYTES)
    sealed = seal_under(file_key, _SEED_LABEL, str(drawn).encode("ascii"),
                        os_entropy.token_bytes(NONCE_BYTES))
    new = {"format": "envelope-sim state", "sealed_seed": base64.b64encode(sealed).decode(),
           "account_id": account_id, "region": region, "start_time": start_time.isoformat(),
           "settings": encode(settings).decode()}
    key_path = key_file_path(path)
    file = StateFile.open(path, new)
    if file.created:
        try:
            _write_key(key_path, file_key)
        except OSError as err:
            file.abandon()
            for made in (Path(path), Path(f"{os.fspath(path)}-blocks"),
                         Path(f"{os.fspath(path)}-wal")):
                made.unlink(missing_ok=True)
            raise StateFileError(f"state file {os.fspath(path)!r}: its key file "
                                 f"{str(key_path)!r} cannot be written ({err.strerror})") from None
        return file, drawn, account_id, region, start_time, settings
    try:
        meta = file.meta
        stored_seed = _unseal_seed(os.fspath(path), key_path, meta)
    except BaseException:
        file.abandon()
        raise
    try:
        stored: dict[str, Any] = {
            "seed": stored_seed, "account_id": meta["account_id"],
            "region": meta["region"], "start_time": datetime.fromisoformat(meta["start_time"]),
            "settings": decode(meta["settings"].encode())}
    except (KeyError, ValueError) as err:
        file.abandon()
        raise StateFileError(f"state file {os.fspath(path)!r} is corrupt: its settings "
                             f"cannot be read ({err})") from None
    given = {"seed": seed, "account_id": account_id, "region": region, "settings": settings}
    for name, value in given.items():
        if value in (None, {}) or value == _DEFAULTS.get(name) or value == stored[name]:
            continue
        file.abandon()
        raise StateFileError(
            f"state file {os.fspath(path)!r} was made with {name}={stored[name]!r}, not "
            f"{value!r}: open it without {name} (its own is used) or use another file")
    return (file, stored["seed"], stored["account_id"], stored["region"],
            stored["start_time"], stored["settings"])
