"""KMS's authorization decision: key policy + IAM identity policies + grants.

AWS KMS Developer Guide, "Determining access to a KMS key" (policy evaluation flow): a request
on a key is decided in this order.

1. An applicable explicit ``Deny`` in the key policy or in the caller's identity policies wins.
   Grants never deny.
2. Otherwise the request is allowed if

   (a) a key-policy statement allows the caller itself (or ``"*"``), or
   (b) a key-policy statement allows the caller's *account* (``arn:aws:iam::<acct>:root`` or the
       bare account id) **and** one of the caller's identity policies allows the request; the
       account root has every IAM permission, so for it (b) needs no identity policy, or
   (c) a live grant for the caller (or, for a role session, its role) allows the operation
       (:meth:`~.grants.GrantStore.find`).

3. Otherwise it is implicitly denied.

A caller of another account than the key's (AWS KMS Developer Guide, "Allowing users in other
accounts to use a KMS key") needs both sides: the key policy must allow its account or itself,
**and** its own identity policies must allow the request on the key's ARN (its account root
has every IAM permission of its account); a key-policy statement naming the external caller
itself is not enough alone. Grants for external principals need no IAM policy.

An IAM Allow with no account statement in the key policy therefore does nothing (an IAM Deny
still applies). The policy language itself is :mod:`simulator.iam.evaluator`'s; this module only
combines its answers with grants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..iam.evaluator import (
    AuthRequest,
    Decision,
    Effect,
    RequestContext,
    authorize_identity,
    denial_message,
    evaluate,
)
from ..iam.policy import PolicyDocument, role_arn_of
from .conditions import condition_value, keys_for_action
from .grants import Grant, GrantStore
from .keys import KeyRecord

__all__ = [
    "KmsDecision",
    "KmsRequest",
    "KmsRequestContext",
    "authorize_kms",
    "authorize_kms_identity",
    "request_context",
]


@dataclass(slots=True)
class KmsRequest(AuthRequest):
    """A request on a KMS key. ``grant_operation`` is the grant operation that could allow it
    (``"Decrypt"``; ``None``: no grant can); ``encryption_context`` is checked against grant
    constraints; ``grant_check`` is an extra test a grant must pass (CreateGrant's "the child
    grant is narrower"). ``key_record``, ``params``, ``request_tags`` and ``aliases`` are what
    the KMS condition keys are read from (:mod:`.conditions`)."""

    grant_operation: str | None = None
    encryption_context: Mapping[str, str] | None = None
    grant_tokens: tuple[str, ...] = ()
    grant_check: Callable[[Grant], bool] | None = None
    key_record: KeyRecord | None = None
    params: Mapping[str, object] | None = None
    request_tags: Mapping[str, str] | None = None
    aliases: Callable[[KeyRecord], Iterable[str]] | None = None


@dataclass(frozen=True)
class KmsDecision(Decision):
    """A KMS decision: ``reason`` is ``"key-policy"``, ``"iam"``, ``"grant"``,
    ``"explicit-deny"`` or ``"implicit-deny"``; ``grant_id`` names the grant that allowed."""

    grant_id: str | None = None


class KmsRequestContext(RequestContext):
    """The condition context of a KMS request: the global keys, plus the keys the table of
    :mod:`.conditions` gives the request's action (AWS KMS Developer Guide, "AWS KMS condition
    keys), read from the :class:`KmsRequest`; for another request, the caller's keys only."""

    __slots__ = ()

    DERIVED_KEYS = (*RequestContext.DERIVED_KEYS, "kms:calleraccount", "kms:viaservice")

    def derive(self, key: str) -> tuple[str, ...] | None:
        req = self._req
        got = condition_value(req if isinstance(req, KmsRequest) else KmsRequest(
            caller=req.caller, action=req.action, resource=req.resource), key)
        if got is not False:
            return got
        return super().derive(key)

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        ctx = super().as_dict()
        for name in keys_for_action(self._req.action):
            low = name.lower()
            if low not in ctx and not name.endswith((":", "/")):
                value = self.get(low)
                if value:
                    ctx[low] = value
        return ctx



def request_context(request: AuthRequest) -> dict[str, tuple[str, ...]]:
    """Every condition key of a KMS request, lower-cased, derived keys included."""
    return KmsRequestContext(request).as_dict()


_ALLOW_KEY_POLICY = KmsDecision(True, "key-policy")
_ALLOW_IAM = KmsDecision(True, "iam")


def _denied(request: AuthRequest, policy_kind: str, *, explicit: bool) -> KmsDecision:
    return KmsDecision(False, "explicit-deny" if explicit else "implicit-deny",
                       denial_message(request, policy_kind, explicit=explicit))


def authorize_kms(request: KmsRequest | AuthRequest, *, key_policy: PolicyDocument,
                  identity_policies: Sequence[PolicyDocument], grants: GrantStore | None,
                  key_arn: str) -> KmsDecision:
    """Decide a KMS request on ``key_arn`` (see the module docstring for the rules)."""
    caller = request.caller
    ctx = KmsRequestContext(request)
    key_effect = evaluate((key_policy,), request, ctx)
    if key_effect is Effect.DENY:
        return _denied(request, "resource-based", explicit=True)
    iam = Effect.NO_DECISION
    if not caller.is_root and identity_policies:
        iam = evaluate(identity_policies, request, ctx)
        if iam is Effect.DENY:
            return _denied(request, "identity-based", explicit=True)
    # The key's account is the fifth field of its ARN: another account's caller needs IAM too.
    external = key_effect is Effect.ALLOW and key_arn.split(":", 5)[4] != caller.account_id
    if key_effect is Effect.ALLOW and not external:
        return _ALLOW_KEY_POLICY
    account = key_effect is Effect.ALLOW_ACCOUNT or external
    if account and (iam is Effect.ALLOW or caller.is_root):
        return _ALLOW_IAM
    if grants is not None and isinstance(request, KmsRequest) and request.grant_operation is not None:
        g = _find_grant(request, grants, key_arn, caller.arn)
        if g is None:
            role = role_arn_of(caller)
            if role is not None:
                g = _find_grant(request, grants, key_arn, role)
        if g is not None:
            return KmsDecision(True, "grant", grant_id=g.grant_id)
    return _denied(request, "identity-based" if account else "resource-based", explicit=False)


def _find_grant(request: KmsRequest, grants: GrantStore, key_arn: str,
                grantee: str) -> Grant | None:
    assert request.grant_operation is not None
    return grants.find(key_arn=key_arn, grantee=grantee, operation=request.grant_operation,
                       encryption_context=request.encryption_context,
                       tokens=request.grant_tokens, check=request.grant_check)


def authorize_kms_identity(request: AuthRequest, *,
                           identity_policies: Sequence[PolicyDocument]) -> Decision:
    """Decide a KMS request that no key policy governs (CreateKey, ListKeys, ListAliases,
    GenerateRandom, ListRetirableGrants, RetireGrant by delegation) by IAM policies alone."""
    return authorize_identity(request, identity_policies=identity_policies,
                              context=KmsRequestContext(request))
