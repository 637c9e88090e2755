"""IAM: users, roles, their inline policies, and who a caller is.

A deliberately small IAM: what KMS authorisation and the WorkSpaces flow need. Users and roles
live in the simulation's one account; each may hold inline identity policies, which are parsed
(and compiled) once when put, so :meth:`IdentityAndAccessManagement.identity_policies` — called on
every KMS request — is a lookup of the caller's user or role.

Callers: :meth:`~IdentityAndAccessManagement.caller_for` maps an ARN to a
:class:`~simulator.iam.principals.Caller`. A **role ARN acts as an assumed-role session**
``arn:aws:sts::<acct>:assumed-role/<role>/<session>`` (session name ``envelope-sim``, or the one
in a session ARN given directly), because AWS principals never call as the role itself; a
policy naming the role ARN matches its sessions.

The service identities of :mod:`.principals` (the EC2 infrastructure that decrypts EBS data
keys, the WorkSpaces infrastructure) carry a built-in, service-linked identity policy allowing
their own service's actions (``ec2:*``; ``ec2:*``, ``ds:*`` and ``ssm:StartSession`` on its
instances for WorkSpaces) and nothing in KMS: they reach keys only through grants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from ..boundary import operation_boundary
from ..errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    IamLimitExceededException,
    IamMalformedPolicyDocumentException,
    IamValidationError,
    MalformedPolicyDocumentException,
    NoSuchEntityException,
    ValidationException,
)
from ..runtime import Runtime
from .callers import IamAsCaller, install_operations
from .managed import ManagedPolicies
from .paging import page
from .policy import _ACCOUNT_RE, _SERVICE_RE, PolicyDocument, parse_policy
from .principals import Caller, ebs_identity_arn, root_arn, workspaces_identity_arn
from .trust import RoleTrust

__all__ = [
    "DEFAULT_SESSION_NAME",
    "AccessKey",
    "AccessKeyCredentials",
    "AccessKeyMetadata",
    "IdentityAndAccessManagement",
    "ListAccessKeysResult",
    "ListPolicyNamesResult",
    "ListRolesResult",
    "ListTagsResult",
    "ListUsersResult",
    "Role",
    "RolePolicy",
    "Tag",
    "User",
    "UserPolicy",
]

#: Session name used when a role ARN is turned into a caller.
DEFAULT_SESSION_NAME = "envelope-sim"
#: IAM quotas: aggregate inline policy size (non-whitespace characters) per user and per role.
USER_INLINE_POLICY_CHARS = 2_048
ROLE_INLINE_POLICY_CHARS = 10_240

_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}\Z", re.ASCII)
_POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}\Z", re.ASCII)
_SESSION_RE = re.compile(r"^[\w+=,.@-]{2,64}\Z", re.ASCII)
_PATH_RE = re.compile(r"^(/|/[\u0021-\u007e]+/)\Z")
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ACCESS_KEY_ID_RE = re.compile(r"^[\w]{16,128}\Z", re.ASCII)
#: IAM quota: access keys per user.
ACCESS_KEYS_PER_USER = 2
_ACCESS_KEY_STATUSES = ("Active", "Inactive")
_PRINCIPAL_ARN_RE = re.compile(r"^arn:aws:(iam|sts)::(\d{12}):(.+)\Z")

_SERVICE_POLICIES = {
    "ebs": '{"Version":"2012-10-17","Statement":[{"Sid":"EbsServiceLinked","Effect":"Allow",'
           '"Action":"ec2:*","Resource":"*"}]}',
    "workspaces": '{"Version":"2012-10-17","Statement":[{"Sid":"WorkSpacesServiceLinked",'
                  '"Effect":"Allow","Action":["ec2:*","ds:*","ssm:StartSession"],'
                  '"Resource":"*"}]}',
}


@dataclass(frozen=True)
class User:
    arn: str
    user_name: str
    user_id: str
    path: str
    create_date: datetime


@dataclass(frozen=True)
class Role:
    arn: str
    role_name: str
    role_id: str
    path: str
    create_date: datetime
    #: The trust policy's text (None: the role has none; STS refuses to assume it).
    assume_role_policy_document: str | None = None
    description: str | None = None
    max_session_duration: int = 3600


@dataclass(frozen=True)
class UserPolicy:
    user_name: str
    policy_name: str
    policy_document: str


@dataclass(frozen=True)
class RolePolicy:
    role_name: str
    policy_name: str
    policy_document: str


@dataclass(frozen=True)
class AccessKey:
    """CreateAccessKey: the key id and its secret (shown once, as IAM shows it; never in repr)."""

    user_name: str
    access_key_id: str
    status: str
    secret_access_key: str = field(repr=False)
    create_date: datetime


@dataclass(frozen=True)
class AccessKeyMetadata:
    user_name: str
    access_key_id: str
    status: str
    create_date: datetime


@dataclass(frozen=True)
class ListAccessKeysResult:
    access_key_metadata: list[AccessKeyMetadata]
    is_truncated: bool = False


@dataclass(frozen=True)
class AccessKeyCredentials:
    """What a request signer needs to know about an access key id (not an AWS API result).

    ``status`` is ``"Active"``, ``"Inactive"`` or ``"Deleted"`` (a key this simulation issued
    and has since deleted, which must never act as anyone again).
    """

    access_key_id: str
    user_arn: str
    status: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class ListUsersResult:
    users: list[User]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class ListRolesResult:
    roles: list[Role]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class ListPolicyNamesResult:
    policy_names: list[str]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class ListTagsResult:
    """ListUserTags / ListRoleTags: one page of tags (``marker``/``max_items``)."""

    tags: list[Tag]
    is_truncated: bool = False
    marker: str | None = None


def _tag_list(p: _Principal, marker: object, max_items: object) -> ListTagsResult:
    got = page([Tag(k, v) for k, v in p.tags.items()], lambda t: t.key, marker=marker,
               max_items=max_items)
    return ListTagsResult(got.items, got.is_truncated, got.marker)


_NO_TAGS: Mapping[str, str] = MappingProxyType({})


class _Principal:
    """A user or role with its inline policies (name -> parsed document), in put order, and
    its tags (``aws:PrincipalTag/<key>``)."""

    __slots__ = ("entity", "policies", "tags")

    def __init__(self, entity: User | Role) -> None:
        self.entity = entity
        self.policies: dict[str, PolicyDocument] = {}
        self.tags: dict[str, str] = {}


#: IAM quotas: tags per user or role; tag key and value lengths.
TAGS_PER_PRINCIPAL = 50
_TAG_RE = re.compile(r"^[\w\s.:/=+@-]*\Z")


def _check_tags(tags: object) -> dict[str, str]:
    """IAM's ``Tags`` parameter: ``[{"key": ..., "value": ...}]`` (InvalidInput as
    IamValidationError otherwise)."""
    if tags is None:
        return {}
    if isinstance(tags, str | bytes) or not isinstance(tags, Sequence):
        raise IamValidationError("tags must be a list of {'key': ..., 'value': ...} mappings.")
    out: dict[str, str] = {}
    for tag in tags:
        if not isinstance(tag, Mapping) or set(tag) != {"key", "value"}:
            raise IamValidationError(
                "Each tag must be a mapping with exactly the keys 'key' and 'value'.")
        key, value = tag["key"], tag["value"]
        if (not isinstance(key, str) or not 1 <= len(key) <= 128 or not _TAG_RE.match(key)
                or key.lower().startswith("aws:")):
            raise IamValidationError(
                f"1 validation error detected: Value at 'tags.member.key' failed to satisfy "
                f"constraint: a tag key is 1-128 letters, digits, spaces or _.:/=+-@ and does "
                f"not begin with aws: (got {key!r:.80})")
        if not isinstance(value, str) or len(value) > 256 or not _TAG_RE.match(value):
            raise IamValidationError(
                "1 validation error detected: Value at 'tags.member.value' failed to satisfy "
                "constraint: a tag value is 0-256 letters, digits, spaces or _.:/=+-@")
        out[key] = value
    if len(out) > TAGS_PER_PRINCIPAL:
        raise IamLimitExceededException(
            f"A user or role can have at most {TAGS_PER_PRINCIPAL} tags.")
    return out


class _AccessKeyRecord:
    __slots__ = ("access_key_id", "create_date", "secret", "status", "user_arn", "user_name")

    def __init__(self, user_arn: str, user_name: str, access_key_id: str, secret: str,
                 create_date: datetime) -> None:
        self.user_arn = user_arn
        self.user_name = user_name
        self.access_key_id = access_key_id
        self.secret = secret
        self.status = "Active"
        self.create_date = create_date

    def __repr__(self) -> str:  # the secret never shows
        return f"_AccessKeyRecord({self.access_key_id!r}, {self.user_arn!r}, {self.status!r})"


def _check_name(value: object, field: str, pattern: re.Pattern[str], limit: int) -> str:
    if not isinstance(value, str):
        raise IamValidationError(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"Member must be a string")
    if not 1 <= len(value) <= limit:
        raise IamValidationError(
            f"1 validation error detected: Value '{value[:80]}' at '{field}' failed to satisfy "
            f"constraint: Member must have length between 1 and {limit}")
    if not pattern.match(value):
        raise IamValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+")
    return value


#: IAM's model: policyDocumentType is at most 131,072 characters.
_POLICY_DOCUMENT_MAX = 131_072


def _policy_chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


@operation_boundary(lambda iam: iam._rt.lock)
class IdentityAndAccessManagement(ManagedPolicies, RoleTrust):
    """The simulation's IAM (``sim.iam``); managed policies and trust policies are the
    operation families of :mod:`.managed` and :mod:`.trust`."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._account = runtime.account_id
        self._users: dict[str, _Principal] = {}  # lower-cased name -> user
        self._roles: dict[str, _Principal] = {}
        self._init_managed()
        self._init_trust()
        self._access_keys: dict[str, _AccessKeyRecord] = {}  # access key id -> record
        self._deleted_keys: set[str] = set()
        self._service_policies = {
            ebs_identity_arn(self._account): (self._parse_identity(_SERVICE_POLICIES["ebs"]),),
            workspaces_identity_arn(self._account): (
                self._parse_identity(_SERVICE_POLICIES["workspaces"]),),
        }

    @property
    def account_id(self) -> str:
        return self._account

    def with_caller(self, caller: Caller) -> IdentityAndAccessManagement | IamAsCaller:
        """IAM as ``caller`` calls it: each operation needs ``iam:<Operation>`` in the caller's
        identity policies (:mod:`.callers`); the account root's view is this service itself."""
        if not isinstance(caller, Caller):
            raise ValidationException("with_caller takes a Caller (see sim.iam.caller_for)")
        if caller.is_root:
            return self
        return IamAsCaller(self, caller, self._rt.lock, self._rt.clock.now)

    # --- users ------------------------------------------------------------------------------

    def create_user(self, *, user_name: str, path: str = "/",
                    tags: Sequence[Mapping[str, str]] | None = None) -> User:
        """CreateUser. Names are unique case-insensitively (EntityAlreadyExists)."""
        _check_name(user_name, "userName", _NAME_RE, 64)
        path = self._check_path(path)
        tag_map = _check_tags(tags)
        if user_name.lower() in self._users:
            raise EntityAlreadyExistsException(f"User with name {user_name} already exists.")
        user = User(arn=f"arn:aws:iam::{self._account}:user{path}{user_name}",
                    user_name=user_name, user_id=self._unique_id("AIDA"), path=path,
                    create_date=self._rt.clock.now())
        p = self._users[user_name.lower()] = _Principal(user)
        p.tags.update(tag_map)
        return user

    def get_user(self, *, user_name: str) -> User:
        entity = self._user(user_name).entity
        assert isinstance(entity, User)
        return entity

    def list_users(self, *, path_prefix: str = "/", marker: str | None = None,
                   max_items: int | None = None) -> ListUsersResult:
        """ListUsers, paged by ``marker``/``max_items`` (see :mod:`.paging`)."""
        users = [p.entity for p in self._users.values()
                 if isinstance(p.entity, User) and p.entity.path.startswith(
                     self._check_prefix(path_prefix))]
        got = page(users, lambda u: u.user_name.lower(), marker=marker, max_items=max_items)
        return ListUsersResult(got.items, got.is_truncated, got.marker)

    def delete_user(self, *, user_name: str) -> None:
        """DeleteUser; refused (DeleteConflict) while the user still has inline policies or
        access keys."""
        p = self._user(user_name)
        if p.policies:
            raise DeleteConflictException("Cannot delete entity, must delete policies first.")
        if self._has_attached_policies(p.entity.arn):
            raise DeleteConflictException("Cannot delete entity, must detach all policies first.")
        if self._keys_of(p):
            raise DeleteConflictException("Cannot delete entity, must delete access keys first.")
        del self._users[user_name.lower()]

    def put_user_policy(self, *, user_name: str, policy_name: str, policy_document: str) -> None:
        """PutUserPolicy: add or replace an inline policy (validated and compiled now)."""
        _check_name(policy_name, "policyName", _POLICY_NAME_RE, 128)
        p = self._user(user_name)
        self._put(p, policy_name, policy_document, USER_INLINE_POLICY_CHARS, "user", user_name)

    def get_user_policy(self, *, user_name: str, policy_name: str) -> UserPolicy:
        doc = self._policy(self._user(user_name), policy_name, "user", user_name)
        return UserPolicy(user_name=self.get_user(user_name=user_name).user_name,
                          policy_name=policy_name, policy_document=doc.text)

    def delete_user_policy(self, *, user_name: str, policy_name: str) -> None:
        p = self._user(user_name)
        self._policy(p, policy_name, "user", user_name)
        del p.policies[policy_name]

    def list_user_policies(self, *, user_name: str, marker: str | None = None,
                           max_items: int | None = None) -> ListPolicyNamesResult:
        got = page(list(self._user(user_name).policies), str, marker=marker, max_items=max_items)
        return ListPolicyNamesResult(got.items, got.is_truncated, got.marker)

    # --- access keys ------------------------------------------------------------------------

    def create_access_key(self, *, user_name: str) -> AccessKey:
        """CreateAccessKey: ``AKIA`` + 16 characters and a 40-character secret, both drawn
        from the simulation's entropy (a seeded run issues the same keys). At most two per user
        (IAM's quota: LimitExceeded)."""
        p = self._user(user_name)
        if len(self._keys_of(p)) >= ACCESS_KEYS_PER_USER:
            raise IamLimitExceededException(
                f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        # Unique across every account of the simulation: the wire routes a key to its account.
        index = self._rt.access_keys
        key_id = "AKIA" + self._rt.entropy.choice_string(_ID_ALPHABET, 16)
        while key_id in index:
            key_id = "AKIA" + self._rt.entropy.choice_string(_ID_ALPHABET, 16)
        secret = self._rt.entropy.choice_string(_SECRET_ALPHABET, 40)
        user = p.entity
        record = _AccessKeyRecord(user.arn, user.user_name if isinstance(user, User) else "",
                                  key_id, secret, self._rt.clock.now())
        self._access_keys[key_id] = record
        index.issued(key_id, self._account)
        return AccessKey(user_name=record.user_name, access_key_id=key_id, status=record.status,
                         secret_access_key=secret, create_date=record.create_date)

    def list_access_keys(self, *, user_name: str) -> ListAccessKeysResult:
        """ListAccessKeys: the user's keys (ids, status, dates; never the secrets)."""
        return ListAccessKeysResult(access_key_metadata=[
            AccessKeyMetadata(r.user_name, r.access_key_id, r.status, r.create_date)
            for r in self._keys_of(self._user(user_name))])

    def update_access_key(self, *, user_name: str, access_key_id: str, status: str) -> None:
        """UpdateAccessKey: ``Inactive`` stops the key signing requests; ``Active`` again."""
        if status not in _ACCESS_KEY_STATUSES:
            raise IamValidationError(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Active, Inactive]")
        self._access_key(user_name, access_key_id).status = status

    def delete_access_key(self, *, user_name: str, access_key_id: str) -> None:
        """DeleteAccessKey: the key id never signs a request again."""
        record = self._access_key(user_name, access_key_id)
        del self._access_keys[record.access_key_id]
        self._deleted_keys.add(record.access_key_id)

    def credentials_for(self, access_key_id: object) -> AccessKeyCredentials | None:
        """The user and secret behind an access key id this simulation issued, or None.

        For request signing (:mod:`simulator.wire`), not an AWS API: the secret is what a
        SigV4 signature is checked against.
        """
        if not isinstance(access_key_id, str):
            return None
        record = self._access_keys.get(access_key_id)
        if record is not None:
            return AccessKeyCredentials(access_key_id, record.user_arn, record.status,
                                        record.secret)
        if access_key_id in self._deleted_keys:
            return AccessKeyCredentials(access_key_id, "", "Deleted", "")
        return None

    def _keys_of(self, p: _Principal) -> list[_AccessKeyRecord]:
        return [r for r in self._access_keys.values() if r.user_arn == p.entity.arn]

    def _access_key(self, user_name: str, access_key_id: object) -> _AccessKeyRecord:
        p = self._user(user_name)
        if not isinstance(access_key_id, str) or not _ACCESS_KEY_ID_RE.match(access_key_id):
            raise IamValidationError(
                "1 validation error detected: Value at 'accessKeyId' failed to satisfy "
                r"constraint: Member must satisfy regular expression pattern: [\w]+")
        record = self._access_keys.get(access_key_id)
        if record is None or record.user_arn != p.entity.arn:
            raise NoSuchEntityException(f"The Access Key with id {access_key_id} cannot be found.")
        return record

    # --- roles ------------------------------------------------------------------------------

    def create_role(self, *, role_name: str, path: str = "/",
                    assume_role_policy_document: str | None = None,
                    description: str | None = None, max_session_duration: int = 3600,
                    tags: Sequence[Mapping[str, str]] | None = None) -> Role:
        """CreateRole. ``assume_role_policy_document`` is the trust policy STS's AssumeRole
        checks (:mod:`.trust`); a role without one cannot be assumed through STS, though
        ``sim.as_principal(role_arn)`` still acts as a session of it."""
        _check_name(role_name, "roleName", _NAME_RE, 64)
        path = self._check_path(path)
        tag_map = _check_tags(tags)
        if description is not None and (not isinstance(description, str)
                                        or len(description) > 1000):
            raise IamValidationError(
                "1 validation error detected: Value at 'description' failed to satisfy "
                "constraint: Member must have length less than or equal to 1000")
        if isinstance(max_session_duration, bool) or not isinstance(
                max_session_duration, int) or not 3600 <= max_session_duration <= 43200:
            raise IamValidationError(
                f"1 validation error detected: Value '{max_session_duration}' at "
                "'maxSessionDuration' failed to satisfy constraint: Member must have value "
                "between 3600 and 43200")
        trust = (None if assume_role_policy_document is None
                 else self._parse_trust(assume_role_policy_document))
        if role_name.lower() in self._roles:
            raise EntityAlreadyExistsException(f"Role with name {role_name} already exists.")
        role = Role(arn=f"arn:aws:iam::{self._account}:role{path}{role_name}",
                    role_name=role_name, role_id=self._unique_id("AROA"), path=path,
                    create_date=self._rt.clock.now(),
                    assume_role_policy_document=assume_role_policy_document,
                    description=description, max_session_duration=max_session_duration)
        p = self._roles[role_name.lower()] = _Principal(role)
        p.tags.update(tag_map)
        if trust is not None:
            self._trust[role.arn] = trust
        return role

    def get_role(self, *, role_name: str) -> Role:
        entity = self._role(role_name).entity
        assert isinstance(entity, Role)
        trust = self.trust_policy(entity.arn)
        if trust is not None and trust.text != entity.assume_role_policy_document:
            entity = replace(entity, assume_role_policy_document=trust.text)
        return entity

    def list_roles(self, *, path_prefix: str = "/", marker: str | None = None,
                   max_items: int | None = None) -> ListRolesResult:
        """ListRoles, paged by ``marker``/``max_items`` (see :mod:`.paging`)."""
        prefix = self._check_prefix(path_prefix)
        roles = [self.get_role(role_name=p.entity.role_name) for p in self._roles.values()
                 if isinstance(p.entity, Role) and p.entity.path.startswith(prefix)]
        got = page(roles, lambda r: r.role_name.lower(), marker=marker, max_items=max_items)
        return ListRolesResult(got.items, got.is_truncated, got.marker)

    def delete_role(self, *, role_name: str) -> None:
        p = self._role(role_name)
        if p.policies:
            raise DeleteConflictException("Cannot delete entity, must delete policies first.")
        if self._has_attached_policies(p.entity.arn):
            raise DeleteConflictException("Cannot delete entity, must detach all policies first.")
        del self._roles[role_name.lower()]
        self._trust.pop(p.entity.arn, None)

    def put_role_policy(self, *, role_name: str, policy_name: str, policy_document: str) -> None:
        _check_name(policy_name, "policyName", _POLICY_NAME_RE, 128)
        p = self._role(role_name)
        self._put(p, policy_name, policy_document, ROLE_INLINE_POLICY_CHARS, "role", role_name)

    def get_role_policy(self, *, role_name: str, policy_name: str) -> RolePolicy:
        doc = self._policy(self._role(role_name), policy_name, "role", role_name)
        return RolePolicy(role_name=self.get_role(role_name=role_name).role_name,
                          policy_name=policy_name, policy_document=doc.text)

    def delete_role_policy(self, *, role_name: str, policy_name: str) -> None:
        p = self._role(role_name)
        self._policy(p, policy_name, "role", role_name)
        del p.policies[policy_name]

    def list_role_policies(self, *, role_name: str, marker: str | None = None,
                           max_items: int | None = None) -> ListPolicyNamesResult:
        got = page(list(self._role(role_name).policies), str, marker=marker, max_items=max_items)
        return ListPolicyNamesResult(got.items, got.is_truncated, got.marker)

    # --- tags ---------------------------------------------------------------------------------

    def tag_user(self, *, user_name: str, tags: Sequence[Mapping[str, str]]) -> None:
        """TagUser: add or overwrite tags (``aws:PrincipalTag/<key>`` for its requests)."""
        self._tag(self._user(user_name), tags)

    def untag_user(self, *, user_name: str, tag_keys: Sequence[str]) -> None:
        self._untag(self._user(user_name), tag_keys)

    def list_user_tags(self, *, user_name: str, marker: str | None = None,
                       max_items: int | None = None) -> ListTagsResult:
        return _tag_list(self._user(user_name), marker, max_items)

    def tag_role(self, *, role_name: str, tags: Sequence[Mapping[str, str]]) -> None:
        """TagRole: tags of a role are its sessions' ``aws:PrincipalTag/<key>``."""
        self._tag(self._role(role_name), tags)

    def untag_role(self, *, role_name: str, tag_keys: Sequence[str]) -> None:
        self._untag(self._role(role_name), tag_keys)

    def list_role_tags(self, *, role_name: str, marker: str | None = None,
                       max_items: int | None = None) -> ListTagsResult:
        return _tag_list(self._role(role_name), marker, max_items)

    @staticmethod
    def _tag(p: _Principal, tags: object) -> None:
        new = _check_tags(tags)
        if len({**p.tags, **new}) > TAGS_PER_PRINCIPAL:
            raise IamLimitExceededException(
                f"A user or role can have at most {TAGS_PER_PRINCIPAL} tags.")
        p.tags.update(new)

    @staticmethod
    def _untag(p: _Principal, tag_keys: object) -> None:
        if isinstance(tag_keys, str | bytes) or not isinstance(tag_keys, Sequence) or not all(
                isinstance(k, str) for k in tag_keys):
            raise IamValidationError("tag_keys must be a list of strings.")
        for k in tag_keys:
            p.tags.pop(k, None)

    # --- callers and authorisation support ---------------------------------------------------

    def caller_for(self, arn: str) -> Caller:
        """The caller behind an ARN: the root, a user, a role (as a session), a service identity.

        Unknown or malformed ARNs raise ``NoSuchEntityException``.
        """
        if not isinstance(arn, str):
            raise NoSuchEntityException("The principal ARN must be a string.")
        acct = self._account
        if arn in (root_arn(acct), acct):
            return Caller.root(acct)
        if arn in self._service_policies:
            name = "ebs" if arn == ebs_identity_arn(acct) else "workspaces"
            return Caller(arn=arn, account_id=acct, type="AWSService",
                          principal_id=f"AWSService:{name}")
        user_prefix = f"arn:aws:iam::{acct}:user/"
        role_prefix = f"arn:aws:iam::{acct}:role/"
        session_prefix = f"arn:aws:sts::{acct}:assumed-role/"
        if arn.startswith(user_prefix):
            name = arn.rsplit("/", 1)[-1]
            p = self._users.get(name.lower())
            if p is not None and p.entity.arn == arn:
                user = p.entity
                assert isinstance(user, User)
                return Caller(arn=user.arn, account_id=acct, type="IAMUser",
                              principal_id=user.user_id, user_name=user.user_name)
        elif arn.startswith(role_prefix):
            name = arn.rsplit("/", 1)[-1]
            p = self._roles.get(name.lower())
            if p is not None and p.entity.arn == arn:
                return self._session(p, DEFAULT_SESSION_NAME)
        elif arn.startswith(session_prefix):
            rest = arn[len(session_prefix):]
            name, _, session = rest.partition("/")
            p = self._roles.get(name.lower())
            if (p is not None and p.entity.arn.endswith("/" + name) and session
                    and _SESSION_RE.match(session)):
                return self._session(p, session)
        raise NoSuchEntityException(f"The principal {arn} does not exist in this simulation.")

    def _session(self, p: _Principal, session: str) -> Caller:
        role = p.entity
        assert isinstance(role, Role)
        return Caller(
            arn=f"arn:aws:sts::{self._account}:assumed-role/{role.role_name}/{session}",
            account_id=self._account, type="AssumedRole",
            principal_id=f"{role.role_id}:{session}", role_arn=role.arn)

    def identity_policies(self, caller: Caller) -> Sequence[PolicyDocument]:
        """The identity policies of a caller (asked on every KMS request by a non-root caller).

        The root has none (it needs none); a session has its role's; unknown callers have none.
        """
        if not isinstance(caller, Caller):
            raise ValidationException("identity_policies takes a Caller (see sim.iam.caller_for)")
        arn = caller.arn
        docs: tuple[PolicyDocument, ...] = ()
        if arn in self._service_policies:
            docs = self._service_policies[arn]
        elif caller.type == "IAMUser" and caller.user_name is not None:
            p = self._users.get(caller.user_name.lower())
            if p is not None and p.entity.arn == arn:
                docs = tuple(p.policies.values()) + self._managed_documents(p.entity.arn)
        elif caller.role_arn is not None or caller.type == "AssumedRole":
            p = self._role_of(caller)
            if p is not None:
                docs = tuple(p.policies.values()) + self._managed_documents(p.entity.arn)
        return docs

    def principal_tags(self, caller: Caller) -> Mapping[str, str]:
        """The tags of the user or role behind ``caller`` (``aws:PrincipalTag/<key>``)."""
        if not isinstance(caller, Caller):
            raise ValidationException("principal_tags takes a Caller (see sim.iam.caller_for)")
        p: _Principal | None = None
        if caller.type == "IAMUser" and caller.user_name is not None:
            p = self._users.get(caller.user_name.lower())
            if p is not None and p.entity.arn != caller.arn:
                p = None
        elif caller.role_arn is not None or caller.type == "AssumedRole":
            p = self._role_of(caller)
        return MappingProxyType(p.tags) if p is not None else _NO_TAGS

    def unique_id(self, arn: str) -> str | None:
        """The unique id (``AIDA...``, ``AROA...``) of the user or role ``arn`` names now, else
        None. A key policy naming a user or role is bound to this id (IAM User Guide, "Unique
        identifiers"): a later user or role of the same name is someone else."""
        prefix = f"arn:aws:iam::{self._account}:"
        if not isinstance(arn, str) or not arn.startswith(prefix):
            return None
        rest = arn[len(prefix):]
        table = (self._users if rest.startswith("user/") else
                 self._roles if rest.startswith("role/") else None)
        if table is None:
            return None
        p = table.get(rest.rsplit("/", 1)[-1].lower())
        if p is None or p.entity.arn != arn:
            return None
        return p.entity.user_id if isinstance(p.entity, User) else p.entity.role_id

    def _role_of(self, caller: Caller) -> _Principal | None:
        if caller.role_arn is not None:
            name = caller.role_arn.rsplit("/", 1)[-1]
            p = self._roles.get(name.lower())
            return p if p is not None and p.entity.arn == caller.role_arn else None
        prefix = f"arn:aws:sts::{self._account}:assumed-role/"
        if caller.arn.startswith(prefix):
            name = caller.arn[len(prefix):].partition("/")[0]
            return self._roles.get(name.lower())
        return None

    def principal_exists(self, arn: object) -> bool:
        """Whether a key-policy principal names something that exists.

        ``"*"``, any 12-digit account id or account root ARN, this account's users, roles and
        role sessions, the service identities, and well-formed service principals
        (``ec2.amazonaws.com``) exist. Users and roles of *other* accounts cannot be checked
        here and are taken to exist.
        """
        if not isinstance(arn, str):
            return False
        if arn == "*" or _ACCOUNT_RE.match(arn) or _SERVICE_RE.match(arn):
            return True
        if arn in self._service_policies:
            return True
        m = _PRINCIPAL_ARN_RE.match(arn)
        if m is None:
            return False
        service, acct, resource = m.groups()
        if resource == "root":
            return service == "iam"
        if acct != self._account:
            return True
        if service == "iam" and resource.startswith("user/"):
            p = self._users.get(resource.rsplit("/", 1)[-1].lower())
            return p is not None and p.entity.arn == arn
        if service == "iam" and resource.startswith("role/"):
            p = self._roles.get(resource.rsplit("/", 1)[-1].lower())
            return p is not None and p.entity.arn == arn
        if service == "sts" and resource.startswith("assumed-role/"):
            name = resource[len("assumed-role/"):].partition("/")[0]
            return name.lower() in self._roles
        return False

    # --- internals ----------------------------------------------------------------------------

    def _user(self, user_name: object) -> _Principal:
        _check_name(user_name, "userName", _NAME_RE, 64)
        assert isinstance(user_name, str)
        p = self._users.get(user_name.lower())
        if p is None:
            raise NoSuchEntityException(f"The user with name {user_name} cannot be found.")
        return p

    def _role(self, role_name: object) -> _Principal:
        _check_name(role_name, "roleName", _NAME_RE, 64)
        assert isinstance(role_name, str)
        p = self._roles.get(role_name.lower())
        if p is None:
            raise NoSuchEntityException(f"The role with name {role_name} cannot be found.")
        return p

    @staticmethod
    def _policy(p: _Principal, policy_name: object, kind: str, owner: str) -> PolicyDocument:
        _check_name(policy_name, "policyName", _POLICY_NAME_RE, 128)
        assert isinstance(policy_name, str)
        doc = p.policies.get(policy_name)
        if doc is None:
            raise NoSuchEntityException(
                f"The {kind} policy with name {policy_name} cannot be found.")
        return doc

    def _parse_identity(self, text: object) -> PolicyDocument:
        # IAM's model bounds a policy document (policyDocumentType): checked before parsing, so
        # an oversized document costs nothing.
        if isinstance(text, str) and len(text) > _POLICY_DOCUMENT_MAX:
            raise IamValidationError(
                "1 validation error detected: Value at 'policyDocument' failed to satisfy "
                f"constraint: Member must have length less than or equal to {_POLICY_DOCUMENT_MAX}")
        try:
            return parse_policy(text, kind="identity")
        except MalformedPolicyDocumentException as exc:
            raise IamMalformedPolicyDocumentException(exc.message) from None
        except ValidationException as exc:  # non-string or empty document: IAM's own code
            raise IamValidationError(exc.message) from None

    def _put(self, p: _Principal, policy_name: str, text: object, limit: int, kind: str,
             owner: str) -> None:
        doc = self._parse_identity(text)
        total = sum(_policy_chars(d.text) for n, d in p.policies.items() if n != policy_name)
        total += _policy_chars(doc.text)
        if total > limit:
            raise IamLimitExceededException(
                f"Maximum policy size of {limit} bytes exceeded for {kind} {owner}")
        p.policies[policy_name] = doc

    @staticmethod
    def _check_prefix(prefix: object) -> str:
        if not isinstance(prefix, str) or not 1 <= len(prefix) <= 512 or prefix[0] != "/":
            raise IamValidationError(
                "1 validation error detected: Value at 'pathPrefix' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "\\u002F[\\u0021-\\u007F]*")
        return prefix

    def _check_path(self, path: object) -> str:
        if not isinstance(path, str) or not 1 <= len(path) <= 512 or not _PATH_RE.match(path):
            raise IamValidationError(
                "1 validation error detected: Value at 'path' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-"
                "\\u007E]+\\u002F)")
        return path

    def _unique_id(self, prefix: str) -> str:
        return prefix + self._rt.entropy.choice_string(_ID_ALPHABET, 17)


install_operations(IdentityAndAccessManagement)
