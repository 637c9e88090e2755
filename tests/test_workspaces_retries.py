"""Retryable KMS errors: WorkSpaces retries with exponential backoff on the virtual clock, up to
``max_retries``, then fails the operation naming the error."""

from __future__ import annotations

from typing import Any

from workspaces_support import alice_world

from simulator.ebs.service import ElasticBlockStore
from simulator.errors import AwsError, DependencyTimeoutException, KMSInternalException
from simulator.testing.world import WorkspacesWorld
from simulator.workspaces.service import WorkSpacesService


class Flaky:
    """A service view whose named operations raise a retryable error the first N times."""

    def __init__(self, target: Any, failures: dict[str, int],
                 error: type[AwsError] = KMSInternalException) -> None:
        self._target = target
        self._failures = failures  # shared by every view derived from this one
        self._error = error

    def with_caller(self, caller: Any) -> Flaky:
        return Flaky(self._target.with_caller(caller), self._failures, self._error)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name not in self._failures:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._failures[name] > 0:
                self._failures[name] -= 1
                raise self._error(f"injected {self._error.code} in {name}")
            return attr(*args, **kwargs)

        return call


def _workspaces(fleet: WorkspacesWorld, *, kms: dict[str, int] | None = None,
                ebs_kms: dict[str, int] | None = None,
                error: type[AwsError] = KMSInternalException) -> Any:
    """Alice's WorkSpaces, with KMS (as WorkSpaces and as EBS sees it) failing as asked."""
    sim = fleet.sim
    ebs = ElasticBlockStore(sim._ebs_state, Flaky(sim.kms, ebs_kms or {}, error), sim.root)
    service = WorkSpacesService(sim.workspaces.state, Flaky(sim.kms, kms or {}, error), ebs,
                                sim.iam, sim.root)
    return service.with_caller(fleet.admin.caller)


def _retries(fleet: WorkspacesWorld, workspace_id: str) -> list[Any]:
    return [e for e in fleet.sim.trace.events(workspace_id=workspace_id) if e.action == "Retry"]


def _launch(fleet: WorkspacesWorld, ws: Any, user: str = "jdoe") -> str:
    result = ws.create_workspaces(workspaces=[fleet.request(user)])
    assert result.failed_requests == ()
    workspace_id: str = result.pending_requests[0].workspace_id
    return workspace_id


def test_step_1_retryable_error_leaves_the_item_pending_and_is_retried_with_backoff() -> None:
    fleet = alice_world(workspace_visible_after_seconds=0)  # described at once
    sim = fleet.sim
    ws = _workspaces(fleet, kms={"create_grant": 3})
    start = sim.clock.now()
    workspace_id = _launch(fleet, ws)
    assert fleet.state(workspace_id) == "PENDING"
    sim.run_until_idle()
    assert fleet.state(workspace_id) == "AVAILABLE"
    retries = _retries(fleet, workspace_id)
    assert [e.detail["delay_seconds"] for e in retries] == [1.0, 2.0, 4.0]
    assert [(e.time - start).total_seconds() for e in retries] == [0.0, 1.0, 3.0]
    assert {e.outcome for e in retries} == {"KMSInternalException"}
    # The grant was made at the fourth attempt, 7 virtual seconds in.
    (grant,) = [e for e in sim.trace.events(workspace_id=workspace_id)
                if e.actor == "KMS" and e.action == "CreateGrant" and e.step == 1]
    assert (grant.time - start).total_seconds() == 7.0


def test_step_1_failing_beyond_max_retries_ends_in_error_naming_the_kms_error() -> None:
    fleet = alice_world()
    sim = fleet.sim
    ws = _workspaces(fleet, kms={"create_grant": 100}, error=DependencyTimeoutException)
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    described = fleet.describe(workspace_id)
    assert described.state == "ERROR"
    assert described.error_code == "DependencyTimeoutException"
    assert "injected DependencyTimeoutException" in described.error_message
    assert len(_retries(fleet, workspace_id)) == sim.settings.max_retries
    assert sim.ebs.describe_volumes().volumes == ()


