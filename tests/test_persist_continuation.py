"""Property: a seeded run that is saved, closed and reopened at any point continues exactly as
the same run without the interruption (whose only difference is the host recovery a restart
is, done at the same moment)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from persist_support import BLOCK, attach, fingerprint, pattern

from simulator import Simulation
from simulator.errors import AwsError

EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 12

Step = tuple[str, int]
STEPS = st.tuples(st.sampled_from(["key", "alias", "grant", "disable", "encrypt", "volume",
                                   "write", "flush", "detach", "snapshot", "advance",
                                   "workspace", "reboot", "random"]),
                  st.integers(0, 2**16))


def _apply(sim: Simulation, step: Step, n: int) -> None:
    """One step; refused steps (an AWS error) are part of the run too."""
    op, x = step
    kms, ebs = sim.kms, sim.ebs
    keys = [k.key_id for k in kms.list_keys().keys]
    volumes = [v for v in ebs.describe_volumes().volumes]
    attached = [v.volume_id for v in volumes if v.attachments]
    workspaces = [w.workspace_id for w in sim.workspaces.describe_workspaces().workspaces]
    pick: Callable[[list[Any]], Any] = lambda items: items[x % len(items)]  # noqa: E731
    try:
        if op == "key" or not keys:
            kms.create_key(description=f"k{n}")
        elif op == "alias":
            kms.create_alias(alias_name=f"alias/a{n}", target_key_id=pick(keys))
        elif op == "grant":
            kms.create_grant(key_id=pick(keys), grantee_principal=sim.root.arn,
                             operations=["Decrypt"])
        elif op == "disable":
            kms.disable_key(key_id=pick(keys)) if x % 2 else kms.enable_key(key_id=pick(keys))
        elif op == "encrypt":
            kms.encrypt(key_id=pick(keys), plaintext=pattern(x, 40))
        elif op == "volume" or (op in ("write", "flush", "detach", "snapshot") and not attached):
            vol = ebs.create_volume(size=1, encrypted=True, kms_key_id=pick(keys),
                                    availability_zone=f"{sim.region}a").volume_id
            sim.advance(10)
            attach(sim, vol, instance_id=f"i-{n:017x}")
        elif op == "write":
            ebs.block_device(pick(attached)).write((x % 64) * 1000, pattern(n, BLOCK + x % 5000))
        elif op == "flush":
            ebs.block_device(pick(attached)).flush()
        elif op == "detach":
            ebs.detach_volume(volume_id=pick(attached))
        elif op == "snapshot":
            ebs.create_snapshot(volume_id=pick(attached))
        elif op == "advance":
            sim.advance(x % 5000)
        elif op == "workspace":
            _workspace(sim, pick(keys), n)
        elif op == "reboot" and workspaces:
            sim.workspaces.reboot_workspaces(reboot_workspace_requests=[
                {"workspace_id": pick(workspaces)}])
        elif op == "random":
            kms.generate_random(number_of_bytes=1 + x % 64)
    except AwsError:
        pass


def _workspace(sim: Simulation, key: str, n: int) -> None:
    found = sim.directory.describe_directories().directory_descriptions
    directory = found[0].directory_id if found else sim.directory.create_directory(
        name="corp.example.com").directory_id
    sim.directory.create_user(directory_id=directory, user_name=f"user{n}")
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0].bundle_id
    sim.workspaces.create_workspaces(workspaces=[{
        "directory_id": directory, "user_name": f"user{n}", "bundle_id": bundle,
        "volume_encryption_key": key, "root_volume_encryption_enabled": True,
        "user_volume_encryption_enabled": True}])


@settings(max_examples=EXAMPLES, deadline=None)
@given(steps=st.lists(STEPS, min_size=1, max_size=14), cut=st.integers(0, 14),
       seed=st.integers(0, 2**32), cipher=st.sampled_from(["xts", "gcm"]))
def test_a_reopened_run_continues_exactly_as_an_uninterrupted_one(
        steps: list[Step], cut: int, seed: int, cipher: str) -> None:
    cut = min(cut, len(steps))
    reference = Simulation(seed=seed, volume_cipher=cipher)
    for n, step in enumerate(steps[:cut]):
        _apply(reference, step, n)
    if any(v.attachments for v in reference.ebs.describe_volumes().volumes):
        reference.recover_attachments()  # what the reopen will do
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.db"
        saved = Simulation(seed=seed, volume_cipher=cipher, state=path)
        for n, step in enumerate(steps[:cut]):
            _apply(saved, step, n)
        saved.close()
        reopened = Simulation(state=path)
        for sim in (reference, reopened):
            for n, step in enumerate(steps[cut:], cut):
                _apply(sim, step, n)
            sim.advance(3600)
        assert fingerprint(reopened) == fingerprint(reference)
        reopened.close()
