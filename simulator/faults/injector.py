"""``sim.faults``: installs faults through the runtime's hooks and clock, and records each one.

No service contains a fault branch. A trigger is a hook handler (``before-call.kms.Decrypt``,
``before-step.5``), a draw from the simulation's entropy inside one, or a call scheduled on the
virtual clock. An effect either raises an AWS error from a ``before-call`` handler (the service
fails that call exactly as if it had raised the error itself, audit record included) or does
something real: a KMS admin call as the account root, an EBS corruption or host failure through
EBS's public tamper seam (``ebs.tamper``), a settings change.

Every time a fault acts -- each injected error, each admin action, each corruption -- a trace
event (actor ``"Faults"``) and an audit record (``eventName`` ``"FaultInjected"``, source
``"envelope-sim.faults"``) are written, so cause and effect can be read side by side. An admin
action that KMS refuses (the key is already pending deletion, say) does not break the call that
triggered it: the refusal is recorded as the fault's outcome.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..crypto import BlobError, parse_header
from ..errors import AwsError, ValidationException, error_for_code
from ..runtime import Runtime
from .model import (
    AtStep,
    AtTime,
    Chance,
    DisableKey,
    DropAttachment,
    Effect,
    Fault,
    FaultPlan,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
    expand_operation,
)
from .seams import KmsForFaults, WorkSpacesForFaults

if TYPE_CHECKING:
    from ..ebs.service import ElasticBlockStore

__all__ = ["ActiveFault", "FaultInjector", "FaultRecord", "FaultSkippedWarning"]

_SOURCE = "envelope-sim.faults"
#: Call parameters that name the key in play, in the order they are looked at.
_KEY_PARAMETERS = ("keyId", "kmsKeyId", "targetKeyId", "sourceKeyId", "destinationKeyId")


class FaultSkippedWarning(UserWarning):
    """A fault fired but could not act (its target did not exist): the run went on without it."""


@dataclass(frozen=True)
class FaultRecord:
    """One thing a fault did: ``action`` (``"DisableKey"``, ``"InjectError"``...) on ``target``.

    ``outcome`` is ``"ok"``, the AWS error code an admin action got back, or ``"skipped"``
    (with the reason in ``detail``) when the target did not exist. A skip is never silent: it
    is also a trace event, an audit record and a :class:`FaultSkippedWarning`.
    """

    time: datetime
    fault_id: str
    action: str
    target: str
    outcome: str = "ok"
    workspace_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class ActiveFault:
    """An injected fault: how often it fired, what it did; ``cancel()`` removes it."""

    fault_id: str
    fault: Fault
    fired: int = 0
    #: Errors still to raise (a :class:`RaiseError` effect that has fired).
    pending_errors: int = 0
    cancelled: bool = False
    _cleanups: list[Callable[[], object]] = field(default_factory=list, repr=False)
    #: Unregister functions of the trigger's hooks and of the error raiser's hooks, removed
    #: as soon as they can no longer act (a one-shot trigger that fired, errors all raised).
    _trigger_hooks: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _raiser_hooks: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _trigger_done: bool = False
    _records: list[FaultRecord] = field(default_factory=list, repr=False)

    @property
    def records(self) -> list[FaultRecord]:
        """What this fault did, in order."""
        return list(self._records)

    def cancel(self) -> None:
        """Stop the fault: its hooks are removed and its scheduled time cancelled."""
        for cleanup in self._cleanups:
            cleanup()
        self._cleanups.clear()
        self._retire_trigger()
        self._retire_raiser()
        self.pending_errors = 0
        self.cancelled = True

    def _retire_trigger(self) -> None:
        """The trigger can fire no more: its handlers leave the hooks."""
        self._trigger_done = True
        for unregister in self._trigger_hooks:
            unregister()
        self._trigger_hooks.clear()
        if self.pending_errors <= 0:
            self._retire_raiser()

    def _retire_raiser(self) -> None:
        for unregister in self._raiser_hooks:
            unregister()
        self._raiser_hooks.clear()

    def __str__(self) -> str:
        return f"{self.fault_id}: {self.fault.describe()} (fired {self.fired}x)"


class _Firing:
    """What a trigger knows when it fires: the WorkSpace, or the call's operation and params."""

    __slots__ = ("blob", "operation", "params", "step", "workspace_id")

    def __init__(self, workspace_id: str | None = None, operation: str | None = None,
                 params: Mapping[str, Any] | None = None, step: int | None = None,
                 blob: object = None) -> None:
        self.workspace_id = workspace_id
        self.operation = operation
        self.params = params
        self.step = step
        self.blob = blob  # a Decrypt's ciphertext blob: it names its key


