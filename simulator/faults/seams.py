"""What the fault injector needs from the services, as typing Protocols.

A fault acts through the services' operations (as the account root) and reads what a WorkSpace
runs on; these are the whole surface it uses of KMS and WorkSpaces.
"""

from __future__ import annotations

from typing import Protocol

from ..kms.grants import GrantStore
from ..kms.models import KeyMetadata
from ..workspaces.models import WorkspaceVolumes

__all__ = ["KmsForFaults", "WorkSpacesForFaults"]


class KmsForFaults(Protocol):
    """The KMS operations a fault performs, and the grant store it reads to find grants."""

    @property
    def grants(self) -> GrantStore: ...

    def describe_key(self, *, key_id: str) -> KeyMetadata: ...

    def disable_key(self, *, key_id: str) -> None: ...

    def schedule_key_deletion(self, *, key_id: str, pending_window_in_days: int = 30) -> object: ...

    def put_key_policy(self, *, key_id: str, policy: str, policy_name: str = "default") -> None: ...

    def revoke_grant(self, *, key_id: str, grant_id: str) -> None: ...

    def retire_grant(self, *, key_id: str | None = None, grant_id: str | None = None) -> None: ...


class WorkSpacesForFaults(Protocol):
    """Which volumes (and so which KMS key) a WorkSpace runs on."""

    def volumes(self, workspace_id: str) -> WorkspaceVolumes: ...
