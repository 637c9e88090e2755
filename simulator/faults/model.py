"""Faults as data: a trigger (when) and an effect (what), printable, comparable, JSON round-trip.

Nothing here touches a simulation; :mod:`simulator.faults.injector` installs faults through the
runtime's hooks and clock. Every class is a frozen dataclass, so faults compare by value, hash,
print readably and can be stored in a scenario file (``fault.to_json()`` /
``Fault.from_json(text)``).

Triggers:

- :class:`AtStep` -- before or after lifecycle step *n* (1-9) of one WorkSpace or any.
- :class:`OnCall` -- the *n*-th call of an operation (``"kms:Decrypt"``, ``"ec2:AttachVolume"``).
- :class:`AtTime` -- a virtual time.
- :class:`Chance` -- each call of an operation, with a probability drawn from the simulation's
  own entropy (so a seeded run replays).

Effects:

- :class:`RaiseError` -- the next *k* calls of an operation fail with a retryable AWS error.
- :class:`DisableKey`, :class:`ScheduleKeyDeletion`, :class:`RevokeGrant`, :class:`RetireGrant`,
  :class:`PutKeyPolicy` -- a real KMS admin action, called as the account root.
- :class:`FlipBlockBit`, :class:`FlipDataKeyBit` -- corrupt a stored EBS block or a volume's
  encrypted data key.
- :class:`SetGrantPropagation` -- change the grant propagation delay.
- :class:`DropAttachment` -- a host failure: the attachment and its plaintext data key are lost.

Targets that a plan cannot know in advance (the key or volumes of a WorkSpace that does not exist
yet) can be left to the trigger: an effect with ``key_id=None`` acts on the key of the WorkSpace
(or call) that fired it, and ``volume_id="root"`` / ``"user"`` names that WorkSpace's volume.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

from ..errors import ValidationException

__all__ = [
    "EC2_OPERATIONS",
    "KEYLESS_OPERATIONS",
    "KMS_OPERATIONS",
    "RETRYABLE_ERRORS",
    "AtStep",
    "AtTime",
    "Chance",
    "DisableKey",
    "DropAttachment",
    "Effect",
    "Fault",
    "FaultPlan",
    "FlipBlockBit",
    "FlipDataKeyBit",
    "OnCall",
    "PutKeyPolicy",
    "RaiseError",
    "RetireGrant",
    "RevokeGrant",
    "ScheduleKeyDeletion",
    "SetGrantPropagation",
    "Trigger",
    "expand_operation",
]

#: KMS operations that emit ``before-call.kms.<Operation>`` (``"kms:*"`` means all of them).
KMS_OPERATIONS = (
    "CancelKeyDeletion", "CreateAlias", "CreateGrant", "CreateKey", "Decrypt", "DeleteAlias",
    "DescribeKey", "DisableKey", "DisableKeyRotation", "EnableKey", "EnableKeyRotation",
    "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom",
    "GetKeyPolicy", "GetKeyRotationStatus", "ListAliases", "ListGrants", "ListKeyPolicies",
    "ListKeyRotations", "ListKeys", "ListResourceTags", "ListRetirableGrants", "PutKeyPolicy",
    "ReEncrypt", "RetireGrant", "RevokeGrant", "RotateKeyOnDemand", "ScheduleKeyDeletion",
    "TagResource", "UntagResource", "UpdateAlias", "UpdateKeyDescription",
)
#: EBS (EC2) operations that emit ``before-call.ec2.<Operation>`` (``"ec2:*"``: all of them).
EC2_OPERATIONS = (
    "AttachVolume", "CopySnapshot", "CreateSnapshot", "CreateVolume", "DeleteSnapshot",
    "DeleteVolume", "DetachVolume",
)
_OPERATIONS = {"kms": KMS_OPERATIONS, "ec2": EC2_OPERATIONS}
#: Operations whose call names no KMS key (so no "key in play" for an effect without key_id).
#: Every other operation names one: a key id, a blob (which names its key), a volume or a
#: snapshot (which has one).
KEYLESS_OPERATIONS = frozenset({"kms:CreateKey", "kms:GenerateRandom", "kms:ListKeys",
                                "kms:ListRetirableGrants"})
#: The errors a :class:`RaiseError` may inject: what AWS SDKs retry.
RETRYABLE_ERRORS = ("KMSInternalException", "DependencyTimeoutException",
                    "KeyUnavailableException", "ThrottlingException")
_VOLUME_REF = re.compile(r"vol-(?:[0-9a-f]{8}|[0-9a-f]{17})|root|user")
_MAX_COUNT = 1_000_000


def _fail(cls: type, message: str) -> ValidationException:
    return ValidationException(f"{cls.__name__}: {message}")


def _int(obj: object, name: str, value: object, low: int, high: int = _MAX_COUNT) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(type(obj), f"{name} must be an integer from {low} to {high}, not {value!r}")


def _number(obj: object, name: str, value: object, low: float, high: float) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not low <= value <= high):
        raise _fail(type(obj), f"{name} must be a number from {low} to {high}, not {value!r}")


def _text(obj: object, name: str, value: object, *, optional: bool = False,
          max_len: int = 2048) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise _fail(type(obj), f"{name} must be a non-empty string of at most {max_len} "
                               f"characters, not {value!r}")


def _operation(obj: object, value: object, *, wildcard: bool) -> None:
    """``"kms:Decrypt"``, ``"ec2:AttachVolume"`` (or ``"kms:*"`` where ``wildcard``)."""
    if isinstance(value, str) and ":" in value:
        service, _, name = value.partition(":")
        known = _OPERATIONS.get(service)
        if known is not None and (name in known or (wildcard and name == "*")):
            return
    raise _fail(type(obj), f"unknown operation {value!r}; expected 'kms:<Operation>' or "
                           f"'ec2:<Operation>' such as 'kms:Decrypt' or 'ec2:AttachVolume'"
                           + (" (or 'kms:*' / 'ec2:*')" if wildcard else ""))


def expand_operation(operation: str) -> tuple[str, ...]:
    """The hook events of an operation name: ``"kms:Decrypt"`` -> ``("before-call.kms.Decrypt",)``."""
    service, _, name = operation.partition(":")
    names = _OPERATIONS[service] if name == "*" else (name,)
    return tuple(f"before-call.{service}.{n}" for n in names)


# ============================================================================== triggers


@dataclass(frozen=True)
class Trigger:
    """When a fault fires (base class)."""

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


@dataclass(frozen=True)
class AtStep(Trigger):
    """Before or after lifecycle step ``step`` (1-9) of WorkSpace ``workspace_id`` (or of any).

    ``occurrence`` is which time the step is reached (1: the first time; a reboot reaches step 5
    again). The hooks are ``before-step.<n>`` / ``after-step.<n>``, emitted by WorkSpaces.
    """

    step: int
    when: Literal["before", "after"] = "before"
    workspace_id: str | None = None
    occurrence: int = 1

    def __post_init__(self) -> None:
        _int(self, "step", self.step, 1, 9)
        if self.when not in ("before", "after"):
            raise _fail(type(self), f"when must be 'before' or 'after', not {self.when!r}")
        _text(self, "workspace_id", self.workspace_id, optional=True, max_len=64)
        _int(self, "occurrence", self.occurrence, 1)

    @property
    def event(self) -> str:
        return f"{self.when}-step.{self.step}"

    def describe(self) -> str:
        nth = "" if self.occurrence == 1 else f" (occurrence {self.occurrence})"
        return f"{self.when} step {self.step} of {self.workspace_id or 'any WorkSpace'}{nth}"


@dataclass(frozen=True)
class OnCall(Trigger):
    """The ``nth`` call (1-based) of ``operation``, such as ``"kms:Decrypt"``, counted from
    the moment the fault is injected."""

    operation: str
    nth: int = 1

    def __post_init__(self) -> None:
        _operation(self, self.operation, wildcard=False)
        _int(self, "nth", self.nth, 1)

    def describe(self) -> str:
        return f"call #{self.nth} of {self.operation}"


@dataclass(frozen=True)
class AtTime(Trigger):
    """Virtual time ``at`` (timezone-aware; a time already past fires at once)."""

    at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise _fail(type(self), f"at must be a timezone-aware datetime, not {self.at!r}")

    def describe(self) -> str:
        return f"at {self.at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


@dataclass(frozen=True)
class Chance(Trigger):
    """Each call of ``operation``, with ``probability`` (drawn from the simulation's entropy);
    at most ``max_fires`` times (None: no limit)."""

    probability: float
    operation: str
    max_fires: int | None = None

    def __post_init__(self) -> None:
        _number(self, "probability", self.probability, 0.0, 1.0)
        _operation(self, self.operation, wildcard=True)
        if self.max_fires is not None:
            _int(self, "max_fires", self.max_fires, 1)

    def describe(self) -> str:
        limit = "" if self.max_fires is None else f", at most {self.max_fires} times"
        return f"each call of {self.operation} with probability {self.probability:g}{limit}"


# =============================================================================== effects


@dataclass(frozen=True)
class Effect:
    """What a fault does when it fires (base class)."""

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


@dataclass(frozen=True)
class RaiseError(Effect):
    """The next ``count`` calls of ``operation`` fail with the retryable AWS error ``error``.

    ``operation`` None means: the operation of the triggering call (an :class:`OnCall` or
    :class:`Chance` trigger; that call is the first to fail), otherwise every KMS operation.
    """

    error: str = "KMSInternalException"
    count: int = 1
    operation: str | None = None

    def __post_init__(self) -> None:
        if self.error not in RETRYABLE_ERRORS:
            raise _fail(type(self), f"error must be one of {', '.join(RETRYABLE_ERRORS)}, "
                                    f"not {self.error!r}")
        _int(self, "count", self.count, 1)
        if self.operation is not None:
            _operation(self, self.operation, wildcard=True)

    def describe(self) -> str:
        calls = "call" if self.count == 1 else f"{self.count} calls"
        return f"raise {self.error} on the next {calls} of {self.operation or 'the operation'}"


@dataclass(frozen=True)
class DisableKey(Effect):
    """DisableKey, as the account root. ``key_id`` None: the triggering WorkSpace's (call's) key."""

    key_id: str | None = None

    def __post_init__(self) -> None:
        _text(self, "key_id", self.key_id, optional=True)

    def describe(self) -> str:
        return f"DisableKey {self.key_id or '(the key in play)'}"


@dataclass(frozen=True)
class ScheduleKeyDeletion(Effect):
    """ScheduleKeyDeletion (7-30 days), as the account root."""

    key_id: str | None = None
    pending_window_in_days: int = 7

    def __post_init__(self) -> None:
        _text(self, "key_id", self.key_id, optional=True)
        _int(self, "pending_window_in_days", self.pending_window_in_days, 7, 30)

    def describe(self) -> str:
        return (f"ScheduleKeyDeletion {self.key_id or '(the key in play)'} in "
                f"{self.pending_window_in_days} days")


@dataclass(frozen=True)
class _GrantAction(Effect):
    """Selects the current grants of a key: one by id, those of one grantee, or all."""

    key_id: str | None = None
    grant_id: str | None = None
    grantee_principal: str | None = None

    def __post_init__(self) -> None:
        _text(self, "key_id", self.key_id, optional=True)
        _text(self, "grant_id", self.grant_id, optional=True, max_len=128)
        _text(self, "grantee_principal", self.grantee_principal, optional=True, max_len=256)

    def describe(self) -> str:
        which = (f"grant {self.grant_id}" if self.grant_id else
                 f"the grants for {self.grantee_principal}" if self.grantee_principal else
                 "every grant")
        return f"{type(self).__name__} {which} on {self.key_id or '(the key in play)'}"


@dataclass(frozen=True)
class RevokeGrant(_GrantAction):
    """RevokeGrant, as the account root, for the selected grants."""


@dataclass(frozen=True)
class RetireGrant(_GrantAction):
    """RetireGrant, as the account root, for the selected grants."""


@dataclass(frozen=True)
class PutKeyPolicy(Effect):
    """PutKeyPolicy with ``policy`` (a JSON document), as the account root."""

    policy: str
    key_id: str | None = None

    def __post_init__(self) -> None:
        _text(self, "policy", self.policy, max_len=32768)
        _text(self, "key_id", self.key_id, optional=True)

    def describe(self) -> str:
        return f"PutKeyPolicy on {self.key_id or '(the key in play)'}"


def _volume(obj: object, value: object) -> None:
    if not isinstance(value, str) or not _VOLUME_REF.fullmatch(value):
        raise _fail(type(obj), f"volume_id must be 'vol-...', 'root' or 'user', not {value!r}")


@dataclass(frozen=True)
class FlipBlockBit(Effect):
    """Flip bit ``bit`` of stored block ``block_index`` of a volume (corruption on disk).

    ``volume_id`` is ``"vol-..."``, or ``"root"`` / ``"user"``: that volume of the triggering
    WorkSpace.
    """

    volume_id: str = "user"
    block_index: int = 0
    bit: int = 0

    def __post_init__(self) -> None:
        _volume(self, self.volume_id)
        _int(self, "block_index", self.block_index, 0, 1 << 40)
        _int(self, "bit", self.bit, 0, 1 << 20)

    def describe(self) -> str:
        return f"flip bit {self.bit} of block {self.block_index} of {self.volume_id}"


@dataclass(frozen=True)
class FlipDataKeyBit(Effect):
    """Flip bit ``bit`` of a volume's stored encrypted data key: the next attach fails."""

    volume_id: str = "user"
    bit: int = 0

    def __post_init__(self) -> None:
        _volume(self, self.volume_id)
        _int(self, "bit", self.bit, 0, 1 << 20)

    def describe(self) -> str:
        return f"flip bit {self.bit} of the encrypted data key of {self.volume_id}"


