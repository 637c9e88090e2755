"""Faults: transient KMS errors during a launch (retried, survived); stored data corrupted.

Fault injection (sim.faults) makes KMS fail the way it does in real life: KMSInternalException
and DependencyTimeoutException are retryable, and EBS retries them with exponential backoff, so
a launch survives a few. Corruption is another matter. A flipped bit in an encrypted data key
is caught by KMS (the envelope is authenticated): the next attach fails. A flipped bit in a
stored block is caught only by an authenticated volume cipher: under AES-XTS (what EBS uses) the
read silently returns garbage; under AES-GCM it is refused.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.faults import AtTime, Fault, FlipBlockBit, FlipDataKeyBit, OnCall, RaiseError
from simulator.present import Narrator, ScenarioResult
from simulator.present.world import build_world

ORDER = 11

BLOCK = b"balance: 1,000,000.00 EUR".ljust(64, b".")


def _now_fault(sim: Any, effect: Any) -> None:
    sim.faults.inject(Fault(AtTime(sim.clock.now()), effect))
    sim.advance(seconds=0)  # a time already due fires at once


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("faults")
    world = build_world(sim, out, users=("jdoe",))

    out.section("Part 1: transient KMS errors during a launch")
    out.say("Two faults are armed: the first GenerateDataKeyWithoutPlaintext fails twice with "
            "KMSInternalException, and the first Decrypt times out once "
            "(DependencyTimeoutException).")
    sim.faults.inject(Fault(OnCall("kms:GenerateDataKeyWithoutPlaintext"),
                            RaiseError("KMSInternalException", count=2)))
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), RaiseError("DependencyTimeoutException")))
    ws = world.launch(out, "jdoe")
    result.workspace_ids.append(ws)
    result.record("state_after_launch", world.state(ws), out)
    retried = [e for e in sim.trace.events() if e.action == "RetryKmsCall"]
    result.record("retries", len(retried), out)
    failed = [r["errorCode"] for r in sim.audit.events() if r.get("errorCode")]
    result.record("kms_errors_in_audit", failed, out)
    result.expect(out, "the launch survived the transient errors (retried with backoff)",
                  world.state(ws) == "AVAILABLE" and len(retried) == 3)

    out.section("Part 2: a flipped bit in the stored encrypted data key")
    world.write(ws, BLOCK)
    _now_fault(sim, FlipDataKeyBit(volume_id=world.user_volume(ws), bit=100))
    out.say("The running WorkSpace does not notice (its plaintext key is in memory). At the next "
            "reboot KMS must decrypt the damaged envelope:")
    world.reboot(ws)
    described = world.describe(ws)
    result.record("state_after_reboot", described.state, out)
    result.record("reboot_error", described.error_code, out)
    result.expect(out, "KMS refuses the damaged encrypted data key (InvalidCiphertextException)",
                  described.error_code == "InvalidCiphertextException")

    out.section("Part 3: a flipped bit in a stored block, under XTS and under GCM")
    out.say("Two plain EBS volumes under Alice's key, one with each block cipher. The same "
            "block is written to both, then one bit of it is flipped on disk.")
    reads: dict[str, object] = {}
    for cipher in ("xts", "gcm"):
        volume = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=world.key_arn,
                                       availability_zone=f"{sim.region}a", volume_cipher=cipher)
        with out.quiet():
            sim.run_until_idle()
        sim.ebs.attach_volume(volume_id=volume.volume_id, instance_id="i-0123456789abcdef0",
                              device=f"/dev/sd{'f' if cipher == 'xts' else 'g'}")
        device = sim.ebs.block_device(volume.volume_id)
        device.write(0, BLOCK)
        _now_fault(sim, FlipBlockBit(volume_id=volume.volume_id, block_index=0, bit=3))
        try:
            data = device.read(0, len(BLOCK))
        except AwsError as exc:
            out.refused(f"{cipher}: {exc}")
            reads[cipher] = exc.code
            continue
        changed = sum(a != b for a, b in zip(data, BLOCK, strict=True))
        out.note(f"{cipher}: read {len(data)} bytes without complaint; {changed} of them differ "
                 "from what was written")
        reads[cipher] = "silently corrupted" if data != BLOCK else "intact"
    result.record("block_reads", reads, out)
    result.expect(out, "XTS returns garbage without an error (it is not authenticated)",
                  reads["xts"] == "silently corrupted")
    result.expect(out, "GCM refuses the corrupted block", reads["gcm"] == "InvalidBlockCiphertext")
    result.record("faults_fired", len(sim.faults.records()), out)
    result.diagram_filter = lambda e: e.workspace_id == ws or e.actor == "Faults"
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
