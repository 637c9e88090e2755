"""Hundreds of WorkSpaces under one key: the key disabled, all rebooted, casualties recovered.

Disabling a key is silent for running WorkSpaces -- which makes it dangerous: nothing breaks
until the WorkSpaces reboot (a patch night, a maintenance window), and then every one of them
fails at once, because each reboot must decrypt its volumes' data keys again. Re-enabling the
key and rebooting the casualties brings them all back with their data.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from simulator.errors import ValidationException
from simulator.present import Narrator, ScenarioResult
from simulator.present.world import build_world
from simulator.trace import TraceEvent

ORDER = 12

DEFAULT_COUNT = 300


def add_arguments(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument("--count", type=_count, default=DEFAULT_COUNT, metavar="N",
                        help=f"how many WorkSpaces (1-2000, default {DEFAULT_COUNT})")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 2000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 2000, not {value}")
    return value


def _settled(states: set[str]) -> Callable[[TraceEvent], bool]:
    def match(event: TraceEvent) -> bool:
        return event.action == "StateChange" and event.detail.get("new_state") in states
    return match


def _watch(sim: Any, out: Narrator, total: int, label: str,
           settled: Callable[[TraceEvent], bool], work: Callable[[], None]) -> None:
    """Run ``work`` while a progress display counts WorkSpaces reaching a settled state."""
    bar = out.progress(total, label)
    failed = [0]

    def listener(event: TraceEvent) -> None:
        if settled(event):
            if event.detail.get("new_state") != "AVAILABLE":
                failed[0] += 1
            bar.advance(note=f"{failed[0]} unusable" if failed[0] else "")

    stop = sim.trace.subscribe(listener)
    try:
        with out.quiet():
            work()
    finally:
        stop()
        bar.close()


def run(sim: Any, out: Narrator, count: int = DEFAULT_COUNT) -> ScenarioResult:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 2000:
        raise ValidationException(f"count must be a whole number from 1 to 2000, not {count!r}")
    result = ScenarioResult("fleet")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    users = tuple(f"user{i:04d}" for i in range(count))
    with out.quiet():
        world = build_world(sim, out, users=users)

    out.section(f"Alice launches {count} encrypted WorkSpaces under one key")
    ids: list[str] = []

    def launch() -> None:
        for i in range(0, count, 25):  # CreateWorkspaces takes up to 25 requests
            batch = [dict(directory_id=world.directory_id, user_name=u,
                          bundle_id=world.bundle_id, volume_encryption_key=world.key_arn,
                          root_volume_encryption_enabled=True,
                          user_volume_encryption_enabled=True) for u in users[i:i + 25]]
            created = world.admin.workspaces.create_workspaces(workspaces=batch)
            ids.extend(w.workspace_id for w in created.pending_requests)
        sim.run_until_idle()

    _watch(sim, out, count, "provisioning", _settled({"AVAILABLE", "ERROR"}), launch)
    result.workspace_ids.extend(ids)
    states = _tally(world, ids)
    result.record("launched", states.get("AVAILABLE", 0), out)
    result.record("grants_on_the_key", len(world.grants()), out)
    for ws in ids:
        world.write(ws, ws.encode())

    out.section("The key is disabled")
    world.admin.kms.disable_key(key_id=world.key_arn)
    out.say("Nothing happens: every WorkSpace keeps its data keys in EBS's memory.")
    result.record("available_after_disable", _tally(world, ids).get("AVAILABLE", 0), out)

    out.section("Patch night: every WorkSpace is rebooted")
    _watch(sim, out, count, "rebooting", _settled({"AVAILABLE", "UNHEALTHY", "ERROR"}),
           lambda: _reboot(world, ids))
    states = _tally(world, ids)
    casualties = [ws for ws in ids if world.state(ws) != "AVAILABLE"]
    result.record("states_after_reboot", states, out)
    result.record("casualties", len(casualties), out)
    errors = {world.describe(ws).error_code for ws in casualties}
    result.record("error_codes", sorted(c for c in errors if c), out)
    result.expect(out, "every rebooted WorkSpace became unusable", len(casualties) == count)
    failed = len(sim.audit.events(event_name="Decrypt", error_code="DisabledException"))
    result.record("failed_decrypts_in_audit", failed, out)

    out.section("Recovery: enable the key, reboot the casualties")
    world.admin.kms.enable_key(key_id=world.key_arn)
    _watch(sim, out, len(casualties), "recovering", _settled({"AVAILABLE", "UNHEALTHY"}),
           lambda: _reboot(world, casualties))
    recovered = [ws for ws in casualties if world.state(ws) == "AVAILABLE"]
    result.record("recovered", len(recovered), out)
    intact = sum(world.read(ws, len(ws)) == ws.encode() for ws in ids)
    result.record("data_intact", intact, out)
    result.expect(out, "every casualty recovered, with its data", len(recovered) == count
                  and intact == count)
    first = ids[0] if ids else None
    result.diagram_filter = lambda e: e.workspace_id == first or e.action in (
        "DisableKey", "EnableKey")
    return result


def _reboot(world: Any, ids: list[str]) -> None:
    world.reboot(*ids)


def _tally(world: Any, ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ws in ids:
        state = world.state(ws)
        counts[state] = counts.get(state, 0) + 1
    return dict(sorted(counts.items()))


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