@dataclass(frozen=True)
class SetGrantPropagation(Effect):
    """Set ``grant_propagation_seconds``: new grants need their token, and ended grants keep
    working, for this long."""

    seconds: float

    def __post_init__(self) -> None:
        _number(self, "seconds", self.seconds, 0.0, 86400.0)

    def describe(self) -> str:
        return f"set grant propagation to {self.seconds:g} s"


@dataclass(frozen=True)
class DropAttachment(Effect):
    """The host holding a volume's attachment fails: the attachment and its plaintext data key
    are lost. The instance is recovered on a new host ``reattach_after_seconds`` later, where
    EBS attaches the volume again -- a new KMS Decrypt, which fails if the key or grant is no
    longer usable. ``reattach_after_seconds=None``: the volume stays detached.
    """

    volume_id: str = "root"
    reattach_after_seconds: float | None = 0.0

    def __post_init__(self) -> None:
        _volume(self, self.volume_id)
        if self.reattach_after_seconds is not None:
            _number(self, "reattach_after_seconds", self.reattach_after_seconds, 0.0, 86400.0)

    def describe(self) -> str:
        then = ("" if self.reattach_after_seconds is None else
                f", reattached {self.reattach_after_seconds:g} s later")
        return f"drop the attachment of {self.volume_id} (host failure{then})"


