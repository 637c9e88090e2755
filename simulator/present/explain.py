"""Explanations scenarios print about the state of a simulation: grants, audit records, volumes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .narrate import Narrator, format_context
from .participants import participant_of, short_id

__all__ = ["show_audit", "show_grants", "show_volumes"]


def _constraint_text(constraints: Mapping[str, Any] | None) -> str:
    if not constraints:
        return "for any encryption context"
    parts = []
    for kind, pairs in constraints.items():
        word = "equals" if "equals" in kind.lower() else "includes"
        parts.append(f"only when the context {word} {{{format_context(pairs)}}}")
    return "; ".join(parts)


def show_grants(out: Narrator, sim: Any, key_arn: str) -> list[Any]:
    """List the grants on ``key_arn`` in words; returns the grant list entries."""
    grants = list(sim.kms.list_grants(key_id=key_arn).grants)
    if not grants:
        out.note("no grants on the key")
    for g in grants:
        who = participant_of(g.grantee_principal)
        out.note(f"grant {short_id(g.grant_id)}: {who} may {', '.join(g.operations)}")
        out.note(f"    {_constraint_text(g.constraints)}")
    return grants


def show_audit(out: Narrator, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Print CloudTrail records one per line: event, caller, service, context, error."""
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
        out.note(line)
        context = params.get("encryptionContext") if isinstance(params, Mapping) else None
        if context:
            out.note(f"    encryptionContext {{{format_context(context)}}}")
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
        key = short_id(v.kms_key_id) if v.kms_key_id else "-"
        out.note(f"{kind} volume {v.volume_id}: encrypted={v.encrypted} key={key} "
                 f"cipher={v.volume_cipher} {attached}")
    return found