def test_data_key_generation_failing_past_ebs_own_retries_is_retried_on_the_clock() -> None:
    fleet = alice_world()
    sim = fleet.sim
    # EBS tries max_retries + 1 times per volume before the volume goes to "error".
    per_volume = sim.settings.max_retries + 1
    ws = _workspaces(fleet, ebs_kms={"generate_data_key_without_plaintext": per_volume})
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    assert fleet.state(workspace_id) == "AVAILABLE"
    retries = _retries(fleet, workspace_id)
    assert len(retries) == 1 and retries[0].outcome == "KMSInternalException"
    # The failed volume was deleted; exactly the WorkSpace's two volumes remain.
    assert len(sim.ebs.describe_volumes().volumes) == 2


def test_decrypt_failing_at_attach_is_retried_then_the_launch_completes() -> None:
    fleet = alice_world()
    sim = fleet.sim
    per_attach = sim.settings.max_retries + 1
    ws = _workspaces(fleet, ebs_kms={"decrypt": 2 * per_attach})
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    assert fleet.state(workspace_id) == "AVAILABLE"
    assert [e.detail["delay_seconds"] for e in _retries(fleet, workspace_id)] == [1.0, 2.0]


def test_reboot_with_a_persistent_retryable_error_ends_unhealthy_then_recovers() -> None:
    fleet = alice_world()
    sim = fleet.sim
    failures = {"decrypt": 0}
    ws = _workspaces(fleet, ebs_kms=failures)
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    fleet.write(workspace_id, b"survives the outage")
    failures["decrypt"] = 10_000
    ws.reboot_workspaces(workspace_ids=[workspace_id])
    sim.run_until_idle()
    described = fleet.describe(workspace_id)
    assert described.state == "UNHEALTHY"
    assert described.error_code == "KMSInternalException"
    assert "Reboot failed while attaching the root volume" in described.error_message
    assert len(_retries(fleet, workspace_id)) == sim.settings.max_retries
    failures["decrypt"] = 0  # the outage ends
    ws.reboot_workspaces(workspace_ids=[workspace_id])
    sim.run_until_idle()
    assert fleet.state(workspace_id) == "AVAILABLE"
    assert fleet.read(workspace_id, 19) == b"survives the outage"


def test_backoff_follows_the_settings() -> None:
    fleet = alice_world(max_retries=2, retry_base_seconds=10.0)
    sim = fleet.sim
    ws = _workspaces(fleet, kms={"create_grant": 10})
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    assert [e.detail["delay_seconds"] for e in _retries(fleet, workspace_id)] == [10.0, 20.0]
    assert fleet.state(workspace_id) == "ERROR"


def test_terminate_finishes_even_when_retiring_the_grant_keeps_failing() -> None:
    fleet = alice_world()
    sim = fleet.sim
    failures = {"retire_grant": 0}
    ws = _workspaces(fleet, kms=failures)
    workspace_id = _launch(fleet, ws)
    sim.run_until_idle()
    failures["retire_grant"] = 10_000
    ws.terminate_workspaces(workspace_ids=[workspace_id])
    sim.run_until_idle()
    assert fleet.state(workspace_id) == "GONE"
    failed = [e for e in sim.trace.events(workspace_id=workspace_id)
              if e.action == "CleanupFailed"]
    assert [e.outcome for e in failed] == ["KMSInternalException"]
    assert sim.ebs.describe_volumes().volumes == ()



def test_with_no_retries_allowed_a_retryable_step_1_error_fails_the_launch_at_once() -> None:
    fleet = alice_world(max_retries=0, workspace_visible_after_seconds=0)  # described at once
    ws = _workspaces(fleet, kms={"create_grant": 1})
    workspace_id = _launch(fleet, ws)
    described = fleet.describe(workspace_id)
    assert described.state == "ERROR"
    assert described.error_code == "KMSInternalException"
    assert _retries(fleet, workspace_id) == []
