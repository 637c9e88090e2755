"""Which condition keys each KMS operation sets, and their values for one request.

One table, :data:`CONDITION_KEYS`, from the AWS KMS Developer Guide ("AWS KMS condition keys",
and the Service Authorization Reference, "Actions, resources, and condition keys for AWS Key
Management Service"): each row names a key, where its value comes from, and the actions whose
requests carry it. A key is present in a request only when the action is in its row; for any
other action, and for any key the table does not list, it is absent, which is what AWS does
(a condition on an absent key is false, except for the negated operators, ``...IfExists`` and
``Null``).

Sources:

- ``caller``: the calling principal (``kms:CallerAccount``, ``kms:ViaService``,
  ``kms:GrantIsForAWSResource``);
- ``key``: the KMS key of a key resource operation (``kms:KeySpec``, ``kms:KeyUsage``,
  ``kms:KeyOrigin``, ``kms:MultiRegion``, ``kms:ResourceAliases``, ``aws:ResourceTag/<k>``); for
  CreateKey the same keys come from the request;
- ``request``: a parameter of the request, given by the operation (``kms:EncryptionAlgorithm``,
  ``kms:RequestAlias``, ``kms:GrantOperations``, ``aws:RequestTag/<k>``, ...);
- ``principal``: the caller's IAM tags (``aws:PrincipalTag/<k>``, answered by the evaluator
  from :attr:`simulator.iam.evaluator.AuthRequest.principal_tags`).

The global keys derived from the caller alone (``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:userid``, ``aws:username``, ``aws:CurrentTime``, ``aws:EpochTime``,
``aws:SourceIp``, ``aws:SecureTransport``) are :mod:`simulator.iam.evaluator`'s.

An operation adds the keys of a new family (Sign, Verify, MACs, data key pairs, imported key
material) by passing their values as request parameters; the rows are already here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from ..iam.conditions import request_values
from ..iam.principals import Caller
from .keys import KeyRecord

__all__ = [
    "CONDITION_KEYS",
    "KEY_RESOURCE_ACTIONS",
    "ConditionFacts",
    "ConditionKey",
    "condition_value",
    "keys_for_action",
]

Source = Literal["caller", "key", "request", "principal"]

#: Actions authorized on a particular KMS key ("KMS key resource operations").
KEY_RESOURCE_ACTIONS: frozenset[str] = frozenset(f"kms:{a}" for a in (
    "CancelKeyDeletion", "CreateAlias", "CreateGrant", "Decrypt", "DeleteAlias",
    "DeleteImportedKeyMaterial", "DeriveSharedSecret", "DescribeKey", "DisableKey",
    "DisableKeyRotation", "EnableKey", "EnableKeyRotation", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GetKeyPolicy", "GetKeyRotationStatus",
    "GetParametersForImport", "GetPublicKey", "ImportKeyMaterial", "ListGrants",
    "ListKeyPolicies", "ListKeyRotations", "ListResourceTags", "PutKeyPolicy", "ReEncryptFrom",
    "ReEncryptTo", "ReplicateKey", "RetireGrant", "RevokeGrant", "RotateKeyOnDemand",
    "ScheduleKeyDeletion", "Sign", "TagResource", "UntagResource", "UpdateAlias",
    "UpdateKeyDescription", "UpdatePrimaryRegion", "Verify", "VerifyMac"))

_ENCRYPTING = frozenset(f"kms:{a}" for a in (
    "Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo"))
_CRYPTOGRAPHIC = _ENCRYPTING | frozenset(f"kms:{a}" for a in (
    "Sign", "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret"))
_KEY_AND_CREATE = KEY_RESOURCE_ACTIONS | {"kms:CreateKey"}
_TAGGING = frozenset({"kms:CreateKey", "kms:TagResource"})


def _acts(*names: str) -> frozenset[str]:
    return frozenset(f"kms:{n}" for n in names)


@dataclass(frozen=True)
class ConditionKey:
    """One row of the table. ``name`` ends with ``:`` or ``/`` for a key family
    (``kms:EncryptionContext:<k>``, ``aws:ResourceTag/<k>``); ``actions`` ``None``: every
    KMS action."""

    name: str
    source: Source
    actions: frozenset[str] | None
    multivalued: bool = False

    @property
    def prefix(self) -> bool:
        return self.name.endswith((":", "/"))


#: Every condition key KMS sets, with the actions whose requests carry it.
CONDITION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("kms:CallerAccount", "caller", None),
    ConditionKey("kms:ViaService", "caller", None),
    ConditionKey("kms:GrantIsForAWSResource", "caller",
                 _acts("CreateGrant", "ListGrants", "RevokeGrant")),
    ConditionKey("kms:KeySpec", "key", _KEY_AND_CREATE),
    ConditionKey("kms:CustomerMasterKeySpec", "key", _KEY_AND_CREATE),
    ConditionKey("kms:KeyUsage", "key", _KEY_AND_CREATE),
    ConditionKey("kms:CustomerMasterKeyUsage", "key", _KEY_AND_CREATE),
    ConditionKey("kms:KeyOrigin", "key", _KEY_AND_CREATE),
    ConditionKey("kms:MultiRegion", "key", _KEY_AND_CREATE),
    ConditionKey("kms:MultiRegionKeyType", "key", _KEY_AND_CREATE),
    ConditionKey("kms:ReplicaRegion", "request", _acts("ReplicateKey")),
    ConditionKey("kms:PrimaryRegion", "request", _acts("UpdatePrimaryRegion")),
    ConditionKey("kms:ResourceAliases", "key", KEY_RESOURCE_ACTIONS, multivalued=True),
    ConditionKey("aws:ResourceTag/", "key", KEY_RESOURCE_ACTIONS),
    ConditionKey("aws:RequestTag/", "request", _TAGGING),
    ConditionKey("aws:TagKeys", "request", _TAGGING | {"kms:UntagResource"}, multivalued=True),
    ConditionKey("aws:PrincipalTag/", "principal", None),
    ConditionKey("kms:BypassPolicyLockoutSafetyCheck", "request", _acts("CreateKey",
                                                                         "PutKeyPolicy")),
    ConditionKey("kms:ScheduleKeyDeletionPendingWindowInDays", "request",
                 _acts("ScheduleKeyDeletion")),
    ConditionKey("kms:RotationPeriodInDays", "request", _acts("EnableKeyRotation")),
    ConditionKey("kms:EncryptionAlgorithm", "request", _ENCRYPTING),
    ConditionKey("kms:EncryptionContext:", "request", _ENCRYPTING | {"kms:CreateGrant"}),
    ConditionKey("kms:EncryptionContextKeys", "request", _ENCRYPTING | {"kms:CreateGrant"},
                 multivalued=True),
    ConditionKey("kms:ReEncryptOnSameKey", "request", _acts("ReEncryptFrom", "ReEncryptTo")),
    ConditionKey("kms:RequestAlias", "request",
                 _CRYPTOGRAPHIC | _acts("DescribeKey", "GetPublicKey")),
    ConditionKey("kms:GrantOperations", "request", _acts("CreateGrant"), multivalued=True),
    ConditionKey("kms:GranteePrincipal", "request", _acts("CreateGrant")),
    ConditionKey("kms:RetiringPrincipal", "request", _acts("CreateGrant")),
    ConditionKey("kms:GrantConstraintType", "request", _acts("CreateGrant")),
    ConditionKey("kms:SigningAlgorithm", "request", _acts("Sign", "Verify")),
    ConditionKey("kms:MessageType", "request", _acts("Sign", "Verify")),
    ConditionKey("kms:MacAlgorithm", "request", _acts("GenerateMac", "VerifyMac")),
    ConditionKey("kms:DataKeyPairSpec", "request",
                 _acts("GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext")),
    ConditionKey("kms:KeyAgreementAlgorithm", "request", _acts("DeriveSharedSecret")),
    ConditionKey("kms:WrappingAlgorithm", "request", _acts("GetParametersForImport")),
    ConditionKey("kms:WrappingKeySpec", "request", _acts("GetParametersForImport")),
    ConditionKey("kms:ExpirationModel", "request", _acts("ImportKeyMaterial")),
    ConditionKey("kms:ValidTo", "request", _acts("ImportKeyMaterial")),
)

_EXACT = {row.name.lower(): row for row in CONDITION_KEYS if not row.prefix}
_PREFIXES = tuple((row.name.lower(), row) for row in CONDITION_KEYS if row.prefix)


def _row(key: str) -> ConditionKey | None:
    row = _EXACT.get(key)
    if row is not None:
        return row
    for prefix, r in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return r
    return None


def keys_for_action(action: str) -> tuple[str, ...]:
    """The condition keys (as documented) that requests of ``action`` carry."""
    return tuple(row.name for row in CONDITION_KEYS
                 if row.actions is None or action in row.actions)


def _tag_values(tags: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    # Condition-key names are case-insensitive, so the tag key in one is too.
    found = tuple(v for k, v in tags.items() if k.lower() == name)
    return found or None


_NO_TAGS: Mapping[str, str] = {}


class ConditionFacts(Protocol):
    """What a KMS request carries for its condition keys (:class:`~.authz.KmsRequest` is one).

    ``params`` holds the request-parameter keys by their documented names
    (``{"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}``); ``encryption_context`` the
    encryption context (``None``: the request has none); ``request_tags`` the tags a request
    adds; ``aliases`` is called only if a condition asks for the key's aliases.
    """

    @property
    def caller(self) -> Caller: ...

    @property
    def action(self) -> str: ...

    @property
    def key_record(self) -> KeyRecord | None: ...

    @property
    def params(self) -> Mapping[str, object] | None: ...

    @property
    def encryption_context(self) -> Mapping[str, str] | None: ...

    @property
    def request_tags(self) -> Mapping[str, str] | None: ...

    @property
    def aliases(self) -> Callable[[KeyRecord], Iterable[str]] | None: ...


def condition_value(req: ConditionFacts, key: str) -> tuple[str, ...] | Literal[False] | None:
    """The values of lower-case condition ``key`` in ``req``: ``None`` when the request lacks
    it, ``False`` when the table does not know the key (the evaluator's global keys answer
    then)."""
    row = _row(key)
    if row is None:
        return False
    if row.actions is not None and req.action not in row.actions:
        return None
    name = row.name
    source = row.source
    if source == "caller":
        caller = req.caller
        if name == "kms:CallerAccount":
            return (caller.account_id,)
        if name == "kms:ViaService":
            return (caller.via_service,) if caller.via_service else None
        return ("true" if caller.via_service is not None else "false",)
    if source == "principal":
        return False  # the evaluator's (AuthRequest.principal_tags)
    rec = req.key_record
    if source == "key" and rec is not None:
        if name in ("kms:KeySpec", "kms:CustomerMasterKeySpec"):
            return (rec.key_spec,)
        if name in ("kms:KeyUsage", "kms:CustomerMasterKeyUsage"):
            return (rec.key_usage,)
        if name == "kms:KeyOrigin":
            return (rec.origin,)
        if name == "kms:MultiRegion":
            return ("true" if rec.multi_region is not None else "false",)
        if name == "kms:MultiRegionKeyType":
            if rec.multi_region is None:
                return None
            return ("REPLICA" if rec.is_replica else "PRIMARY",)
        if name == "kms:ResourceAliases":
            aliases = req.aliases
            return tuple(aliases(rec)) if aliases is not None else ()
        return _tag_values(rec.tags, key[len(name):])  # aws:ResourceTag/<k>
    if name == "kms:EncryptionContext:":
        ctx = req.encryption_context
        return _tag_values(ctx, key[len(name):]) if ctx else None
    if name == "kms:EncryptionContextKeys":
        ctx = req.encryption_context
        return tuple(ctx) if ctx else ()
    if name == "aws:RequestTag/":
        return _tag_values(req.request_tags or _NO_TAGS, key[len(name):])
    params = req.params
    return None if params is None else request_values(params.get(name))
