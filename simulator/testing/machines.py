"""``LifecycleMachine``: a hypothesis state machine over the whole simulated system.

Rules drive KMS (keys: create, disable, enable, rotate, schedule and cancel deletion; envelope
encrypt/decrypt; grants to a user, retired and revoked), WorkSpaces (launch, reboot, rebuild,
stop, start, terminate), the data on WorkSpaces' user volumes, virtual time, and fault
injection. A simple model predicts each outcome; invariants checked after every step:

- data written to a user volume is never lost or changed (a rebuild may only bring back an
  earlier version, by design: it restores the last snapshot);
- no plaintext data key exists outside live EBS attachments (a dropped attachment's key is
  wiped) and none appears in the audit trail or the trace;
- every successful Decrypt in the audit is allowed by the key policy (the root) or by a grant
  live at that point of the audit trail, constraints included;
- a terminated WorkSpace leaves no grant and no volume behind;
- key states are what the model says.

Subclass it to add rules and invariants (``self.sim``, ``self.world`` and the model are yours
to use), and run it with ``LifecycleMachine.TestCase`` or
``hypothesis.stateful.run_state_machine_as_test``. Hypothesis draws the simulation's seed, so
a failing run shrinks and replays exactly.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ..ebs.store import BLOCK_SIZE
from ..errors import AwsError, IncorrectState, InvalidBlockCiphertext
from ..faults import (
    RETRYABLE_ERRORS,
    AtStep,
    AtTime,
    DisableKey,
    DropAttachment,
    Effect,
    Fault,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    RaiseError,
    RevokeGrant,
    ScheduleKeyDeletion,
)
from ..iam.principals import ebs_identity_arn, workspaces_identity_arn
from ..simulation import Simulation
from ..workspaces import lifecycle as lc
from .strategies import encryption_contexts, seeds
from .world import SETTLE_SECONDS, WorkspacesWorld

__all__ = ["LifecycleMachine", "ModelMismatch"]

_T = TypeVar("_T")
ENABLED, DISABLED, PENDING, DELETED = "Enabled", "Disabled", "PendingDeletion", "Deleted"
#: The KMS error each key state gives a cryptographic call (and CreateGrant).
_STATE_ERROR = {DISABLED: "DisabledException", PENDING: "KMSInvalidStateException",
                DELETED: "NotFoundException"}
_TRANSIENT = frozenset({"ArmError", "InjectError"})
_OPS_FOR_TRANSIENT = ("kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant",
                      "kms:RetireGrant", "ec2:AttachVolume", "ec2:CreateVolume",
                      "ec2:DetachVolume", "ec2:DeleteVolume")


class ModelMismatch(AssertionError):
    """The system did something the model says it must not."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ModelMismatch(message)


@dataclass
class KeyModel:
    arn: str
    state: str = ENABLED
    deletion_date: datetime | None = None
    rotations: int = 0


@dataclass
class BlobModel:
    key: int
    context: dict[str, str]
    blob: bytes = field(repr=False)
    plaintext: bytes = field(repr=False)


@dataclass
class GrantModel:
    key: int
    grant_id: str
    subset: dict[str, str]
    live: bool = True


@dataclass
class WorkspaceModel:
    workspace_id: str
    user: str
    key: int
    #: Block index -> the bytes last written there (full blocks).
    data: dict[int, bytes] = field(default_factory=dict, repr=False)
    #: Block index -> every version ever written (what a rebuild may bring back).
    history: dict[int, set[bytes]] = field(default_factory=dict, repr=False)
    corrupted: set[int] = field(default_factory=set)
    volume_ids: set[str] = field(default_factory=set)
    #: After damage the model cannot follow (a corrupted data key, a lost grant or volume),
    #: outcomes are not predicted; the safety invariants still hold.
    unpredictable: bool = False
    terminated: bool = False


def _pairs(context: dict[str, str] | None) -> frozenset[tuple[str, str]]:
    return frozenset((k.lower(), v) for k, v in (context or {}).items())


