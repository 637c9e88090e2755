"""IAM customer managed policies: CreatePolicy, versions, Attach/Detach to users and roles.

A managed policy is a standalone identity policy with up to five versions, one of them the
default; attaching it to a user or role adds its default version to that principal's identity
policies, which the IAM evaluator reads exactly as it reads inline policies (IAM User Guide,
"Managed policies and inline policies"). Quotas (IAM User Guide, "IAM and AWS STS quotas"):
6,144 characters per managed policy (whitespace not counted), five versions, ten managed policies
attached per user or role.

AWS managed policies (``arn:aws:iam::aws:policy/...``) are not modelled: naming one is
``NoSuchEntity``, as for a policy that does not exist.

:class:`ManagedPolicies` is a mixin of :class:`~simulator.iam.service.IdentityAndAccessManagement`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    IamInvalidInputException,
    IamLimitExceededException,
    IamValidationError,
    NoSuchEntityException,
)
from .paging import page
from .policy import PolicyDocument

if TYPE_CHECKING:
    from ..runtime import Runtime
    from .service import _Principal

__all__ = [
    "MANAGED_POLICIES_PER_PRINCIPAL",
    "MANAGED_POLICY_MAX_CHARS",
    "MANAGED_POLICY_VERSIONS",
    "AttachedPolicy",
    "ListAttachedPoliciesResult",
    "ListPoliciesResult",
    "ListPolicyVersionsResult",
    "ManagedPolicies",
    "Policy",
    "PolicyVersion",
]

MANAGED_POLICY_MAX_CHARS = 6_144
MANAGED_POLICY_VERSIONS = 5
MANAGED_POLICIES_PER_PRINCIPAL = 10

_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}\Z", re.ASCII)
_PATH_RE = re.compile(r"^((/[A-Za-z0-9.,+@=_-]+)*)/\Z")
_VERSION_RE = re.compile(r"^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?\Z")
_POLICY_ARN_RE = re.compile(r"^arn:aws:iam::(\d{12}|aws):policy(/|/.*/)([\w+=,.@-]{1,128})\Z",
                            re.ASCII)


@dataclass(frozen=True)
class Policy:
    """A managed policy as GetPolicy / CreatePolicy show it."""

    policy_name: str
    policy_id: str
    arn: str
    path: str
    default_version_id: str
    attachment_count: int
    permissions_boundary_usage_count: int
    is_attachable: bool
    description: str | None
    create_date: datetime
    update_date: datetime


@dataclass(frozen=True)
class PolicyVersion:
    """One version; ``document`` is the JSON text exactly as given."""

    document: str
    version_id: str
    is_default_version: bool
    create_date: datetime


@dataclass(frozen=True)
class AttachedPolicy:
    policy_name: str
    policy_arn: str


@dataclass(frozen=True)
class ListAttachedPoliciesResult:
    attached_policies: list[AttachedPolicy]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class ListPoliciesResult:
    policies: list[Policy]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class ListPolicyVersionsResult:
    versions: list[PolicyVersion]
    is_truncated: bool = False
    marker: str | None = None


class _Managed:
    """A managed policy's mutable record."""

    __slots__ = ("arn", "attached_to", "create_date", "default", "description", "name",
                 "next_version", "path", "policy_id", "update_date", "versions")

    def __init__(self, name: str, policy_id: str, arn: str, path: str, description: str | None,
                 now: datetime) -> None:
        self.name = name
        self.policy_id = policy_id
        self.arn = arn
        self.path = path
        self.description = description
        self.create_date = now
        self.update_date = now
        self.versions: dict[str, tuple[PolicyDocument, datetime]] = {}
        self.default = "v1"
        self.next_version = 1
        #: ARNs of the users and roles it is attached to, in attach order.
        self.attached_to: list[str] = []

    def to_policy(self) -> Policy:
        return Policy(policy_name=self.name, policy_id=self.policy_id, arn=self.arn,
                      path=self.path, default_version_id=self.default,
                      attachment_count=len(self.attached_to), permissions_boundary_usage_count=0,
                      is_attachable=True, description=self.description,
                      create_date=self.create_date, update_date=self.update_date)

    def version(self, version_id: str) -> PolicyVersion:
        doc, created = self.versions[version_id]
        return PolicyVersion(document=doc.text, version_id=version_id,
                             is_default_version=version_id == self.default, create_date=created)

    @property
    def document(self) -> PolicyDocument:
        return self.versions[self.default][0]


def _chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


