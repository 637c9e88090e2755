"""CreateWorkspaces and the Describe operations: validation, step 1 and the launch job, and
what DescribeWorkspaces, DescribeWorkspaceBundles, DescribeTags and DescribeWorkspaceSnapshots
show."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from itertools import islice
from typing import Any

from ..errors import (
    AccessDeniedException,
    AwsError,
    InvalidParameterValuesException,
    ResourceNotFoundException,
    ValidationException,
)
from . import lifecycle as lc
from .jobs import Job, Stage
from .models import (
    CreateWorkspacesResult,
    DescribeTagsResult,
    DescribeWorkspaceBundlesResult,
    DescribeWorkspaceSnapshotsResult,
    DescribeWorkspacesResult,
    FailedCreateWorkspaceRequest,
    Snapshot,
    Workspace,
    WorkspaceVolumes,
)
from .properties import bundle_properties
from .records import (
    CODE_BUNDLE_NOT_FOUND,
    CODE_DIRECTORY_NOT_FOUND,
    CODE_INVALID_PARAMETER,
    CODE_USER,
    CODE_WORKSPACE_EXISTS,
    ItemFailure,
    WsRecord,
)
from .requests import MAX_BATCH, CreateRequest, check_batch, check_workspace_id, parse_create_requests
from .volumes import IMAGE, VolumeSteps, attach_stage, create_stage, ready_stage

__all__ = ["KEY_NOT_AVAILABLE_MESSAGE", "KEY_NOT_FOUND_MESSAGE", "CreateDescribeOps"]

#: Our pagination tokens are offsets; 19 digits fit an int64 (AWS tokens are opaque strings).
_NEXT_TOKEN = re.compile(r"[0-9]{1,19}")

KEY_NOT_FOUND_MESSAGE = (
    "The specified key could not be found. Please provide a valid key for encryption.")
KEY_NOT_AVAILABLE_MESSAGE = (
    "The specified key is not available. Please provide a valid key for encryption.")



class CreateDescribeOps(VolumeSteps):
    """CreateWorkspaces (launch) and the read-only Describe operations."""

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
            except ItemFailure as refusal:
                failed.append(FailedCreateWorkspaceRequest(echo, refusal.code, refusal.message))
                continue
            pending.append(self._view(ws))
        return CreateWorkspacesResult(tuple(failed), tuple(pending))

    def _launch(self, request: CreateRequest) -> WsRecord:
        rt = self._rt
        state = self.state
        # 1. Everything that needs no KMS call, in the order AWS would see it.
        for resource in (self._directory_arn(request.directory_id),
                         self._bundle_arn(request.bundle_id)):
            denied = self._authorize(self.caller, "workspaces:CreateWorkspaces", resource)
            if denied is not None:
                raise ItemFailure(AccessDeniedException.code, denied)
        directory = state.directory.directory(request.directory_id)
        if directory is None:
            raise ItemFailure(CODE_DIRECTORY_NOT_FOUND,
                               "The specified directory could not be found in the specified "
                               f"region: {request.directory_id}.")
        user = state.directory.find_user(request.directory_id, request.user_name)
        if user is None:
            raise ItemFailure(CODE_USER, "The user was either not found or is misconfigured: "
                               f"no user '{request.user_name}' in directory "
                               f"{request.directory_id}.")
        bundle = state.bundles.get(request.bundle_id)
        if bundle is None:
            raise ItemFailure(CODE_BUNDLE_NOT_FOUND,
                               f"The specified bundle {request.bundle_id} could not be found.")
        existing = state.by_user.get((request.directory_id, user.user_name.lower()))
        if existing is not None:
            raise ItemFailure(CODE_WORKSPACE_EXISTS,
                               f"The user {user.user_name} already has a WorkSpace ({existing}) "
                               f"in directory {request.directory_id}.")
        properties = state.shared_properties(bundle_properties(bundle, request.properties))
        encrypted = request.root_volume_encryption_enabled or request.user_volume_encryption_enabled
        if encrypted and request.volume_encryption_key is None:
            raise ItemFailure(CODE_INVALID_PARAMETER,
                               "VolumeEncryptionKey is required when RootVolumeEncryptionEnabled "
                               "or UserVolumeEncryptionEnabled is true.")
        # 2. The record (not yet visible) and step 1, which KMS validates.
        workspace_id = rt.ids.workspace_id()
        while workspace_id in state.workspaces:
            workspace_id = rt.ids.workspace_id()
        ws = WsRecord(
            workspace_id=workspace_id, seq=state.seq + 1, directory_id=request.directory_id,
            user_name=user.user_name, sid=user.sid, bundle_id=bundle.bundle_id,
            image_id=bundle.image_id, subnet_id=directory.subnet_ids[0],
            instance_id=rt.ids.instance_id(), properties=properties,
            volume_encryption_key=request.volume_encryption_key,
            root_encrypted=request.root_volume_encryption_enabled,
            user_encrypted=request.user_volume_encryption_enabled, tags=request.tags,
            state=lc.PENDING, state_since=rt.clock.now(), created=rt.clock.now(),
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
                        raise ItemFailure(code, message) from None
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

    def _launch_job(self, ws: WsRecord) -> Job:
        return Job(self._rt, ws.workspace_id, "launch", _LAUNCH_STAGES,
                   on_done=CreateDescribeOps._launched,
                   on_error=CreateDescribeOps._launch_failed, args=(self, ws))


    def _grant_step(self, ws: WsRecord) -> float | None:
        if ws.grant_id is None and ws.encrypted:
            self._grant(ws)
        return None

    def _provisioning_step(self, ws: WsRecord) -> float | None:
        settings = self._rt.settings
        return (settings.encrypted_root_provisioning_seconds if ws.root_encrypted
                else settings.provisioning_seconds)

    def _launched(self, ws: WsRecord) -> None:
        self._available(ws, "launched")

    def _launch_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.ERROR, "Launch", err, stage)

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
        candidates: list[WsRecord]
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
        # CreateWorkspaces is asynchronous: a new id is not described for a short while.
        visible_from = self._rt.clock.now() - timedelta(
            seconds=self._rt.settings.workspace_visible_after_seconds)
        # Pages are cut by creation sequence, so a WorkSpace created or removed between two
        # calls does not shift the others.
        chosen = list(islice((ws for ws in candidates
                              if ws.seq > start and ws.created <= visible_from), page_size + 1))
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

    def _view(self, ws: WsRecord) -> Workspace:
        return Workspace(
            workspace_id=ws.workspace_id, directory_id=ws.directory_id, user_name=ws.user_name,
            state=ws.state, bundle_id=ws.bundle_id, subnet_id=ws.subnet_id,
            ip_address=ws.ip_address, computer_name=ws.computer_name,
            error_code=ws.error_code, error_message=ws.error_message,
            # Reported as the key ARN whichever form the request named (what AWS returns, so
            # tools comparing it with their configuration see no change); the request's own
            # form until step 1 has resolved it.
            volume_encryption_key=ws.key_arn or ws.volume_encryption_key,
            root_volume_encryption_enabled=ws.root_encrypted,
            user_volume_encryption_enabled=ws.user_encrypted,
            workspace_properties=ws.properties,
        )



_LAUNCH_STAGES = (
    Stage("creating the WorkSpaces grant (step 1)", CreateDescribeOps._grant_step),
    create_stage("root"),
    create_stage("user"),
    Stage("provisioning", CreateDescribeOps._provisioning_step),
    ready_stage("root"),
    ready_stage("user"),
    attach_stage("root"),
    attach_stage("user"),
    IMAGE,
)


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


