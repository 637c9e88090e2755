"""Amazon WorkSpaces and the part of AWS Directory Service it needs.

``sim.directory`` (:class:`DirectoryService`) holds directories and users (with their SIDs);
``sim.workspaces`` (:class:`WorkSpacesService`) launches, reboots, rebuilds, stops, starts and
terminates WorkSpaces, walking the seed's nine steps against KMS and EBS on the virtual clock.
"""

from .directory import Directory, DirectoryService, DirectoryState, DirectoryUser
from .lifecycle import STEP_OF_PHASE, sid_directory_context
from .models import (
    ChangeWorkspacesResult,
    CreateWorkspacesResult,
    FailedCreateWorkspaceRequest,
    FailedWorkspaceChangeRequest,
    Workspace,
    WorkspaceBundle,
    WorkspaceImage,
    WorkspaceProperties,
    WorkspaceVolumes,
)
from .service import WorkSpacesService, WorkSpacesState

__all__ = [
    "STEP_OF_PHASE",
    "ChangeWorkspacesResult",
    "CreateWorkspacesResult",
    "Directory",
    "DirectoryService",
    "DirectoryState",
    "DirectoryUser",
    "FailedCreateWorkspaceRequest",
    "FailedWorkspaceChangeRequest",
    "WorkSpacesService",
    "WorkSpacesState",
    "Workspace",
    "WorkspaceBundle",
    "WorkspaceImage",
    "WorkspaceProperties",
    "WorkspaceVolumes",
    "sid_directory_context",
]
