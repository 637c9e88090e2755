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
from simulator.present.participants import short_id
from simulator.present.world import build_world

ORDER = 11

BLOCK = b"balance: 1,000,000.00 EUR".ljust(64, b".")
LATER = b"written after the snapshot"


def _now_fault(sim: Any, effect: Any) -> None:
    sim.faults.inject(Fault(AtTime(sim.clock.now()), effect))
    sim.advance(seconds=0)  # a time already due fires at once


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("faults")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
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
    sim.advance(seconds=12 * 3600 + 600)  # WorkSpaces' twice-daily snapshot of the user volume
    world.write(ws, LATER, offset=4096)
    _now_fault(sim, FlipDataKeyBit(volume_id=world.user_volume(ws), bit=100))
    out.say("The running WorkSpace does not notice (its plaintext key is in memory). At the next "
            "reboot KMS must decrypt the damaged envelope:")
    world.reboot(ws)
    described = world.describe(ws)
    result.record("state_after_reboot", described.state, out)
    result.record("reboot_error", described.error_code, out)
    result.expect(out, "KMS refuses the damaged encrypted data key (InvalidCiphertextException)",
                  described.error_code == "InvalidCiphertextException")
    out.say("No reboot can fix this: the volume's only way to its data key is that envelope, "
            "and KMS authenticates it. The snapshot holds its own copy of the encrypted data "
            "key, so a rebuild recovers the user volume as it was at the snapshot; what was "
            "written after it is lost. (No snapshot, no recovery: back up what matters.)")
    world.rebuild(ws)
    result.record("state_after_rebuild", world.state(ws), out)
    back = (world.read(ws, len(BLOCK)), world.read(ws, len(LATER), offset=4096))
    result.record("data_after_rebuild", back)
    result.expect(out, "the rebuild brings back what was written before the last snapshot, "
                       "and not what came after", back == (BLOCK, bytes(len(LATER))))

    out.section("Part 3: a flipped bit in a stored block, under XTS and under GCM")
    out.say("Two plain EBS volumes under Alice's key, one with each block cipher. The same "
            "block is written to both, then one bit of it is flipped on disk. EBS asks KMS for "
            "a 64-byte data key for every volume; the GCM cipher derives its 256-bit key from "
            "those 64 bytes (HKDF), so both volumes are set up alike.")
    reads: dict[str, object] = {}
    for cipher in ("xts", "gcm"):
        with out.quiet():  # steps 2-8 for a volume of its own, as in 'launch'
            volume = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=world.key_arn,
                                           availability_zone=f"{sim.region}a",
                                           volume_cipher=cipher)
            sim.run_until_idle()
            sim.ebs.attach_volume(volume_id=volume.volume_id, instance_id="i-0123456789abcdef0",
                                  device=f"/dev/sd{'f' if cipher == 'xts' else 'g'}")
            sim.advance(seconds=sim.settings.volume_attach_seconds)  # attaching -> attached
        out.say(f"{volume.volume_id}: created encrypted with the {cipher} cipher under "
                f"{short_id(world.key_arn)} and attached (a data key made and decrypted, as in "
                "'launch')")
        device = sim.ebs.block_device(volume.volume_id)
        device.write(0, BLOCK)
        _now_fault(sim, FlipBlockBit(volume_id=volume.volume_id, block_index=0, bit=3))
        try:
            data = device.read(0, len(BLOCK))
        except AwsError as exc:
            out.refused(f"{cipher}: {exc}", expected=True)
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
    result.record("faults_fired", len(sim.faults.records()))
    result.diagram_filter = lambda e: e.workspace_id == ws or e.actor == "Faults"
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