# ================================================================================= faults

_TRIGGERS: dict[str, type[Trigger]] = {c.__name__: c for c in (AtStep, OnCall, AtTime, Chance)}
_EFFECTS: dict[str, type[Effect]] = {c.__name__: c for c in (
    RaiseError, DisableKey, ScheduleKeyDeletion, RevokeGrant, RetireGrant, PutKeyPolicy,
    FlipBlockBit, FlipDataKeyBit, SetGrantPropagation, DropAttachment)}


def _to_dict(part: Trigger | Effect) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(part).__name__}
    for f in fields(part):
        value = getattr(part, f.name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        out[f.name] = value
    return out


def _from_dict(kind: str, data: object, table: dict[str, Any]) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValidationException(f"A fault {kind} must be an object with a 'type', not {data!r}")
    cls = table.get(data["type"])
    if cls is None:
        raise ValidationException(
            f"Unknown fault {kind} type {data['type']!r}; known: {', '.join(sorted(table))}")
    args = {k: v for k, v in data.items() if k != "type"}
    known = {f.name for f in fields(cls)}
    unknown = set(args) - known
    if unknown:
        raise ValidationException(
            f"{cls.__name__}: unknown field(s) {sorted(unknown, key=str)}; known: {sorted(known)}")
    if cls is AtTime and isinstance(args.get("at"), str):
        try:
            args["at"] = datetime.fromisoformat(args["at"].replace("Z", "+00:00"))
        except ValueError:
            raise ValidationException(f"AtTime: at must be an ISO-8601 time, not {args['at']!r}"
                                      ) from None
    try:
        return cls(**args)
    except TypeError as err:  # a missing required field
        raise ValidationException(f"{cls.__name__}: {err}") from None


def _loads(text: object) -> Any:
    if not isinstance(text, str | bytes):
        raise ValidationException("from_json needs a JSON string")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: absurdly deep nesting
        raise ValidationException(f"Not valid JSON: {err}") from None


@dataclass(frozen=True)
class Fault:
    """One fault: ``effect`` happens when ``trigger`` fires. ``name`` labels it in traces.

    ``account_id`` and ``region`` (default: the injector's own) say in which account and
    Region of the simulation the fault lives: its trigger watches that account's calls there
    and its effect acts there (``sim.faults.inject`` hands it to that cell's injector).
    """

    trigger: Trigger
    effect: Effect
    name: str | None = None
    account_id: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if self.account_id is not None and not (
                isinstance(self.account_id, str) and len(self.account_id) == 12
                and self.account_id.isascii() and self.account_id.isdigit()):
            raise _fail(Fault, f"account_id must be 12 digits, not {self.account_id!r}")
        _text(self, "region", self.region, optional=True, max_len=32)
        if not isinstance(self.trigger, Trigger) or type(self.trigger) is Trigger:
            raise ValidationException(f"Fault: trigger must be one of {', '.join(_TRIGGERS)}, "
                                      f"not {self.trigger!r}")
        if not isinstance(self.effect, Effect) or type(self.effect) is Effect:
            raise ValidationException(f"Fault: effect must be one of {', '.join(_EFFECTS)}, "
                                      f"not {self.effect!r}")
        _text(self, "name", self.name, optional=True, max_len=256)

    def missing_target(self) -> str | None:
        """Why the effect could never find its target with this trigger, or None.

        An effect without ``key_id`` acts on the key in play, which only a trigger that names
        a key can supply (a WorkSpace's step, or a call that names a key, blob, volume or
        snapshot); ``"root"``/``"user"`` volumes belong to a WorkSpace, which only
        :class:`AtStep` names.
        """
        trigger, effect = self.trigger, self.effect
        if isinstance(effect, DisableKey | ScheduleKeyDeletion | _GrantAction | PutKeyPolicy) \
                and effect.key_id is None:
            if isinstance(trigger, AtTime):
                return ("an AtTime trigger names no key; give the effect a key_id "
                        "(or use AtStep or OnCall, whose WorkSpace or call names one)")
            if isinstance(trigger, OnCall | Chance):
                service, _, name = trigger.operation.partition(":")
                operations = _OPERATIONS[service] if name == "*" else (name,)
                if all(f"{service}:{n}" in KEYLESS_OPERATIONS for n in operations):
                    return (f"a call of {trigger.operation} names no key; give the effect a "
                            "key_id")
        if isinstance(effect, FlipBlockBit | FlipDataKeyBit | DropAttachment) \
                and effect.volume_id in ("root", "user") and not isinstance(trigger, AtStep):
            return (f"volume '{effect.volume_id}' is a WorkSpace's, and only an AtStep trigger "
                    "names a WorkSpace; give a volume id (vol-...) or use AtStep")
        return None

    def describe(self) -> str:
        """One line for people: ``"before step 5 of any WorkSpace: DisableKey 1234..."``."""
        label = f"[{self.name}] " if self.name else ""
        where = ", ".join(x for x in (self.account_id and f"account {self.account_id}",
                                      self.region) if x)
        return (f"{label}{self.trigger.describe()}: {self.effect.describe()}"
                + (f" (in {where})" if where else ""))

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``Fault.from_dict`` reads it back."""
        out: dict[str, Any] = {"trigger": _to_dict(self.trigger), "effect": _to_dict(self.effect)}
        for key in ("name", "account_id", "region"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: object) -> Fault:
        if not isinstance(data, dict):
            raise ValidationException(f"A fault must be an object, not {data!r}")
        unknown = set(data) - {"trigger", "effect", "name", "account_id", "region"}
        if unknown:
            raise ValidationException(f"Fault: unknown field(s) {sorted(unknown, key=str)}")
        return cls(_from_dict("trigger", data.get("trigger"), _TRIGGERS),
                   _from_dict("effect", data.get("effect"), _EFFECTS), data.get("name"),
                   data.get("account_id"), data.get("region"))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Fault:
        return cls.from_dict(_loads(text))


@dataclass(frozen=True)
class FaultPlan:
    """Several faults injected together (a scenario's, or one drawn by ``fault_plans()``).

    ``faults`` is any sequence of :class:`Fault` (a list, a tuple); it is kept as a tuple.
    """

    faults: tuple[Fault, ...] = ()

    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        given: object = faults  # checked at run time: callers pass anything
        if isinstance(given, str | bytes) or not isinstance(given, Sequence):
            raise ValidationException(
                f"FaultPlan: faults must be a sequence of Fault, not {type(faults).__name__}")
        for f in faults:
            if not isinstance(f, Fault):
                raise ValidationException(
                    f"FaultPlan: faults must be a sequence of Fault, not {type(f).__name__}")
        object.__setattr__(self, "faults", tuple(faults))

    def __iter__(self) -> Any:
        return iter(self.faults)

    def __len__(self) -> int:
        return len(self.faults)

    def describe(self) -> str:
        return "\n".join(f.describe() for f in self.faults) or "(no faults)"

    def to_dict(self) -> dict[str, Any]:
        return {"faults": [f.to_dict() for f in self.faults]}

    @classmethod
    def from_dict(cls, data: object) -> FaultPlan:
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list) or set(data) != {
                "faults"}:
            raise ValidationException("A fault plan must be an object {\"faults\": [...]}")
        return cls(tuple(Fault.from_dict(f) for f in data["faults"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> FaultPlan:
        return cls.from_dict(_loads(text))
