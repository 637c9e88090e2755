"""Persistence: ``Simulation(state="path.db")`` keeps a simulation in an SQLite file.

:mod:`.file` is the file (schema, locking, crash safety, checks); :mod:`.journal` saves every
operation that reaches the simulation and replays them on reopen; :mod:`.codec` turns
parameters into JSON. The store knows no AWS rules: replay runs the services themselves.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from ..entropy import Entropy
from ..errors import ValidationException
from .codec import decode, encode
from .file import SCHEMA_VERSION, StateFile, StateFileError
from .journal import FLUSH_SECONDS, WRITE_BUFFER_BYTES, Journal

__all__ = ["FLUSH_SECONDS", "SCHEMA_VERSION", "WRITE_BUFFER_BYTES", "Journal", "StateFile",
           "StateFileError", "open_state"]

_DEFAULTS = {"account_id": "123456789012", "region": "us-west-2"}


def open_state(
    path: str | os.PathLike[str], seed: int | None, account_id: str, region: str,
    start_time: datetime, settings: dict[str, Any],
) -> tuple[StateFile, int, str, str, datetime, dict[str, Any]]:
    """Open or create the state file at ``path``; returns it with the simulation's settings.

    A new file records the given settings, and a seed (drawn from the OS when ``seed`` is
    None: replay needs one). An existing file's settings win; a setting given explicitly that
    differs from the file's is refused (the file is not modified).
    """
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise ValidationException(f"state must be a file path; got {path!r}")
    drawn = seed if seed is not None else Entropy(None).randint(0, 2**63 - 1)
    new = {"format": "envelope-sim state", "seed": str(drawn), "account_id": account_id,
           "region": region, "start_time": start_time.isoformat(),
           "settings": encode(settings).decode()}
    file = StateFile.open(path, new)
    if file.created:
        return file, drawn, account_id, region, start_time, settings
    try:
        meta = file.meta
        stored: dict[str, Any] = {
            "seed": int(meta["seed"]), "account_id": meta["account_id"],
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
