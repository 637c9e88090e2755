"""A ready-made WorkSpaces world: a directory with users, a customer managed key, optionally
an administrator with the seed document's policies. The one world the tests, the kit's users
and the scenarios build (the scenarios narrate it: :mod:`simulator.present.world`).

```python
world = WorkspacesWorld.build(Simulation(seed=1), users=("jdoe",))
ws = world.launch("jdoe")          # CreateWorkspaces, then the clock runs until it settles
world.write(ws, b"data")           # through the user volume's block device
assert world.read(ws, 4) == b"data"

alice = WorkspacesWorld.build(Simulation(seed=1), admin="Alice")   # the seed's admin and policies
alice.launch("jdoe")               # CreateWorkspaces as Alice
```

A request WorkSpaces refuses raises :class:`LaunchRefused`, the world's one failure type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..seed import seed_key_policy, seed_kms_iam_policy, seed_workspaces_iam_policy
from ..workspaces.lifecycle import sid_directory_context

__all__ = [
    "SETTLE_SECONDS",
    "LaunchRefused",
    "WorkspacesWorld",
    "create_admin",
    "create_directory",
    "create_key",
]

#: Virtual time that lets any one lifecycle operation finish, retries included (the longest is
#: an encrypted launch: an hour of provisioning), and short of the first 12-hourly snapshot.
SETTLE_SECONDS = 2 * 3600.0


class LaunchRefused(AssertionError):
    """CreateWorkspaces refused the request (``code`` and ``message`` as in FailedRequests)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# The building steps, public so that a narrated build (the scenarios') takes the same steps in
# the same order, and so replays the same ids for a seed.

def create_admin(sim: Any, user_name: str = "Alice", *, iam_policies: bool = True) -> str:
    """An IAM user with the seed's WorkSpaces and KMS identity policies; returns its ARN."""
    admin = sim.iam.create_user(user_name=user_name)
    if iam_policies:
        sim.iam.put_user_policy(user_name=user_name, policy_name="WorkSpacesAdmin",
                                policy_document=seed_workspaces_iam_policy())
        sim.iam.put_user_policy(user_name=user_name, policy_name="KmsForWorkSpaces",
                                policy_document=seed_kms_iam_policy())
    return str(admin.arn)


def create_key(sim: Any, *, admin_arn: str | None = None, key_policy: str | None = None,
               alias_name: str | None = None, description: str = "WorkSpaces volume key") -> Any:
    """A symmetric customer managed key. With ``admin_arn`` and no ``key_policy``, the seed's
    key policy (the admin administers and uses it, and may grant to AWS resources)."""
    if key_policy is None and admin_arn is not None:
        key_policy = seed_key_policy(sim.account_id, admin_arn)
    key = sim.kms.create_key(description=description, **(
        {"policy": key_policy} if key_policy is not None else {}))
    if alias_name is not None:
        sim.kms.create_alias(alias_name=alias_name, target_key_id=key.key_id)
    return key


def create_directory(sim: Any, users: Sequence[str],
                     name: str = "corp.example.com") -> tuple[str, dict[str, str]]:
    """A directory and its users; returns the directory id and each user's SID."""
    directory = sim.directory.create_directory(name=name)
    sids = {user: str(sim.directory.create_user(directory_id=directory.directory_id,
                                                user_name=user).sid) for user in users}
    return str(directory.directory_id), sids


