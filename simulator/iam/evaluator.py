"""The IAM policy evaluator: what a set of policies says about one request.

:func:`evaluate` answers, for a sequence of policy documents (identity policies, or a resource
policy such as a KMS key policy) and a request, one :class:`Effect`:

- ``DENY``: an applicable statement with ``"Effect": "Deny"`` (an explicit deny always wins);
- ``ALLOW``: an applicable ``Allow`` names the caller itself (or ``"*"``), or is an identity
  policy's (identity policies apply to their owner);
- ``ALLOW_ACCOUNT``: the only applicable ``Allow`` statements name the caller's *account*
  (``arn:aws:iam::<acct>:root`` or the bare account id). In a resource policy that delegates
  the decision to the account's IAM policies (IAM User Guide, "Policy evaluation logic");
- ``NO_DECISION``: nothing applies (an implicit deny, unless something else allows).

How a service combines these answers with its own rules (KMS: key policy, IAM policies and
grants) is that service's business; :func:`authorize_identity` is the plain IAM decision for
services without resource policies (WorkSpaces, EC2, Directory Service): the account root is
always allowed, otherwise an identity-policy Allow is needed and an explicit Deny wins.

Principal matching: an assumed-role session matches a policy naming its role's ARN; a statement
naming an account applies to every principal of that account; ``NotPrincipal`` excludes the
principals it names directly (not their account's users).

Condition keys (IAM User Guide, "AWS global condition context keys"): the request's own keys,
any case, plus ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``,
``aws:userid``, ``aws:username``, ``aws:ViaAWSService`` derived from the caller,
``aws:PrincipalTag/<key>`` from the caller's IAM tags (:attr:`AuthRequest.principal_tags`),
``aws:SourceIp`` and ``aws:SecureTransport`` from the transport facts the wire layer puts on
the caller (:meth:`~.principals.Caller.over`; absent for in-process calls and for calls an AWS
service makes on the caller's behalf), and ``aws:CurrentTime`` / ``aws:EpochTime`` when the
request has ``now``. A key none of these give is absent. A service adds its own derived keys
by subclassing :class:`RequestContext`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from ..errors import MESSAGES
from .conditions import normalize_context, request_values
from .policy import PolicyDocument, Statement, role_arn_of
from .principals import Caller

__all__ = [
    "AuthRequest",
    "Decision",
    "Effect",
    "RequestContext",
    "applicable_statements",
    "authorize_identity",
    "denial_message",
    "evaluate",
    "request_context",
    "statements_for",
]


class Effect(enum.Enum):
    """What a set of policies says about a request (see the module docstring)."""

    DENY = "deny"
    ALLOW = "allow"
    ALLOW_ACCOUNT = "allow-account"
    NO_DECISION = "no-decision"


@dataclass(slots=True)
class AuthRequest:
    """One request to authorise (treat as immutable).

    Not a frozen dataclass: one is built on every call, and a frozen dataclass sets each field
    through ``object.__setattr__``.

    ``conditions`` holds the request's condition keys (any case); see :class:`RequestContext`
    for the keys derived when absent. ``principal_tags(caller)`` gives the caller's IAM tags
    (``aws:PrincipalTag/<key>``), called only if a condition asks.
    """

    caller: Caller
    action: str
    resource: str
    conditions: Mapping[str, object] = field(default_factory=dict)
    now: datetime | None = None
    principal_tags: Callable[[Caller], Mapping[str, str]] | None = None


@dataclass(frozen=True)
class Decision:
    """The answer: ``message`` is the AccessDenied text when not allowed; ``reason`` says
    which rule decided (``"iam"``, ``"explicit-deny"``, ``"implicit-deny"``, or a service's)."""

    allowed: bool
    reason: str
    message: str = ""


_PRINCIPAL_TYPES = {"Root": "Account", "IAMUser": "User", "AssumedRole": "AssumedRole",
                    "FederatedUser": "FederatedUser"}


class RequestContext:
    """The request's condition keys, computed key by key and only when a condition asks.

    Subclasses add service keys by overriding :meth:`derive` and :attr:`DERIVED_KEYS`.
    """

    __slots__ = ("_lower", "_req", "_values")

    #: The lower-case keys :meth:`derive` may answer.
    DERIVED_KEYS: tuple[str, ...] = (
        "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid",
        "aws:username", "aws:viaawsservice", "aws:sourceip", "aws:securetransport",
        "aws:currenttime", "aws:epochtime")

    def __init__(self, request: AuthRequest) -> None:
        self._req = request
        self._lower: dict[str, list[str]] | None = None
        self._values: dict[str, tuple[str, ...] | None] = {}

    def derive(self, key: str) -> tuple[str, ...] | None:
        """The value of a condition key derived from the request itself (None: absent)."""
        request = self._req
        caller = request.caller
        if key == "aws:principalarn":
            return (role_arn_of(caller) or caller.arn,)
        if key == "aws:principalaccount":
            return (caller.account_id,)
        if key == "aws:principaltype":
            return (_PRINCIPAL_TYPES.get(caller.type, caller.type),)
        if key == "aws:userid":
            return (caller.principal_id or caller.account_id,)
        if key == "aws:username":
            return (caller.user_name,) if caller.type == "IAMUser" and caller.user_name else None
        if key == "aws:viaawsservice":
            return ("true" if caller.via_service else "false",)
        if key.startswith("aws:principaltag/"):
            tags = (request.principal_tags(caller) if request.principal_tags is not None
                    else {})
            name = key[len("aws:principaltag/"):]
            # Condition-key names are case-insensitive, the tag key inside one too.
            found = tuple(v for k, v in tags.items() if k.lower() == name)
            return found or None
        if key == "aws:sourceip":
            return (caller.source_ip,) if caller.source_ip else None
        if key == "aws:securetransport":
            secure = caller.secure_transport
            return None if secure is None else ("true" if secure else "false",)
        if request.now is not None:
            if key == "aws:currenttime":
                return (request.now.isoformat(),)
            if key == "aws:epochtime":
                return (str(int(request.now.timestamp())),)
        return None

    def get(self, key: str) -> tuple[str, ...] | None:
        """Values of a (lower-case) condition key, or None when the request lacks it."""
        try:
            return self._values[key]
        except KeyError:
            pass
        lower = self._lower
        if lower is None:
            lower = self._lower = {}
            for k in self._req.conditions:
                lower.setdefault(k.lower(), []).append(k)
        originals = lower.get(key)
        value: tuple[str, ...] | None = None
        if originals is not None:
            conds = self._req.conditions
            if len(originals) == 1:
                value = request_values(conds[originals[0]])
            else:  # the same key in several cases: all their values
                value = normalize_context({k: conds[k] for k in originals}).get(key)
        if value is None:
            value = self.derive(key)
        self._values[key] = value
        return value

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """Every key of the request, lower-cased, with the derived keys it does not give."""
        conds = self._req.conditions
        ctx = dict(normalize_context(conds)) if conds else {}
        for key in self.DERIVED_KEYS:
            if key not in ctx:
                value = self.derive(key)
                if value is not None:
                    ctx[key] = value
        return ctx


def request_context(request: AuthRequest) -> dict[str, tuple[str, ...]]:
    """The request's condition keys, lower-cased, with the keys derived from the caller added
    where the request does not give them."""
    return RequestContext(request).as_dict()


@lru_cache(maxsize=4096)
def statements_for(doc: PolicyDocument, action: str,
                   caller: Caller) -> tuple[tuple[Statement, int], ...]:
    """The statements of ``doc`` whose action and principal cover ``caller`` doing ``action``,
    each with its :meth:`Statement.principal_match` level (2: the caller itself, 1: its
    account); the resource is checked per request.

    The evaluator's one memo: a pure function of values (a document is its kind, text and
    bindings, a caller its fields), bounded, safe to share between simulations and threads.
    The resource is not part of the key: EC2 resources are one ARN per volume, and would
    fill the memo with entries used once.
    """
    low = action.lower()
    return tuple((s, m) for s in doc.statements
                 if not s.inert and s._action(low) and (m := s.principal_match(caller)))


def applicable_statements(doc: PolicyDocument, action: str, resource: str,
                          caller: Caller) -> tuple[tuple[Statement, int], ...]:
    """The statements of ``doc`` whose action, resource and principal cover the request, each
    with its :meth:`Statement.principal_match` level."""
    return tuple((s, m) for s, m in statements_for(doc, action, caller) if s._resource(resource))


def evaluate(policies: Sequence[PolicyDocument], request: AuthRequest,
             context: RequestContext | None = None) -> Effect:
    """What ``policies`` together say about ``request`` (see the module docstring).

    ``context`` lets a caller evaluating several policy sets share one (lazily computed)
    condition context; by default one is built from the request.
    """
    action, resource, caller = request.action, request.resource, request.caller
    ctx = context
    allow = account = False
    for doc in policies:
        for st, level in statements_for(doc, action, caller):
            if not st._resource(resource):
                continue
            if st.conditions:
                if ctx is None:
                    ctx = RequestContext(request)
                if not st.conditions_hold(ctx):
                    continue
            if st.effect == "Deny":
                return Effect.DENY
            if level == 2:
                allow = True
            else:
                account = True
    if allow:
        return Effect.ALLOW
    return Effect.ALLOW_ACCOUNT if account else Effect.NO_DECISION


def denial_message(request: AuthRequest, policy_kind: str, *, explicit: bool) -> str:
    """AWS's AccessDenied text for ``request``; ``policy_kind`` is ``"identity-based"`` or
    ``"resource-based"``."""
    template = MESSAGES["access_denied_explicit" if explicit else "access_denied"]
    return template.format(principal=request.caller.arn, action=request.action,
                           resource=request.resource, policy_kind=policy_kind,
                           article="an" if policy_kind == "identity-based" else "a")


_ALLOW_IAM = Decision(True, "iam")


def authorize_identity(request: AuthRequest, *, identity_policies: Sequence[PolicyDocument],
                       context: RequestContext | None = None) -> Decision:
    """Decide a request by identity policies alone (the root is always allowed). ``context``:
    a service's own condition context for the request (default: the global keys only)."""
    if request.caller.is_root:
        return _ALLOW_IAM
    effect = evaluate(identity_policies, request, context)
    if effect is Effect.ALLOW:
        return _ALLOW_IAM
    explicit = effect is Effect.DENY
    return Decision(False, "explicit-deny" if explicit else "implicit-deny",
                    denial_message(request, "identity-based", explicit=explicit))
