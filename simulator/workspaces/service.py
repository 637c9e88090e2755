"""Amazon WorkSpaces: encrypted launch, reboot, rebuild, stop/start and terminate.

WorkSpaces never encrypts anything itself (seed, "WorkSpaces encryption context"): it creates
the step-1 grant and drives EBS, which does the KMS calls of steps 2-8. When the work happens:

* **At CreateWorkspaces** each item is validated completely (IAM ``workspaces:CreateWorkspaces``,
  directory, user, bundle, properties, one WorkSpace per user and directory, a key when
  encryption is asked) and then **step 1 runs synchronously**: the caller, through WorkSpaces,
  resolves an alias with DescribeKey (CreateGrant takes no aliases; ``alias/aws/workspaces``
  gets its AWS managed key this way) and calls CreateGrant for the WorkSpaces identity. KMS
  decides: an unknown, disabled, pending-deletion, asymmetric or unauthorised key fails that
  item alone, with the KMS error in ``error_code``/``error_message`` and nothing created. A
  *retryable* KMS error does not fail the item: the WorkSpace is PENDING and step 1 is retried
  on the clock.
* **Provisioning** starts on the clock right away: EBS creates the volumes (steps 2-4 and 8,
  called as the WorkSpaces identity with the step-1 grant's token); after the provisioning time
  (``encrypted_root_provisioning_seconds`` with root-volume encryption) EBS attaches them
  (steps 5-7) and the WorkSpace is AVAILABLE. A failure here (a key disabled meanwhile, retries
  of a retryable error exhausted) leaves the WorkSpace in ERROR.
* **Reboot / start** detach (EBS drops the plaintext keys) and attach again (steps 5-7);
  **rebuild** makes new volumes (root from the bundle image, user from the latest 12-hourly
  snapshot) and swaps them in only once they are attached; **terminate** detaches and deletes
  the volumes and retires the grants (step 9).

A running WorkSpace keeps working when its key becomes unusable (EBS holds the key in memory);
the next reboot, rebuild or start fails and leaves it UNHEALTHY (see
:mod:`simulator.workspaces.lifecycle` for why UNHEALTHY) with the KMS error named. Making the
key usable again and rebooting brings it back with all its data (a failed rebuild keeps the old
volumes, so a reboot also recovers everything; a successful rebuild restores the user volume to
its last snapshot).

Authorization: ``workspaces:CreateWorkspaces`` is checked per item (a denied item fails alone,
like the other per-item causes); every other operation is checked for all the WorkSpaces it
names before anything happens, and a denial is an ``AccessDeniedException`` for the whole call.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from itertools import islice
from typing import Any

from ..boundary import operation_boundary
from ..clock import ScheduledCall
from ..errors import (
    AccessDeniedException,
    AwsError,
    IncorrectState,
    InvalidGrantIdException,
    InvalidParameterValuesException,
    InvalidResourceStateException,
    InvalidSnapshotNotFound,
    InvalidVolumeNotFound,
    NotFoundException,
    OperationNotSupportedException,
    ResourceNotFoundException,
    ValidationException,
    error_for_code,
)
from ..iam.principals import Caller, workspaces_identity_arn
from ..runtime import Runtime
from . import lifecycle as lc
from .auth import Authorizer, IamAuthorizer, allow_all
from .bundles import builtin_bundles
from .directory import DirectoryState
from .jobs import Job, NotReady, Stage
from .models import (
    ChangeWorkspacesResult,
    CreateWorkspacesResult,
    DescribeTagsResult,
    DescribeWorkspaceBundlesResult,
    DescribeWorkspaceImagesResult,
    DescribeWorkspaceSnapshotsResult,
    DescribeWorkspacesResult,
    FailedCreateWorkspaceRequest,
    FailedWorkspaceChangeRequest,
    Snapshot,
    Tag,
    Workspace,
    WorkspaceBundle,
    WorkspaceImage,
    WorkspaceProperties,
    WorkspaceVolumes,
)
from .requests import (
    ENCRYPTION_FIELDS,
    MAX_BATCH,
    CreateRequest,
    check_batch,
    check_workspace_id,
    parse_change_ids,
    parse_create_requests,
    parse_properties,
    parse_tags,
)

__all__ = ["WorkSpacesService", "WorkSpacesState"]

_DEVICES = {"root": "/dev/sda1", "user": "/dev/xvdd"}
_IMAGE_NAME = re.compile(r"[a-zA-Z0-9_./()\\-]{1,64}")
#: Our pagination tokens are offsets; 19 digits fit an int64 (AWS tokens are opaque strings).
_NEXT_TOKEN = re.compile(r"[0-9]{1,19}")
_MAX_VOLUME_GIB = 2000
_AUTO_STOP_DEFAULT_MINUTES = 60
_AUTO_STOP_MAX_MINUTES = 48 * 60
#: How often an attach polls a volume that EBS is still creating (or detaching).
_POLL_SECONDS = 1.0
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

KEY_NOT_FOUND_MESSAGE = (
    "The specified key could not be found. Please provide a valid key for encryption.")
KEY_NOT_AVAILABLE_MESSAGE = (
    "The specified key is not available. Please provide a valid key for encryption.")


class _ItemFailure(Exception):
    """One CreateWorkspaces item (or batch item) refused: the code and message to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(eq=False, slots=True)
class _Volume:
    kind: str  # "root" | "user"
    volume_id: str
    encrypted: bool
    attached: bool = False


@dataclass(eq=False, slots=True)
class _Ws:
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
    key_arn: str | None = None
    grant_id: str | None = None
    grant_token: str | None = field(default=None, repr=False)  # a bearer secret
    error_code: str | None = None
    error_message: str | None = None
    ip_address: str | None = None
    computer_name: str | None = None
    volumes: dict[str, _Volume] = field(default_factory=dict)
    #: Volumes a rebuild is making; they replace ``volumes`` once attached.
    replacements: dict[str, _Volume] = field(default_factory=dict)
    #: Volumes no longer used whose deletion failed; terminate tries again.
    orphans: tuple[_Volume, ...] = ()
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
        self.workspaces: dict[str, _Ws] = {}
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


