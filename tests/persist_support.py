"""Shared by the persistence tests: a world with every kind of state, and its fingerprint."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulator import Simulation
from simulator.errors import AwsError
from simulator.seed import seed_key_policy

INSTANCE = "i-0123456789abcdef0"
BLOCK = 32 * 1024


def pattern(n: int, length: int) -> bytes:
    """Recognisable plaintext for block writes (not all zeros, different per ``n``)."""
    unit = f"<block data {n:08d}>".encode()
    return (unit * (length // len(unit) + 1))[:length]


def attach(sim: Simulation, volume_id: str, *, ebs: Any = None, instance_id: str = INSTANCE,
           device: str = "/dev/sdf") -> None:
    """AttachVolume (on ``ebs``, a view of another cell, or the simulation's own), then wait on
    the clock until the attachment is ``attached``, as a user must."""
    (sim.ebs if ebs is None else ebs).attach_volume(volume_id=volume_id,
                                                    instance_id=instance_id, device=device)
    sim.advance(sim.settings.volume_attach_seconds)


def recovered(sim: Simulation) -> Simulation:
    """Wait until the re-attaches of a reopen's host recovery complete; returns ``sim``."""
    sim.advance(sim.settings.volume_attach_seconds)
    return sim


def attached_volume(sim: Simulation) -> tuple[str, str]:
    """A new key and an encrypted volume under it, attached: ``(key ARN, volume id)``."""
    key = sim.kms.create_key(description="k").arn
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key,
                                availability_zone=f"{sim.region}a").volume_id
    sim.advance(10)
    attach(sim, vol)
    return key, vol


def build_world(sim: Simulation) -> dict[str, Any]:
    """Change every kind of state the issue lists; returns the ids it made."""
    iam, kms, ebs = sim.iam, sim.kms, sim.ebs
    alice = iam.create_user(user_name="Alice")
    iam.put_user_policy(user_name="Alice", policy_name="use-kms", policy_document=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    iam.create_role(role_name="Builder", path="/ci/")
    key = kms.create_key(description="ws key", policy=seed_key_policy(sim.account_id))
    kms.create_alias(alias_name="alias/ws", target_key_id=key.key_id)
    kms.tag_resource(key_id=key.key_id, tags=[{"tag_key": "team", "tag_value": "blue"}])
    kms.enable_key_rotation(key_id=key.key_id)
    kms.rotate_key_on_demand(key_id=key.key_id)
    doomed = kms.create_key(description="doomed")
    kms.schedule_key_deletion(key_id=doomed.key_id, pending_window_in_days=7)
    off = kms.create_key(description="off")
    kms.disable_key(key_id=off.key_id)
    grant = kms.create_grant(key_id=key.arn, grantee_principal=alice.arn,
                             operations=["Decrypt", "GenerateDataKey"],
                             constraints={"encryption_context_subset": {"app": "x"}})
    dk = kms.generate_data_key(key_id=key.arn, encryption_context={"app": "x"},
                               key_spec="AES_256")
    signer = kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY").key_id
    signature = kms.sign(key_id=signer, message=b"release 1.0",
                         signing_algorithm="ECDSA_SHA_256").signature
    mac_key = kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC").key_id
    mac = kms.generate_mac(key_id=mac_key, message=b"hello", mac_algorithm="HMAC_SHA_256").mac
    pair = kms.generate_data_key_pair(key_id=key.arn, key_pair_spec="ECC_NIST_P256")
    ebs.enable_ebs_encryption_by_default()
    ebs.modify_ebs_default_kms_key_id(kms_key_id=key.arn)
    vol = ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn,
                            availability_zone=f"{sim.region}a", volume_cipher="gcm").volume_id
    spare = ebs.create_volume(size=2, availability_zone=f"{sim.region}b").volume_id
    sim.advance(10)
    attach(sim, vol)
    device = ebs.block_device(vol)
    device.write(0, pattern(1, 3 * BLOCK))
    device.write(BLOCK + 100, pattern(2, 500))
    device.flush()
    snap = ebs.create_snapshot(volume_id=vol, description="before").snapshot_id
    device.write(5 * BLOCK, pattern(3, BLOCK))
    device.flush()
    directory = sim.directory.create_directory(name="corp.example.com").directory_id
    sim.directory.create_user(directory_id=directory, user_name="jdoe")
    sim.directory.create_user(directory_id=directory, user_name="pending")
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0].bundle_id
    spec = {"directory_id": directory, "bundle_id": bundle, "volume_encryption_key": key.arn,
            "root_volume_encryption_enabled": True, "user_volume_encryption_enabled": True}
    ready = sim.workspaces.create_workspaces(workspaces=[{**spec, "user_name": "jdoe"}])
    sim.run_until_idle()
    pending = sim.workspaces.create_workspaces(workspaces=[{**spec, "user_name": "pending"}])
    sim.advance(60)  # the second WorkSpace is still provisioning
    return {"key": key.arn, "doomed": doomed.key_id, "grant": grant.grant_id, "volume": vol,
            "spare": spare, "snapshot": snap, "directory": directory, "data_key": dk,
            "signer": signer, "signature": signature, "mac_key": mac_key, "mac": mac,
            "pair": pair,
            "ready": ready.pending_requests[0].workspace_id,
            "pending": pending.pending_requests[0].workspace_id}


def _outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or the code of the AWS error it raised (part of the state too)."""
    try:
        return call()
    except AwsError as err:
        return err.code


def fingerprint(sim: Simulation) -> dict[str, Any]:
    """Everything a user can read of the simulation (operations, clock, audit, trace)."""
    iam, kms, ebs, ds, ws = sim.iam, sim.kms, sim.ebs, sim.directory, sim.workspaces
    out: dict[str, Any] = {"now": sim.clock.now(),
                           "pending": [(c.due, c.label) for c in sim.clock.pending()]}
    users = iam.list_users().users
    out["iam"] = [users, iam.list_roles().roles,
                  [iam.list_user_policies(user_name=u.user_name) for u in users]]
    keys = [k.key_id for k in kms.list_keys().keys]
    out["kms"] = [
        [_outcome(lambda op=op, k=k: op(key_id=k)) for op in (  # type: ignore[misc]
            kms.describe_key, kms.get_key_policy, kms.list_grants, kms.get_key_rotation_status,
            kms.list_key_rotations, kms.list_resource_tags, kms.get_public_key)]
        for k in keys]
    out["aliases"] = kms.list_aliases()
    volumes = ebs.describe_volumes().volumes
    out["ebs"] = [volumes, ebs.describe_snapshots(), ebs.get_ebs_encryption_by_default(),
                  ebs.get_ebs_default_kms_key_id(),
                  {v.volume_id: dict(ebs.raw_blocks(v.volume_id)) for v in volumes}]
    directories = ds.describe_directories().directory_descriptions
    out["directory"] = [directories,
                        [ds.list_users(directory_id=d.directory_id) for d in directories]]
    out["workspaces"] = [ws.describe_workspaces(), ws.describe_workspace_images()]
    out["audit"] = sim.audit.events()
    out["trace"] = [repr(e) for e in sim.trace.events()]
    return out
