"""Explanations scenarios print about the state of a simulation: grants, audit records,
volumes, policies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .lessons import via_text
from .narrate import Narrator
from .participants import participant_of, short_id

__all__ = ["all_grants", "show_audit", "show_grants", "show_policy", "show_volumes"]


def all_grants(sim: Any, key_arn: str) -> list[Any]:
    """Every grant on ``key_arn``: ListGrants, following its markers page by page."""
    found: list[Any] = []
    marker: str | None = None
    while True:
        page = sim.kms.list_grants(key_id=key_arn, limit=100, marker=marker)
        found.extend(page.grants)
        marker = page.next_marker if page.truncated else None
        if not marker:
            return found


def _constraint_text(out: Narrator, constraints: Mapping[str, Any] | None) -> str:
    if not constraints:
        return "for any encryption context"
    parts = []
    for kind, pairs in constraints.items():
        word = "equals" if "equals" in kind.lower() else "includes"
        parts.append(f"only when the context {word} {out.context(pairs)}")
    return "; ".join(parts)


def show_grants(out: Narrator, sim: Any, key_arn: str) -> list[Any]:
    """List every grant on ``key_arn`` in words, one line each; returns the grants."""
    grants = all_grants(sim, key_arn)
    if not grants:
        out.note("no grants on the key")
    for g in grants:
        who = participant_of(g.grantee_principal)
        retiring = participant_of(g.retiring_principal) if g.retiring_principal else None
        retire = f"; retired by {retiring}" if retiring else ""
        if "RetireGrant" in g.operations and retiring != who:
            retire += f" or by {who} itself" if retiring else f"; retired by {who} itself"
        out.note(f"grant {short_id(g.grant_id)}: {who} may {', '.join(g.operations)} "
                 f"{_constraint_text(out, g.constraints)}{retire}")
    return grants


def show_audit(out: Narrator, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Print CloudTrail records one line each: time, event, caller, service, error, context."""
    shown = list(records)
    for rec in shown:
        ident = rec.get("userIdentity") or {}
        who = participant_of(str(ident.get("arn") or ident.get("accountId") or "?"))
        via = ident.get("invokedBy")
        params = rec.get("requestParameters") or {}
        line = f"{rec['eventTime']}  {rec['eventName']:<32} by {who}"
        if via:
            line += f" via {via}"
        if rec.get("errorCode"):
            line += f"  errorCode={rec['errorCode']}"
        context = params.get("encryptionContext") if isinstance(params, Mapping) else None
        if context:
            line += f"  encryptionContext: {out.context(context)}"
        out.note(line)
        if via:
            out.explain_once("via", via_text(who, str(via)))
    return shown


def show_volumes(out: Narrator, sim: Any, workspace_id: str) -> dict[str, Any]:
    """Describe the WorkSpace's EBS volumes: id, encrypted, key, attached; returns them by kind."""
    vols = sim.workspaces.volumes(workspace_id)
    found: dict[str, Any] = {}
    for kind, volume_id in (("root", vols.root_volume_id), ("user", vols.user_volume_id)):
        if not volume_id:
            continue
        v = sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes[0]
        found[kind] = v
        attached = "attached" if v.attachments else "not attached"
        if v.encrypted:
            out.note(f"{kind} volume {v.volume_id}: encrypted under {short_id(v.kms_key_id)} "
                     f"({v.volume_cipher}), {attached}")
        else:
            out.note(f"{kind} volume {v.volume_id}: not encrypted, {attached}")
    return found


def show_policy(out: Narrator, policy: str, names: Sequence[str] = ()) -> list[str]:
    """Print a policy document one statement a line, each under its name (its ``Sid``, else
    the matching entry of ``names``); returns the names used."""
    statements = json.loads(policy)["Statement"]
    if isinstance(statements, Mapping):
        statements = [statements]
    used: list[str] = []
    for n, statement in enumerate(statements):
        name = statement.get("Sid") or (names[n] if n < len(names) else f"statement {n + 1}")
        used.append(name)
        body = {k: v for k, v in statement.items() if k != "Sid"}
        out.note(f"[{name}] {json.dumps(body, separators=(',', ':'))}")
    return used
