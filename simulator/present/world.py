"""The cast of the scenarios: Alice the WorkSpaces admin, her key, a directory, its users.

Everything is built through the public API, with the policies of the seed document (the
WorkSpaces guide's "Encrypted WorkSpaces" page): a key policy making Alice the key's
administrator and user and letting her create grants for AWS resources, plus IAM policies
giving her WorkSpaces and the KMS calls WorkSpaces makes on her behalf.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import AwsError
from ..seed import seed_key_policy, seed_kms_iam_policy, seed_workspaces_iam_policy
from ..workspaces.lifecycle import sid_directory_context
from .narrate import Narrator

__all__ = [
    "LaunchFailed",
    "World",
    "build_world",
]


@dataclass
class World:
    """What :func:`build_world` made; ``admin`` is Alice's view of the services."""

    sim: Any
    alice_arn: str
    admin: Any
    key_arn: str
    key_id: str
    alias_name: str
    directory_id: str
    bundle_id: str
    users: dict[str, str] = field(default_factory=dict)  # user name -> SID

    def context_of(self, user_name: str, volume_id: str) -> dict[str, str]:
        """The encryption context EBS uses for a WorkSpaces volume (step 3)."""
        return {**sid_directory_context(self.users[user_name], self.directory_id),
                "aws:ebs:id": volume_id}

    def launch(
        self, out: Narrator | None, user_name: str, *, key: str | None = None,
        root: bool = True, user: bool = True, wait: bool = True,
    ) -> str:
        """Alice launches an encrypted WorkSpace for ``user_name``; returns its id.

        Raises the failed request's error as a :class:`RuntimeError` if WorkSpaces refuses.
        """
        request: dict[str, Any] = dict(
            directory_id=self.directory_id, user_name=user_name, bundle_id=self.bundle_id,
            root_volume_encryption_enabled=root, user_volume_encryption_enabled=user,
        )
        if root or user:
            request["volume_encryption_key"] = key or self.key_arn
        result = self.admin.workspaces.create_workspaces(workspaces=[request])
        if result.failed_requests:
            failed = result.failed_requests[0]
            raise LaunchFailed(failed.error_code, failed.error_message)
        ws_id: str = result.pending_requests[0].workspace_id
        if out is not None:
            out.note(f"{user_name}'s WorkSpace {ws_id} is PENDING; provisioning runs in "
                     "virtual time")
        if wait:
            self.sim.run_until_idle()
        return ws_id

    def describe(self, workspace_id: str) -> Any:
        """DescribeWorkspaces for one WorkSpace (None once it is no longer listed)."""
        found = self.sim.workspaces.describe_workspaces(workspace_ids=[workspace_id]).workspaces
        return found[0] if found else None

    def state(self, workspace_id: str) -> str:
        """The WorkSpace's state as DescribeWorkspaces reports it (``"GONE"`` if not listed)."""
        found = self.describe(workspace_id)
        return str(found.state) if found is not None else "GONE"

    def _change(self, operation: str, workspace_ids: list[str], wait: bool | float) -> list[Any]:
        failed: list[Any] = []
        for i in range(0, len(workspace_ids), 25):  # the API takes 1-25 ids per call
            call = getattr(self.admin.workspaces, operation)
            if operation == "rebuild_workspaces":  # exactly one per call
                for one in workspace_ids[i:i + 25]:
                    failed.extend(call(workspace_ids=[one]).failed_requests)
            else:
                failed.extend(call(workspace_ids=workspace_ids[i:i + 25]).failed_requests)
        if wait is True:
            self.sim.run_until_idle()
        elif wait is not False:  # a number of virtual seconds
            self.sim.advance(seconds=float(wait))
        return failed

    def reboot(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice reboots WorkSpaces; returns the FailedRequests (wrong state, unknown id).

        ``wait``: True runs all scheduled work; a number advances that many virtual seconds
        (use it when other work is scheduled far ahead, such as a key deletion).
        """
        return self._change("reboot_workspaces", list(workspace_ids), wait)

    def rebuild(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice rebuilds WorkSpaces (one per call, as the API wants)."""
        return self._change("rebuild_workspaces", list(workspace_ids), wait)

    def terminate(self, *workspace_ids: str, wait: bool | float = True) -> list[Any]:
        """Alice terminates WorkSpaces."""
        return self._change("terminate_workspaces", list(workspace_ids), wait)

    def grants(self, key_arn: str | None = None) -> list[Any]:
        """Every grant on the key (ListGrants, following its markers)."""
        found: list[Any] = []
        marker: str | None = None
        while True:
            page = self.sim.kms.list_grants(key_id=key_arn or self.key_arn, limit=100,
                                            marker=marker)
            found.extend(page.grants)
            marker = page.next_marker if page.truncated else None
            if not marker:
                return found

    def grants_for(self, text: str, key_arn: str | None = None) -> list[Any]:
        """The grants on the key whose constraints mention ``text`` (a volume id, a SID)."""
        return [g for g in self.grants(key_arn) if text in json.dumps(g.constraints or {})]

    def user_volume(self, workspace_id: str) -> str:
        return str(self.sim.workspaces.volumes(workspace_id).user_volume_id)

    def root_volume(self, workspace_id: str) -> str:
        return str(self.sim.workspaces.volumes(workspace_id).root_volume_id)

    def write(self, workspace_id: str, data: bytes, offset: int = 0) -> str:
        """Write ``data`` to the WorkSpace's user volume (through EBS's block device)."""
        volume_id = self.user_volume(workspace_id)
        self.sim.ebs.block_device(volume_id).write(offset, data)
        return volume_id

    def read(self, workspace_id: str, length: int, offset: int = 0) -> bytes | AwsError:
        """Read back from the user volume, or the AWS error that prevents it."""
        try:
            volume_id = self.user_volume(workspace_id)
            return bytes(self.sim.ebs.block_device(volume_id).read(offset, length))
        except AwsError as exc:
            return exc


class LaunchFailed(RuntimeError):
    """CreateWorkspaces put the request in FailedRequests."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def build_world(
    sim: Any, out: Narrator, *, users: tuple[str, ...] = ("jdoe",),
    key_policy: str | None = None, iam_policies: bool = True,
    alias_name: str = "alias/workspaces-demo",
) -> World:
    """Create Alice, her key (seed key policy unless ``key_policy``), a directory and users."""
    account = sim.account_id
    out.section("The cast")
    alice = sim.iam.create_user(user_name="Alice")
    if iam_policies:
        sim.iam.put_user_policy(user_name="Alice", policy_name="WorkSpacesAdmin",
                                policy_document=seed_workspaces_iam_policy())
        sim.iam.put_user_policy(user_name="Alice", policy_name="KmsForWorkSpaces",
                                policy_document=seed_kms_iam_policy())
    out.say(f"Alice ({alice.arn}) administers WorkSpaces; her IAM policies allow "
            "WorkSpaces and Directory Service, and kms:CreateGrant, Describe*, List*.")
    policy = key_policy if key_policy is not None else seed_key_policy(account, alice.arn)
    key = sim.kms.create_key(description="WorkSpaces volumes (customer managed)",
                             policy=policy)
    sim.kms.create_alias(alias_name=alias_name, target_key_id=key.key_id)
    out.say(f"A customer managed KMS key {alias_name} ({key.arn}); its key policy makes Alice "
            "its administrator and user, and lets her create grants only for AWS resources "
            "(kms:GrantIsForAWSResource).")
    directory = sim.directory.create_directory(name="corp.example.com")
    sids: dict[str, str] = {}
    for name in users:
        sids[name] = sim.directory.create_user(directory_id=directory.directory_id,
                                               user_name=name).sid
    out.say(f"Directory corp.example.com ({directory.directory_id}) with "
            f"{len(users)} user(s): " + ", ".join(f"{n} ({s})" for n, s in
                                                   list(sids.items())[:3])
            + (" ..." if len(users) > 3 else ""))
    bundle = sim.workspaces.describe_workspace_bundles().bundles[0]
    return World(sim=sim, alice_arn=alice.arn, admin=sim.as_principal(alice.arn),
                 key_arn=key.arn, key_id=key.key_id, alias_name=alias_name,
                 directory_id=directory.directory_id, bundle_id=bundle.bundle_id, users=sids)
