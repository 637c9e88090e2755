"""The records behind WorkSpaces: one mutable record per WorkSpace and per volume, the shared
state of one simulation, and the per-item refusal every batch operation reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import ScheduledCall
from ..runtime import Runtime
from .bundles import builtin_bundles
from .directory import DirectoryState
from .jobs import Job
from .models import Tag, WorkspaceBundle, WorkspaceImage, WorkspaceProperties

__all__ = [
    "CODE_BUNDLE_NOT_FOUND",
    "CODE_DIRECTORY_NOT_FOUND",
    "CODE_INVALID_PARAMETER",
    "CODE_NOT_SUPPORTED",
    "CODE_USER",
    "CODE_WORKSPACE_EXISTS",
    "CODE_WORKSPACE_NOT_FOUND",
    "ItemFailure",
    "VolumeRef",
    "WorkSpacesState",
    "WsRecord",
]

#: Distinct WorkspaceProperties values kept for sharing (the cache is dropped when full).
_SHARED_PROPERTIES = 64


# Per-item error codes. AWS documents none of these except the user one; they follow its
# "<Problem>.<Resource>" style.
CODE_DIRECTORY_NOT_FOUND = "ResourceNotFound.Directory"
CODE_USER = "InvalidUserConfiguration.Workspace"
CODE_BUNDLE_NOT_FOUND = "ResourceNotFound.Bundle"
CODE_WORKSPACE_EXISTS = "ResourceExists.Workspace"
CODE_WORKSPACE_NOT_FOUND = "ResourceNotFound.Workspace"
CODE_NOT_SUPPORTED = "OperationNotSupported"
CODE_INVALID_PARAMETER = "InvalidParameterValuesException"



class ItemFailure(Exception):
    """One CreateWorkspaces item (or batch item) refused: the code and message to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(eq=False, slots=True)
class VolumeRef:
    kind: str  # "root" | "user"
    volume_id: str
    encrypted: bool
    attached: bool = False


@dataclass(eq=False, slots=True)
class WsRecord:
    """One WorkSpace's mutable record (the public view is :class:`Workspace`).

    Slots, and tuples where a WorkSpace usually has nothing (orphans, snapshots): a fleet keeps
    one record per WorkSpace, and each object in it is walked by every full garbage collection.
    """

    workspace_id: str
    seq: int
    directory_id: str
    user_name: str
    sid: str
    bundle_id: str
    image_id: str
    subnet_id: str
    instance_id: str
    properties: WorkspaceProperties
    volume_encryption_key: str | None
    root_encrypted: bool
    user_encrypted: bool
    tags: tuple[Tag, ...]
    state: str
    state_since: datetime
    #: When CreateWorkspaces accepted it (DescribeWorkspaces shows it a little later).
    created: datetime
    key_arn: str | None = None
    grant_id: str | None = None
    grant_token: str | None = field(default=None, repr=False)  # a bearer secret
    error_code: str | None = None
    error_message: str | None = None
    ip_address: str | None = None
    computer_name: str | None = None
    volumes: dict[str, VolumeRef] = field(default_factory=dict)
    #: Volumes a rebuild is making; they replace ``volumes`` once attached.
    replacements: dict[str, VolumeRef] = field(default_factory=dict)
    #: Volumes no longer used whose deletion failed; terminate tries again.
    orphans: tuple[VolumeRef, ...] = ()
    #: Root volumes that still need the bundle image written (fresh from launch or rebuild).
    image_pending: bool = True
    #: User-volume snapshots, oldest first: (snapshot id, when taken).
    snapshots: tuple[tuple[str, datetime], ...] = ()
    job: Job | None = None
    snapshot_call: ScheduledCall | None = None

    @property
    def encrypted(self) -> bool:
        return self.root_encrypted or self.user_encrypted

    @property
    def user_key(self) -> tuple[str, str]:
        return (self.directory_id, self.user_name.lower())


class WorkSpacesState:
    """Every WorkSpace, bundle and image of one simulation; shared by all service views."""

    def __init__(self, runtime: Runtime, directory: DirectoryState) -> None:
        self.runtime = runtime
        self.directory = directory
        self.bundles: dict[str, WorkspaceBundle] = builtin_bundles(runtime)
        self.workspaces: dict[str, WsRecord] = {}
        # Indexes, so that no lookup scans the fleet: (directory, user lower) -> id, and the
        # ids per directory and per bundle in creation order (dicts used as ordered sets).
        self.by_user: dict[tuple[str, str], str] = {}
        self.by_directory: dict[str, dict[str, None]] = {}
        self.by_bundle: dict[str, dict[str, None]] = {}
        self.images: dict[str, WorkspaceImage] = {}
        self.image_snapshots: dict[str, str] = {}
        self.seq = 0
        # Equal properties share one (frozen) object: a fleet mostly uses a bundle's defaults.
        self._properties: dict[WorkspaceProperties, WorkspaceProperties] = {}

    def shared_properties(self, properties: WorkspaceProperties) -> WorkspaceProperties:
        """The object equal to ``properties`` that WorkSpaces already use, else this one."""
        known = self._properties.get(properties)
        if known is None:
            if len(self._properties) >= _SHARED_PROPERTIES:
                self._properties.clear()
            known = self._properties[properties] = properties
        return known

