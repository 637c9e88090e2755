"""TerminateWorkspaces: volumes detached and deleted, snapshots deleted, the WorkSpaces grant
retired (step 9); TERMINATED for a moment, then gone from DescribeWorkspaces."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

from ..errors import AwsError
from . import lifecycle as lc
from .core import Later, wrong_state
from .jobs import Stage
from .models import ChangeWorkspacesResult
from .records import WsRecord
from .requests import parse_change_ids
from .volumes import VolumeSteps, make_stage, wait_stage

__all__ = ["TerminateOps"]


class TerminateOps(VolumeSteps):
    """TerminateWorkspaces."""

    def terminate_workspaces(
        self, *, terminate_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Terminate: volumes detached and deleted, EBS and WorkSpaces grants retired (step 9);
        TERMINATED, then gone from DescribeWorkspaces."""
        ids = parse_change_ids("TerminateWorkspaces", terminate_workspace_requests,
                               "terminate_workspace_requests", workspace_ids)
        return self._batch("workspaces:TerminateWorkspaces", ids, self._terminate_one)

    def _terminate_one(self, ws: WsRecord) -> None:
        if ws.state == lc.SUSPENDED:
            raise wrong_state(ws, "terminated",
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
                      TerminateOps._terminated, TerminateOps._terminate_failed)

    def _in_terminate(self, ws: WsRecord, *, step: Callable[..., object]) -> float | None:
        """Run ``step(self, ws)`` inside the step-9 trace phase."""
        with self._rt.trace.phase("workspaces.terminate"):
            step(self, ws)
        return None

    def _delete_volumes_step(self, ws: WsRecord) -> float | None:
        for slot in (ws.replacements, ws.volumes):
            for kind in ("root", "user"):
                volume = slot.get(kind)
                if volume is not None:
                    self._delete_volume(volume)
                    del slot[kind]
        return self._delete_orphans_step(ws)

    def _delete_snapshots_step(self, ws: WsRecord) -> float | None:
        while ws.snapshots:
            self._delete_snapshot(ws.snapshots[0][0])
            ws.snapshots = ws.snapshots[1:]
        return None

    def _retire_grant_step(self, ws: WsRecord) -> float | None:
        if ws.grant_id is not None and ws.key_arn is not None:
            self._retire(ws)
        return None

    def _terminated(self, ws: WsRecord) -> None:
        ws.job = None
        self._set_state(ws, lc.TERMINATED, "terminated")
        self._step("after", ws, 9)
        if self.state.by_user.get(ws.user_key) == ws.workspace_id:
            del self.state.by_user[ws.user_key]
            if not self.state.by_user:
                self.state.by_user = {}
        self._rt.clock.schedule(self._rt.settings.terminated_visible_seconds,
                                f"workspaces.forget:{ws.workspace_id}",
                                Later(TerminateOps._forget, self, ws))

    def _terminate_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
        self._terminated(ws)

    def _forget(self, ws: WsRecord) -> None:
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



def _terminate_stage(label: str, step: Callable[..., object]) -> Stage:
    return make_stage(label, TerminateOps._in_terminate, best_effort=True, step=step)


_TERMINATE_STAGES = (
    _terminate_stage("detaching the root volume",
                     partial(VolumeSteps._detach_step, kind="root")),
    _terminate_stage("detaching the user volume",
                     partial(VolumeSteps._detach_step, kind="user")),
    _terminate_stage("deleting the volumes", TerminateOps._delete_volumes_step),
    _terminate_stage("deleting the snapshots", TerminateOps._delete_snapshots_step),
    _terminate_stage("retiring the WorkSpaces grant (step 9)",
                     TerminateOps._retire_grant_step),
    wait_stage("terminating", "terminate_seconds"),
)


