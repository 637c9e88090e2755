"""Shared set-up for the WorkSpaces tests: Alice (the seed's admin), her key, a directory.

Not a test module itself (it holds no tests); the WorkSpaces tests import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator import Simulation
from simulator.seed import seed_key_policy, seed_kms_iam_policy, seed_workspaces_iam_policy


@dataclass
class Fleet:
    """A simulation with Alice, her customer managed key, a directory and users."""

    sim: Simulation
    alice_arn: str
    admin: Any  # sim.as_principal(alice): .workspaces, .kms, .ebs as Alice
    key_arn: str
    key_id: str
    directory_id: str
    bundle_id: str
    sids: dict[str, str] = field(default_factory=dict)

    @property
    def ws(self) -> Any:
        """Alice's WorkSpaces view."""
        return self.admin.workspaces

    def request(self, user_name: str = "jdoe", **overrides: Any) -> dict[str, Any]:
        request: dict[str, Any] = {
            "directory_id": self.directory_id, "user_name": user_name,
            "bundle_id": self.bundle_id, "volume_encryption_key": self.key_arn,
            "root_volume_encryption_enabled": True, "user_volume_encryption_enabled": True,
        }
        request.update(overrides)
        return {k: v for k, v in request.items() if v is not None}

    def launch(self, user_name: str = "jdoe", *, wait: bool = True, **overrides: Any) -> str:
        """Launch one WorkSpace as Alice; fails the test if the request is refused."""
        result = self.ws.create_workspaces(workspaces=[self.request(user_name, **overrides)])
        assert result.failed_requests == (), result.failed_requests
        workspace_id: str = result.pending_requests[0].workspace_id
        if wait:
            self.sim.run_until_idle()
        return workspace_id

    def describe(self, workspace_id: str) -> Any:
        found = self.sim.workspaces.describe_workspaces(workspace_ids=[workspace_id]).workspaces
        return found[0] if found else None

    def state(self, workspace_id: str) -> str:
        found = self.describe(workspace_id)
        return "GONE" if found is None else str(found.state)

    def user_volume(self, workspace_id: str) -> str:
        volume_id = self.sim.workspaces.volumes(workspace_id).user_volume_id
        assert volume_id is not None
        return str(volume_id)

    def root_volume(self, workspace_id: str) -> str:
        volume_id = self.sim.workspaces.volumes(workspace_id).root_volume_id
        assert volume_id is not None
        return str(volume_id)

    def write(self, workspace_id: str, offset: int, data: bytes, *, root: bool = False) -> None:
        volume_id = self.root_volume(workspace_id) if root else self.user_volume(workspace_id)
        self.sim.ebs.block_device(volume_id).write(offset, data)

    def read(self, workspace_id: str, offset: int, length: int, *, root: bool = False) -> bytes:
        volume_id = self.root_volume(workspace_id) if root else self.user_volume(workspace_id)
        return bytes(self.sim.ebs.block_device(volume_id).read(offset, length))


def make_fleet(seed: int = 7, users: tuple[str, ...] = ("jdoe", "asmith", "bwong"),
               *, iam_policies: bool = True, **settings: Any) -> Fleet:
    """Alice with the seed's key policy and IAM policies, a key, a directory and users."""
    sim = Simulation(seed=seed, **settings)
    alice = sim.iam.create_user(user_name="Alice")
    if iam_policies:
        sim.iam.put_user_policy(user_name="Alice", policy_name="WorkSpacesAdmin",
                                policy_document=seed_workspaces_iam_policy())
        sim.iam.put_user_policy(user_name="Alice", policy_name="KmsForWorkSpaces",
                                policy_document=seed_kms_iam_policy())
    key = sim.kms.create_key(description="WorkSpaces volumes",
                             policy=seed_key_policy(sim.account_id, alice.arn))
    directory = sim.directory.create_directory(name="corp.example.com")
    sids = {u: sim.directory.create_user(directory_id=directory.directory_id, user_name=u).sid
            for u in users}
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0]
    return Fleet(sim=sim, alice_arn=alice.arn, admin=sim.as_principal(alice.arn),
                 key_arn=key.arn, key_id=key.key_id, directory_id=directory.directory_id,
                 bundle_id=bundle.bundle_id, sids=sids)


def context_of(fleet: Fleet, user_name: str, volume_id: str) -> dict[str, str]:
    """The two-pair encryption context EBS uses for a WorkSpaces volume."""
    return {"aws:workspaces:sid-directoryid": f"[{fleet.sids[user_name]}]@[{fleet.directory_id}]",
            "aws:ebs:id": volume_id}
