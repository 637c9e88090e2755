"""A ready-made WorkSpaces world for tests: a directory, users, a customer managed key.

```python
world = WorkspacesWorld.build(Simulation(seed=1), users=("jdoe",))
ws = world.launch("jdoe")          # CreateWorkspaces, then the clock runs until it settles
world.user_device(ws).write(0, b"data")
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SETTLE_SECONDS", "LaunchRefused", "WorkspacesWorld"]

#: Virtual time that lets any one lifecycle operation finish, retries included (the longest is
#: an encrypted launch: an hour of provisioning), and short of the first 12-hourly snapshot.
SETTLE_SECONDS = 2 * 3600.0


class LaunchRefused(AssertionError):
    """CreateWorkspaces refused the request (``code`` and ``message`` as in FailedRequests)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class WorkspacesWorld:
    """One simulation set up for WorkSpaces: ``directory_id``, ``key_arn``, ``bundle_id``."""

    sim: Any
    directory_id: str
    key_arn: str
    bundle_id: str
    users: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, sim: Any, users: Sequence[str] = ("jdoe",),
              directory_name: str = "corp.example.com") -> WorkspacesWorld:
        """Create the directory, its users and a symmetric customer managed key."""
        directory = sim.directory.create_directory(name=directory_name)
        for name in users:
            sim.directory.create_user(directory_id=directory.directory_id, user_name=name)
        key = sim.kms.create_key(description="WorkSpaces volume key")
        bundle = sim.workspaces.describe_workspace_bundles().bundles[0]
        return cls(sim, directory.directory_id, key.arn, bundle.bundle_id, list(users))

    def request(self, user_name: str, *, key_arn: str | None = None, root: bool = True,
                user: bool = True, running_mode: str | None = None) -> dict[str, Any]:
        """One CreateWorkspaces request item for ``user_name`` (encrypted by default;
        ``running_mode="MANUAL"`` for a WorkSpace that can be stopped and started)."""
        item: dict[str, Any] = dict(
            directory_id=self.directory_id, user_name=user_name, bundle_id=self.bundle_id,
            volume_encryption_key=key_arn or self.key_arn, root_volume_encryption_enabled=root,
            user_volume_encryption_enabled=user)
        if running_mode is not None:
            item["workspace_properties"] = {"running_mode": running_mode}
        return item

    def launch(self, user_name: str, *, settle: bool = True, **options: Any) -> str:
        """CreateWorkspaces for one user; the WorkSpace id. Raises :class:`LaunchRefused`
        when the request fails, and runs the clock :data:`SETTLE_SECONDS` unless told not to."""
        result = self.sim.workspaces.create_workspaces(
            workspaces=[self.request(user_name, **options)])
        if result.failed_requests:
            failed = result.failed_requests[0]
            raise LaunchRefused(failed.error_code, failed.error_message)
        workspace_id: str = result.pending_requests[0].workspace_id
        if settle:
            self.settle()
        return workspace_id

    def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Run the clock long enough for pending lifecycle work to finish."""
        self.sim.advance(seconds=seconds)

    def workspace(self, workspace_id: str) -> Any:
        """DescribeWorkspaces for one WorkSpace."""
        return self.sim.workspaces.describe_workspaces(workspace_ids=[workspace_id]).workspaces[0]

    def state(self, workspace_id: str) -> str:
        return str(self.workspace(workspace_id).state)

    def user_device(self, workspace_id: str) -> Any:
        """The user volume (D:) as a block device; only while it is attached."""
        return self.sim.ebs.block_device(self.sim.workspaces.volumes(workspace_id).user_volume_id)
