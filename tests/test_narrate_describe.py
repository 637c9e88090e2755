"""The console-like WorkSpaces table (``--describe``) from DescribeWorkspaces-shaped objects."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.present.describe import HEADERS, render_table, workspaces_table

KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:us-west-2:123456789012:key/99998888-12ab-34cd-56ef-1234567890ab"


@dataclass(frozen=True)
class Ws:
    workspace_id: str
    user_name: str
    directory_id: str
    state: str
    volume_encryption_key: str | None
    root_volume_encryption_enabled: bool
    user_volume_encryption_enabled: bool


def rows(text: str) -> list[list[str]]:
    """Cells by the header's column positions."""
    lines = text.splitlines()
    starts: list[int] = []
    for h in HEADERS:
        starts.append(lines[0].index(h, starts[-1] + 1 if starts else 0))
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [[line[a:b].strip() for a, b in bounds] for line in lines[2:]]


def test_volume_encryption_column_says_enabled_or_disabled() -> None:
    text = workspaces_table([
        Ws("ws-aaaaaaaaa", "jdoe", "d-1234abcd01", "AVAILABLE", KEY, True, True),
        Ws("ws-bbbbbbbbb", "ann", "d-1234abcd01", "AVAILABLE", None, False, False),
    ])
    first, second = rows(text)
    col = HEADERS.index("Volume Encryption")
    assert first[col] == "Enabled"
    assert second[col] == "Disabled"


def test_encrypted_volumes_lists_root_and_user_as_enabled() -> None:
    text = workspaces_table([
        Ws("ws-aaaaaaaaa", "jdoe", "d-1234abcd01", "AVAILABLE", OTHER_KEY, False, True),
        Ws("ws-ccccccccc", "bob", "d-1234abcd01", "ERROR", KEY, True, True),
    ], volumes={"ws-ccccccccc": {"root": "vol-0a", "user": "vol-0b"}},
        key_names={KEY: "alias/ws-key"})
    user_only, both = rows(text)
    col = HEADERS.index("Encrypted Volumes")
    assert user_only[col] == "User"
    assert both[col] == "Root, User"
    assert both[HEADERS.index("Key")] == "alias/ws-key"
    assert both[HEADERS.index("Volumes")] == "root vol-0a, user vol-0b"
    assert user_only[HEADERS.index("Key")] == "key/99998888"


def test_unencrypted_workspace_shows_no_key() -> None:
    text = workspaces_table([Ws("ws-bbbbbbbbb", "ann", "d-1", "AVAILABLE", KEY, False, False)])
    (row,) = rows(text)
    assert row[HEADERS.index("Encrypted Volumes")] == "-"
    assert "key/" not in text


def test_no_workspaces_says_so() -> None:
    assert workspaces_table([]) == "(no WorkSpaces)\n"


def test_columns_line_up() -> None:
    text = render_table(["a", "bb"], [["xxx", "y"], ["z", "wwww"]])
    lines = text.splitlines()
    assert lines == ["a    bb", "---  ----", "xxx  y", "z    wwww"]
