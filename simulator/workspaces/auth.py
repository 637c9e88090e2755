"""Who may call WorkSpaces and Directory Service operations: the caller's IAM identity policies.

WorkSpaces and Directory Service have no resource policies, so an operation is allowed when the
account root calls it or when the caller's identity-based policies allow the action on the
resource (``authorize_identity``, the same evaluator KMS uses for IAM policies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..iam.evaluator import AuthRequest, authorize_identity
from ..iam.principals import Caller

if TYPE_CHECKING:
    from .collaborators import IamApi

__all__ = ["Authorizer", "IamAuthorizer", "allow_all"]


class Authorizer(Protocol):
    """Answers one question: may ``caller`` do ``action`` on ``resource``?

    Returns ``None`` when allowed, otherwise the AccessDenied message to raise or report.
    """

    def __call__(self, caller: Caller, action: str, resource: str) -> str | None: ...


def allow_all(caller: Caller, action: str, resource: str) -> str | None:
    """An authorizer that allows everything (a simulation built without IAM)."""
    return None


class IamAuthorizer:
    """Evaluates the caller's IAM identity policies through ``simulator.iam``."""

    def __init__(self, iam: IamApi, now: Callable[[], Any]) -> None:
        self._iam = iam
        self._now = now

    def __call__(self, caller: Caller, action: str, resource: str) -> str | None:
        if caller.is_root:
            return None
        request = AuthRequest(caller=caller, action=action, resource=resource, now=self._now(),
                              principal_tags=self._iam.principal_tags)
        policies = self._iam.identity_policies(caller)
        decision = authorize_identity(request, identity_policies=policies)
        return None if decision.allowed else decision.message
