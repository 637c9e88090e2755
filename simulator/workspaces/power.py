"""RebootWorkspaces, RebuildWorkspaces, StopWorkspaces and StartWorkspaces: detach (EBS drops
the plaintext keys) and attach again (steps 5-7); a rebuild makes new volumes first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import AwsError
from . import lifecycle as lc
from .core import wrong_state
from .jobs import NotReady, Stage
from .models import ChangeWorkspacesResult
from .records import CODE_NOT_SUPPORTED, ItemFailure, WsRecord
from .requests import parse_change_ids
from .volumes import (
    DETACH_ROOT,
    DETACH_USER,
    IMAGE,
    VolumeSteps,
    attach_stage,
    create_stage,
    ready_stage,
    wait_stage,
)

__all__ = ["PowerOps"]


class PowerOps(VolumeSteps):
    """Reboot, rebuild, stop and start."""

    # ================================================================ reboot

    def reboot_workspaces(
        self, *, reboot_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Reboot: detach (EBS drops the plaintext keys) and attach again (steps 5-7)."""
        ids = parse_change_ids("RebootWorkspaces", reboot_workspace_requests,
                               "reboot_workspace_requests", workspace_ids)
        return self._batch("workspaces:RebootWorkspaces", ids, self._reboot_one)

    def _reboot_one(self, ws: WsRecord) -> None:
        now = self._rt.clock.now()
        stuck = (ws.state == lc.REBOOTING
                 and (now - ws.state_since).total_seconds() > lc.STUCK_REBOOT_SECONDS)
        if ws.state not in lc.REBOOT_FROM and not stuck:
            raise wrong_state(ws, "rebooted", lc.REBOOT_FROM)
        self._cancel_job(ws)
        self._set_state(ws, lc.REBOOTING, "RebootWorkspaces")
        self._run_job(ws, "reboot", _REBOOT_STAGES,
                      PowerOps._rebooted, PowerOps._reboot_failed)

    def _rebooted(self, ws: WsRecord) -> None:
        self._available(ws, "rebooted")

    def _reboot_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
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

    def _rebuild_one(self, ws: WsRecord) -> None:
        if ws.state not in lc.REBUILD_FROM:
            raise wrong_state(ws, "rebuilt", lc.REBUILD_FROM)
        snapshot = self._latest_snapshot(ws)
        if snapshot is None:
            raise ItemFailure(
                lc.CODE_INVALID_STATE,
                f"The WorkSpace {ws.workspace_id} has no user volume snapshot yet, so it cannot "
                "be rebuilt: WorkSpaces snapshots the user volume every "
                f"{self._rt.settings.snapshot_interval_hours:g} hours.")
        self._cancel_job(ws)
        self._set_state(ws, lc.REBUILDING, "RebuildWorkspaces")

        self._run_job(ws, "rebuild", (
            DETACH_ROOT,
            DETACH_USER,
            create_stage("root", replacement=True),
            create_stage("user", replacement=True, snapshot_id=snapshot),
            wait_stage("rebuilding", "rebuild_seconds"),
            ready_stage("root", replacement=True),
            ready_stage("user", replacement=True, snapshot_id=snapshot),
            attach_stage("root", replacement=True),
            attach_stage("user", replacement=True),
            Stage("swapping in the new volumes", PowerOps._promote_step),
            IMAGE,
            Stage("deleting the old volumes", PowerOps._delete_orphans_step,
                  best_effort=True),
        ), PowerOps._rebuilt, PowerOps._rebuild_failed)

    def _promote_step(self, ws: WsRecord) -> float | None:
        retired = tuple(ws.volumes[k] for k in ("root", "user") if k in ws.volumes)
        ws.volumes = dict(ws.replacements)
        ws.replacements = {}
        ws.orphans += retired
        ws.image_pending = True
        ws.ip_address = self._rt.ids.private_ip()  # the ENI is recreated
        return None

    def _rebuilt(self, ws: WsRecord) -> None:
        self._available(ws, "rebuilt")
        # A fresh snapshot soon after a rebuild (WAG), then every interval.
        self._reschedule_snapshot(ws, lc.SNAPSHOT_AFTER_REBUILD_SECONDS)

    def _rebuild_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
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

    def _stop_one(self, ws: WsRecord) -> None:
        self._require_stoppable(ws, "StopWorkspaces")
        if ws.state not in lc.STOP_FROM:
            raise wrong_state(ws, "stopped", lc.STOP_FROM)
        self._cancel_job(ws)
        self._set_state(ws, lc.STOPPING, "StopWorkspaces")

        self._run_job(ws, "stop", _STOP_STAGES,
                      PowerOps._stopped, PowerOps._stop_failed)

    def _stopped(self, ws: WsRecord) -> None:
        ws.job = None
        self._set_state(ws, lc.STOPPED, "stopped")

    def _stop_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.UNHEALTHY, "Stop", err, stage)

    def start_workspaces(
        self, *, start_workspace_requests: Sequence[Mapping[str, str]] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ChangeWorkspacesResult:
        """Start STOPPED WorkSpaces: the volumes are attached again (steps 5-7)."""
        ids = parse_change_ids("StartWorkspaces", start_workspace_requests,
                               "start_workspace_requests", workspace_ids)
        return self._batch("workspaces:StartWorkspaces", ids, self._start_one)

    def _start_one(self, ws: WsRecord) -> None:
        self._require_stoppable(ws, "StartWorkspaces")
        if ws.state not in lc.START_FROM:
            raise wrong_state(ws, "started", lc.START_FROM)
        self._set_state(ws, lc.STARTING, "StartWorkspaces")
        self._run_job(ws, "start", _START_STAGES,
                      PowerOps._started, PowerOps._start_failed)

    def _started(self, ws: WsRecord) -> None:
        self._available(ws, "started")

    def _start_failed(self, ws: WsRecord, err: AwsError, stage: Stage) -> None:
        self._fail(ws, lc.UNHEALTHY, "Start", err, stage)

    def _require_stoppable(self, ws: WsRecord, operation: str) -> None:
        if ws.properties.running_mode not in ("AUTO_STOP", "MANUAL"):
            raise ItemFailure(
                CODE_NOT_SUPPORTED,
                f"{operation} needs RunningMode AUTO_STOP or MANUAL; WorkSpace "
                f"{ws.workspace_id} runs {ws.properties.running_mode}.")



_REBOOT_STAGES = (
    DETACH_ROOT,
    DETACH_USER,
    wait_stage("rebooting", "reboot_seconds"),
    attach_stage("root"),
    attach_stage("user"),
    IMAGE,
)
_STOP_STAGES = (DETACH_ROOT, DETACH_USER, wait_stage("stopping", "stop_seconds"))
_START_STAGES = (
    wait_stage("starting", "start_seconds"),
    attach_stage("root"),
    attach_stage("user"),
    IMAGE,
)
