"""Who may call IAM itself: ``sim.iam.with_caller(caller)`` and ``sim.as_principal(arn).iam``.

Every IAM operation needs the caller's identity policies to allow ``iam:<Operation>`` on the
entity it names (IAM User Guide, "Actions, resources, and condition keys for AWS Identity and
Access Management"): ``arn:aws:iam::<account>:user/<name>`` for an operation on a user (its path
included once the user exists), ``role/<name>`` for a role, the policy ARN for a managed policy,
``*`` for the List operations that name none. The account root may do everything; a denial is
IAM's ``AccessDenied`` (HTTP 403) naming the caller, the action and the resource. ``sim.iam``
itself is the account root's view.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..boundary import operation_boundary
from ..errors import AccessDenied, AwsError, ValidationException
from .evaluator import AuthRequest, authorize_identity
from .principals import Caller

if TYPE_CHECKING:
    from .service import IdentityAndAccessManagement

__all__ = ["NOT_OPERATIONS", "IamAsCaller", "iam_action", "install_operations"]

#: Public methods of the IAM service that are not IAM API operations (the simulation's own
#: plumbing: finding callers and policies, checking signatures); never authorized.
NOT_OPERATIONS = frozenset({"caller_for", "identity_policies", "principal_exists",
                            "principal_tags", "unique_id", "credentials_for", "trust_policy",
                            "with_caller"})


def iam_action(method: str) -> str:
    """``create_user`` -> ``iam:CreateUser``."""
    return "iam:" + "".join(part.capitalize() for part in method.split("_"))


class IamAsCaller:
    """IAM as one (non-root) caller sees it: each operation is authorized, then run, under the
    simulation's lock (its operations are installed by :func:`install_operations`)."""

    def __init__(self, iam: IdentityAndAccessManagement, caller: Caller,
                 lock: AbstractContextManager[Any], now: Callable[[], datetime]) -> None:
        self._iam = iam
        self._caller = caller
        self._lock = lock
        self._now = now

    @property
    def caller(self) -> Caller:
        return self._caller

    def with_caller(self, caller: Caller) -> Any:
        return self._iam.with_caller(caller)

    def _authorize(self, action: str, kwargs: dict[str, Any]) -> None:
        iam = self._iam
        resource = _resource(iam, kwargs)
        request = AuthRequest(caller=self._caller, action=action, resource=resource,
                              now=self._now())
        decision = authorize_identity(request, identity_policies=iam.identity_policies(
            self._caller))
        if not decision.allowed:
            raise AccessDenied(decision.message)


def _resource(iam: IdentityAndAccessManagement, kwargs: dict[str, Any]) -> str:
    acct = iam.account_id
    policy_arn = kwargs.get("policy_arn")
    if isinstance(policy_arn, str):
        return policy_arn
    for key, kind, get in (("user_name", "user", iam.get_user), ("role_name", "role", iam.get_role)):
        name = kwargs.get(key)
        if isinstance(name, str):
            try:
                return str(get(**{key: name}).arn)  # with its path, once it exists
            except AwsError:
                return f"arn:aws:iam::{acct}:{kind}/{name}"
    name = kwargs.get("policy_name")
    if isinstance(name, str):  # CreatePolicy
        path = kwargs.get("path", "/")
        return f"arn:aws:iam::{acct}:policy{path if isinstance(path, str) else '/'}{name}"
    return "*"


def _authorized(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    action = iam_action(name)

    @functools.wraps(function)
    def operation(self: IamAsCaller, /, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise ValidationException(f"{name}() takes keyword arguments only")
        self._authorize(action, kwargs)
        return getattr(self._iam, name)(**kwargs)

    return operation


def install_operations(service: type) -> None:
    """Give :class:`IamAsCaller` an authorized twin of every IAM operation of ``service``
    (called once, by the service module, after the class is complete)."""
    for name, function in inspect.getmembers(service, inspect.isfunction):
        if not name.startswith("_") and name not in NOT_OPERATIONS:
            setattr(IamAsCaller, name, _authorized(name, function))
    operation_boundary(lambda view: view._lock)(IamAsCaller)
