"""Random sequences of lifecycle calls, key toggles and time: the rules hold throughout.

Invariants: batch calls never raise for per-item problems; every state is an AWS state; an
AVAILABLE WorkSpace has both volumes attached and its user data as last written (unless a
rebuild rolled it back to a snapshot); once the clock is idle no WorkSpace is mid-operation;
terminating everything leaves no volume, snapshot or grant behind.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from workspaces_support import alice_world

from simulator.testing.world import WorkspacesWorld
from simulator.workspaces.lifecycle import ALL_STATES

USERS = ("u1", "u2", "u3")
TRANSITIONAL = {"PENDING", "REBOOTING", "REBUILDING", "STARTING", "STOPPING", "TERMINATING"}


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.fleet: WorkspacesWorld = alice_world(seed=5, users=USERS)
        self.ids: dict[str, str] = {}            # user -> WorkSpace id
        self.data: dict[str, bytes | None] = {}  # WorkSpace id -> user data (None: unknown)
        self.key_enabled = True

    @property
    def sim(self):  # type: ignore[no-untyped-def]
        return self.fleet.sim

    def _state(self, ws: str) -> str:
        return self.fleet.state(ws)

    @rule(user=st.sampled_from(USERS), auto_stop=st.booleans(), encrypt=st.booleans())
    def launch(self, user: str, auto_stop: bool, encrypt: bool) -> None:
        request = self.fleet.request(
            user, root_volume_encryption_enabled=encrypt, user_volume_encryption_enabled=True,
            workspace_properties={"running_mode": "AUTO_STOP" if auto_stop else "ALWAYS_ON"})
        result = self.fleet.admin.workspaces.create_workspaces(workspaces=[request])
        old = self.ids.get(user)
        if result.pending_requests:
            assert old is None or self._state(old) in ("TERMINATED", "GONE")
            ws = result.pending_requests[0].workspace_id
            self.ids[user] = ws
            self.data[ws] = b""
        else:
            (failure,) = result.failed_requests
            assert failure.error_code in ("ResourceExists.Workspace", "DisabledException")

    @precondition(lambda self: self.ids)
    @rule(user=st.sampled_from(USERS), payload=st.binary(min_size=1, max_size=64))
    def write(self, user: str, payload: bytes) -> None:
        ws = self.ids.get(user)
        if ws is None or self._state(ws) != "AVAILABLE":
            return
        self.fleet.write(ws, payload.ljust(64, b"\0"))
        self.data[ws] = payload.ljust(64, b"\0")

    @precondition(lambda self: self.ids)
    @rule(op=st.sampled_from(["reboot", "rebuild", "stop", "start", "terminate"]),
          users=st.lists(st.sampled_from(USERS), min_size=1, max_size=3, unique=True))
    def change(self, op: str, users: list[str]) -> None:
        ids = [self.ids[u] for u in users if u in self.ids]
        if not ids:
            return
        if op == "rebuild":
            ids = ids[:1]
        call = getattr(self.fleet.admin.workspaces, f"{op}_workspaces")
        result = call(workspace_ids=ids)
        for failure in result.failed_requests:
            assert failure.workspace_id in ids
            assert failure.error_code in ("InvalidResourceState", "OperationNotSupported",
                                          "ResourceNotFound.Workspace")
        if op == "rebuild" and not result.failed_requests:
            self.data[ids[0]] = None  # rolled back to the last snapshot

    @rule()
    def toggle_key(self) -> None:
        if self.key_enabled:
            self.sim.kms.disable_key(key_id=self.fleet.key_id)
        else:
            self.sim.kms.enable_key(key_id=self.fleet.key_id)
        self.key_enabled = not self.key_enabled

    @rule(seconds=st.sampled_from([1, 60, 600, 3600, 13 * 3600]))
    def wait(self, seconds: int) -> None:
        self.sim.advance(seconds)

    @rule()
    def settle(self) -> None:
        self.sim.run_until_idle()
        for ws in self.ids.values():
            assert self._state(ws) not in TRANSITIONAL

    @invariant()
    def states_are_aws_states_and_available_means_attached(self) -> None:
        for ws in self.ids.values():
            state = self._state(ws)
            assert state in ALL_STATES | {"GONE"}
            if state == "AVAILABLE":
                expected = self.data.get(ws)
                got = self.fleet.read(ws, 64)
                self.fleet.read(ws, 1, root=True)
                if expected is not None and expected:
                    assert got == expected
            if state in ("ERROR", "UNHEALTHY"):
                described = self.fleet.describe(ws)
                assert described.error_code and described.error_message

    def teardown(self) -> None:
        if not self.key_enabled:
            self.sim.kms.enable_key(key_id=self.fleet.key_id)
        self.sim.run_until_idle()
        live = [ws for ws in self.ids.values() if self._state(ws) not in ("GONE",)]
        for i in range(0, len(live), 25):
            assert self.fleet.admin.workspaces.terminate_workspaces(
                workspace_ids=live[i:i + 25]).failed_requests == ()
        self.sim.run_until_idle()
        assert self.sim.workspaces.state.workspaces == {}
        assert self.sim.ebs.describe_volumes().volumes == ()
        assert self.sim.ebs.describe_snapshots().snapshots == ()
        assert list(self.sim.kms.grants.list(self.fleet.key_arn)) == []


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