class LifecycleMachine(RuleBasedStateMachine):
    """KMS, EBS and WorkSpaces against a simple model; subclass to add rules and invariants."""

    #: ``Simulation`` settings; gcm volumes make a corrupted block an error, not silent change.
    #: The model's grants take effect at once, so grant eventual consistency is off (0).
    simulation_settings: ClassVar[dict[str, Any]] = {"volume_cipher": "gcm",
                                                     "grant_propagation_seconds": 0}
    #: Directory users (each may have one WorkSpace at a time).
    user_names: ClassVar[tuple[str, ...]] = ("ana", "ben", "cy")
    max_keys: ClassVar[int] = 3
    #: User-volume blocks the data rules write (full 32 KiB blocks).
    data_blocks: ClassVar[int] = 3
    grantee_name: ClassVar[str] = "Bob"
    #: Also inject host failures at any time, including while the key is unusable, so that the
    #: new host cannot attach the volume (WorkSpaces then detaches and cleans up what EBS
    #: still has). :meth:`host_failure` covers the recoverable case.
    unrecoverable_host_failures: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        #: Set by :meth:`start_simulation` (the first step hypothesis runs).
        self.ready = False
        self.sim: Simulation
        self.world: WorkspacesWorld
        self.keys: list[KeyModel] = []
        self.blobs: list[BlobModel] = []
        self.grants: list[GrantModel] = []
        self.workspaces: list[WorkspaceModel] = []
        self.grantee = ""
        self._records_seen = 0
        self._rule_start = 0
        self._transient: list[Any] = []
        self._key_buffers: list[bytearray] = []
        self._secret_needles: set[str] = set()
        self._audit_seen = 0
        self._trace_seen = 0
        self._live_grants: dict[str, tuple[str, str, frozenset[str], dict[str, Any] | None]] = {}
        self._authz_seen = 0

    # ================================================================ set-up and helpers

    @initialize(seed=seeds())
    def start_simulation(self, seed: int) -> None:
        """A seeded simulation (hypothesis draws the seed) with a directory, users, one key."""
        self.sim = Simulation(seed=seed, **self.simulation_settings)
        self.world = WorkspacesWorld.build(self.sim, users=self.user_names)
        self.keys.append(KeyModel(self.world.key_arn))
        self.grantee = self.sim.iam.create_user(user_name=self.grantee_name).arn
        self.ready = True

    def retrying(self, call: Callable[[], _T], attempts: int = 50) -> _T:
        """Call like an AWS SDK: retry retryable errors (injected faults), raise the rest."""
        for attempt in range(attempts):
            try:
                return call()
            except AwsError as err:
                if not err.retryable or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def outcome(self, call: Callable[[], object]) -> str:
        """``"ok"`` or the AWS error code of ``call`` (retried like an SDK)."""
        try:
            self.retrying(call)
        except AwsError as err:
            return err.code
        return "ok"

    def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Let the clock run, then bring the model up to date (key deletions, fault effects)."""
        self.sim.advance(seconds=seconds)
        self._sync()

    def _key(self, index: int) -> KeyModel:
        return self.keys[index % len(self.keys)]

    def _key_error(self, key: KeyModel) -> str:
        return "ok" if key.state == ENABLED else _STATE_ERROR[key.state]

    def _sync(self) -> None:
        now = self.sim.clock.now()
        for key in self.keys:
            if key.state == PENDING and key.deletion_date is not None and now >= key.deletion_date:
                key.state = DELETED
        records = self.sim.faults.records()
        for record in records[self._records_seen:]:
            self._absorb(record)
        self._records_seen = len(records)

    def _absorb(self, record: Any) -> None:
        """Update the model with what a fault really did."""
        if record.outcome != "ok":
            if record.action == "Reattach":
                self._damage_volume(record.target)
            return
        by_arn = {k.arn: k for k in self.keys}
        if record.action == "DisableKey" and record.target in by_arn:
            by_arn[record.target].state = DISABLED
        elif record.action == "ScheduleKeyDeletion" and record.target in by_arn:
            key = by_arn[record.target]
            key.state = PENDING
            key.deletion_date = self.sim.kms.describe_key(key_id=key.arn).deletion_date
        elif record.action in ("RevokeGrant", "RetireGrant"):
            grant_id = record.detail.get("grant_id")
            for g in self.grants:
                if g.grant_id == grant_id:
                    g.live = False
            arns = [k.arn for k in self.keys]
            if record.detail.get("grantee") != self.grantee and record.target in arns:
                index = arns.index(record.target)
                for ws in self.workspaces:  # a WorkSpaces or EBS grant: the next attach fails
                    if ws.key == index and not ws.terminated:
                        ws.unpredictable = True
        elif record.action == "FlipBlockBit":
            for ws in self.workspaces:
                if record.target in ws.volume_ids and record.detail["block_index"] in ws.data:
                    ws.corrupted.add(record.detail["block_index"])
        elif record.action == "FlipDataKeyBit":
            self._damage_volume(record.target)

    def _damage_volume(self, volume_id: str) -> None:
        for ws in self.workspaces:
            if volume_id in ws.volume_ids:
                ws.unpredictable = True

    def _faults_interfered(self) -> bool:
        """Did a fault do more than transient errors the services retry since the rule began?"""
        new = self.sim.faults.records()[self._rule_start:]
        injected = sum(1 for r in new if r.action == "InjectError")
        return (any(r.action not in _TRANSIENT for r in new)
                or injected > self.sim.settings.max_retries)

    def _begin(self) -> None:
        self._rule_start = len(self.sim.faults.records())

    def live_workspaces(self) -> list[WorkspaceModel]:
        """The model's WorkSpaces not yet terminated."""
        return [w for w in self.workspaces if not w.terminated]

    def _ws(self, index: int) -> WorkspaceModel:
        live = self.live_workspaces()
        return live[index % len(live)]

    def state_of(self, ws: WorkspaceModel) -> str:
        """The WorkSpace's state as DescribeWorkspaces reports it (TERMINATED once gone)."""
        found = self.sim.workspaces.describe_workspaces(workspace_ids=[ws.workspace_id]).workspaces
        return found[0].state if found else lc.TERMINATED

    def _note_volumes(self, ws: WorkspaceModel) -> None:
        vols = self.sim.workspaces.volumes(ws.workspace_id)
        ws.volume_ids.update(v for v in (vols.root_volume_id, vols.user_volume_id) if v)

    def _device(self, ws: WorkspaceModel) -> Any:
        volume_id = self.sim.workspaces.volumes(ws.workspace_id).user_volume_id
        if volume_id is None:
            raise IncorrectState(f"{ws.workspace_id} has no user volume")
        return self.sim.ebs.block_device(volume_id)

    # ================================================================ keys

    @precondition(lambda self: self.ready and len(self.keys) < self.max_keys)
    @rule()
    def create_key(self) -> None:
        key = self.retrying(lambda: self.sim.kms.create_key(description="machine key"))
        self.keys.append(KeyModel(key.arn))

    @rule(k=st.integers(0, 2))
    def disable_key(self, k: int) -> None:
        key = self._key(k)
        expected = "ok" if key.state in (ENABLED, DISABLED) else _STATE_ERROR[key.state]
        got = self.outcome(lambda: self.sim.kms.disable_key(key_id=key.arn))
        _check(got == expected, f"DisableKey on a {key.state} key: {got}, expected {expected}")
        if got == "ok":
            key.state = DISABLED

    @rule(k=st.integers(0, 2))
    def enable_key(self, k: int) -> None:
        key = self._key(k)
        expected = "ok" if key.state in (ENABLED, DISABLED) else _STATE_ERROR[key.state]
        got = self.outcome(lambda: self.sim.kms.enable_key(key_id=key.arn))
        _check(got == expected, f"EnableKey on a {key.state} key: {got}, expected {expected}")
        if got == "ok":
            key.state = ENABLED

    @rule(k=st.integers(0, 2))
    def rotate_key(self, k: int) -> None:
        key = self._key(k)
        expected = self._key_error(key)
        if expected == "ok" and key.rotations >= self.sim.settings.on_demand_rotation_limit:
            expected = "LimitExceededException"
        got = self.outcome(lambda: self.sim.kms.rotate_key_on_demand(key_id=key.arn))
        _check(got == expected, f"RotateKeyOnDemand on a {key.state} key: {got}, expected {expected}")
        if got == "ok":
            key.rotations += 1

    @rule(k=st.integers(0, 2))
    def schedule_key_deletion(self, k: int) -> None:
        key = self._key(k)
        expected = "ok" if key.state in (ENABLED, DISABLED) else _STATE_ERROR[key.state]
        got = self.outcome(lambda: self.sim.kms.schedule_key_deletion(
            key_id=key.arn, pending_window_in_days=7))
        _check(got == expected, f"ScheduleKeyDeletion on a {key.state} key: {got}, expected {expected}")
        if got == "ok":
            key.state = PENDING
            key.deletion_date = self.sim.clock.now() + timedelta(days=7)

    @rule(k=st.integers(0, 2))
    def cancel_key_deletion(self, k: int) -> None:
        key = self._key(k)
        expected = {PENDING: "ok", DELETED: "NotFoundException"}.get(
            key.state, "KMSInvalidStateException")
        got = self.outcome(lambda: self.sim.kms.cancel_key_deletion(key_id=key.arn))
        _check(got == expected, f"CancelKeyDeletion on a {key.state} key: {got}, expected {expected}")
        if got == "ok":
            key.state, key.deletion_date = DISABLED, None

    # ================================================================ envelope data

    @precondition(lambda self: self.ready)
    @rule(k=st.integers(0, 2), context=encryption_contexts(max_size=2),
          data=st.binary(min_size=1, max_size=32))
    def encrypt(self, k: int, context: dict[str, str], data: bytes) -> None:
        key = self._key(k)
        expected = self._key_error(key)
        try:
            made = self.retrying(lambda: self.sim.kms.encrypt(
                key_id=key.arn, plaintext=data, encryption_context=context))
        except AwsError as err:
            _check(err.code == expected, f"Encrypt under a {key.state} key: {err.code}, "
                                         f"expected {expected}")
            return
        _check(expected == "ok", f"Encrypt under a {key.state} key succeeded")
        self.blobs.append(BlobModel(self.keys.index(key), dict(context), made.ciphertext_blob, data))

    @precondition(lambda self: self.ready and self.blobs)
    @rule(b=st.integers(0, 50))
    def decrypt(self, b: int) -> None:
        blob = self.blobs[b % len(self.blobs)]
        key = self.keys[blob.key]
        expected = self._key_error(key)
        try:
            out = self.retrying(lambda: self.sim.kms.decrypt(
                ciphertext_blob=blob.blob, encryption_context=blob.context))
        except AwsError as err:
            _check(err.code == expected, f"Decrypt under a {key.state} key: {err.code}, "
                                         f"expected {expected}")
            return
        _check(expected == "ok", f"Decrypt under a {key.state} key succeeded")
        _check(bytes(out.plaintext) == blob.plaintext, "Decrypt returned different data")

    # ================================================================ grants to a user

    @precondition(lambda self: self.ready)
    @rule(k=st.integers(0, 2), subset=encryption_contexts(max_size=1))
    def create_grant(self, k: int, subset: dict[str, str]) -> None:
        key = self._key(k)
        expected = self._key_error(key)
        constraints = {"encryption_context_subset": subset} if subset else None
        try:
            made = self.retrying(lambda: self.sim.kms.create_grant(
                key_id=key.arn, grantee_principal=self.grantee, operations=["Decrypt"],
                constraints=constraints))
        except AwsError as err:
            _check(err.code == expected, f"CreateGrant on a {key.state} key: {err.code}, "
                                         f"expected {expected}")
            return
        _check(expected == "ok", f"CreateGrant on a {key.state} key succeeded")
        self.grants.append(GrantModel(self.keys.index(key), made.grant_id, dict(subset)))

    @precondition(lambda self: self.ready and self.grants)
    @rule(g=st.integers(0, 20), revoke=st.booleans())
    def end_grant(self, g: int, revoke: bool) -> None:
        grant = self.grants[g % len(self.grants)]
        key = self.keys[grant.key]
        expected = "ok" if grant.live and key.state != DELETED else "NotFoundException"
        kms = self.sim.kms
        end = kms.revoke_grant if revoke else kms.retire_grant
        got = self.outcome(lambda: end(key_id=key.arn, grant_id=grant.grant_id))
        _check(got == expected, f"{'Revoke' if revoke else 'Retire'}Grant of a "
                                f"{'live' if grant.live else 'ended'} grant: {got}, expected {expected}")
        grant.live = False

    @precondition(lambda self: self.ready and self.blobs)
    @rule(b=st.integers(0, 50))
    def grantee_decrypts(self, b: int) -> None:
        blob = self.blobs[b % len(self.blobs)]
        key = self.keys[blob.key]
        granted = any(g.live and g.key == blob.key and _pairs(g.subset) <= _pairs(blob.context)
                      for g in self.grants)
        expected = ("NotFoundException" if key.state == DELETED else
                    "AccessDeniedException" if not granted else self._key_error(key))
        kms = self.sim.as_principal(self.grantee).kms
        got = self.outcome(lambda: kms.decrypt(ciphertext_blob=blob.blob,
                                               encryption_context=blob.context))
        _check(got == expected, f"{self.grantee_name}'s Decrypt ({'granted' if granted else 'no grant'}"
                                f", key {key.state}): {got}, expected {expected}")

    # ================================================================ WorkSpaces

    @precondition(lambda self: self.ready
                  and len({w.user for w in self.workspaces if not w.terminated}) < len(self.user_names))
    @rule(u=st.integers(0, 5), k=st.integers(0, 2))
    def launch(self, u: int, k: int) -> None:
        busy = {w.user for w in self.live_workspaces()}
        user = [n for n in self.user_names if n not in busy][u % (len(self.user_names) - len(busy))]
        key = self._key(k)
        self._begin()
        result = self.sim.workspaces.create_workspaces(workspaces=[self.world.request(
            user, key_arn=key.arn, running_mode="MANUAL")])
        expected = self._key_error(key)
        if result.failed_requests:
            code = result.failed_requests[0].error_code
            _check(code == expected or self._faults_interfered(),
                   f"CreateWorkspaces with a {key.state} key failed with {code}, expected {expected}")
            self._sync()
            return
        # A retryable error at step 1 defers it to the clock (the request is accepted); a
        # key that is not usable then fails the launch there instead.
        deferred = any(r.action == "InjectError" for r in self.sim.faults.records()[self._rule_start:])
        _check(expected == "ok" or deferred or self._faults_interfered(),
               f"CreateWorkspaces with a {key.state} key was accepted")
        ws = WorkspaceModel(result.pending_requests[0].workspace_id, user, self.keys.index(key))
        self.workspaces.append(ws)
        self.settle()
        self._note_volumes(ws)
        state = self.state_of(ws)
        if not self._faults_interfered():
            wanted = lc.AVAILABLE if key.state == ENABLED else lc.ERROR
            _check(state == wanted, f"launch with a {key.state} key ended {state}, expected {wanted}")
            if wanted == lc.ERROR:
                code = self.world.workspace(ws.workspace_id).error_code
                _check(code == expected, f"launch failed with {code}, expected {expected}")
        if state != lc.AVAILABLE:
            ws.unpredictable = True  # a failed launch may have made only some volumes

    def _change(self, action: str, ws: WorkspaceModel, allowed: frozenset[str]) -> str | None:
        """Run a lifecycle call; None when refused (as the model says it must be)."""
        before = self.state_of(ws)
        self._begin()
        call = getattr(self.sim.workspaces, f"{action}_workspaces")
        result = call(workspace_ids=[ws.workspace_id])
        refused = bool(result.failed_requests)
        may = before in allowed
        _check(refused != may or self._faults_interfered(),
               f"{action} from {before}: {'refused' if refused else 'accepted'}")
        if refused:
            return None
        self.settle()
        self._note_volumes(ws)
        return before

    def _after_boot(self, ws: WorkspaceModel, action: str) -> str:
        """Reboot, start and rebuild attach volumes again: only a usable key brings it back.
        Returns the state it ended in."""
        state = self.state_of(ws)
        key = self.keys[ws.key]
        if not (ws.unpredictable or self._faults_interfered()):
            wanted = lc.AVAILABLE if key.state == ENABLED else lc.UNHEALTHY
            _check(state == wanted, f"{action} with a {key.state} key ended {state}, expected {wanted}")
        return state

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def reboot(self, w: int) -> None:
        ws = self._ws(w)
        if self._change("reboot", ws, lc.REBOOT_FROM) is not None:
            self._after_boot(ws, "reboot")

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def stop(self, w: int) -> None:
        ws = self._ws(w)
        if self._change("stop", ws, lc.STOP_FROM) is not None and not ws.unpredictable \
                and not self._faults_interfered():
            _check(self.state_of(ws) == lc.STOPPED, f"stop ended {self.state_of(ws)}")

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def start(self, w: int) -> None:
        ws = self._ws(w)
        if self._change("start", ws, lc.START_FROM) is not None:
            self._after_boot(ws, "start")

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def rebuild(self, w: int) -> None:
        ws = self._ws(w)
        snapshots = self.sim.workspaces.describe_workspace_snapshots(
            workspace_id=ws.workspace_id).rebuild_snapshots
        allowed = lc.REBUILD_FROM if snapshots else frozenset()
        if self._change("rebuild", ws, allowed) is None:
            return
        if self._after_boot(ws, "rebuild") == lc.AVAILABLE:
            self._adopt_rebuilt_data(ws)

    def _adopt_rebuilt_data(self, ws: WorkspaceModel) -> None:
        """A rebuild restores the last snapshot: each block must hold a version once written
        there (or zeros); what it holds becomes the model."""
        try:
            device = self._device(ws)
        except IncorrectState:
            ws.unpredictable = True
            return
        zeros = bytes(BLOCK_SIZE)
        for block in list(ws.data):
            try:
                found = device.read(block * BLOCK_SIZE, BLOCK_SIZE)
            except InvalidBlockCiphertext:
                _check(bool(ws.corrupted) or ws.unpredictable,
                       f"block {block} unreadable after rebuild, never corrupted")
                ws.corrupted.add(block)
                continue
            _check(found == zeros or found in ws.history[block],
                   f"block {block} after rebuild holds data never written there")
            ws.corrupted.discard(block)
            if found == zeros:
                del ws.data[block]
            else:
                ws.data[block] = found

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def terminate(self, w: int) -> None:
        ws = self._ws(w)
        self._begin()
        result = self.sim.workspaces.terminate_workspaces(workspace_ids=[ws.workspace_id])
        _check(not result.failed_requests, f"terminate refused: {result.failed_requests}")
        self.settle()
        state = self.state_of(ws)
        _check(state == lc.TERMINATED, f"terminate ended {state}")
        ws.terminated = True

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5), block=st.integers(0, 2), payload=st.binary(min_size=1, max_size=16))
    def write(self, w: int, block: int, payload: bytes) -> None:
        """Write a whole block of the user volume (D:) of a running WorkSpace."""
        ws = self._ws(w)
        block %= self.data_blocks
        if self.state_of(ws) != lc.AVAILABLE:
            return
        try:
            device = self._device(ws)
        except IncorrectState:
            _check(ws.unpredictable, "an AVAILABLE WorkSpace has no user volume attached")
            return
        data = (payload * (BLOCK_SIZE // len(payload) + 1))[:BLOCK_SIZE]
        device.write(block * BLOCK_SIZE, data)
        ws.data[block] = data
        ws.history.setdefault(block, set()).add(data)
        ws.corrupted.discard(block)

    @precondition(lambda self: self.ready)
    @rule(hours=st.sampled_from([1, 13, 30]))
    def wait(self, hours: int) -> None:
        """Let virtual time pass: snapshots are taken, key deletions come due."""
        self._begin()
        self.settle(hours * 3600.0)

    # ================================================================ faults

    def fault_effects(self, data: st.DataObject) -> tuple[Any, Effect]:
        """Draw a (trigger, effect) the model can follow; override to widen."""
        key = self._key(data.draw(st.integers(0, 2), label="key"))
        live = self.live_workspaces()
        ws = live[data.draw(st.integers(0, 5), label="workspace") % len(live)] if live else None
        step = AtStep(data.draw(st.integers(1, 9), label="step"),
                      data.draw(st.sampled_from(["before", "after"]), label="when"))
        soon = AtTime(self.sim.clock.now() + timedelta(
            seconds=data.draw(st.integers(0, 4 * 3600), label="after_seconds")))
        trigger = data.draw(st.sampled_from([step, soon]), label="trigger")
        options: list[Effect] = [DisableKey(key.arn), ScheduleKeyDeletion(key.arn, 7),
                                 RevokeGrant(key.arn, grantee_principal=self.grantee)]
        if ws is not None and ws.volume_ids:
            user_volume = self.sim.workspaces.volumes(ws.workspace_id).user_volume_id
            if user_volume:
                options += [
                    FlipBlockBit(user_volume, data.draw(
                        st.sampled_from(sorted(ws.data)) if ws.data else st.integers(0, 2),
                        label="block"),
                                 data.draw(st.integers(0, 8 * 64), label="bit")),
                    FlipDataKeyBit(user_volume),
                    RevokeGrant(key.arn, grantee_principal=ebs_identity_arn(self.sim.account_id)),
                    RevokeGrant(key.arn, grantee_principal=workspaces_identity_arn(
                        self.sim.account_id)),
                ]
                if self.unrecoverable_host_failures:
                    options.append(DropAttachment(user_volume))
        return trigger, data.draw(st.sampled_from(options), label="effect")

    @precondition(lambda self: self.ready and self.live_workspaces())
    @rule(w=st.integers(0, 5))
    def host_failure(self, w: int) -> None:
        """The host of a running WorkSpace fails; the user volume moves to a new host (a new
        KMS Decrypt), which works while the key and grants are usable."""
        ws = self._ws(w)
        key = self.keys[ws.key]
        if ws.unpredictable or key.state != ENABLED or self.state_of(ws) != lc.AVAILABLE:
            return
        volume_id = self.sim.workspaces.volumes(ws.workspace_id).user_volume_id
        assert volume_id is not None
        decrypts = len(self.sim.audit.events("Decrypt"))
        self._begin()
        self.sim.faults.inject(Fault(AtTime(self.sim.clock.now()), DropAttachment(volume_id)))
        self.settle(self.sim.settings.volume_attach_seconds)  # the new host's attach completes
        if not self._faults_interfered_beyond("DropAttachment", "Reattach"):
            reattached = self.sim.faults.records()[-1]
            _check((reattached.action, reattached.outcome) == ("Reattach", "ok"),
                   f"a host failure with a usable key did not recover: {reattached}")
            _check(len(self.sim.audit.events("Decrypt")) > decrypts,
                   "the new host attached the volume without a KMS Decrypt")

    def _faults_interfered_beyond(self, *expected: str) -> bool:
        new = self.sim.faults.records()[self._rule_start:]
        return any(r.action not in _TRANSIENT and r.action not in expected for r in new)

    @precondition(lambda self: self.ready)
    @rule(data=st.data())
    def inject_fault(self, data: st.DataObject) -> None:
        """A real admin action, corruption or host failure at a step or a virtual time."""
        trigger, effect = self.fault_effects(data)
        self.sim.faults.inject(Fault(trigger, effect))

    @precondition(lambda self: self.ready and all(
        a.cancelled or (a.fired and not a.pending_errors) for a in self._transient))
    @rule(operation=st.sampled_from(_OPS_FOR_TRANSIENT), nth=st.integers(1, 3),
          count=st.integers(1, 3),
          error=st.sampled_from(RETRYABLE_ERRORS))
    def inject_transient_error(self, operation: str, nth: int, count: int, error: str) -> None:
        """Retryable errors the services (and this machine, like an SDK) retry through."""
        self._transient.append(self.sim.faults.inject(Fault(OnCall(operation, nth),
                                                            RaiseError(error, count))))

    # ================================================================ invariants

    @invariant()
    def key_states_match_the_model(self) -> None:
        if not self.ready:
            return
        self._sync()
        with self.sim.faults.suspended():
            for key in self.keys:
                try:
                    state = self.sim.kms.describe_key(key_id=key.arn).key_state
                except AwsError as err:
                    state = DELETED if err.code == "NotFoundException" else err.code
                _check(state == key.state, f"key {key.arn} is {state}, model says {key.state}")

    @invariant()
    def written_data_is_never_lost_or_changed(self) -> None:
        if not self.ready:
            return
        for ws in self.live_workspaces():
            if not ws.data or self.state_of(ws) != lc.AVAILABLE:
                continue
            try:
                device = self._device(ws)
            except IncorrectState:
                _check(ws.unpredictable, f"{ws.workspace_id} is AVAILABLE without its user volume")
                continue
            for block, expected in ws.data.items():
                try:
                    found = device.read(block * BLOCK_SIZE, BLOCK_SIZE)
                except InvalidBlockCiphertext:
                    _check(block in ws.corrupted,
                           f"block {block} of {ws.workspace_id} unreadable, never corrupted")
                    continue
                _check(block not in ws.corrupted,
                       f"corrupted block {block} of {ws.workspace_id} read without error")
                _check(found == expected, f"block {block} of {ws.workspace_id} changed")

    @invariant()
    def no_plaintext_data_key_outside_live_attachments(self) -> None:
        if not self.ready:
            return
        # The buffers themselves (not copies): one no longer held must have been wiped.
        held = list(self.sim.ebs.tamper.held_data_keys().values())
        for key in held:
            if all(key is not seen for seen in self._key_buffers):
                self._key_buffers.append(key)
                secret = bytes(key)
                self._secret_needles.update({secret.hex(), base64.b64encode(secret).decode()})
        still_live = []
        for key in self._key_buffers:
            if any(key is h for h in held):
                still_live.append(key)
            else:
                _check(not any(key), "a detached volume's plaintext data key was not wiped")
        self._key_buffers = still_live
        audit = self.sim.audit.events()
        trace = self.sim.trace.events()
        text = "".join(json.dumps(r, default=str) for r in audit[self._audit_seen:]) + "".join(
            json.dumps(e.to_dict(), default=str) for e in trace[self._trace_seen:])
        self._audit_seen, self._trace_seen = len(audit), len(trace)
        for needle in self._secret_needles:
            _check(needle not in text, "a plaintext data key appears in the audit or the trace")

    @invariant()
    def every_decrypt_is_allowed_by_policy_or_a_live_grant(self) -> None:
        if not self.ready:
            return
        audit = self.sim.audit.events()
        root = self.sim.root.arn
        for record in audit[self._authz_seen:]:
            if "errorCode" in record:
                continue
            name = record["eventName"]
            params = record.get("requestParameters") or {}
            if name == "CreateGrant":
                grant_id = str((record.get("responseElements") or {}).get("grantId"))
                self._live_grants[grant_id] = (
                    record["resources"][0]["ARN"], params["granteePrincipal"],
                    frozenset(params["operations"]), params.get("constraints"))
            elif name in ("RetireGrant", "RevokeGrant"):
                extra = record.get("additionalEventData") or {}
                self._live_grants.pop(str(extra.get("grantId") or params.get("grantId")), None)
            elif name == "Decrypt":
                caller = record["userIdentity"].get("arn")
                key_arn = record["resources"][0]["ARN"]
                context = _pairs(params.get("encryptionContext"))
                _check(caller == root or any(
                    key == key_arn and grantee == caller and "Decrypt" in ops
                    and _constraints_allow(constraints, context)
                    for key, grantee, ops, constraints in self._live_grants.values()),
                    f"Decrypt by {caller} on {key_arn} allowed by no policy and no live grant")
        self._authz_seen = len(audit)

    @invariant()
    def terminated_workspaces_leave_no_grant_and_no_volume(self) -> None:
        if not self.ready:
            return
        ebs_volumes = {v.volume_id for v in self.sim.ebs.describe_volumes().volumes}
        for ws in self.workspaces:
            if not ws.terminated:
                continue
            for volume_id in ws.volume_ids:
                _check(volume_id not in ebs_volumes, f"{ws.workspace_id} left {volume_id} behind")
        grants = [g for key in self.keys for g in self.sim.kms.grants.list(key.arn)]
        ebs_ids = {g.constraints.encryption_context_subset.get("aws:ebs:id")
                   for g in grants if g.constraints and g.constraints.encryption_context_subset}
        for ws in self.workspaces:
            if ws.terminated:
                _check(not ebs_ids & ws.volume_ids, f"{ws.workspace_id} left an EBS grant behind")
        ws_identity = workspaces_identity_arn(self.sim.account_id)
        per_user: dict[str, int] = {}
        for g in grants:
            if g.grantee_principal == ws_identity and g.constraints is not None:
                subset = g.constraints.encryption_context_subset or {}
                user = subset.get(lc.SID_DIRECTORY_CONTEXT_KEY)
                if user is not None:
                    per_user[user] = per_user.get(user, 0) + 1
        _check(sum(per_user.values()) <= len(self.live_workspaces()),
               "more WorkSpaces grants than WorkSpaces: a terminated WorkSpace left its grant")

    def teardown(self) -> None:
        if self.ready:
            self.sim.faults.clear()


def _constraints_allow(constraints: dict[str, Any] | None,
                       context: frozenset[tuple[str, str]]) -> bool:
    if not constraints:
        return True
    subset = constraints.get("encryptionContextSubset")
    equals = constraints.get("encryptionContextEquals")
    if subset is not None and not _pairs(subset) <= context:
        return False
    return not (equals is not None and _pairs(equals) != context)
