"""WorkSpaces results: small frozen dataclasses named after the AWS shapes, in snake_case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "ChangeWorkspacesResult",
    "ComputeType",
    "CreateWorkspacesResult",
    "DescribeTagsResult",
    "DescribeWorkspaceBundlesResult",
    "DescribeWorkspaceImagesResult",
    "DescribeWorkspaceSnapshotsResult",
    "DescribeWorkspacesResult",
    "FailedCreateWorkspaceRequest",
    "FailedWorkspaceChangeRequest",
    "RootStorage",
    "Snapshot",
    "Tag",
    "UserStorage",
    "Workspace",
    "WorkspaceBundle",
    "WorkspaceImage",
    "WorkspaceProperties",
    "WorkspaceVolumes",
]


@dataclass(frozen=True)
class WorkspaceProperties:
    """Running mode, volume sizes and compute type of one WorkSpace."""

    running_mode: str = "ALWAYS_ON"
    running_mode_auto_stop_timeout_in_minutes: int | None = None
    root_volume_size_gib: int = 80
    user_volume_size_gib: int = 50
    compute_type_name: str = "STANDARD"


@dataclass(frozen=True)
class Workspace:
    """One WorkSpace as DescribeWorkspaces shows it.

    ``error_code``/``error_message`` say why a WorkSpace is in ERROR or UNHEALTHY; when the
    cause was a KMS error, ``error_code`` is the KMS error code (``"DisabledException"``) and
    the message carries KMS's text (``"<key ARN> is disabled."``).
    """

    workspace_id: str
    directory_id: str
    user_name: str
    state: str
    bundle_id: str
    subnet_id: str
    ip_address: str | None
    computer_name: str | None
    error_code: str | None
    error_message: str | None
    volume_encryption_key: str | None
    root_volume_encryption_enabled: bool
    user_volume_encryption_enabled: bool
    workspace_properties: WorkspaceProperties


@dataclass(frozen=True)
class Tag:
    key: str
    value: str = ""


@dataclass(frozen=True)
class FailedCreateWorkspaceRequest:
    """A CreateWorkspaces item that was refused: the request as given, and why."""

    workspace_request: Mapping[str, Any]
    error_code: str
    error_message: str


@dataclass(frozen=True)
class CreateWorkspacesResult:
    failed_requests: tuple[FailedCreateWorkspaceRequest, ...]
    pending_requests: tuple[Workspace, ...]


@dataclass(frozen=True)
class FailedWorkspaceChangeRequest:
    """A reboot/rebuild/stop/start/terminate item that could not be processed."""

    workspace_id: str
    error_code: str
    error_message: str


@dataclass(frozen=True)
class ChangeWorkspacesResult:
    """The result of RebootWorkspaces, RebuildWorkspaces, Stop-, Start- and TerminateWorkspaces."""

    failed_requests: tuple[FailedWorkspaceChangeRequest, ...]


@dataclass(frozen=True)
class DescribeWorkspacesResult:
    workspaces: tuple[Workspace, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class RootStorage:
    capacity: str


@dataclass(frozen=True)
class UserStorage:
    capacity: str


@dataclass(frozen=True)
class ComputeType:
    name: str


@dataclass(frozen=True)
class WorkspaceBundle:
    """A bundle: the image a WorkSpace boots from, its volume sizes and compute type."""

    bundle_id: str
    name: str
    owner: str
    description: str
    image_id: str
    root_storage: RootStorage
    user_storage: UserStorage
    compute_type: ComputeType
    state: str
    bundle_type: str
    creation_time: datetime

    @property
    def root_volume_size_gib(self) -> int:
        return int(self.root_storage.capacity)

    @property
    def user_volume_size_gib(self) -> int:
        return int(self.user_storage.capacity)


@dataclass(frozen=True)
class DescribeWorkspaceBundlesResult:
    bundles: tuple[WorkspaceBundle, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class WorkspaceImage:
    """A custom image made by CreateWorkspaceImage (only from unencrypted WorkSpaces)."""

    image_id: str
    name: str
    description: str
    state: str
    owner_account_id: str
    created: datetime
    source_workspace_id: str


@dataclass(frozen=True)
class DescribeWorkspaceImagesResult:
    images: tuple[WorkspaceImage, ...]


@dataclass(frozen=True)
class Snapshot:
    snapshot_time: datetime


@dataclass(frozen=True)
class DescribeWorkspaceSnapshotsResult:
    """When the user-volume snapshots a rebuild can use were taken (restore is not simulated)."""

    rebuild_snapshots: tuple[Snapshot, ...]
    restore_snapshots: tuple[Snapshot, ...] = ()


@dataclass(frozen=True)
class DescribeTagsResult:
    tag_list: tuple[Tag, ...]


@dataclass(frozen=True)
class WorkspaceVolumes:
    """The EBS volumes behind a WorkSpace (a simulator view, not an AWS API).

    Read and write the user's data with ``sim.ebs.block_device(volume_id)`` while the WorkSpace
    runs. Ids are None before provisioning has created the volumes.
    """

    workspace_id: str
    root_volume_id: str | None
    user_volume_id: str | None
    kms_key_arn: str | None