class FaultInjector:
    """Injects :class:`Fault` objects into one simulation (``sim.faults``)."""

    def __init__(self, runtime: Runtime, kms: KmsForFaults,
                 ebs: ElasticBlockStore | None = None,
                 workspaces: WorkSpacesForFaults | None = None,
                 cells: Callable[[str, str], FaultInjector] | None = None) -> None:
        self._rt = runtime
        #: The injector of another account and Region of the simulation (for faults naming
        #: one); None: this injector serves one account and Region only.
        self._cells = cells
        self._kms = kms
        self._ebs = ebs
        self._workspaces = workspaces
        self._active: list[ActiveFault] = []
        self._records: list[FaultRecord] = []
        # While a fault acts (an admin call goes through KMS's own hooks) or while suspended,
        # triggers ignore what happens: faults never trigger faults.
        self._quiet = 0

    # --- public ----------------------------------------------------------------------------

    def inject(self, fault: Fault) -> ActiveFault:
        """Install ``fault``; it fires when its trigger does. Returns a handle to cancel it."""
        if not isinstance(fault, Fault):
            raise ValidationException(f"inject needs a Fault, not {type(fault).__name__}")
        where = (fault.account_id or self._rt.account_id, fault.region or self._rt.region)
        if where != (self._rt.account_id, self._rt.region):
            if self._cells is None:
                raise ValidationException(
                    f"This injector serves account {self._rt.account_id} in "
                    f"{self._rt.region} only; the fault names {where[0]} in {where[1]}.")
            return self._cells(*where).inject(fault)
        problem = fault.missing_target()
        if problem is not None:
            raise ValidationException(f"This fault could never act ({fault.describe()}): {problem}")
        active = ActiveFault(f"fault-{next(self._rt.fault_numbers)}", fault)
        self._install(active)
        self._active.append(active)
        self._rt.trace.record("Faults", "Armed", active.fault_id, fault=fault.describe())
        return active

    def inject_plan(self, plan: FaultPlan | Iterable[Fault]) -> list[ActiveFault]:
        """Install every fault of ``plan`` (a :class:`FaultPlan` or any iterable of faults)."""
        if not isinstance(plan, Iterable):
            raise ValidationException(
                f"inject_plan needs a FaultPlan or faults, not {type(plan).__name__}")
        faults = list(plan)
        for f in faults:
            if not isinstance(f, Fault):
                raise ValidationException(f"A fault plan holds Faults, not {type(f).__name__}")
        return [self.inject(f) for f in faults]

    @property
    def active(self) -> list[ActiveFault]:
        """Faults injected and not cancelled, in injection order."""
        return [a for a in self._active if not a.cancelled]

    def records(self, fault_id: str | None = None) -> list[FaultRecord]:
        """What faults did, in order (optionally one fault's)."""
        return [r for r in self._records if fault_id is None or r.fault_id == fault_id]

    def clear(self) -> None:
        """Cancel every fault (records stay)."""
        for a in self._active:
            a.cancel()
        self._active.clear()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Inside, faults neither count calls nor fire (for checks that must see the truth)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def __repr__(self) -> str:
        return f"FaultInjector(active={len(self.active)}, records={len(self._records)})"

    # --- installing -------------------------------------------------------------------------

    def _install(self, a: ActiveFault) -> None:
        trigger, effect = a.fault.trigger, a.fault.effect
        hooks = self._rt.hooks
        # The trigger's handlers go first, so an error armed by call n is raised for call n.
        if isinstance(trigger, AtStep):
            a._trigger_hooks.append(hooks.register(trigger.event, self._on_step(a, trigger)))
        elif isinstance(trigger, OnCall):
            handler = self._on_call(a, trigger)
            for event in expand_operation(trigger.operation):
                a._trigger_hooks.append(hooks.register(event, handler))
        elif isinstance(trigger, Chance):
            handler = self._on_chance(a, trigger)
            for event in expand_operation(trigger.operation):
                a._trigger_hooks.append(hooks.register(event, handler))
        elif isinstance(trigger, AtTime):
            def at_time() -> None:
                self._fire(a, _Firing())
                a._retire_trigger()

            call = self._rt.clock.schedule_at(trigger.at, f"fault:{a.fault_id}", at_time)
            a._cleanups.append(call.cancel)
        if isinstance(effect, RaiseError):
            operation = effect.operation or (
                trigger.operation if isinstance(trigger, OnCall | Chance) else "kms:*")
            raiser = self._raiser(a, effect)
            for event in expand_operation(operation):
                a._raiser_hooks.append(hooks.register(event, raiser))

    def _on_step(self, a: ActiveFault, trigger: AtStep) -> Callable[..., None]:
        seen = 0

        def handler(*, event: str, workspace_id: str | None = None, key_id: str | None = None,
                    **_: Any) -> None:
            nonlocal seen
            if self._quiet or a.cancelled:
                return
            if trigger.workspace_id is not None and workspace_id != trigger.workspace_id:
                return
            seen += 1
            if seen == trigger.occurrence:
                self._fire(a, _Firing(workspace_id=workspace_id, step=trigger.step,
                                      params={"keyId": key_id} if key_id else None))
                a._retire_trigger()  # one-shot: nothing stays registered that cannot act

        return handler

    def _on_call(self, a: ActiveFault, trigger: OnCall) -> Callable[..., None]:
        seen = 0

        def handler(*, event: str, params: Mapping[str, Any] | None = None,
                    ciphertext_blob: object = None, **_: Any) -> None:
            nonlocal seen
            if self._quiet or a.cancelled:
                return
            seen += 1
            if seen == trigger.nth:
                self._fire(a, _Firing(operation=_operation_of(event), params=params,
                                      blob=ciphertext_blob))
                a._retire_trigger()  # one-shot: nothing stays registered that cannot act

        return handler

    def _on_chance(self, a: ActiveFault, trigger: Chance) -> Callable[..., None]:
        def handler(*, event: str, params: Mapping[str, Any] | None = None,
                    ciphertext_blob: object = None, **_: Any) -> None:
            if self._quiet or a.cancelled:
                return
            if trigger.max_fires is not None and a.fired >= trigger.max_fires:
                return
            # The simulation's own entropy: a seeded run replays the same faults.
            if self._rt.entropy.uniform() < trigger.probability:
                self._fire(a, _Firing(operation=_operation_of(event), params=params,
                                      blob=ciphertext_blob))
                if trigger.max_fires is not None and a.fired >= trigger.max_fires:
                    a._retire_trigger()

        return handler

    def _raiser(self, a: ActiveFault, effect: RaiseError) -> Callable[..., None]:
        cls = error_for_code(effect.error)

        def handler(*, event: str, **kwargs: Any) -> None:
            if self._quiet or a.pending_errors <= 0:
                return
            a.pending_errors -= 1
            if a.pending_errors <= 0 and a._trigger_done:
                a._retire_raiser()
            operation = _operation_of(event)
            err = cls(f"{_MESSAGES[effect.error]} (injected by {a.fault_id})")
            self._record(a, "InjectError", operation, outcome=effect.error,
                         detail={"error": effect.error, "remaining": a.pending_errors})
            raise err

        return handler

    # --- firing -----------------------------------------------------------------------------

    def _fire(self, a: ActiveFault, firing: _Firing) -> None:
        if a.cancelled:
            return
        a.fired += 1
        effect = a.fault.effect
        if isinstance(effect, RaiseError):
            a.pending_errors += effect.count
            self._record(a, "ArmError", effect.operation or firing.operation or "kms:*",
                         firing=firing, detail={"error": effect.error, "count": effect.count})
            return
        self._quiet += 1
        try:
            self._act(a, effect, firing)
        finally:
            self._quiet -= 1

    def _act(self, a: ActiveFault, effect: Effect, firing: _Firing) -> None:
        name = type(effect).__name__
        if isinstance(effect, SetGrantPropagation):
            was = self._rt.settings.grant_propagation_seconds
            self._rt.settings.grant_propagation_seconds = float(effect.seconds)
            self._record(a, name, "settings.grant_propagation_seconds", firing=firing,
                         detail={"from_seconds": was, "to_seconds": float(effect.seconds)})
            return
        if isinstance(effect, FlipBlockBit | FlipDataKeyBit | DropAttachment):
            self._act_on_volume(a, effect, firing)
            return
        assert isinstance(effect, DisableKey | ScheduleKeyDeletion | RevokeGrant | RetireGrant
                          | PutKeyPolicy)
        key, why = self._key_of(effect.key_id, firing)
        if key is None:
            self._record(a, name, effect.key_id or "-", outcome="skipped", firing=firing,
                         detail={"reason": why})
            return
        kms = self._kms
        try:
            if isinstance(effect, DisableKey):
                kms.disable_key(key_id=key)
            elif isinstance(effect, ScheduleKeyDeletion):
                kms.schedule_key_deletion(key_id=key,
                                          pending_window_in_days=effect.pending_window_in_days)
            elif isinstance(effect, PutKeyPolicy):
                kms.put_key_policy(key_id=key, policy=effect.policy, policy_name="default")
            else:
                self._end_grants(a, effect, key, firing)
                return
        except AwsError as err:
            self._record(a, name, key, outcome=err.code, firing=firing, key_arn=key,
                         detail={"error": err.message})
            return
        self._record(a, name, key, firing=firing, key_arn=key)

    def _end_grants(self, a: ActiveFault, effect: RevokeGrant | RetireGrant, key: str,
                    firing: _Firing) -> None:
        name = type(effect).__name__
        grants = self._kms.grants.list(key, grant_id=effect.grant_id,
                                       grantee_principal=effect.grantee_principal)
        if not grants:
            self._record(a, name, key, outcome="skipped", firing=firing, key_arn=key,
                         detail={"reason": "no current grant matches",
                                 "grant_id": effect.grant_id,
                                 "grantee_principal": effect.grantee_principal})
            return
        for g in grants:
            try:
                if isinstance(effect, RevokeGrant):
                    self._kms.revoke_grant(key_id=key, grant_id=g.grant_id)
                else:
                    self._kms.retire_grant(key_id=key, grant_id=g.grant_id)
            except AwsError as err:
                self._record(a, name, key, outcome=err.code, firing=firing, key_arn=key,
                             detail={"grant_id": g.grant_id, "error": err.message})
                continue
            self._record(a, name, key, firing=firing, key_arn=key,
                         detail={"grant_id": g.grant_id, "grantee": g.grantee_principal})

    def _act_on_volume(self, a: ActiveFault, effect: FlipBlockBit | FlipDataKeyBit | DropAttachment,
                       firing: _Firing) -> None:
        name = type(effect).__name__
        volume_id, why = self._volume_of(effect.volume_id, firing)
        if volume_id is None or self._ebs is None:
            self._record(a, name, effect.volume_id, outcome="skipped", firing=firing,
                         detail={"reason": why or "this simulation has no EBS"})
            return
        detail: dict[str, Any] = {}
        try:
            if isinstance(effect, FlipBlockBit):
                detail = {"block_index": effect.block_index, "bit": effect.bit}
                self._ebs.tamper.flip_block_bit(volume_id, effect.block_index, effect.bit)
            elif isinstance(effect, FlipDataKeyBit):
                detail = {"bit": effect.bit}
                self._ebs.tamper.flip_data_key_bit(volume_id, effect.bit)
            else:
                attachments = self._ebs.describe_volumes(volume_ids=[volume_id]).volumes[0].attachments
                self._ebs.tamper.fail_host(volume_id)
        except AwsError as err:
            self._record(a, name, volume_id, outcome="skipped", firing=firing,
                         detail={**detail, "reason": err.message})
            return
        self._record(a, name, volume_id, firing=firing, detail=detail)
        if isinstance(effect, DropAttachment) and effect.reattach_after_seconds is not None:
            where = attachments[0]
            ebs = self._ebs

            def reattach() -> None:
                # The recovered instance: EBS attaches the volume again (a new KMS Decrypt).
                try:
                    ebs.attach_volume(volume_id=volume_id, instance_id=where.instance_id,
                                      device=where.device)
                except AwsError as err:
                    self._record(a, "Reattach", volume_id, outcome=err.code, firing=firing,
                                 detail={"instance_id": where.instance_id, "error": err.message})
                    return
                self._record(a, "Reattach", volume_id, firing=firing,
                             detail={"instance_id": where.instance_id})

            if effect.reattach_after_seconds == 0:
                reattach()
            else:
                call = self._rt.clock.schedule(effect.reattach_after_seconds,
                                               f"fault:{a.fault_id}:reattach", reattach)
                a._cleanups.append(call.cancel)

    # --- targets ----------------------------------------------------------------------------

    def _key_of(self, key_id: str | None, firing: _Firing) -> tuple[str | None, str]:
        """The key ARN an admin action acts on, or None and why not."""
        ref, why = (key_id, "") if key_id is not None else self._key_in_play(firing)
        if ref is None:
            return None, why
        if ref.startswith("arn:") and ":key/" in ref:
            return ref, ""
        try:
            return self._kms.describe_key(key_id=ref).arn, ""
        except AwsError as err:
            return None, err.message

    def _key_in_play(self, firing: _Firing) -> tuple[str | None, str]:
        """The key the trigger names: the call's key parameter, the key its blob names, the
        key of its volume or snapshot, or the triggering WorkSpace's key."""
        params = firing.params or {}
        for name in _KEY_PARAMETERS:
            found = params.get(name)
            if isinstance(found, str) and found:
                return found, ""
        if isinstance(firing.blob, bytes | bytearray):
            try:
                return parse_header(bytes(firing.blob)).key_id, ""
            except BlobError:
                return None, "the call's ciphertext blob names no key of this simulation"
        ebs = self._ebs
        if ebs is not None:
            lookups: dict[str, Callable[[str], Any]] = {
                "volumeId": lambda i: ebs.describe_volumes(volume_ids=[i]).volumes[0],
                "snapshotId": lambda i: ebs.describe_snapshots(snapshot_ids=[i]).snapshots[0]}
            for name, describe in lookups.items():
                resource_id = params.get(name)
                if not isinstance(resource_id, str):
                    continue
                try:
                    key_arn = describe(resource_id).kms_key_id
                except AwsError as err:
                    return None, err.message
                return (key_arn, "") if key_arn else (None, f"{resource_id} is not encrypted")
        if firing.workspace_id is not None and self._workspaces is not None:
            try:
                ref = self._workspaces.volumes(firing.workspace_id).kms_key_arn
            except AwsError as err:
                return None, err.message
            return (ref, "") if ref else (None, f"WorkSpace {firing.workspace_id} has no KMS key")
        return None, "no key_id given and the triggering call named no key"

    def _volume_of(self, ref: str, firing: _Firing) -> tuple[str | None, str]:
        if ref.startswith("vol-"):
            return ref, ""
        if firing.workspace_id is None or self._workspaces is None:
            return None, f"volume '{ref}' needs a trigger that names a WorkSpace (AtStep)"
        try:
            vols = self._workspaces.volumes(firing.workspace_id)
        except AwsError as err:
            return None, err.message
        volume_id = vols.root_volume_id if ref == "root" else vols.user_volume_id
        if volume_id is None:
            return None, f"WorkSpace {firing.workspace_id} has no {ref} volume yet"
        return volume_id, ""

    # --- recording --------------------------------------------------------------------------

    def _record(self, a: ActiveFault, action: str, target: str, *, outcome: str = "ok",
                firing: _Firing | None = None, key_arn: str | None = None,
                detail: Mapping[str, Any] | None = None) -> None:
        rt = self._rt
        workspace_id = firing.workspace_id if firing is not None else None
        step = firing.step if firing is not None else None
        info = dict(detail or {})
        record = FaultRecord(rt.clock.now(), a.fault_id, action, target, outcome, workspace_id,
                             info)
        self._records.append(record)
        a._records.append(record)
        if outcome == "skipped":
            warnings.warn(FaultSkippedWarning(
                f"{a.fault_id} ({a.fault.describe()}) did nothing: "
                f"{info.get('reason', 'its target was not found')}"),
                stacklevel=_first_frame_outside_the_simulator())
        rt.trace.record("Faults", action, target, outcome=outcome, workspace_id=workspace_id,
                        step=step, fault_id=a.fault_id, fault=a.fault.describe(), **info)
        rt.audit.record(
            "FaultInjected",
            user_identity={"type": "AWSService", "invokedBy": _SOURCE,
                           "accountId": rt.account_id},
            request_parameters={"faultId": a.fault_id, "action": action, "target": target,
                                "workspaceId": workspace_id, "fault": a.fault.to_dict(),
                                **({"detail": info} if info else {})},
            additional_event_data={"outcome": outcome},
            resources=[key_arn] if key_arn else [],
            event_type="AwsServiceEvent",
            event_source=_SOURCE,
            source_ip=_SOURCE,
            user_agent=_SOURCE,
        )


#: The texts of injected errors (what AWS says for these; the fault id is appended).
_MESSAGES = {
    "KMSInternalException": "An internal error occurred in KMS",
    "DependencyTimeoutException": "The system timed out while trying to fulfill the request",
    "KeyUnavailableException": "The request was rejected because the specified KMS key was "
                               "not available",
    "ThrottlingException": "Rate exceeded",
}


def _first_frame_outside_the_simulator() -> int:
    """The ``stacklevel`` that points a warning at the user's line that set the run going (the
    call or ``advance`` during which the fault fired), not at this module."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    return level


_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def _operation_of(event: str) -> str:
    """``"before-call.kms.Decrypt"`` -> ``"kms:Decrypt"``."""
    _, service, name = event.split(".", 2)
    return f"{service}:{name}"
