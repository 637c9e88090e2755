"""The part of WorkSpaces every operation family shares: who calls, state changes, batches,
jobs and the 12-hourly user-volume snapshots (see :mod:`simulator.workspaces.service`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Generic, Self, TypeVar

from ..errors import (
    AccessDeniedException,
    AwsError,
    InvalidGrantIdException,
    InvalidSnapshotNotFound,
    NotFoundException,
    ResourceNotFoundException,
)
from ..iam.principals import Caller, workspaces_identity_arn
from . import lifecycle as lc
from .auth import Authorizer, IamAuthorizer, allow_all
from .collaborators import EbsApi, IamApi, KmsApi
from .jobs import Job, Stage
from .models import ChangeWorkspacesResult, FailedWorkspaceChangeRequest
from .records import CODE_WORKSPACE_NOT_FOUND, ItemFailure, WorkSpacesState, WsRecord
from .requests import check_workspace_id

__all__ = ["Later", "WorkSpacesCore", "wrong_state"]

_S = TypeVar("_S", bound="WorkSpacesCore")


class WorkSpacesCore:
    """Amazon WorkSpaces for one account and Region, as seen by one caller.

    ``kms`` and ``ebs`` are the KMS and EBS service views (any caller: WorkSpaces makes its own
    views for the admin and for the WorkSpaces identity); ``iam`` decides who may call.
    """

    def __init__(
        self, state: WorkSpacesState, kms: KmsApi, ebs: EbsApi, iam: IamApi | None = None,
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
            iam.caller_for(identity_arn) if iam is not None
            else Caller(arn=identity_arn, account_id=runtime.account_id, type="AWSService",
                        principal_id="AWSService:workspaces"))
        # WorkSpaces acts on EBS and retires its grants as its own identity.
        self._ebs_ws = ebs.with_caller(self.identity)
        self._kms_ws = kms.with_caller(self.identity)
        self._kms_admin: KmsApi | None = None  # KMS as the caller through WorkSpaces (lazily)

    def with_caller(self, caller: Caller) -> Self:
        """The same WorkSpaces, called by ``caller``."""
        return type(self)(self.state, self._kms, self._ebs, self._iam, caller,
                          authorizer=self._authorize)

    def _step(self, when: str, ws: WsRecord, *steps: int, **detail: Any) -> None:
        """Emit ``before-step.<n>`` / ``after-step.<n>`` (simulator.hooks) where fault plans
        attach; steps 2-4 and 8 are one EBS call (CreateVolume), 5-7 another (AttachVolume).
        ``key_id`` is the key in play (an ARN once step 1 resolved it), so a fault at step 1
        can act on it before the WorkSpace is listed."""
        key_id = ws.key_arn or ws.volume_encryption_key
        for n in steps:
            self._rt.hooks.emit(f"{when}-step.{n}", workspace_id=ws.workspace_id, key_id=key_id,
                                **detail)

    # ================================================================ state changes

    def _set_state(self, ws: WsRecord, new_state: str, reason: str) -> None:
        old = ws.state
        ws.state = new_state
        ws.state_since = self._rt.clock.now()
        self._rt.trace.record("WorkSpaces", "StateChange", ws.workspace_id,
                              workspace_id=ws.workspace_id, old_state=old, new_state=new_state,
                              reason=reason)

    def _available(self, ws: WsRecord, reason: str) -> None:
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

    def _fail(self, ws: WsRecord, new_state: str, operation: str, err: AwsError,
              stage: Stage) -> None:
        ws.error_code = err.code
        ws.error_message = f"{operation} failed while {stage.label}: {err.code}: {err.message}"
        ws.job = None
        self._set_state(ws, new_state, ws.error_message)

    # ================================================================ batches

    def _batch(self, action: str, ids: list[str],
               one: Callable[[WsRecord], None]) -> ChangeWorkspacesResult:
        for workspace_id in dict.fromkeys(ids):
            self._require(action, self._workspace_arn(workspace_id))
        failed: list[FailedWorkspaceChangeRequest] = []
        for workspace_id in ids:
            ws = self.state.workspaces.get(workspace_id)
            try:
                if ws is None:
                    raise ItemFailure(CODE_WORKSPACE_NOT_FOUND,
                                       f"The WorkSpace {workspace_id} could not be found.")
                with self._rt.trace.scope(workspace_id=workspace_id, steps=lc.STEP_OF_PHASE):
                    one(ws)
            except ItemFailure as refusal:
                failed.append(FailedWorkspaceChangeRequest(workspace_id, refusal.code,
                                                           refusal.message))
        return ChangeWorkspacesResult(tuple(failed))

    def _cancel_job(self, ws: WsRecord) -> None:
        if ws.job is not None:
            ws.job.cancel()
            ws.job = None

    # ================================================================ snapshots

    def _schedule_snapshot(self, ws: WsRecord, delay_seconds: float) -> None:
        ws.snapshot_call = self._rt.clock.schedule_background(
            delay_seconds, f"workspaces.snapshot:{ws.workspace_id}",
            Later(WorkSpacesCore._snapshot_tick, self, ws))

    def _reschedule_snapshot(self, ws: WsRecord, delay_seconds: float) -> None:
        if ws.snapshot_call is not None:
            ws.snapshot_call.cancel()
        self._schedule_snapshot(ws, delay_seconds)

    def _snapshot_tick(self, ws: WsRecord) -> None:
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

    def _latest_snapshot(self, ws: WsRecord) -> str | None:
        """The newest completed user-volume snapshot."""
        states = self._snapshot_states([s for s, _ in ws.snapshots])
        for snapshot_id, _ in reversed(ws.snapshots):
            if states.get(snapshot_id) == "completed":
                return snapshot_id
        return None

    def _prune_snapshots(self, ws: WsRecord) -> None:
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

    # ================================================================ helpers

    def _run_job(self, ws: WsRecord, name: str, stages: Sequence[Stage],
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

    def _get(self, workspace_id: str, action: str) -> WsRecord:
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



    # ================================================================ the WorkSpaces grant

    def _grant(self, ws: WsRecord) -> None:
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


    def _key_arn_of_id(self, key_id: str) -> str:
        rt = self._rt
        return f"arn:aws:kms:{rt.region}:{rt.account_id}:key/{key_id}"


    def _retire(self, ws: WsRecord) -> None:
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


class Later(Generic[_S]):
    """``fn(service, ws)`` as a clock callback: one small object, where a lambda over the two
    is a function, its closure tuple and two cells (a fleet holds one per WorkSpace)."""

    __slots__ = ("fn", "service", "ws")

    def __init__(self, fn: Callable[[_S, WsRecord], None], service: _S, ws: WsRecord) -> None:
        self.fn = fn
        self.service = service
        self.ws = ws

    def __call__(self) -> None:
        self.fn(self.service, self.ws)


def wrong_state(ws: WsRecord, verb: str, allowed: frozenset[str]) -> ItemFailure:
    return ItemFailure(
        lc.CODE_INVALID_STATE,
        f"The WorkSpace {ws.workspace_id} is in state {ws.state} and cannot be {verb}; "
        f"allowed states: {', '.join(sorted(allowed))}.")



def _is_alias(key: str) -> bool:
    return key.startswith("alias/") or (key.startswith("arn:") and ":alias/" in key)
