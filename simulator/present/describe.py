"""The WorkSpaces console's list, as text: which WorkSpaces are encrypted, and which volumes.

The console shows a "Volume Encryption" column (Enabled or Disabled per WorkSpace) and, when a
row is expanded, "Encrypted Volumes" (root, user or both). :func:`workspaces_table` renders the
same from DescribeWorkspaces results; :func:`describe_simulation` fetches them from a simulation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import AwsError
from .participants import short_id

__all__ = ["HEADERS", "describe_simulation", "render_table", "workspace_row", "workspaces_table"]

HEADERS = ("WorkSpace ID", "User", "Directory", "State", "Volume Encryption",
           "Encrypted Volumes", "Key", "Volumes")


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table with a header rule; columns as wide as their widest cell."""
    body = [list(map(str, r)) for r in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in body)
    return "\n".join(out) + "\n"


def workspace_row(
    workspace: Any, volumes: Mapping[str, str] | None = None,
    key_names: Mapping[str, str] | None = None,
) -> list[str]:
    """One table row from a DescribeWorkspaces ``Workspace`` (read by attribute).

    ``volumes`` maps ``"root"``/``"user"`` to volume ids; ``key_names`` maps key ARNs to alias
    names to show instead of the ARN.
    """
    root = bool(getattr(workspace, "root_volume_encryption_enabled", False))
    user = bool(getattr(workspace, "user_volume_encryption_enabled", False))
    encrypted = [name for name, on in (("Root", root), ("User", user)) if on]
    key = getattr(workspace, "volume_encryption_key", None) or ""
    key_text = (key_names or {}).get(key) or (short_id(key) if key else "-")
    vols = volumes or {}
    vol_text = ", ".join(f"{kind} {vid}" for kind, vid in vols.items() if vid) or "-"
    return [
        str(getattr(workspace, "workspace_id", "?")),
        str(getattr(workspace, "user_name", "") or "-"),
        str(getattr(workspace, "directory_id", "") or "-"),
        str(getattr(workspace, "state", "") or "-"),
        "Enabled" if encrypted else "Disabled",
        ", ".join(encrypted) if encrypted else "-",
        key_text if encrypted else "-",
        vol_text,
    ]


def workspaces_table(
    workspaces: Iterable[Any],
    volumes: Mapping[str, Mapping[str, str]] | None = None,
    key_names: Mapping[str, str] | None = None,
) -> str:
    """The console list for ``workspaces``; ``volumes`` maps WorkSpace id -> {kind: volume id}."""
    vols = volumes or {}
    rows = [workspace_row(ws, vols.get(str(getattr(ws, "workspace_id", ""))), key_names)
            for ws in workspaces]
    if not rows:
        return "(no WorkSpaces)\n"
    return render_table(HEADERS, rows)


def describe_simulation(sim: Any) -> str:
    """Fetch every WorkSpace of ``sim`` (following NextToken) and render the console list."""
    workspaces: list[Any] = []
    token: str | None = None
    while True:
        page = (sim.workspaces.describe_workspaces(next_token=token) if token
                else sim.workspaces.describe_workspaces())
        workspaces.extend(page.workspaces)
        token = getattr(page, "next_token", None)
        if not token:
            break
    volumes: dict[str, dict[str, str]] = {}
    for ws in workspaces:
        try:
            v = sim.workspaces.volumes(ws.workspace_id)
        except AwsError:  # a terminated WorkSpace may have no volumes left
            continue
        volumes[ws.workspace_id] = {
            "root": getattr(v, "root_volume_id", None) or "",
            "user": getattr(v, "user_volume_id", None) or "",
        }
    key_names: dict[str, str] = {}
    try:
        for alias in sim.kms.list_aliases().aliases:
            target = getattr(alias, "target_key_id", None)
            if target:
                arn = str(getattr(sim.kms.describe_key(key_id=target), "arn", ""))
                key_names.setdefault(arn, alias.alias_name)
    except AwsError:  # aliases only decorate the table
        pass
    return workspaces_table(workspaces, volumes, key_names)