class ManagedPolicies:
    """The managed-policy operations of ``sim.iam`` (a mixin; state lives on the service)."""

    if TYPE_CHECKING:
        _rt: Runtime
        _account: str
        _users: dict[str, _Principal]
        _roles: dict[str, _Principal]
        _user: Callable[[object], _Principal]
        _role: Callable[[object], _Principal]
        _parse_identity: Callable[[object], PolicyDocument]
        _unique_id: Callable[[str], str]

    def _init_managed(self) -> None:
        """Called by the service's constructor."""
        self._managed_policies: dict[str, _Managed] = {}  # policy ARN -> record
        #: principal (user or role) ARN -> the ARNs of its attached policies, in attach order
        self._attached: dict[str, list[str]] = {}

    def _managed_documents(self, principal_arn: str) -> tuple[PolicyDocument, ...]:
        """The default versions of the managed policies attached to a user or role."""
        policies = self._managed_policies
        return tuple(policies[arn].document for arn in self._attached.get(principal_arn, ()))

    def _has_attached_policies(self, principal_arn: str) -> bool:
        return bool(self._attached.get(principal_arn))

    # --- policies -----------------------------------------------------------------------

    def create_policy(self, *, policy_name: str, policy_document: str, path: str = "/",
                      description: str | None = None) -> Policy:
        """CreatePolicy: a customer managed policy with version ``v1`` as its default."""
        if not isinstance(policy_name, str) or not _NAME_RE.match(policy_name):
            raise IamValidationError(
                f"1 validation error detected: Value '{str(policy_name)[:128]}' at 'policyName' "
                r"failed to satisfy constraint: Member must satisfy regular expression pattern: "
                r"[\w+=,.@-]+ and have length between 1 and 128")
        if not isinstance(path, str) or len(path) > 512 or not _PATH_RE.match(path):
            raise IamValidationError(
                "1 validation error detected: Value at 'path' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/")
        if description is not None and (not isinstance(description, str)
                                        or len(description) > 1000):
            raise IamValidationError(
                "1 validation error detected: Value at 'description' failed to satisfy "
                "constraint: Member must have length less than or equal to 1000")
        doc = self._checked_document(policy_document)
        policies = self._managed_policies
        arn = f"arn:aws:iam::{self._account}:policy{path}{policy_name}"
        if any(p.name.lower() == policy_name.lower() and p.path == path
               for p in policies.values()):
            raise EntityAlreadyExistsException(
                f"A policy called {policy_name} already exists. Duplicate names are not allowed.")
        record = _Managed(policy_name, self._unique_id("ANPA"), arn, path, description,
                          self._rt.clock.now())
        record.versions["v1"] = (doc, record.create_date)
        record.next_version = 2
        policies[arn] = record
        return record.to_policy()

    def get_policy(self, *, policy_arn: str) -> Policy:
        return self._managed(policy_arn).to_policy()

    def list_policies(self, *, scope: str = "All", only_attached: bool = False,
                      path_prefix: str = "/", marker: str | None = None,
                      max_items: int | None = None) -> ListPoliciesResult:
        """ListPolicies: this account's managed policies (``Scope`` ``AWS`` lists none: AWS
        managed policies are not modelled)."""
        if scope not in ("All", "AWS", "Local"):
            raise IamValidationError(
                f"1 validation error detected: Value '{scope}' at 'scope' failed to satisfy "
                "constraint: Member must satisfy enum value set: [All, AWS, Local]")
        if not isinstance(only_attached, bool):
            raise IamValidationError("onlyAttached must be a boolean.")
        if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
            raise IamValidationError(
                "1 validation error detected: Value at 'pathPrefix' failed to satisfy "
                "constraint: Member must start with '/'")
        found = [] if scope == "AWS" else [
            p for p in self._managed_policies.values()
            if p.path.startswith(path_prefix) and (p.attached_to or not only_attached)]
        got = page(found, lambda p: p.arn, marker=marker, max_items=max_items)
        return ListPoliciesResult([p.to_policy() for p in got.items], got.is_truncated,
                                  got.marker)

    def delete_policy(self, *, policy_arn: str) -> None:
        """DeletePolicy: refused while attached or while it has versions besides the default."""
        record = self._managed(policy_arn)
        if record.attached_to:
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        if len(record.versions) > 1:
            raise DeleteConflictException(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy.")
        del self._managed_policies[record.arn]

    # --- versions -----------------------------------------------------------------------

    def create_policy_version(self, *, policy_arn: str, policy_document: str,
                              set_as_default: bool = False) -> PolicyVersion:
        """CreatePolicyVersion (at most five versions: LimitExceeded)."""
        record = self._managed(policy_arn)
        if not isinstance(set_as_default, bool):
            raise IamValidationError("setAsDefault must be a boolean.")
        doc = self._checked_document(policy_document)
        if len(record.versions) >= MANAGED_POLICY_VERSIONS:
            raise IamLimitExceededException(
                f"A managed policy can have up to {MANAGED_POLICY_VERSIONS} versions. Before you "
                "create a new version, you must delete an existing version.")
        version_id = f"v{record.next_version}"
        record.next_version += 1
        now = self._rt.clock.now()
        record.versions[version_id] = (doc, now)
        record.update_date = now
        if set_as_default:
            record.default = version_id
        return record.version(version_id)

    def get_policy_version(self, *, policy_arn: str, version_id: str) -> PolicyVersion:
        record = self._managed(policy_arn)
        return record.version(self._version_of(record, version_id))

    def list_policy_versions(self, *, policy_arn: str, marker: str | None = None,
                             max_items: int | None = None) -> ListPolicyVersionsResult:
        record = self._managed(policy_arn)
        got = page(list(record.versions), str, marker=marker, max_items=max_items)
        return ListPolicyVersionsResult([record.version(v) for v in got.items], got.is_truncated,
                                        got.marker)

    def set_default_policy_version(self, *, policy_arn: str, version_id: str) -> None:
        record = self._managed(policy_arn)
        record.default = self._version_of(record, version_id)
        record.update_date = self._rt.clock.now()

    def delete_policy_version(self, *, policy_arn: str, version_id: str) -> None:
        """DeletePolicyVersion; the default version cannot be deleted (DeleteConflict)."""
        record = self._managed(policy_arn)
        vid = self._version_of(record, version_id)
        if vid == record.default:
            raise DeleteConflictException("Cannot delete the default version of a policy.")
        del record.versions[vid]

    # --- attachments --------------------------------------------------------------------

    def attach_user_policy(self, *, user_name: str, policy_arn: str) -> None:
        self._attach(self._user(user_name), policy_arn, "PoliciesPerUser")

    def attach_role_policy(self, *, role_name: str, policy_arn: str) -> None:
        self._attach(self._role(role_name), policy_arn, "PoliciesPerRole")

    def detach_user_policy(self, *, user_name: str, policy_arn: str) -> None:
        self._detach(self._user(user_name), policy_arn)

    def detach_role_policy(self, *, role_name: str, policy_arn: str) -> None:
        self._detach(self._role(role_name), policy_arn)

    def list_attached_user_policies(self, *, user_name: str, path_prefix: str = "/",
                                    marker: str | None = None,
                                    max_items: int | None = None) -> ListAttachedPoliciesResult:
        return self._list_attached(self._user(user_name), path_prefix, marker, max_items)

    def list_attached_role_policies(self, *, role_name: str, path_prefix: str = "/",
                                    marker: str | None = None,
                                    max_items: int | None = None) -> ListAttachedPoliciesResult:
        return self._list_attached(self._role(role_name), path_prefix, marker, max_items)

    # --- internals ----------------------------------------------------------------------

    def _checked_document(self, text: object) -> PolicyDocument:
        doc = self._parse_identity(text)
        if _chars(doc.text) > MANAGED_POLICY_MAX_CHARS:
            raise IamLimitExceededException(
                f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX_CHARS}")
        return doc

    def _managed(self, policy_arn: object) -> _Managed:
        if not isinstance(policy_arn, str) or not 20 <= len(policy_arn) <= 2048:
            raise IamValidationError(
                "1 validation error detected: Value at 'policyArn' failed to satisfy "
                "constraint: Member must have length between 20 and 2048")
        if _POLICY_ARN_RE.match(policy_arn) is None:
            raise IamInvalidInputException(f"ARN {policy_arn} is not valid.")
        record = self._managed_policies.get(policy_arn)
        if record is None:
            raise NoSuchEntityException(
                f"Policy {policy_arn} does not exist or is not attachable.")
        return record

    @staticmethod
    def _version_of(record: _Managed, version_id: object) -> str:
        if not isinstance(version_id, str) or not _VERSION_RE.match(version_id):
            raise IamValidationError(
                f"1 validation error detected: Value '{str(version_id)[:64]}' at 'versionId' "
                "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
        if version_id not in record.versions:
            raise NoSuchEntityException(
                f"Policy {record.arn} version {version_id} does not exist or is not attachable.")
        return version_id

    def _attach(self, principal: _Principal, policy_arn: str, quota: str) -> None:
        record = self._managed(policy_arn)
        attached = self._attached.setdefault(principal.entity.arn, [])
        if record.arn in attached:
            return  # attaching twice is accepted and changes nothing, as in IAM
        if len(attached) >= MANAGED_POLICIES_PER_PRINCIPAL:
            raise IamLimitExceededException(
                f"Cannot exceed quota for {quota}: {MANAGED_POLICIES_PER_PRINCIPAL}")
        attached.append(record.arn)
        record.attached_to.append(principal.entity.arn)

    def _detach(self, principal: _Principal, policy_arn: str) -> None:
        record = self._managed(policy_arn)
        attached = self._attached.get(principal.entity.arn, [])
        if record.arn not in attached:
            raise NoSuchEntityException(f"Policy {policy_arn} was not found.")
        attached.remove(record.arn)
        record.attached_to.remove(principal.entity.arn)

    def _list_attached(self, principal: _Principal, path_prefix: object, marker: str | None,
                       max_items: int | None) -> ListAttachedPoliciesResult:
        if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
            raise IamValidationError(
                "1 validation error detected: Value at 'pathPrefix' failed to satisfy "
                "constraint: Member must start with '/'")
        policies = self._managed_policies
        found = [policies[a] for a in self._attached.get(principal.entity.arn, ())
                 if policies[a].path.startswith(path_prefix)]
        got = page(found, lambda p: p.arn, marker=marker, max_items=max_items)
        return ListAttachedPoliciesResult(
            [AttachedPolicy(p.name, p.arn) for p in got.items], got.is_truncated, got.marker)
