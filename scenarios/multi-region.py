"""An encrypted snapshot copied to another Region is re-encrypted there; a multi-Region key is the alternative for your own data.

A KMS key lives in one Region, and so does everything encrypted under it. To keep a disaster
recovery copy of a volume in us-east-1, EBS copies its snapshot there and re-encrypts every
block under a key of us-east-1 (the one named, or the Region's default EBS key): the source
Region's KMS decrypts the old data key, the destination's makes a new one. Naming the source
Region's key for the copy fails. Then the alternative for data you encrypt yourself: a
multi-Region key, whose replica in us-east-1 has the same key id and key material, so a blob
made in us-west-2 decrypts there without re-encryption -- and rotating the primary reaches the
replica. (AWS services such as EBS treat a multi-Region key as a single-Region key: snapshot
copies are re-encrypted all the same.)
"""

from __future__ import annotations

from typing import Any

from simulator.present import Narrator, ScenarioResult

ORDER = 14

DR_REGION = "us-east-1"
DATA = b"ledger 2026-01, closing balances"
INSTANCE = "i-0123456789abcdef0"


def _settle(sim: Any, ebs: Any, snapshot_id: str) -> Any:
    sim.run_until_idle()
    return ebs.describe_snapshots(snapshot_ids=[snapshot_id]).snapshots[0]


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("multi-region")
    east = sim.view(region=DR_REGION)

    out.section(f"A volume and its snapshot in {sim.region}")
    west_key = sim.kms.create_key(description="ledger key").arn
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=west_key)
    sim.advance(sim.settings.volume_create_seconds)
    sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    sim.ebs.block_device(vol.volume_id).write(0, DATA)
    snap = sim.ebs.create_snapshot(volume_id=vol.volume_id, description="nightly")
    snap = _settle(sim, sim.ebs, snap.snapshot_id)
    result.record("source_snapshot_state", snap.state, out)

    out.section(f"Copying it to {DR_REGION} under a key of {DR_REGION}")
    east_key = east.kms.create_key(description="ledger key, DR Region").arn
    out.say(f"CopySnapshot is called in the destination Region ({DR_REGION}), naming the "
            f"source Region and a key of {DR_REGION}. A snapshot's data key is encrypted under "
            "a key of its own Region, so the copy cannot keep it: watch the source Region's KMS "
            "decrypt the old data key, the destination's make a new one, and every block be "
            "re-encrypted.")
    copy = east.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap.snapshot_id,
                                  encrypted=True, kms_key_id=east_key)
    copy = _settle(sim, east.ebs, copy.snapshot_id)
    result.record("copy_state", copy.state, out)
    result.expect(out, f"the copy is encrypted under the {DR_REGION} key",
                  copy.state == "completed" and copy.kms_key_id == east_key)
    result.expect(out, "the copy has a new data key (its blocks were re-encrypted)",
                  copy.data_encryption_key_id != snap.data_encryption_key_id)
    restored = east.ebs.create_volume(snapshot_id=copy.snapshot_id)
    sim.advance(sim.settings.volume_create_seconds)
    east.ebs.attach_volume(volume_id=restored.volume_id, instance_id=INSTANCE,
                           device="/dev/sdf")
    sim.advance(seconds=sim.settings.volume_attach_seconds)  # the attachment change completes
    read = east.ebs.block_device(restored.volume_id).read(0, len(DATA))
    result.expect(out, f"a volume restored from the copy in {DR_REGION} reads the data",
                  read == DATA)

    out.section("Naming the source Region's key for the copy")
    out.say(f"A key ARN of {sim.region} names no key in {DR_REGION}. EC2 checks the key after "
            "accepting the request, so the copy is made and then fails:")
    bad = east.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap.snapshot_id,
                                 encrypted=True, kms_key_id=west_key)
    bad = _settle(sim, east.ebs, bad.snapshot_id)
    result.record("copy_with_source_key", bad.state, out)
    out.note(f"state message: {bad.state_message}")
    result.expect(out, "the copy fails: the key is not in the destination Region",
                  bad.state == "error" and "Invalid arn" in (bad.state_message or ""))

    out.section("The alternative for your own data: a multi-Region key")
    mrk = sim.kms.create_key(multi_region=True, description="ledger MRK")
    sim.kms.replicate_key(key_id=mrk.key_id, replica_region=DR_REGION,
                          description="ledger MRK, DR replica")
    sim.run_until_idle()  # a new replica is Creating for a few seconds
    replica = east.kms.describe_key(key_id=mrk.key_id)
    config = replica.multi_region_configuration
    out.say(f"The replica in {DR_REGION} has the same key id ({mrk.key_id}) and key material "
            "as the primary; its key policy, aliases and state are its own.")
    result.record("replica_type", config.multi_region_key_type if config else None, out)
    result.expect(out, "same key id, same key material, in the other Region",
                  replica.key_id == mrk.key_id
                  and replica.current_key_material_id == mrk.current_key_material_id)
    made = sim.kms.generate_data_key(key_id=mrk.key_id, key_spec="AES_256",
                                     encryption_context={"ledger": "2026-01"})
    back = east.kms.decrypt(ciphertext_blob=made.ciphertext_blob,
                            encryption_context={"ledger": "2026-01"})
    result.expect(out, f"a data key encrypted in {sim.region} decrypts in {DR_REGION}, "
                       "with no re-encryption and no cross-Region call",
                  back.plaintext == made.plaintext)

    out.section("Rotating the primary reaches the replica")
    sim.kms.rotate_key_on_demand(key_id=mrk.key_id)
    primary_material = sim.kms.describe_key(key_id=mrk.key_id).current_key_material_id
    replica_material = east.kms.describe_key(key_id=mrk.key_id).current_key_material_id
    result.expect(out, "the replica uses the primary's new key material",
                  primary_material == replica_material != mrk.current_key_material_id)
    newer = east.kms.encrypt(key_id=mrk.key_id, plaintext=b"after rotation")
    result.expect(out, f"and what {DR_REGION} encrypts now decrypts in {sim.region}",
                  sim.kms.decrypt(ciphertext_blob=newer.ciphertext_blob).plaintext
                  == b"after rotation")
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