@dataclass
class WorkspacesWorld:
    """One simulation set up for WorkSpaces: ``directory_id``, ``key_arn``, ``bundle_id``, the
    users' SIDs, and ``admin`` (the administrator's view of the services, or the account root's
    when the world has no administrator)."""

    sim: Any
    directory_id: str
    key_arn: str
    bundle_id: str
    users: list[str] = field(default_factory=list)
    key_id: str = ""
    sids: dict[str, str] = field(default_factory=dict)
    admin_arn: str | None = None
    alias_name: str | None = None

    @classmethod
    def build(cls, sim: Any, users: Sequence[str] = ("jdoe",),
              directory_name: str = "corp.example.com", *, admin: str | None = None,
              iam_policies: bool = True, key_policy: str | None = None,
              alias_name: str | None = None,
              key_description: str = "WorkSpaces volume key") -> WorkspacesWorld:
        """Create the administrator (when ``admin`` names one: an IAM user with the seed's
        policies, unless ``iam_policies=False``), the key, the directory and its users."""
        admin_arn = create_admin(sim, admin, iam_policies=iam_policies) if admin else None
        key = create_key(sim, admin_arn=admin_arn, key_policy=key_policy, alias_name=alias_name,
                         description=key_description)
        directory_id, sids = create_directory(sim, users, directory_name)
        bundle = sim.workspaces.describe_workspace_bundles().bundles[0]
        return cls(sim=sim, directory_id=directory_id, key_arn=str(key.arn),
                   bundle_id=str(bundle.bundle_id), users=list(users), key_id=str(key.key_id),
                   sids=sids, admin_arn=admin_arn, alias_name=alias_name)

    @property
    def admin(self) -> Any:
        """The administrator's view of the services (``.workspaces``, ``.kms``, ``.ebs``)."""
        return self.sim if self.admin_arn is None else self.sim.as_principal(self.admin_arn)

    # -- launching ------------------------------------------------------------------------

    def request(self, user_name: str = "jdoe", *, key_arn: str | None = None, root: bool = True,
                user: bool = True, running_mode: str | None = None,
                **fields: Any) -> dict[str, Any]:
        """One CreateWorkspaces request item for ``user_name`` (encrypted by default;
        ``running_mode="MANUAL"`` for a WorkSpace that can be stopped and started). ``fields``
        set or override request fields by their snake_case names; None leaves one out."""
        item: dict[str, Any] = dict(
            directory_id=self.directory_id, user_name=user_name, bundle_id=self.bundle_id,
            root_volume_encryption_enabled=root, user_volume_encryption_enabled=user)
        if root or user:
            item["volume_encryption_key"] = key_arn or self.key_arn
        if running_mode is not None:
            item["workspace_properties"] = {"running_mode": running_mode}
        item.update(fields)
        return {k: v for k, v in item.items() if v is not None}

    def launch(self, user_name: str = "jdoe", *, settle: bool | float = True,
               **options: Any) -> str:
        """CreateWorkspaces (as the administrator) for one user; the WorkSpace id. Raises
        :class:`LaunchRefused` when the request fails; ``settle`` as in :meth:`settle`."""
        result = self.admin.workspaces.create_workspaces(
            workspaces=[self.request(user_name, **options)])
        if result.failed_requests:
            failed = result.failed_requests[0]
            raise LaunchRefused(failed.error_code, failed.error_message)
        workspace_id: str = result.pending_requests[0].workspace_id
        self._settle(settle)
        return workspace_id

    def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Run the clock long enough for pending lifecycle work to finish."""
        self.sim.advance(seconds=seconds)

    def _settle(self, settle: bool | float) -> None:
        # True: SETTLE_SECONDS; a number: that many seconds; False: leave the clock alone.
        if settle is True:
            self.settle()
        elif settle is not False:
            self.settle(float(settle))

    def _change(self, operation: str, workspace_ids: Sequence[str],
                settle: bool | float) -> list[Any]:
        failed: list[Any] = []
        call = getattr(self.admin.workspaces, operation)
        # The API takes 1-25 ids per call; RebuildWorkspaces exactly one.
        size = 1 if operation == "rebuild_workspaces" else 25
        for i in range(0, len(workspace_ids), size):
            failed.extend(call(workspace_ids=list(workspace_ids[i:i + size])).failed_requests)
        self._settle(settle)
        return failed

    def reboot(self, *workspace_ids: str, settle: bool | float = True) -> list[Any]:
        """RebootWorkspaces (as the administrator); returns the FailedRequests."""
        return self._change("reboot_workspaces", workspace_ids, settle)

    def rebuild(self, *workspace_ids: str, settle: bool | float = True) -> list[Any]:
        """RebuildWorkspaces, one per call as the API wants; returns the FailedRequests."""
        return self._change("rebuild_workspaces", workspace_ids, settle)

    def terminate(self, *workspace_ids: str, settle: bool | float = True) -> list[Any]:
        """TerminateWorkspaces; returns the FailedRequests."""
        return self._change("terminate_workspaces", workspace_ids, settle)

    # -- looking -------------------------------------------------------------------------

    def describe(self, workspace_id: str) -> Any:
        """DescribeWorkspaces for one WorkSpace (None once it is no longer listed)."""
        found = self.sim.workspaces.describe_workspaces(workspace_ids=[workspace_id]).workspaces
        return found[0] if found else None

    def workspace(self, workspace_id: str) -> Any:
        """DescribeWorkspaces for one WorkSpace (the same as :meth:`describe`)."""
        return self.describe(workspace_id)

    def state(self, workspace_id: str) -> str:
        """The state DescribeWorkspaces reports (``"GONE"`` once it is no longer listed)."""
        found = self.describe(workspace_id)
        return "GONE" if found is None else str(found.state)

    def user_volume(self, workspace_id: str) -> str:
        """The id of the WorkSpace's user volume (D:)."""
        return str(self.sim.workspaces.volumes(workspace_id).user_volume_id)

    def root_volume(self, workspace_id: str) -> str:
        """The id of the WorkSpace's root volume (C:)."""
        return str(self.sim.workspaces.volumes(workspace_id).root_volume_id)

    def user_device(self, workspace_id: str) -> Any:
        """The user volume as a block device; only while it is attached."""
        return self.sim.ebs.block_device(self.user_volume(workspace_id))

    def write(self, workspace_id: str, data: bytes, offset: int = 0, *,
              root: bool = False) -> str:
        """Write to the user (or root) volume through EBS's block device; the volume id."""
        volume_id = self.root_volume(workspace_id) if root else self.user_volume(workspace_id)
        self.sim.ebs.block_device(volume_id).write(offset, data)
        return volume_id

    def read(self, workspace_id: str, length: int, offset: int = 0, *,
             root: bool = False) -> bytes:
        """Read from the user (or root) volume; raises the AWS error that prevents it."""
        volume_id = self.root_volume(workspace_id) if root else self.user_volume(workspace_id)
        return bytes(self.sim.ebs.block_device(volume_id).read(offset, length))

    def context_of(self, user_name: str, volume_id: str) -> dict[str, str]:
        """The encryption context EBS uses for a WorkSpaces volume (step 3)."""
        return {**sid_directory_context(self.sids[user_name], self.directory_id),
                "aws:ebs:id": volume_id}

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