@operation_boundary(lambda ws: ws._rt.lock)
class WorkSpacesService:
    """Amazon WorkSpaces for one account and Region, as seen by one caller.

    ``kms`` and ``ebs`` are the KMS and EBS service views (any caller: WorkSpaces makes its own
    views for the admin and for the WorkSpaces identity); ``iam`` decides who may call.
    """

    def __init__(
        self, state: WorkSpacesState, kms: Any, ebs: Any, iam: Any = None,
        caller: Caller | None = None, *, authorizer: Authorizer | None = None,
    ) -> None:
        self.state = state
        self._kms = kms
        self._ebs = ebs
        self._iam = iam
        runtime = state.runtime
        self._rt = runtime
        self.caller = caller if caller is not None else Caller.root(runtime.account_id)
        if authorizer is None:
            authorizer = (IamAuthorizer(iam, runtime.clock.now) if iam is not None
                          else allow_all)
        self._authorize = authorizer
        identity_arn = workspaces_identity_arn(runtime.account_id)
        self.identity: Caller = (
            iam.caller_for(identity_arn) if iam is not None and hasattr(iam, "caller_for")
            else Caller(arn=identity_arn, account_id=runtime.account_id, type="AWSService",
                        principal_id="AWSService:workspaces"))
        # WorkSpaces acts on EBS and retires its grants as its own identity.
        self._ebs_ws = ebs.with_caller(self.identity)
        self._kms_ws = kms.with_caller(self.identity)
        self._kms_admin: Any = None  # KMS as the caller through WorkSpaces (made on first use)

    def with_caller(self, caller: Caller) -> WorkSpacesService:
        """The same WorkSpaces, called by ``caller``."""
        return WorkSpacesService(self.state, self._kms, self._ebs, self._iam, caller,
                                 authorizer=self._authorize)

    # ================================================================ bundles

    def describe_workspace_bundles(
        self, *, bundle_ids: Sequence[str] | None = None, owner: str | None = None,
    ) -> DescribeWorkspaceBundlesResult:
        """The bundles: by id, or all of ``owner`` (``"AMAZON"``), or all."""
        self._require("workspaces:DescribeWorkspaceBundles", "*")
        if bundle_ids is not None and owner is not None:
            raise InvalidParameterValuesException("Specify bundle_ids or owner, not both.")
        if bundle_ids is not None:
            found = []
            for bundle_id in check_batch(bundle_ids, "bundle_ids"):
                if not isinstance(bundle_id, str):
                    raise ValidationException("bundle_ids must be a list of bundle ids.")
                bundle = self.state.bundles.get(bundle_id)
                if bundle is not None:
                    found.append(bundle)
            return DescribeWorkspaceBundlesResult(tuple(found))
        if owner is not None and not isinstance(owner, str):
            raise ValidationException("owner must be a string.")
        return DescribeWorkspaceBundlesResult(tuple(
            b for b in self.state.bundles.values() if owner is None or b.owner == owner))

    # ================================================================ create

    def create_workspaces(self, *, workspaces: Sequence[Mapping[str, Any]]) -> CreateWorkspacesResult:
        """Launch up to 25 WorkSpaces; each item that cannot be launched fails alone."""
        parsed = parse_create_requests(workspaces)
        pending: list[Workspace] = []
        failed: list[FailedCreateWorkspaceRequest] = []
        for echo, request in parsed:
            try:
                ws = self._launch(request)
            except _ItemFailure as refusal:
                failed.append(FailedCreateWorkspaceRequest(echo, refusal.code, refusal.message))
                continue
            pending.append(self._view(ws))
        return CreateWorkspacesResult(tuple(failed), tuple(pending))

    def _launch(self, request: CreateRequest) -> _Ws:
        rt = self._rt
        state = self.state
        # 1. Everything that needs no KMS call, in the order AWS would see it.
        for resource in (self._directory_arn(request.directory_id),
                         self._bundle_arn(request.bundle_id)):
            denied = self._authorize(self.caller, "workspaces:CreateWorkspaces", resource)
            if denied is not None:
                raise _ItemFailure(AccessDeniedException.code, denied)
        directory = state.directory.directory(request.directory_id)
        if directory is None:
            raise _ItemFailure(CODE_DIRECTORY_NOT_FOUND,
                               "The specified directory could not be found in the specified "
                               f"region: {request.directory_id}.")
        user = state.directory.find_user(request.directory_id, request.user_name)
        if user is None:
            raise _ItemFailure(CODE_USER, "The user was either not found or is misconfigured: "
                               f"no user '{request.user_name}' in directory "
                               f"{request.directory_id}.")
        bundle = state.bundles.get(request.bundle_id)
        if bundle is None:
            raise _ItemFailure(CODE_BUNDLE_NOT_FOUND,
                               f"The specified bundle {request.bundle_id} could not be found.")
        existing = state.by_user.get((request.directory_id, user.user_name.lower()))
        if existing is not None:
            raise _ItemFailure(CODE_WORKSPACE_EXISTS,
                               f"The user {user.user_name} already has a WorkSpace ({existing}) "
                               f"in directory {request.directory_id}.")
        properties = state.shared_properties(_properties(bundle, request.properties))
        encrypted = request.root_volume_encryption_enabled or request.user_volume_encryption_enabled
        if encrypted and request.volume_encryption_key is None:
            raise _ItemFailure(CODE_INVALID_PARAMETER,
                               "VolumeEncryptionKey is required when RootVolumeEncryptionEnabled "
                               "or UserVolumeEncryptionEnabled is true.")
        # 2. The record (not yet visible) and step 1, which KMS validates.
        workspace_id = rt.ids.workspace_id()
        while workspace_id in state.workspaces:
            workspace_id = rt.ids.workspace_id()
        ws = _Ws(
            workspace_id=workspace_id, seq=state.seq + 1, directory_id=request.directory_id,
            user_name=user.user_name, sid=user.sid, bundle_id=bundle.bundle_id,
            image_id=bundle.image_id, subnet_id=directory.subnet_ids[0],
            instance_id=rt.ids.instance_id(), properties=properties,
            volume_encryption_key=request.volume_encryption_key,
            root_encrypted=request.root_volume_encryption_enabled,
            user_encrypted=request.user_volume_encryption_enabled, tags=request.tags,
            state=lc.PENDING, state_since=rt.clock.now(),
        )
        job = self._launch_job(ws)
        deferred: AwsError | None = None
        rt.trace.record(
            "WorkSpaces", "CreateWorkspaces", workspace_id, workspace_id=workspace_id,
            caller=self.caller.arn, directory_id=ws.directory_id, user_name=ws.user_name,
            bundle_id=ws.bundle_id, root_volume_encryption_enabled=ws.root_encrypted,
            user_volume_encryption_enabled=ws.user_encrypted,
            volume_encryption_key=ws.volume_encryption_key)
        if encrypted:
            with rt.trace.scope(workspace_id=workspace_id, steps=lc.STEP_OF_PHASE):
                try:
                    self._grant(ws)
                except AwsError as err:
                    if not err.retryable:
                        code, message = _key_failure(err)
                        rt.trace.record("WorkSpaces", "RequestFailed", workspace_id,
                                        outcome=code, error=message)
                        raise _ItemFailure(code, message) from None
                    deferred = err
        # 3. Accepted: index it and let provisioning run on the clock.
        state.seq += 1
        state.workspaces[workspace_id] = ws
        state.by_user[ws.user_key] = workspace_id
        state.by_directory.setdefault(ws.directory_id, {})[workspace_id] = None
        state.by_bundle.setdefault(ws.bundle_id, {})[workspace_id] = None
        ws.job = job
        if deferred is not None:
            if not job.retry_later(deferred):  # max_retries == 0: fail like any launch error
                stage = job.stage
                assert stage is not None  # the job has not started: its first stage
                self._launch_failed(ws, deferred, stage)
        else:
            if encrypted:
                job.skip_stage()
            job.start(0.0)
        return ws

    def _grant(self, ws: _Ws) -> None:
        """Step 1: the caller, through WorkSpaces, grants the WorkSpaces identity use of the key
        for this user and directory only."""
        assert ws.volume_encryption_key is not None
        rt = self._rt
        self._step("before", ws, 1)
        admin_kms = self._kms_admin
        if admin_kms is None:
            admin_kms = self._kms_admin = self._kms.with_caller(
                self.caller.through("workspaces", rt.region))
        with rt.trace.phase("workspaces.grant"):
            key_arn = ws.key_arn
            if key_arn is None:
                key_arn = ws.volume_encryption_key
                if _is_alias(key_arn):
                    # CreateGrant takes only key ids and ARNs; DescribeKey resolves the alias
                    # (and makes alias/aws/workspaces's AWS managed key on first use). CreateGrant
                    # refuses a non-symmetric key, whichever way it was named.
                    key_arn = admin_kms.describe_key(key_id=key_arn).arn
            context = lc.sid_directory_context(ws.sid, ws.directory_id)
            grant = admin_kms.create_grant(
                key_id=key_arn, grantee_principal=self.identity.arn,
                operations=list(lc.WORKSPACES_GRANT_OPERATIONS),
                retiring_principal=self.identity.arn,
                constraints={"encryption_context_subset": context},
            )
            if not key_arn.startswith("arn:"):
                key_arn = self._key_arn_of_id(key_arn)
            ws.key_arn = key_arn
            ws.grant_id = grant.grant_id
            ws.grant_token = grant.grant_token
            rt.trace.record(
                "WorkSpaces", "CreateGrant", key_arn, caller=self.caller.arn,
                via="workspaces", grantee=self.identity.arn, grant_id=grant.grant_id,
                operations=list(lc.WORKSPACES_GRANT_OPERATIONS),
                encryption_context_subset=context)
        self._step("after", ws, 1)

    def _step(self, when: str, ws: _Ws, *steps: int, **detail: Any) -> None:
        """Emit ``before-step.<n>`` / ``after-step.<n>`` (simulator.hooks) where fault plans
        attach; steps 2-4 and 8 are one EBS call (CreateVolume), 5-7 another (AttachVolume).
        ``key_id`` is the key in play (an ARN once step 1 resolved it), so a fault at step 1
        can act on it before the WorkSpace is listed."""
        key_id = ws.key_arn or ws.volume_encryption_key
        for n in steps:
            self._rt.hooks.emit(f"{when}-step.{n}", workspace_id=ws.workspace_id, key_id=key_id,
                                **detail)

    def _key_arn_of_id(self, key_id: str) -> str:
        rt = self._rt
        return f"arn:aws:kms:{rt.region}:{rt.account_id}:key/{key_id}"

    def _launch_job(self, ws: _Ws) -> Job:
        return Job(self._rt, ws.workspace_id, "launch", _LAUNCH_STAGES,
                   on_done=WorkSpacesService._launched,
                   on_error=WorkSpacesService._launch_failed, args=(self, ws))

    # ================================================================ stages
    # A stage function takes (service, WorkSpace), plus fixed keyword parameters bound once in
    # the stage tuples at the end of this module: every WorkSpace's job shares those stages.

    def _grant_step(self, ws: _Ws) -> float | None:
        if ws.grant_id is None and ws.encrypted:
            self._grant(ws)
        return None

    def _provisioning_step(self, ws: _Ws) -> float | None:
        settings = self._rt.settings
        return (settings.encrypted_root_provisioning_seconds if ws.root_encrypted
                else settings.provisioning_seconds)

    def _wait_step(self, ws: _Ws, *, setting: str) -> float | None:
        """Wait ``settings.<setting>`` seconds."""
        seconds: float = getattr(self._rt.settings, setting)
        return seconds

    def _context(self, ws: _Ws) -> dict[str, str]:
        return lc.sid_directory_context(ws.sid, ws.directory_id)

    def _create_volume(self, ws: _Ws, kind: str, replacement: bool,
                       snapshot_id: str | None) -> None:
        """Ask EBS for the volume (steps 2-4 and 8 when encrypted), unless it exists."""
        slot = ws.replacements if replacement else ws.volumes
        if kind in slot:
            return
        encrypted = ws.root_encrypted if kind == "root" else ws.user_encrypted
        size = (ws.properties.root_volume_size_gib if kind == "root"
                else ws.properties.user_volume_size_gib)
        if encrypted and ws.grant_id is None:  # step 1 must come first
            self._grant(ws)
        request: dict[str, Any] = {"size": size, "encrypted": encrypted,
                                   "availability_zone": self._availability_zone()}
        if encrypted:
            request.update(kms_key_id=ws.key_arn, encryption_context=self._context(ws),
                           grant_tokens=[ws.grant_token] if ws.grant_token else None)
        if snapshot_id is not None:
            request["snapshot_id"] = snapshot_id
        if encrypted:
            self._step("before", ws, 2, 3, 4, 8, volume=kind)
        volume = self._ebs_ws.create_volume(**request)
        slot[kind] = _Volume(kind, volume.volume_id, encrypted)
        if encrypted:
            self._step("after", ws, 2, 3, 4, 8, volume=kind)

    def _create_step(self, ws: _Ws, *, kind: str, replacement: bool = False,
                     snapshot_id: str | None = None) -> float | None:
        self._create_volume(ws, kind, replacement, snapshot_id)
        return None

    def _ready_step(self, ws: _Ws, *, kind: str, replacement: bool = False,
                    snapshot_id: str | None = None) -> float | None:
        """Wait until EBS has made the volume. EBS checks the key asynchronously: a volume in
        ``error`` carries the KMS error in its state reason; it is deleted and the error raised
        (so a retryable one makes the job retry, and the retry creates the volume again)."""
        slot = ws.replacements if replacement else ws.volumes
        if kind not in slot:
            self._create_volume(ws, kind, replacement, snapshot_id)
            raise NotReady(self._rt.settings.volume_create_seconds)
        volume = slot[kind]
        described = self._ebs_ws.describe_volumes(volume_ids=[volume.volume_id]).volumes[0]
        if described.state == "creating":
            raise NotReady(_POLL_SECONDS)
        if described.state == "error":
            del slot[kind]
            try:
                self._delete_volume(volume)
            except (AwsError, NotReady):
                ws.orphans += (volume,)
            raise _volume_error(volume.volume_id, described.state_reason)
        return None

    def _attach_step(self, ws: _Ws, *, kind: str, replacement: bool = False) -> float | None:
        slot = ws.replacements if replacement else ws.volumes
        volume = slot.get(kind)
        if volume is None:  # a launch that failed before this volume was made
            raise IncorrectState(f"The WorkSpace {ws.workspace_id} has no {kind} volume.")
        if volume.attached:
            return None
        current = self._volume_state(volume.volume_id)
        if current in ("creating", "detaching", "attaching"):
            raise NotReady(_POLL_SECONDS)
        if volume.encrypted:
            self._step("before", ws, 5, 6, 7, volume=kind)
        self._ebs_ws.attach_volume(volume_id=volume.volume_id, instance_id=ws.instance_id,
                                   device=_DEVICES[kind])
        volume.attached = True
        if volume.encrypted:
            self._step("after", ws, 5, 6, 7, volume=kind)
        return None

    def _detach_step(self, ws: _Ws, *, kind: str) -> float | None:
        volume = ws.volumes.get(kind)
        if volume is not None:
            self._detach(volume)
        return None

    def _detach(self, volume: _Volume) -> None:
        """Detach if EBS still has it attached: a host failure may already have dropped it."""
        if volume.attached and self._volume_state(volume.volume_id) == "in-use":
            self._ebs_ws.detach_volume(volume_id=volume.volume_id)
        volume.attached = False

    def _image_step(self, ws: _Ws) -> float | None:
        """The root volume gets the bundle image: a marker written at its start, so a rebuild
        visibly restores it."""
        root = ws.volumes.get("root")
        if ws.image_pending and root is not None and root.attached:
            device = self._ebs_ws.block_device(root.volume_id)
            device.write(0, _image_marker(ws.image_id))
            ws.image_pending = False
        return None

    def _volume_state(self, volume_id: str) -> str:
        result = self._ebs_ws.describe_volumes(volume_ids=[volume_id])
        return str(result.volumes[0].state)

    def _delete_volume(self, volume: _Volume) -> None:
        """Detach (if attached) and delete; NotReady while EBS is still creating it."""
        try:
            if not volume.attached:
                state = self._ebs_ws.describe_volumes(volume_ids=[volume.volume_id]).volumes[0]
                if state.state == "creating":
                    raise NotReady(_POLL_SECONDS)
                if state.state in ("deleting", "deleted"):
                    return
            self._detach(volume)
            self._ebs_ws.delete_volume(volume_id=volume.volume_id)
        except InvalidVolumeNotFound:
            pass  # already gone: what we wanted

    def _availability_zone(self) -> str:
        return _zone(self._rt.region)

    # ================================================================ state changes

    def _set_state(self, ws: _Ws, new_state: str, reason: str) -> None:
        old = ws.state
        ws.state = new_state
        ws.state_since = self._rt.clock.now()
        self._rt.trace.record("WorkSpaces", "StateChange", ws.workspace_id,
                              workspace_id=ws.workspace_id, old_state=old, new_state=new_state,
                              reason=reason)

    def _available(self, ws: _Ws, reason: str) -> None:
        rt = self._rt
        ws.error_code = None
        ws.error_message = None
        if ws.ip_address is None:
            ws.ip_address = rt.ids.private_ip()
        if ws.computer_name is None:
            ws.computer_name = "WSAMZN-" + rt.entropy.choice_string(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8)
        ws.job = None
        self._set_state(ws, lc.AVAILABLE, reason)
        if ws.snapshot_call is None:
            self._schedule_snapshot(ws, rt.settings.snapshot_interval_hours * 3600)

    def _fail(self, ws: _Ws, new_state: str, operation: str, err: AwsError,
              stage: Stage) -> None:
        ws.error_code = err.code
        ws.error_message = f"{operation} failed while {stage.label}: {err.code}: {err.message}"
        ws.job = None
        self._set_state(ws, new_state, ws.error_message)

    def _launched(self, ws: _Ws) -> None:
        self._available(ws, "launched")

    def _launch_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.ERROR, "Launch", err, stage)

    # ================================================================ reboot

    def reboot_workspaces(
        self, *, reboot_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Reboot: detach (EBS drops the plaintext keys) and attach again (steps 5-7)."""
        ids = parse_change_ids("RebootWorkspaces", reboot_workspace_requests,
                               "reboot_workspace_requests", workspace_ids)
        return self._batch("workspaces:RebootWorkspaces", ids, self._reboot_one)

    def _reboot_one(self, ws: _Ws) -> None:
        now = self._rt.clock.now()
        stuck = (ws.state == lc.REBOOTING
                 and (now - ws.state_since).total_seconds() > lc.STUCK_REBOOT_SECONDS)
        if ws.state not in lc.REBOOT_FROM and not stuck:
            raise _wrong_state(ws, "rebooted", lc.REBOOT_FROM)
        self._cancel_job(ws)
        self._set_state(ws, lc.REBOOTING, "RebootWorkspaces")
        self._run_job(ws, "reboot", _REBOOT_STAGES,
                      WorkSpacesService._rebooted, WorkSpacesService._reboot_failed)

    def _rebooted(self, ws: _Ws) -> None:
        self._available(ws, "rebooted")

    def _reboot_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.UNHEALTHY, "Reboot", err, stage)

    # ================================================================ rebuild

    def rebuild_workspaces(
        self, *, rebuild_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Rebuild exactly one WorkSpace: root volume from the bundle image, user volume from
        the latest snapshot (data written since is lost), new private IP."""
        ids = parse_change_ids("RebuildWorkspaces", rebuild_workspace_requests,
                               "rebuild_workspace_requests", workspace_ids, max_items=1)
        return self._batch("workspaces:RebuildWorkspaces", ids, self._rebuild_one)

    def _rebuild_one(self, ws: _Ws) -> None:
        if ws.state not in lc.REBUILD_FROM:
            raise _wrong_state(ws, "rebuilt", lc.REBUILD_FROM)
        snapshot = self._latest_snapshot(ws)
        if snapshot is None:
            raise _ItemFailure(
                lc.CODE_INVALID_STATE,
                f"The WorkSpace {ws.workspace_id} has no user volume snapshot yet, so it cannot "
                "be rebuilt: WorkSpaces snapshots the user volume every "
                f"{self._rt.settings.snapshot_interval_hours:g} hours.")
        self._cancel_job(ws)
        self._set_state(ws, lc.REBUILDING, "RebuildWorkspaces")

        self._run_job(ws, "rebuild", (
            _DETACH_ROOT,
            _DETACH_USER,
            _create_stage("root", replacement=True),
            _create_stage("user", replacement=True, snapshot_id=snapshot),
            _wait_stage("rebuilding", "rebuild_seconds"),
            _ready_stage("root", replacement=True),
            _ready_stage("user", replacement=True, snapshot_id=snapshot),
            _attach_stage("root", replacement=True),
            _attach_stage("user", replacement=True),
            Stage("swapping in the new volumes", WorkSpacesService._promote_step),
            _IMAGE,
            Stage("deleting the old volumes", WorkSpacesService._delete_orphans_step,
                  best_effort=True),
        ), WorkSpacesService._rebuilt, WorkSpacesService._rebuild_failed)

    def _promote_step(self, ws: _Ws) -> float | None:
        retired = tuple(ws.volumes[k] for k in ("root", "user") if k in ws.volumes)
        ws.volumes = dict(ws.replacements)
        ws.replacements = {}
        ws.orphans += retired
        ws.image_pending = True
        ws.ip_address = self._rt.ids.private_ip()  # the ENI is recreated
        return None

    def _delete_orphans_step(self, ws: _Ws) -> float | None:
        while ws.orphans:
            self._delete_volume(ws.orphans[0])
            ws.orphans = ws.orphans[1:]
        return None

    def _rebuilt(self, ws: _Ws) -> None:
        self._available(ws, "rebuilt")
        # A fresh snapshot soon after a rebuild (WAG), then every interval.
        self._reschedule_snapshot(ws, lc.SNAPSHOT_AFTER_REBUILD_SECONDS)

    def _rebuild_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        # The old volumes stay the WorkSpace's; the half-made new ones go.
        for volume in list(ws.replacements.values()):
            try:
                self._delete_volume(volume)
            except (AwsError, NotReady):
                ws.orphans += (volume,)  # terminate deletes it
        ws.replacements = {}
        self._fail(ws, lc.UNHEALTHY, "Rebuild", err, stage)

    # ================================================================ stop / start

    def stop_workspaces(
        self, *, stop_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Stop AUTO_STOP (or MANUAL) WorkSpaces: the volumes are detached, the keys dropped."""
        ids = parse_change_ids("StopWorkspaces", stop_workspace_requests,
                               "stop_workspace_requests", workspace_ids)
        return self._batch("workspaces:StopWorkspaces", ids, self._stop_one)

    def _stop_one(self, ws: _Ws) -> None:
        self._require_stoppable(ws, "StopWorkspaces")
        if ws.state not in lc.STOP_FROM:
            raise _wrong_state(ws, "stopped", lc.STOP_FROM)
        self._cancel_job(ws)
        self._set_state(ws, lc.STOPPING, "StopWorkspaces")

        self._run_job(ws, "stop", _STOP_STAGES,
                      WorkSpacesService._stopped, WorkSpacesService._stop_failed)

    def _stopped(self, ws: _Ws) -> None:
        ws.job = None
        self._set_state(ws, lc.STOPPED, "stopped")

    def _stop_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.UNHEALTHY, "Stop", err, stage)

    def start_workspaces(
        self, *, start_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Start STOPPED WorkSpaces: the volumes are attached again (steps 5-7)."""
        ids = parse_change_ids("StartWorkspaces", start_workspace_requests,
                               "start_workspace_requests", workspace_ids)
        return self._batch("workspaces:StartWorkspaces", ids, self._start_one)

    def _start_one(self, ws: _Ws) -> None:
        self._require_stoppable(ws, "StartWorkspaces")
        if ws.state not in lc.START_FROM:
            raise _wrong_state(ws, "started", lc.START_FROM)
        self._set_state(ws, lc.STARTING, "StartWorkspaces")
        self._run_job(ws, "start", _START_STAGES,
                      WorkSpacesService._started, WorkSpacesService._start_failed)

    def _started(self, ws: _Ws) -> None:
        self._available(ws, "started")

    def _start_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.UNHEALTHY, "Start", err, stage)

    def _require_stoppable(self, ws: _Ws, operation: str) -> None:
        if ws.properties.running_mode not in ("AUTO_STOP", "MANUAL"):
            raise _ItemFailure(
                CODE_NOT_SUPPORTED,
                f"{operation} needs RunningMode AUTO_STOP or MANUAL; WorkSpace "
                f"{ws.workspace_id} runs {ws.properties.running_mode}.")

    # ================================================================ terminate

    def terminate_workspaces(
        self, *, terminate_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Terminate: volumes detached and deleted, EBS and WorkSpaces grants retired (step 9);
        TERMINATED, then gone from DescribeWorkspaces."""
        ids = parse_change_ids("TerminateWorkspaces", terminate_workspace_requests,
                               "terminate_workspace_requests", workspace_ids)
        return self._batch("workspaces:TerminateWorkspaces", ids, self._terminate_one)

    def _terminate_one(self, ws: _Ws) -> None:
        if ws.state == lc.SUSPENDED:
            raise _wrong_state(ws, "terminated",
                               lc.ALL_STATES - {lc.SUSPENDED, lc.TERMINATING, lc.TERMINATED})
        if ws.state in (lc.TERMINATING, lc.TERMINATED):
            return  # already on its way out: nothing more to do
        self._cancel_job(ws)
        if ws.snapshot_call is not None:
            ws.snapshot_call.cancel()
            ws.snapshot_call = None
        with self._rt.trace.phase("workspaces.terminate"):
            self._set_state(ws, lc.TERMINATING, "TerminateWorkspaces")
        self._step("before", ws, 9)

        self._run_job(ws, "terminate", _TERMINATE_STAGES,
                      WorkSpacesService._terminated, WorkSpacesService._terminate_failed)

    def _in_terminate(self, ws: _Ws, *, step: Callable[..., object]) -> float | None:
        """Run ``step(self, ws)`` inside the step-9 trace phase."""
        with self._rt.trace.phase("workspaces.terminate"):
            step(self, ws)
        return None

    def _delete_volumes_step(self, ws: _Ws) -> float | None:
        for slot in (ws.replacements, ws.volumes):
            for kind in ("root", "user"):
                volume = slot.get(kind)
                if volume is not None:
                    self._delete_volume(volume)
                    del slot[kind]
        return self._delete_orphans_step(ws)

    def _delete_snapshots_step(self, ws: _Ws) -> float | None:
        while ws.snapshots:
            self._delete_snapshot(ws.snapshots[0][0])
            ws.snapshots = ws.snapshots[1:]
        return None

    def _retire_grant_step(self, ws: _Ws) -> float | None:
        if ws.grant_id is not None and ws.key_arn is not None:
            self._retire(ws)
        return None

    def _terminated(self, ws: _Ws) -> None:
        ws.job = None
        self._set_state(ws, lc.TERMINATED, "terminated")
        self._step("after", ws, 9)
        if self.state.by_user.get(ws.user_key) == ws.workspace_id:
            del self.state.by_user[ws.user_key]
            if not self.state.by_user:
                self.state.by_user = {}
        self._rt.clock.schedule(self._rt.settings.terminated_visible_seconds,
                                f"workspaces.forget:{ws.workspace_id}",
                                _Later(WorkSpacesService._forget, self, ws))

    def _terminate_failed(self, ws: _Ws, err: AwsError, stage: Stage) -> None:
        self._terminated(ws)

    def _retire(self, ws: _Ws) -> None:
        """Step 9: WorkSpaces retires its own grant (it is the retiring principal)."""
        rt = self._rt
        try:
            self._kms_ws.retire_grant(key_id=ws.key_arn, grant_id=ws.grant_id)
            outcome = "ok"
        except (NotFoundException, InvalidGrantIdException) as gone:
            outcome = gone.code  # revoked (or the key deleted) already: nothing left to retire
        rt.trace.record("WorkSpaces", "RetireGrant", ws.key_arn or "-", outcome=outcome,
                        grant_id=ws.grant_id, retiring_principal=self.identity.arn)
        ws.grant_id = None
        ws.grant_token = None

    def _forget(self, ws: _Ws) -> None:
        state = self.state
        if state.workspaces.get(ws.workspace_id) is not ws:
            return
        del state.workspaces[ws.workspace_id]
        if not state.workspaces:  # CPython never shrinks a dict: let an emptied one go
            state.workspaces = {}
        for index, key in ((state.by_directory, ws.directory_id), (state.by_bundle, ws.bundle_id)):
            members = index.get(key)
            if members is not None:
                members.pop(ws.workspace_id, None)
                if not members:
                    del index[key]

    # ================================================================ batches

    def _batch(self, action: str, ids: list[str],
               one: Callable[[_Ws], None]) -> ChangeWorkspacesResult:
        for workspace_id in dict.fromkeys(ids):
            self._require(action, self._workspace_arn(workspace_id))
        failed: list[FailedWorkspaceChangeRequest] = []
        for workspace_id in ids:
            ws = self.state.workspaces.get(workspace_id)
            try:
                if ws is None:
                    raise _ItemFailure(CODE_WORKSPACE_NOT_FOUND,
                                       f"The WorkSpace {workspace_id} could not be found.")
                with self._rt.trace.scope(workspace_id=workspace_id, steps=lc.STEP_OF_PHASE):
                    one(ws)
            except _ItemFailure as refusal:
                failed.append(FailedWorkspaceChangeRequest(workspace_id, refusal.code,
                                                           refusal.message))
        return ChangeWorkspacesResult(tuple(failed))

    def _cancel_job(self, ws: _Ws) -> None:
        if ws.job is not None:
            ws.job.cancel()
            ws.job = None

    # ================================================================ snapshots

    def _schedule_snapshot(self, ws: _Ws, delay_seconds: float) -> None:
        ws.snapshot_call = self._rt.clock.schedule_background(
            delay_seconds, f"workspaces.snapshot:{ws.workspace_id}",
            _Later(WorkSpacesService._snapshot_tick, self, ws))

    def _reschedule_snapshot(self, ws: _Ws, delay_seconds: float) -> None:
        if ws.snapshot_call is not None:
            ws.snapshot_call.cancel()
        self._schedule_snapshot(ws, delay_seconds)

    def _snapshot_tick(self, ws: _Ws) -> None:
        ws.snapshot_call = None
        if ws.state in (lc.TERMINATING, lc.TERMINATED):
            return
        self._schedule_snapshot(ws, self._rt.settings.snapshot_interval_hours * 3600)
        user = ws.volumes.get("user")
        if ws.state not in lc.SNAPSHOT_STATES or user is None:
            return
        with self._rt.trace.scope(workspace_id=ws.workspace_id, steps=lc.STEP_OF_PHASE):
            try:
                snapshot = self._ebs_ws.create_snapshot(
                    volume_id=user.volume_id,
                    description=f"WorkSpaces user volume snapshot of {ws.workspace_id}")
            except AwsError as err:
                # A missed snapshot is not fatal; the next one is 12 hours away.
                self._rt.trace.record("WorkSpaces", "SnapshotFailed", user.volume_id,
                                      outcome=err.code, error=err.message)
                return
            ws.snapshots += ((snapshot.snapshot_id, self._rt.clock.now()),)
            self._prune_snapshots(ws)

    def _snapshot_states(self, snapshot_ids: list[str]) -> dict[str, str]:
        """The state of each snapshot still there (one may have been deleted through EBS)."""
        states: dict[str, str] = {}
        for snapshot_id in snapshot_ids:
            try:
                found = self._ebs_ws.describe_snapshots(snapshot_ids=[snapshot_id]).snapshots
            except InvalidSnapshotNotFound:
                continue
            states[snapshot_id] = str(found[0].state)
        return states

    def _latest_snapshot(self, ws: _Ws) -> str | None:
        """The newest completed user-volume snapshot."""
        states = self._snapshot_states([s for s, _ in ws.snapshots])
        for snapshot_id, _ in reversed(ws.snapshots):
            if states.get(snapshot_id) == "completed":
                return snapshot_id
        return None

    def _prune_snapshots(self, ws: _Ws) -> None:
        """Keep the newest completed snapshot and anything newer; delete the rest."""
        latest = self._latest_snapshot(ws)
        if latest is None:
            return
        while ws.snapshots and ws.snapshots[0][0] != latest:
            try:
                self._delete_snapshot(ws.snapshots[0][0])
            except AwsError:
                return  # try again at the next snapshot
            ws.snapshots = ws.snapshots[1:]

    def _delete_snapshot(self, snapshot_id: str) -> None:
        with contextlib.suppress(InvalidSnapshotNotFound):  # already gone: what we wanted
            self._ebs_ws.delete_snapshot(snapshot_id=snapshot_id)

    def describe_workspace_snapshots(self, *, workspace_id: str) -> DescribeWorkspaceSnapshotsResult:
        """When the snapshots a rebuild can use were taken (newest first)."""
        ws = self._get(workspace_id, "workspaces:DescribeWorkspaceSnapshots")
        states = self._snapshot_states([s for s, _ in ws.snapshots])
        return DescribeWorkspaceSnapshotsResult(tuple(
            Snapshot(taken) for snapshot_id, taken in reversed(ws.snapshots)
            if states.get(snapshot_id) == "completed"))

    # ================================================================ describe

    def describe_workspaces(
        self, *, workspace_ids: Sequence[str] | None = None, directory_id: str | None = None,
        user_name: str | None = None, bundle_id: str | None = None, limit: int | None = None,
        next_token: str | None = None,
    ) -> DescribeWorkspacesResult:
        """WorkSpaces by ids, by directory (and user), by bundle, or all; 25 per page."""
        self._require("workspaces:DescribeWorkspaces", "*")
        filters = [f for f in (workspace_ids, directory_id, bundle_id) if f is not None]
        if len(filters) > 1:
            raise InvalidParameterValuesException(
                "Use only one of workspace_ids, directory_id (optionally with user_name) or "
                "bundle_id.")
        if user_name is not None and directory_id is None:
            raise InvalidParameterValuesException("user_name requires directory_id.")
        page_size = MAX_BATCH
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise ValidationException("limit must be an integer.")
            if not 1 <= limit <= MAX_BATCH:
                raise InvalidParameterValuesException(
                    f"limit must be between 1 and {MAX_BATCH}; {limit} was given.")
            page_size = limit
        start = 0
        if next_token is not None:
            if not isinstance(next_token, str) or not _NEXT_TOKEN.fullmatch(next_token):
                raise InvalidParameterValuesException(f"Invalid next_token: {next_token!r}.")
            start = int(next_token)
        state = self.state
        candidates: list[_Ws]
        if workspace_ids is not None:
            ids = [check_workspace_id(w, f"workspace_ids[{i}]")
                   for i, w in enumerate(check_batch(workspace_ids, "workspace_ids"))]
            candidates = [ws for ws in (state.workspaces.get(w) for w in dict.fromkeys(ids))
                          if ws is not None]
        elif directory_id is not None:
            if not isinstance(directory_id, str):
                raise ValidationException("directory_id must be a string.")
            if user_name is not None:
                if not isinstance(user_name, str):
                    raise ValidationException("user_name must be a string.")
                found = state.by_user.get((directory_id, user_name.lower()))
                candidates = [state.workspaces[found]] if found is not None else []
            else:
                candidates = [state.workspaces[w] for w in state.by_directory.get(directory_id, ())]
        elif bundle_id is not None:
            if not isinstance(bundle_id, str):
                raise ValidationException("bundle_id must be a string.")
            candidates = [state.workspaces[w] for w in state.by_bundle.get(bundle_id, ())]
        else:
            candidates = list(state.workspaces.values())
        # Pages are cut by creation sequence, so a WorkSpace created or removed between two
        # calls does not shift the others.
        chosen = list(islice((ws for ws in candidates if ws.seq > start), page_size + 1))
        more = len(chosen) > page_size
        page = chosen[:page_size]
        token = str(page[-1].seq) if more and page else None
        return DescribeWorkspacesResult(tuple(self._view(ws) for ws in page), token)

    def volumes(self, workspace_id: str) -> WorkspaceVolumes:
        """The EBS volumes behind a WorkSpace (simulator introspection, not an AWS API)."""
        if not isinstance(workspace_id, str):
            raise ValidationException("workspace_id must be a string.")
        ws = self.state.workspaces.get(workspace_id)
        if ws is None:
            raise ResourceNotFoundException(f"The WorkSpace {workspace_id} could not be found.",
                                            resource_id=workspace_id)
        root = ws.volumes.get("root")
        user = ws.volumes.get("user")
        return WorkspaceVolumes(ws.workspace_id, root.volume_id if root else None,
                                user.volume_id if user else None, ws.key_arn)

    def describe_tags(self, *, resource_id: str) -> DescribeTagsResult:
        """The tags a WorkSpace was created with."""
        ws = self._get(resource_id, "workspaces:DescribeTags")
        return DescribeTagsResult(ws.tags)

    def _view(self, ws: _Ws) -> Workspace:
        return Workspace(
            workspace_id=ws.workspace_id, directory_id=ws.directory_id, user_name=ws.user_name,
            state=ws.state, bundle_id=ws.bundle_id, subnet_id=ws.subnet_id,
            ip_address=ws.ip_address, computer_name=ws.computer_name,
            error_code=ws.error_code, error_message=ws.error_message,
            volume_encryption_key=ws.volume_encryption_key,
            root_volume_encryption_enabled=ws.root_encrypted,
            user_volume_encryption_enabled=ws.user_encrypted,
            workspace_properties=ws.properties,
        )

    # ================================================================ modify

    def modify_workspace_properties(
        self, *, workspace_id: str, workspace_properties: Mapping[str, Any],
    ) -> None:
        """Change running mode, auto-stop timeout or compute type.

        Encryption is chosen at launch only (seed, restrictions): asking to encrypt an existing
        WorkSpace, to turn encryption off, or to change its key is refused with
        OperationNotSupportedException. Volume resizing is not simulated (also refused).
        """
        check_workspace_id(workspace_id, "workspace_id")
        changes = parse_properties(workspace_properties, "workspace_properties",
                                   allow_encryption=True)
        ws = self._get(workspace_id, "workspaces:ModifyWorkspaceProperties")
        for name in ENCRYPTION_FIELDS & set(changes):
            self._refuse_encryption_change(ws, name, changes[name])
        current = ws.properties
        for name, gib in (("root_volume_size_gib", current.root_volume_size_gib),
                          ("user_volume_size_gib", current.user_volume_size_gib)):
            if name in changes and changes[name] != gib:
                raise OperationNotSupportedException(
                    f"Changing {name} is not supported by the simulator (EBS volumes are not "
                    "resized); launch a new WorkSpace with the size you need.")
        mode = changes.get("running_mode", current.running_mode)
        timeout = changes.get("running_mode_auto_stop_timeout_in_minutes",
                              current.running_mode_auto_stop_timeout_in_minutes
                              if mode == current.running_mode else None)
        try:
            timeout = _auto_stop_timeout(mode, timeout)
        except _ItemFailure as bad:
            raise InvalidParameterValuesException(bad.message) from None
        if ws.state not in (lc.AVAILABLE, lc.STOPPED):
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is {ws.state}; its properties can be modified "
                "only when it is AVAILABLE or STOPPED.", resource_id=workspace_id)
        if mode == "ALWAYS_ON" and ws.state == lc.STOPPED:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is STOPPED; start it before switching to "
                "ALWAYS_ON.", resource_id=workspace_id)
        ws.properties = self.state.shared_properties(WorkspaceProperties(
            running_mode=mode, running_mode_auto_stop_timeout_in_minutes=timeout,
            root_volume_size_gib=current.root_volume_size_gib,
            user_volume_size_gib=current.user_volume_size_gib,
            compute_type_name=changes.get("compute_type_name", current.compute_type_name),
        ))
        self._rt.trace.record("WorkSpaces", "ModifyWorkspaceProperties", workspace_id,
                              workspace_id=workspace_id, caller=self.caller.arn,
                              running_mode=mode, compute_type_name=ws.properties.compute_type_name)

    def _refuse_encryption_change(self, ws: _Ws, name: str, value: object) -> None:
        if name == "volume_encryption_key":
            if value != ws.volume_encryption_key and value != ws.key_arn:
                raise OperationNotSupportedException(
                    f"The volume encryption key of WorkSpace {ws.workspace_id} cannot be "
                    "changed. To use another KMS key, launch a new WorkSpace encrypted with it "
                    "(and keep the original key enabled until the old WorkSpace is gone).",
                    reason="ENCRYPTION_KEY_IMMUTABLE")
            return
        enabled = ws.root_encrypted if name.startswith("root") else ws.user_encrypted
        volume = "root" if name.startswith("root") else "user"
        if value and not enabled:
            raise OperationNotSupportedException(
                f"An existing WorkSpace cannot be encrypted: the {volume} volume of "
                f"{ws.workspace_id} was launched unencrypted, and encryption can only be chosen "
                "when a WorkSpace is launched. Launch a new WorkSpace with encryption enabled.",
                reason="ENCRYPTION_AT_LAUNCH_ONLY")
        if not value and enabled:
            raise OperationNotSupportedException(
                f"Encryption cannot be turned off: the {volume} volume of {ws.workspace_id} is "
                "encrypted, and disabling encryption of an encrypted WorkSpace is not supported.",
                reason="ENCRYPTION_CANNOT_BE_DISABLED")

    # ================================================================ images

    def create_workspace_image(
        self, *, name: str, description: str, workspace_id: str,
        tags: Any = None,
    ) -> WorkspaceImage:
        """Make a custom image from an unencrypted WorkSpace (SUSPENDED while it builds).

        Not supported for encrypted WorkSpaces (seed, restrictions).
        """
        if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
            raise ValidationException(
                "name must be 1 to 64 letters, digits or _ . / ( ) \\ - characters.")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise ValidationException("description must be 1 to 256 characters long.")
        check_workspace_id(workspace_id, "workspace_id")
        if tags is not None:
            parse_tags(tags, "tags")
        ws = self._get(workspace_id, "workspaces:CreateWorkspaceImage")
        if ws.encrypted:
            raise OperationNotSupportedException(
                f"Creating a custom image from an encrypted WorkSpace is not supported: "
                f"{workspace_id} has encrypted volumes.", reason="ENCRYPTED_WORKSPACE")
        if ws.state != lc.AVAILABLE:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is {ws.state}; an image can be created only from "
                "an AVAILABLE WorkSpace.", resource_id=workspace_id)
        root = ws.volumes.get("root")
        if root is None:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} has no root volume.", resource_id=workspace_id)
        rt = self._rt
        with rt.trace.scope(workspace_id=workspace_id, steps=lc.STEP_OF_PHASE):
            snapshot = self._ebs_ws.create_snapshot(
                volume_id=root.volume_id, description=f"WorkSpaces image {name}")
        image_id = rt.ids.image_id()
        image = WorkspaceImage(image_id=image_id, name=name, description=description,
                               state="PENDING", owner_account_id=rt.account_id,
                               created=rt.clock.now(), source_workspace_id=workspace_id)
        self.state.images[image_id] = image
        self.state.image_snapshots[image_id] = snapshot.snapshot_id
        self._cancel_job(ws)
        self._set_state(ws, lc.SUSPENDED, "CreateWorkspaceImage")

        def built() -> None:
            if image_id in self.state.images:
                self.state.images[image_id] = WorkspaceImage(
                    image_id=image_id, name=name, description=description, state="AVAILABLE",
                    owner_account_id=rt.account_id, created=image.created,
                    source_workspace_id=workspace_id)
            if ws.state == lc.SUSPENDED:
                self._set_state(ws, lc.AVAILABLE, "image created")

        rt.clock.schedule(lc.IMAGE_CREATION_SECONDS, f"workspaces.image:{image_id}", built)
        return image

    def describe_workspace_images(
        self, *, image_ids: Sequence[str] | None = None,
    ) -> DescribeWorkspaceImagesResult:
        """The account's custom images (all, or those named)."""
        self._require("workspaces:DescribeWorkspaceImages", "*")
        if image_ids is None:
            return DescribeWorkspaceImagesResult(tuple(self.state.images.values()))
        if isinstance(image_ids, str) or not isinstance(image_ids, Sequence):
            raise ValidationException("image_ids must be a list of image ids.")
        return DescribeWorkspaceImagesResult(tuple(
            self.state.images[i] for i in image_ids
            if isinstance(i, str) and i in self.state.images))

    def delete_workspace_image(self, *, image_id: str) -> None:
        """Delete a custom image and the snapshot behind it."""
        if not isinstance(image_id, str):
            raise ValidationException("image_id must be a string.")
        self._require("workspaces:DeleteWorkspaceImage", self._image_arn(image_id))
        if image_id not in self.state.images:
            raise ResourceNotFoundException(f"The image {image_id} could not be found.",
                                            resource_id=image_id)
        snapshot_id = self.state.image_snapshots.pop(image_id, None)
        del self.state.images[image_id]
        if snapshot_id is not None:
            self._delete_snapshot(snapshot_id)

    # ================================================================ helpers

    def _run_job(self, ws: _Ws, name: str, stages: Sequence[Stage],
                 on_done: Callable[..., None], on_error: Callable[..., None]) -> None:
        """Start ``name``'s stages for ``ws`` now (``on_done(self, ws)`` or ``on_error(self, ws,
        error, stage)`` when they end); it is the WorkSpace's job from here on."""
        ws.job = Job(self._rt, ws.workspace_id, name, stages, on_done=on_done, on_error=on_error,
                     args=(self, ws))
        ws.job.start(0.0)

    def _require(self, action: str, resource: str) -> None:
        denied = self._authorize(self.caller, action, resource)
        if denied is not None:
            raise AccessDeniedException(denied)

    def _get(self, workspace_id: str, action: str) -> _Ws:
        check_workspace_id(workspace_id, "workspace_id")
        self._require(action, self._workspace_arn(workspace_id))
        ws = self.state.workspaces.get(workspace_id)
        if ws is None:
            raise ResourceNotFoundException(f"The WorkSpace {workspace_id} could not be found.",
                                            resource_id=workspace_id)
        return ws

    def _arn(self, resource: str) -> str:
        rt = self._rt
        return f"arn:aws:workspaces:{rt.region}:{rt.account_id}:{resource}"

    def _workspace_arn(self, workspace_id: str) -> str:
        return self._arn(f"workspace/{workspace_id}")

    def _directory_arn(self, directory_id: str) -> str:
        return self._arn(f"directoryid/{directory_id}")

    def _bundle_arn(self, bundle_id: str) -> str:
        owner = self.state.bundles.get(bundle_id)
        if owner is not None and owner.owner == "AMAZON":  # Amazon's bundles have no account
            return f"arn:aws:workspaces:{self._rt.region}::workspacebundle/{bundle_id}"
        return self._arn(f"workspacebundle/{bundle_id}")

    def _image_arn(self, image_id: str) -> str:
        return self._arn(f"workspaceimage/{image_id}")


# ==================================================================== stages and callbacks


class _Later:
    """``fn(service, ws)`` as a clock callback: one small object, where a lambda over the two
    is a function, its closure tuple and two cells (a fleet holds one per WorkSpace)."""

    __slots__ = ("fn", "service", "ws")

    def __init__(self, fn: Callable[[WorkSpacesService, _Ws], None], service: WorkSpacesService,
                 ws: _Ws) -> None:
        self.fn = fn
        self.service = service
        self.ws = ws

    def __call__(self) -> None:
        self.fn(self.service, self.ws)


def _stage(label: str, run: Callable[..., float | None], /, *, best_effort: bool = False,
           **params: Any) -> Stage:
    """A stage calling ``run(service, ws, **params)``."""
    return Stage(label, partial(run, **params) if params else run, best_effort)


def _create_stage(kind: str, *, replacement: bool = False,
                  snapshot_id: str | None = None) -> Stage:
    label = f"creating the {kind} volume" + (" from the latest snapshot" if snapshot_id else "")
    return _stage(label, WorkSpacesService._create_step, kind=kind, replacement=replacement,
                  snapshot_id=snapshot_id)


def _ready_stage(kind: str, *, replacement: bool = False, snapshot_id: str | None = None) -> Stage:
    return _stage(f"waiting for the {kind} volume", WorkSpacesService._ready_step, kind=kind,
                  replacement=replacement, snapshot_id=snapshot_id)


def _attach_stage(kind: str, *, replacement: bool = False) -> Stage:
    return _stage(f"attaching the {kind} volume", WorkSpacesService._attach_step, kind=kind,
                  replacement=replacement)


def _wait_stage(label: str, setting: str) -> Stage:
    return _stage(label, WorkSpacesService._wait_step, setting=setting)


def _terminate_stage(label: str, step: Callable[..., object]) -> Stage:
    return _stage(label, WorkSpacesService._in_terminate, best_effort=True, step=step)


_DETACH_ROOT = _stage("detaching the root volume", WorkSpacesService._detach_step, kind="root")
_DETACH_USER = _stage("detaching the user volume", WorkSpacesService._detach_step, kind="user")
_IMAGE = Stage("writing the bundle image to the root volume", WorkSpacesService._image_step)
_LAUNCH_STAGES = (
    Stage("creating the WorkSpaces grant (step 1)", WorkSpacesService._grant_step),
    _create_stage("root"),
    _create_stage("user"),
    Stage("provisioning", WorkSpacesService._provisioning_step),
    _ready_stage("root"),
    _ready_stage("user"),
    _attach_stage("root"),
    _attach_stage("user"),
    _IMAGE,
)
_REBOOT_STAGES = (
    _DETACH_ROOT,
    _DETACH_USER,
    _wait_stage("rebooting", "reboot_seconds"),
    _attach_stage("root"),
    _attach_stage("user"),
    _IMAGE,
)
_STOP_STAGES = (_DETACH_ROOT, _DETACH_USER, _wait_stage("stopping", "stop_seconds"))
_START_STAGES = (
    _wait_stage("starting", "start_seconds"),
    _attach_stage("root"),
    _attach_stage("user"),
    _IMAGE,
)
_TERMINATE_STAGES = (
    _terminate_stage("detaching the root volume",
                     partial(WorkSpacesService._detach_step, kind="root")),
    _terminate_stage("detaching the user volume",
                     partial(WorkSpacesService._detach_step, kind="user")),
    _terminate_stage("deleting the volumes", WorkSpacesService._delete_volumes_step),
    _terminate_stage("deleting the snapshots", WorkSpacesService._delete_snapshots_step),
    _terminate_stage("retiring the WorkSpaces grant (step 9)",
                     WorkSpacesService._retire_grant_step),
    _wait_stage("terminating", "terminate_seconds"),
)


# ==================================================================== module helpers


@cache
def _zone(region: str) -> str:
    """The Region's first zone, one string for every volume (each record keeps it)."""
    return f"{region}a"


def _is_alias(key: str) -> bool:
    return key.startswith("alias/") or (key.startswith("arn:") and ":alias/" in key)


def _image_marker(image_id: str) -> bytes:
    return f"envelope-sim bundle image {image_id}\n".encode()


def _volume_error(volume_id: str, reason: str | None) -> AwsError:
    """The error behind a volume EBS put in ``error`` (its reason reads ``"<Code>: <text>"``)."""
    code, _, text = (reason or "").partition(": ")
    try:
        cls = error_for_code(code)
    except ValidationException:
        return IncorrectState(f"The volume {volume_id} could not be created: {reason}")
    return cls(text)


def _wrong_state(ws: _Ws, verb: str, allowed: frozenset[str]) -> _ItemFailure:
    return _ItemFailure(
        lc.CODE_INVALID_STATE,
        f"The WorkSpace {ws.workspace_id} is in state {ws.state} and cannot be {verb}; "
        f"allowed states: {', '.join(sorted(allowed))}.")


def _key_failure(err: AwsError) -> tuple[str, str]:
    """The per-item error for a key KMS refused at step 1, naming KMS's error."""
    kms = f"({err.code}: {err.message})" if err.message else f"({err.code})"
    if err.code == "NotFoundException":
        return err.code, KEY_NOT_FOUND_MESSAGE
    if err.code in ("DisabledException", "KMSInvalidStateException", "KeyUnavailableException"):
        return err.code, f"{KEY_NOT_AVAILABLE_MESSAGE} {kms}"
    if err.code == "AccessDeniedException":
        return err.code, ("WorkSpaces could not create a grant for the specified key on your "
                          f"behalf. Please provide a valid key for encryption. {kms}")
    return err.code, ("The specified key cannot be used to encrypt a WorkSpace; Amazon "
                      "WorkSpaces supports only symmetric encryption KMS keys. Please provide a "
                      f"valid key for encryption. {kms}")


def _auto_stop_timeout(mode: str, timeout: int | None) -> int | None:
    if mode == "ALWAYS_ON":
        if timeout is not None:
            raise _ItemFailure(CODE_INVALID_PARAMETER,
                               "running_mode_auto_stop_timeout_in_minutes applies only to "
                               "AUTO_STOP (or MANUAL) WorkSpaces.")
        return None
    if timeout is None:
        return _AUTO_STOP_DEFAULT_MINUTES
    if timeout % 60 or not 60 <= timeout <= _AUTO_STOP_MAX_MINUTES:
        raise _ItemFailure(CODE_INVALID_PARAMETER,
                           "running_mode_auto_stop_timeout_in_minutes must be a multiple of 60 "
                           f"between 60 and {_AUTO_STOP_MAX_MINUTES}; {timeout} was given.")
    return timeout


def _properties(bundle: WorkspaceBundle, given: Mapping[str, Any]) -> WorkspaceProperties:
    """The bundle's defaults with the request's overrides, checked against the bundle."""
    mode = given.get("running_mode", "ALWAYS_ON")
    timeout = _auto_stop_timeout(mode, given.get("running_mode_auto_stop_timeout_in_minutes"))
    sizes = {}
    for name, minimum in (("root_volume_size_gib", bundle.root_volume_size_gib),
                          ("user_volume_size_gib", bundle.user_volume_size_gib)):
        gib = given.get(name, minimum)
        if not minimum <= gib <= _MAX_VOLUME_GIB:
            raise _ItemFailure(CODE_INVALID_PARAMETER,
                               f"{name} must be between the bundle's {minimum} GiB and "
                               f"{_MAX_VOLUME_GIB} GiB; {gib} was given.")
        sizes[name] = gib
    return WorkspaceProperties(
        running_mode=mode, running_mode_auto_stop_timeout_in_minutes=timeout,
        root_volume_size_gib=sizes["root_volume_size_gib"],
        user_volume_size_gib=sizes["user_volume_size_gib"],
        compute_type_name=given.get("compute_type_name", bundle.compute_type.name),
    )
