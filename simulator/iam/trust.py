"""Role trust policies: who may assume a role (``sts:AssumeRole``).

A trust policy (a role's ``AssumeRolePolicyDocument``) is a resource-based policy whose resource
is the role itself, so its statements name a ``Principal`` and have no ``Resource`` (IAM refuses
one: "Has prohibited field Resource"). It is parsed by the policy language of :mod:`.policy`
(as a policy with principals) and decided like a KMS key policy (IAM User Guide, "Policy
evaluation logic" and "How IAM roles differ from resource-based policies"):

- an applicable ``Deny`` in the trust policy or the caller's identity policies wins;
- a trust statement naming the caller itself (a user ARN, the role of a session, ``"*"``)
  allows it;
- a statement naming only the caller's *account* delegates to IAM: the caller's identity
  policies must also allow ``sts:AssumeRole`` on the role;
- the account root never assumes a role ("Roles may not be assumed by root accounts").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import (
    AccessDenied,
    IamMalformedPolicyDocumentException,
    IamValidationError,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ValidationException,
)
from .conditions import glob_matcher
from .evaluator import AuthRequest, authorize_identity, request_context
from .policy import PolicyDocument, Statement, parse_policy
from .principals import Caller

if TYPE_CHECKING:
    from .service import _Principal

__all__ = [
    "ASSUME_ROLE_ACTION",
    "TRUST_POLICY_MAX_CHARS",
    "RoleTrust",
    "TrustPolicy",
    "parse_trust_policy",
]

ASSUME_ROLE_ACTION = "sts:AssumeRole"
#: IAM quota "Role trust policy length" (characters, whitespace not counted).
TRUST_POLICY_MAX_CHARS = 2_048


@dataclass(frozen=True)
class _TrustStatement:
    statement: Statement
    covers: Callable[[str], bool] = field(repr=False)


@dataclass(frozen=True)
class TrustPolicy:
    """A parsed trust policy; ``text`` is what the caller gave (GetRole returns it)."""

    text: str
    document: PolicyDocument = field(repr=False)
    _statements: tuple[_TrustStatement, ...] = field(repr=False, default=())

    def decide(self, caller: Caller, role_arn: str, identity_policies: Sequence[PolicyDocument],
               now: datetime | None = None) -> None:
        """Raise STS's ``AccessDenied`` unless ``caller`` may assume the role ``role_arn``."""
        request = AuthRequest(caller=caller, action=ASSUME_ROLE_ACTION, resource=role_arn,
                              now=now)
        denied = AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {ASSUME_ROLE_ACTION} on "
            f"resource: {role_arn}")
        if caller.is_root:
            raise AccessDenied("Roles may not be assumed by root accounts.")
        context = request_context(request)
        direct = account = False
        for ts in self._statements:
            st = ts.statement
            if not ts.covers(ASSUME_ROLE_ACTION.lower()):
                continue
            level = st.principal_match(caller)
            if not level or (st.conditions and not st.conditions_hold(context)):
                continue
            if st.effect == "Deny":
                raise denied
            if level == 2:
                direct = True
            else:
                account = True
        # The caller's own policies: an explicit Deny always wins; an Allow completes a trust
        # statement that names only the account.
        verdict = authorize_identity(request, identity_policies=identity_policies)
        if verdict.reason == "explicit-deny":
            raise denied
        if direct or (account and verdict.allowed):
            return
        raise denied


def _action_matcher(st: Statement) -> Callable[[str], bool]:
    pats = st.actions if st.actions is not None else st.not_actions
    if not pats:
        return lambda _: False
    match = glob_matcher(p.lower() for p in pats)
    return match if st.actions is not None else (lambda a: not match(a))


def parse_trust_policy(text: object, *,
                       principal_exists: Callable[[str], bool]) -> TrustPolicy:
    """Validate and compile a trust policy; IAM's ``MalformedPolicyDocument`` on a bad one.

    Every ``AWS`` principal must exist (IAM: "Invalid principal in policy").
    """
    try:
        doc = parse_policy(text, kind="key", principal_exists=principal_exists)
    except (MalformedPolicyDocumentException, LimitExceededException) as exc:
        raise IamMalformedPolicyDocumentException(exc.message) from None
    except ValidationException as exc:
        raise IamValidationError(exc.message.replace("'policy'", "'assumeRolePolicyDocument'")
                                 ) from None
    assert isinstance(text, str)
    if sum(1 for c in text if not c.isspace()) > TRUST_POLICY_MAX_CHARS:
        raise IamMalformedPolicyDocumentException(
            f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX_CHARS}")
    raw = json.loads(text)
    raw_statements = raw["Statement"] if isinstance(raw["Statement"], list) else [raw["Statement"]]
    for st in raw_statements:
        if "Resource" in st or "NotResource" in st:
            raise IamMalformedPolicyDocumentException("Has prohibited field Resource")
        if "Action" not in st and "NotAction" not in st:
            raise IamMalformedPolicyDocumentException("Policy statement must contain actions.")
    compiled = tuple(_TrustStatement(st, _action_matcher(st)) for st in doc.statements)
    return TrustPolicy(text=text, document=doc, _statements=compiled)


class RoleTrust:
    """The trust-policy side of ``sim.iam`` (a mixin; state lives on the service)."""

    if TYPE_CHECKING:
        _account: str
        _role: Callable[[object], _Principal]
        principal_exists: Callable[[object], bool]

    def _init_trust(self) -> None:
        """Called by the service's constructor."""
        self._trust: dict[str, TrustPolicy] = {}  # role ARN -> its trust policy

    def _parse_trust(self, text: object) -> TrustPolicy:
        return parse_trust_policy(text, principal_exists=self.principal_exists)

    def update_assume_role_policy(self, *, role_name: str, policy_document: str) -> None:
        """UpdateAssumeRolePolicy: replace the role's trust policy (validated now)."""
        p = self._role(role_name)
        self._trust[p.entity.arn] = self._parse_trust(policy_document)

    def trust_policy(self, role_arn: str) -> TrustPolicy | None:
        """The trust policy of the role ``role_arn`` (None: the role has none, so no caller may
        assume it through STS)."""
        if not isinstance(role_arn, str):
            raise IamValidationError("The role ARN must be a string.")
        return self._trust.get(role_arn)
