"""Files the state store must refuse with a clear error, leaving them exactly as they were."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator import Simulation
from simulator.errors import ValidationException
from simulator.persist import StateFileError


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file()}


def _saved(folder: Path) -> Path:
    path = folder / "sim.db"
    sim = Simulation(seed=3, state=path)
    key = sim.kms.create_key(description="k").arn
    for i in range(40):
        sim.kms.create_alias(alias_name=f"alias/a{i}", target_key_id=key)
    sim.close()
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2 + 100])


def _flip_journal_bit(path: Path) -> None:
    # Flip a bit inside a saved row's body (an alias name), where SQLite's own checks cannot
    # see it: the journal's chained checksums must.
    data = bytearray(path.read_bytes())
    at = data.find(b"alias/a17")
    assert at > 0
    data[at + 6] ^= 0x04
    path.write_bytes(bytes(data))


def _flip_page_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096 + 8] ^= 0xFF  # the second page's b-tree header
    path.write_bytes(bytes(data))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_database(path: Path) -> None:
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()


def _newer_version(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[60:64] = (99).to_bytes(4, "big")  # the header's user_version
    path.write_bytes(bytes(data))


def _not_sqlite(path: Path) -> None:
    path.write_text("just some text, long enough to be more than one hundred bytes " * 3)


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, "truncated"),
    "bit flipped in a row": (_flip_journal_bit, "checksum"),
    "bit flipped in a page": (_flip_page_bit, "corrupt|malformed"),
    "zero length": (_empty, "empty"),
    "another SQLite database": (_other_database, "not an envelope-sim state file"),
    "a newer schema": (_newer_version, "newer"),
    "not SQLite at all": (_not_sqlite, "not an envelope-sim state file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_file_is_refused_clearly_and_left_untouched(tmp_path: Path, case: str) -> None:
    path = _saved(tmp_path)
    damage, message = CASES[case]
    damage(path)
    before = _digest(tmp_path)
    with pytest.raises(StateFileError, match=message) as caught:
        Simulation(state=path)
    assert isinstance(caught.value, ValidationException)
    assert _digest(tmp_path) == before


def test_a_file_in_use_by_another_process_is_refused_and_untouched(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from simulator import Simulation
            sim = Simulation(state={str(path)!r})
            print("open", flush=True)
            sys.stdin.read()
            sim.close()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        before = _digest(tmp_path)
        with pytest.raises(StateFileError, match="in use"):
            Simulation(state=path)
        assert _digest(tmp_path) == before
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    Simulation(state=path).close()  # free again once the other process closed it


def test_a_second_simulation_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    first = Simulation(seed=1, state=path)
    with pytest.raises(StateFileError, match="in use"):
        Simulation(state=path)
    first.kms.create_key(description="still fine")
    first.close()


def test_the_file_and_its_side_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        sim = Simulation(seed=1, state=tmp_path / "sim.db")
        sim.kms.create_key(description="k")
        files = sorted(tmp_path.iterdir())
        assert {p.name for p in files} >= {"sim.db", "sim.db-blocks", "sim.db-wal", "sim.db-key"}
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
        sim.close()
    finally:
        os.umask(old)


def test_a_path_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="cannot be created"):
        Simulation(state=tmp_path / "missing" / "sim.db")
    with pytest.raises(ValidationException, match="file path"):
        Simulation(state=42)  # type: ignore[arg-type]


def test_a_journal_that_replays_differently_is_refused_and_untouched(tmp_path: Path) -> None:
    # A row rewritten with valid checksums (as another version of the code might have saved
    # it) whose call now fails: the reopen must stop, not build a different simulation.
    from simulator.persist.file import _GENESIS, _chain

    path = _saved(tmp_path)
    db = sqlite3.connect(path)
    rows = db.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall()
    previous = _GENESIS
    for seq, kind, body in rows:
        body = bytes(body).replace(b'"target_key_id":"', b'"target_key_id":"alias/nope')
        previous = _chain(previous, kind, body)
        db.execute("UPDATE journal SET body = ?, chain = ? WHERE seq = ?", (body, previous, seq))
    db.commit()
    db.close()
    before = _digest(tmp_path)
    with pytest.raises(StateFileError, match="replay"):
        Simulation(state=path)
    assert _digest(tmp_path) == before


def test_without_its_key_file_the_state_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    key_file = tmp_path / "sim.db-key"
    kept = key_file.read_bytes()
    key_file.unlink()
    before = _digest(tmp_path)
    with pytest.raises(StateFileError, match=r"without its key file .* missing"):
        Simulation(state=path)
    assert _digest(tmp_path) == before
    key_file.write_bytes(kept)
    with Simulation(state=path) as sim:  # the right key opens it again
        assert sim.seed == 3 and sim.kms.describe_key(key_id="alias/a0").description == "k"


@pytest.mark.parametrize("damage", ["another file's key", "a flipped bit", "not a key file"])
def test_a_key_file_that_does_not_open_the_state_file_is_refused_and_untouched(
        tmp_path: Path, damage: str) -> None:
    path = _saved(tmp_path)
    key_file = tmp_path / "sim.db-key"
    if damage == "another file's key":
        other = tmp_path / "other"
        other.mkdir()
        Simulation(seed=3, state=other / "sim.db").close()  # the same seed, another key
        key_file.write_bytes((other / "sim.db-key").read_bytes())
        match = "does not open"
    elif damage == "a flipped bit":
        text = key_file.read_text()
        at = text.index(" ") + 5
        key_file.write_text(text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:])
        match = "does not open"
    else:
        key_file.write_text("hello\n")
        match = "not an envelope-sim key file"
    before = _digest(tmp_path)
    with pytest.raises(StateFileError, match=match):
        Simulation(state=path)
    assert _digest(tmp_path) == before
