"""The WorkSpace lifecycle as data: states, which operation may start from which state, and how
the seed's nine steps map onto the phases the services mark in the trace.

State choices the documents leave open (spec F3/F4):

* A launch that fails (a KMS error during provisioning, retries exhausted) ends in ``ERROR``,
  as AWS documents for "cannot be created".
* A WorkSpace that was running and cannot bring its volumes back (reboot, rebuild or start
  after the key was disabled, scheduled for deletion, deleted, or its grant revoked) ends in
  ``UNHEALTHY``. AWS names no state for it; ``UNHEALTHY`` is chosen because the WorkSpace still
  exists with its volumes and data, it simply cannot boot (it would fail its health checks),
  and because RebootWorkspaces is allowed from ``UNHEALTHY`` but not from ``ERROR``: the
  documented recovery, "make the key usable again, then reboot", works.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "ALL_STATES",
    "AVAILABLE",
    "CODE_INVALID_STATE",
    "ERROR",
    "IMAGE_CREATION_SECONDS",
    "IMPAIRED",
    "PENDING",
    "REBOOTING",
    "REBOOT_FROM",
    "REBUILDING",
    "REBUILD_FROM",
    "SID_DIRECTORY_CONTEXT_KEY",
    "SNAPSHOT_AFTER_REBUILD_SECONDS",
    "SNAPSHOT_STATES",
    "STARTING",
    "START_FROM",
    "STEP_OF_PHASE",
    "STOPPED",
    "STOPPING",
    "STOP_FROM",
    "STUCK_REBOOT_SECONDS",
    "SUSPENDED",
    "TERMINATED",
    "TERMINATING",
    "UNHEALTHY",
    "WORKSPACES_GRANT_OPERATIONS",
    "sid_directory_context",
]

PENDING = "PENDING"
AVAILABLE = "AVAILABLE"
IMPAIRED = "IMPAIRED"
UNHEALTHY = "UNHEALTHY"
REBOOTING = "REBOOTING"
STARTING = "STARTING"
REBUILDING = "REBUILDING"
STOPPING = "STOPPING"
STOPPED = "STOPPED"
SUSPENDED = "SUSPENDED"
TERMINATING = "TERMINATING"
TERMINATED = "TERMINATED"
ERROR = "ERROR"
ALL_STATES = frozenset({PENDING, AVAILABLE, IMPAIRED, UNHEALTHY, REBOOTING, STARTING, REBUILDING,
                        STOPPING, STOPPED, SUSPENDED, TERMINATING, TERMINATED, ERROR})

#: Where each operation may start (spec F3, from the WorkSpaces API reference).
# RebootWorkspaces: "AVAILABLE, UNHEALTHY, or REBOOTING" (REBOOTING only when stuck > 20 minutes).
REBOOT_FROM = frozenset({AVAILABLE, UNHEALTHY})
REBUILD_FROM = frozenset({AVAILABLE, ERROR, UNHEALTHY, STOPPED, REBOOTING})
STOP_FROM = frozenset({AVAILABLE, IMPAIRED, UNHEALTHY, ERROR})
START_FROM = frozenset({STOPPED})
#: Terminate works from any state except SUSPENDED.
#: States in which the 12-hourly user-volume snapshot is taken ("regardless of the health of
#: the WorkSpace", WAG: rebuild): not while an operation holds the volumes, not while stopped.
SNAPSHOT_STATES = frozenset({AVAILABLE, IMPAIRED, UNHEALTHY})

#: A WorkSpace stuck in REBOOTING this long may be rebooted again (RebootWorkspaces docs).
STUCK_REBOOT_SECONDS = 20 * 60
#: After a rebuild, WorkSpaces takes a fresh snapshot "soon (often within 30 minutes)".
SNAPSHOT_AFTER_REBUILD_SECONDS = 30 * 60
#: How long CreateWorkspaceImage keeps a WorkSpace SUSPENDED (AWS: up to 45 minutes or more).
IMAGE_CREATION_SECONDS = 45 * 60

#: The per-item ErrorCode for "not in a state that allows this" (AWS does not document one).
CODE_INVALID_STATE = "InvalidResourceState"

#: Trace phase -> the seed's step number (docs/architecture.md, "The nine steps in the trace").
STEP_OF_PHASE: Mapping[str, int] = MappingProxyType({
    "workspaces.grant": 1,
    "ebs.create_volume": 2,
    "ebs.grant": 2,
    "ebs.generate_data_key": 3,
    "kms.GenerateDataKeyWithoutPlaintext": 4,
    "ebs.attach": 5,
    "ebs.decrypt": 5,
    "kms.Decrypt": 6,
    "ebs.io_ready": 7,
    "ebs.store_encrypted_key": 8,
    "workspaces.terminate": 9,
    "ebs.retire_grant": 9,
    "kms.RetireGrant": 9,
})

#: What the step-1 grant lets the WorkSpaces identity do with the key.
WORKSPACES_GRANT_OPERATIONS = (
    "CreateGrant", "GenerateDataKeyWithoutPlaintext", "Decrypt", "ReEncryptFrom", "ReEncryptTo",
    "DescribeKey", "RetireGrant",
)

SID_DIRECTORY_CONTEXT_KEY = "aws:workspaces:sid-directoryid"


def sid_directory_context(sid: str, directory_id: str) -> dict[str, str]:
    """The WorkSpaces half of the EBS encryption context: ``{"aws:workspaces:sid-directoryid":
    "[<SID>]@[<directory id>]"}`` (EBS adds ``aws:ebs:id``)."""
    return {SID_DIRECTORY_CONTEXT_KEY: f"[{sid}]@[{directory_id}]"}
