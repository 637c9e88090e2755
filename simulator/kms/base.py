"""What every KMS operation family shares: the API-call context, key resolution,
authorization, key-state rules and scheduled work."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from ..crypto import BackingKey
from ..errors import (
    MESSAGES,
    AccessDeniedException,
    AwsError,
    DisabledException,
    DryRunOperationException,
    InvalidArnException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KMSInvalidStateException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    ValidationException,
)
from ..iam.evaluator import AuthRequest
from ..iam.policy import PolicyDocument, parse_policy
from ..iam.principals import Caller
from . import validation as v
from .authz import KmsRequest, authorize_kms, authorize_kms_identity
from .grants import Grant, GrantStore
from .keys import AWS_MANAGED_SERVICES, ENCRYPT_DECRYPT, KeyRecord, Rotation
from .state import AliasRecord, KmsState

__all__ = ["KmsBase", "check_marker", "request_alias"]

_T = TypeVar("_T")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}")
#: How key states other than Enabled/Disabled/PendingDeletion read in KMSInvalidState messages.
_STATE_WORDS = {"Creating": "being created", "PendingReplicaDeletion": "pending replica deletion",
                "Updating": "updating its primary Region"}
_KEY_ARN = re.compile(r"arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key/(.+)")
_ALIAS_ARN = re.compile(r"arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(alias/.+)")


class _Api:
    """The context of one KMS API call: runs the ``before-call`` hooks on entry, and on exit,
    successful or not, writes the audit record and the trace event."""

    __slots__ = ("_blob", "_read_only", "_svc", "additional", "name", "params", "resources",
                 "response", "trace_detail")

    def __init__(self, svc: KmsBase, name: str, params: dict[str, Any] | None,
                 read_only: bool, blob: object = None) -> None:
        self._svc = svc
        self._blob = blob  # given to hook handlers (a blob names its key), never audited
        self.name = name
        self.params = params
        self._read_only = read_only
        self.resources: list[str] = []
        self.response: dict[str, Any] | None = None
        self.trace_detail: dict[str, Any] | None = None
        self.additional: dict[str, Any] | None = None

    def __enter__(self) -> _Api:
        # Fault plans and observers hook in here (simulator.hooks); an AWS error raised by a
        # handler fails this call like any other error, audit record included.
        try:
            self._svc._s.runtime.hooks.emit("before-call.kms." + self.name,
                                            caller=self._svc._caller, params=self.params,
                                            ciphertext_blob=self._blob)
        except BaseException as err:
            self.__exit__(type(err), err, err.__traceback__)
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        svc = self._svc
        rt = svc._s.runtime
        caller = svc._caller
        name = self.name
        foreign = self._foreign()
        if foreign is not None:
            self._record_shared(ev, foreign)
        elif ev is None:  # success: the common case, without the error fields
            rt.audit.record(
                name, user_identity=svc._user_identity(),
                request_parameters=self.params,
                response_elements=self.response, additional_event_data=self.additional,
                resources=self.resources, read_only=self._read_only,
                source_ip=caller.source_ip)
        if ev is None:
            detail = self.trace_detail
            if detail is not None:
                detail = {"caller": caller.arn, "invoked_by": caller.invoked_by, **detail}
                rt.trace.record_detail(
                    "KMS", name, self.resources[0] if self.resources else "-", detail,
                    outcome="ok", phase="kms." + name)
            return
        err = ev if isinstance(ev, AwsError) else None
        if foreign is None:
            rt.audit.record(
                name,
                user_identity=svc._user_identity(),
                request_parameters=self.params,
                response_elements=self.response,
                additional_event_data=self.additional,
                resources=self.resources,
                read_only=self._read_only,
                error_code=err.code if err is not None else "InternalFailure",
                error_message=err.message if err is not None else None,
                source_ip=caller.source_ip,
            )
        if self.trace_detail is not None or err is not None:
            detail = self.trace_detail or {}
            if err is not None and err.message:
                detail = {**detail, "error": err.message}
            rt.trace.record_detail(
                "KMS", name, self.resources[0] if self.resources else "-",
                {"caller": caller.arn, "invoked_by": caller.invoked_by, **detail},
                outcome=err.code if err is not None else "error", phase="kms." + name)

    def _foreign(self) -> str | None:
        """The first key ARN of this call owned by another account (None: all are ours)."""
        prefix = self._svc._s.arn_prefix
        for arn in self.resources:
            if not arn.startswith(prefix) and ":kms:" in arn:
                return arn
        return None

    def _record_shared(self, ev: BaseException | None, foreign: str) -> None:
        """A call on another account's key: CloudTrail records it in the caller's account and
        in the key owner's, two events tied by one ``sharedEventID``."""
        svc = self._svc
        s = svc._s
        err = ev if isinstance(ev, AwsError) else None
        fields: dict[str, Any] = {
            "request_parameters": self.params, "response_elements": self.response,
            "additional_event_data": self.additional, "resources": self.resources,
            "read_only": self._read_only, "shared_event_id": s.runtime.ids.shared_event_id(),
            "source_ip": svc._caller.source_ip}
        if ev is not None:
            fields["error_code"] = err.code if err is not None else "InternalFailure"
            fields["error_message"] = err.message if err is not None else None
        owner = svc._home_of_arn(foreign)
        for cell in (s, owner) if owner is not None else (s,):
            cell.runtime.audit.record(self.name, user_identity=svc._user_identity(), **fields)


class KmsBase:
    """The state and helpers the operation-family mixins share (see :mod:`.service`)."""

    def __init__(self, state: KmsState, caller: Caller) -> None:
        self._s = state
        self._caller = caller
        self._identity: dict[str, Any] | None = None

    def _user_identity(self) -> dict[str, Any]:
        """A fresh ``userIdentity`` for an audit record (a copy of one built once per view)."""
        ident = self._identity
        if ident is None:
            ident = self._identity = self._caller.user_identity()
        return ident.copy()

    def with_caller(self, caller: Caller) -> Self:
        """The same KMS, called by ``caller``."""
        return type(self)(self._s, caller)

    @property
    def caller(self) -> Caller:
        return self._caller

    @property
    def grants(self) -> GrantStore:
        """The grant store (read access for tests, fault injection and scenarios)."""
        return self._s.grants

    def _api(self, name: str, params: dict[str, Any] | None, read_only: bool = False,
             blob: object = None) -> _Api:
        return _Api(self, name, params, read_only, blob)

    def _now(self) -> datetime:
        return self._s.runtime.clock.now()

    def _key_by_id(self, key_id: str, shown: str) -> KeyRecord:
        key = self._s.keys.get(key_id)
        if key is not None:
            return key
        raise NotFoundException(MESSAGES["key_not_found"].format(arn=self._s.key_arn(key_id))
                                if _UUID.fullmatch(key_id) else
                                MESSAGES["invalid_key_id"].format(value=shown))

    def _resolve(self, key_id: object, *, aliases: bool, field: str = "keyId",
                 cross_account: bool = False) -> KeyRecord:
        """Find the key ``key_id`` names, in the forms AWS accepts for this operation: a key id
        or key ARN, and where ``aliases`` an alias name or alias ARN (AWS KMS API Reference,
        the ``KeyId`` parameter). An ARN of another partition or Region names no key here:
        NotFound. Another account's key is found by its key ARN (or alias ARN) only, and only
        where ``cross_account`` (the operations AWS lets other accounts call: "Allowing users
        in other accounts to use a KMS key"); key ids and alias names are this account's."""
        ident = v.check_str(key_id, field, max_len=2048)
        if not ident.startswith("arn:"):
            if ident.startswith("alias/"):
                if not aliases:
                    raise NotFoundException(MESSAGES["invalid_key_id"].format(value=ident))
                return self._by_alias(ident)
            return self._key_by_id(ident, ident)
        rt = self._s.runtime
        m = _KEY_ARN.fullmatch(ident)
        if m is not None:
            partition, region, account, kid = m.groups()
            if region != rt.region:
                raise NotFoundException(MESSAGES["invalid_arn_region"].format(region=region))
            if partition != self._s.partition:
                raise NotFoundException(MESSAGES["key_not_found"].format(arn=ident))
            if account != rt.account_id:
                home = self._other_account(account, cross_account)
                key = home.keys.get(kid) if home is not None else None
                if key is None:
                    raise NotFoundException(MESSAGES["key_not_found"].format(arn=ident))
                return key
            return self._key_by_id(kid, ident)
        m = _ALIAS_ARN.fullmatch(ident)
        if m is not None and aliases:
            partition, region, account, alias = m.groups()
            if region != rt.region:
                raise NotFoundException(MESSAGES["invalid_arn_region"].format(region=region))
            if partition != self._s.partition:
                raise NotFoundException(MESSAGES["alias_not_found"].format(arn=ident))
            if account != rt.account_id:
                home = self._other_account(account, cross_account)
                rec = home.aliases.get(alias) if home is not None else None
                if home is None or rec is None:
                    raise NotFoundException(MESSAGES["alias_not_found"].format(arn=ident))
                return home.keys[rec.target_key_id]
            return self._by_alias(alias)
        if m is None and not ident.startswith("arn:aws"):
            raise InvalidArnException(f"Invalid arn {ident}")
        raise NotFoundException(MESSAGES["invalid_key_id"].format(value=ident))

    def _other_account(self, account: str, cross_account: bool) -> KmsState | None:
        """Another account's KMS in this Region, if this operation may use its keys."""
        directory = self._s.directory
        if not cross_account or directory is None:
            return None
        return directory.kms_state(account, self._s.runtime.region)

    def _home(self, key: KeyRecord) -> KmsState:
        """The KMS holding ``key``: this one, or (a key used across accounts) its owner's."""
        s = self._s
        if key.account_id == s.runtime.account_id:
            return s
        home = self._other_account(key.account_id, True)
        assert home is not None, "a key of another account is only found through its home"
        return home

    def _home_of_arn(self, arn: str) -> KmsState | None:
        """The KMS whose key ``arn`` is (None when no cell holds it)."""
        m = _KEY_ARN.fullmatch(arn)
        directory = self._s.directory
        if m is None or directory is None:
            return None
        return directory.kms_state(m.group(3), m.group(2))

    def _by_alias(self, alias: str) -> KeyRecord:
        rec = self._s.aliases.get(alias)
        if rec is not None:
            return self._s.keys[rec.target_key_id]
        service = alias[len("alias/aws/"):] if alias.startswith("alias/aws/") else None
        # A predefined AWS alias gets its AWS managed key on first use by the owning service
        # (or by DescribeKey, handled in describe_key).
        if service in AWS_MANAGED_SERVICES and self._caller.via_service is not None:
            return self._aws_managed_key(service)
        raise NotFoundException(MESSAGES["alias_not_found"].format(arn=self._s.alias_arn(alias)))

    def _aws_managed_key(self, service: str) -> KeyRecord:
        existing = self._s.aws_managed.get(service)
        if existing is not None:
            return self._s.keys[existing]
        rt = self._s.runtime
        key_id = rt.ids.key_id()
        arn = self._s.key_arn(key_id)
        via = f"{AWS_MANAGED_SERVICES[service]}.{rt.region}.amazonaws.com"
        text = _aws_managed_policy(rt.account_id, via, service)
        key = KeyRecord(
            key_id=key_id, arn=arn, account_id=rt.account_id, creation_date=self._now(),
            key_spec="SYMMETRIC_DEFAULT", key_usage=ENCRYPT_DECRYPT,
            description=f"Default key that protects my {service} resources when no other key "
                        "is defined",
            key_manager="AWS", origin="AWS_KMS",
            policy=parse_policy(text, kind="key"),
        )
        self._new_material(key)
        self._s.keys[key_id] = key
        self._s.aws_managed[service] = key_id
        now = self._now()
        self._s.aliases[f"alias/aws/{service}"] = AliasRecord(f"alias/aws/{service}", key_id, now, now)
        key.rotation_enabled = True
        key.rotation_period_in_days = rt.settings.aws_managed_rotation_days
        self._schedule_rotation(key)
        rt.trace.record("KMS", "CreateKey", arn, key_manager="AWS", alias=f"alias/aws/{service}",
                        reason="first use of the AWS managed key")
        return key

    def _new_material(self, key: KeyRecord) -> str:
        rt = self._s.runtime
        material_id = rt.ids.key_material_id()
        key.materials[material_id] = BackingKey(material_id, rt.entropy.token_bytes(32))
        key.current_material_id = material_id
        self._sync_replicas(key)
        return material_id

    def _in(self, state: KmsState) -> Self:
        """This KMS's operations on another of the simulation's KMS cells, by the same caller
        (a multi-Region key's other Regions)."""
        return self if state is self._s else type(self)(state, self._caller)

    def _replicas(self, key: KeyRecord) -> list[tuple[KmsState, KeyRecord]]:
        """The other members of ``key``'s multi-Region set, each with its Region's KMS."""
        mrk, directory = key.multi_region, self._s.directory
        if mrk is None or directory is None:
            return []
        out = []
        for region in mrk.regions:
            state = directory.kms_state(key.account_id, region)
            other = state.keys.get(key.key_id) if state is not None else None
            if state is not None and other is not None and other is not key:
                out.append((state, other))
        return out

    def _sync_replicas(self, key: KeyRecord) -> None:
        """A multi-Region primary's shared properties reach its replicas: key material and
        automatic rotation (KMS Developer Guide, "Multi-Region keys: shared properties")."""
        if key.multi_region is None or key.is_replica:
            return
        for _, replica in self._replicas(key):
            if key.origin != "EXTERNAL":  # imported material is imported into each key
                replica.materials = dict(key.materials)
                replica.current_material_id = key.current_material_id
                replica.asymmetric = key.asymmetric
                replica.hmac = key.hmac
            replica.rotation_enabled = key.rotation_enabled
            replica.rotation_period_in_days = key.rotation_period_in_days
            replica.next_rotation_date = key.next_rotation_date
            replica.rotations = list(key.rotations)

    def _authorize(
        self,
        key: KeyRecord,
        action: str,
        *,
        grant_operation: str | None = None,
        context: Mapping[str, str] | None = None,
        tokens: tuple[str, ...] = (),
        extra: Mapping[str, object] | None = None,
        grant_check: Callable[[Grant], bool] | None = None,
        caller: Caller | None = None,
        request_tags: Mapping[str, str] | None = None,
    ) -> None:
        caller = caller or self._caller
        grants = self._home(key).grants
        if tokens:
            # After the key is found (a deleted key is NotFound, not a bad token), and whoever
            # the caller: unknown or malformed tokens are refused even if a policy allows.
            grants.resolve_tokens(tokens)
        # The root has every IAM permission: its identity policies are never consulted.
        identity = () if caller.is_root else self._s.iam.identity_policies(caller)
        decision = authorize_kms(
            KmsRequest(
                caller=caller, action=action, resource=key.arn, now=self._now(),
                principal_tags=self._s.iam.principal_tags,
                grant_operation=grant_operation, encryption_context=context,
                grant_tokens=tokens, grant_check=grant_check, key_record=key, params=extra,
                request_tags=request_tags, aliases=self._aliases_of,
            ),
            key_policy=key.policy,
            identity_policies=identity,
            grants=grants,
            key_arn=key.arn,
        )
        if not decision.allowed:
            raise AccessDeniedException(decision.message)

    def _aliases_of(self, key: KeyRecord) -> list[str]:
        return [a.alias_name for a in self._s.aliases.values() if a.target_key_id == key.key_id]

    def _authorize_identity(self, action: str, resource: str = "*", *,
                            params: Mapping[str, object] | None = None,
                            request_tags: Mapping[str, str] | None = None) -> None:
        caller = self._caller
        decision = authorize_kms_identity(
            KmsRequest(caller=caller, action=action, resource=resource, now=self._now(),
                       principal_tags=self._s.iam.principal_tags, params=params,
                       request_tags=request_tags),
            identity_policies=self._s.iam.identity_policies(caller),
        )
        if not decision.allowed:
            raise AccessDeniedException(decision.message)

    @staticmethod
    def _require_usable(key: KeyRecord) -> None:
        """The key-state rule for cryptographic operations and CreateGrant."""
        if key.key_state == "Enabled":
            return
        if key.key_state == "Disabled":
            raise DisabledException(MESSAGES["key_disabled"].format(arn=key.arn))
        raise KmsBase._invalid_state(key)

    @staticmethod
    def _invalid_state(key: KeyRecord) -> KMSInvalidStateException:
        if key.key_state == "PendingDeletion":
            return KMSInvalidStateException(MESSAGES["key_pending_deletion"].format(arn=key.arn))
        if key.key_state == "PendingImport":
            return KMSInvalidStateException(MESSAGES["key_pending_import"].format(arn=key.arn))
        return KMSInvalidStateException(MESSAGES["key_state_invalid"].format(
            arn=key.arn, state=_STATE_WORDS.get(key.key_state, key.key_state)))

    @staticmethod
    def _require_material(key: KeyRecord) -> None:
        """EnableKey and DisableKey need a key with material (not one pending import)."""
        if key.key_state == "PendingImport":
            raise KMSInvalidStateException(MESSAGES["key_pending_import"].format(arn=key.arn))

    @staticmethod
    def _require_not_pending(key: KeyRecord) -> None:
        if key.key_state in ("PendingDeletion", "PendingReplicaDeletion"):
            raise KmsBase._invalid_state(key)

    def _require_customer_managed(self, key: KeyRecord, action: str) -> None:
        # AWS managed keys' policies allow no management actions at all, so policy evaluation
        # already denies them; this check gives the same AccessDenied for callers (like the
        # account root) whose own rights would otherwise not be consulted.
        if key.is_aws_managed:
            raise AccessDeniedException(
                MESSAGES["access_denied"].format(
                    principal=self._caller.arn, action=action, resource=key.arn,
                    policy_kind="resource-based"))

    @staticmethod
    def _dry_run(dry_run: object) -> None:
        if v.check_bool(dry_run, "dryRun"):
            raise DryRunOperationException(
                "The request would have succeeded, but the DryRun option is set.")

    def _check_policy(self, policy: object, key_arn: str, bypass: bool) -> PolicyDocument:
        """The parsed key policy (parse_policy checks its size and syntax) and the lockout check."""
        text = v.check_policy(policy)
        doc = parse_policy(text, kind="key", principal_exists=self._s.iam.principal_exists,
                           unique_id=self._s.iam.unique_id)
        if not bypass:
            decision = authorize_kms(
                AuthRequest(caller=self._caller, action="kms:PutKeyPolicy", resource=key_arn),
                key_policy=doc, identity_policies=self._s.iam.identity_policies(self._caller),
                grants=None, key_arn=key_arn,
            )
            if not decision.allowed:
                raise MalformedPolicyDocumentException(
                    "The new key policy will not allow you to update the key policy in the future.")
        return doc

    @staticmethod
    def _check_tags(tags: object) -> dict[str, str]:
        if tags is None:
            return {}
        out: dict[str, str] = {}
        for tag in v.as_list(tags, "tags"):
            if not isinstance(tag, Mapping) or set(tag) != {"tag_key", "tag_value"}:
                raise ValidationException(
                    "Each tag must be a mapping with exactly the keys 'tag_key' and 'tag_value'.")
            k = v.check_str(tag["tag_key"], "tagKey", max_len=128)
            val = v.check_str(tag["tag_value"], "tagValue", min_len=0, max_len=256)
            if k.lower().startswith("aws:"):
                raise TagException("Tags beginning with aws: are reserved")
            out[k] = val
        return out

    def _schedule_rotation(self, key: KeyRecord, *, resume: bool = False) -> None:
        """(Re)arm automatic rotation; on re-enable an overdue rotation runs at once."""
        clock = self._s.runtime.clock
        if key.rotation_call is not None:
            key.rotation_call.cancel()
        period = timedelta(days=key.rotation_period_in_days or 365)
        if not resume or key.next_rotation_date is None:
            key.next_rotation_date = self._now() + period
        # Background: yearly rotations must not keep run_until_idle going forever.
        key.rotation_call = clock.schedule_background(
            (key.next_rotation_date - self._now()).total_seconds(), f"kms:RotateKey {key.key_id}",
            lambda: self._auto_rotate(key))

    def _auto_rotate(self, key: KeyRecord) -> None:
        rt = self._s.runtime
        key.rotation_call = None
        if self._s.keys.get(key.key_id) is not key or not key.rotation_enabled:
            return
        if key.key_state != "Enabled":
            return  # KMS does not rotate a disabled key; enable_key resumes the schedule
        material_id = self._new_material(key)
        key.rotations.append(Rotation(material_id, self._now(), "AUTOMATIC"))
        self._sync_replicas(key)
        rt.audit.record("RotateKey", user_identity=None, resources=[key.arn],
                        event_type="AwsServiceEvent", source_ip="AWS Internal",
                        user_agent="AWS Internal",
                        additional_event_data={"keyId": key.arn, "rotationType": "AUTOMATIC"})
        rt.trace.record("KMS", "RotateKey", key.arn, phase="kms.RotateKey",
                        key_material_id=material_id, rotation_type="AUTOMATIC")
        key.next_rotation_date = None
        self._schedule_rotation(key)

    def _use_key(self, call: _Api, key_id: object, operation: str, usage: str, *,
                 tokens: tuple[str, ...], extra: Mapping[str, object],
                 context: Mapping[str, str] | None = None) -> KeyRecord:
        """The key ``key_id`` names (another account's by ARN), authorized for ``operation``,
        enabled, of ``usage``."""
        key = self._resolve(key_id, aliases=True, cross_account=True)
        call.resources.append(key.arn)
        self._authorize(key, "kms:" + operation, grant_operation=operation, tokens=tokens,
                        context=context,
                        extra={"kms:RequestAlias": request_alias(key_id), **extra})
        self._require_usable(key)
        if key.key_usage != usage:
            raise InvalidKeyUsageException(MESSAGES["key_usage"].format(
                arn=key.arn, usage=key.key_usage, operation=operation))
        return key

    def _admin_key(self, key_id: str, action: str, call: _Api,
                   params: Mapping[str, object] | None = None,
                   request_tags: Mapping[str, str] | None = None) -> KeyRecord:
        """The customer managed key a key-administration call acts on, authorized and not
        pending deletion (EnableKey, DisableKey, ScheduleKeyDeletion, tags, description);
        ``params``: the request's condition keys."""
        key = self._resolve(key_id, aliases=False)
        call.resources.append(key.arn)
        self._authorize(key, action, extra=params, request_tags=request_tags)
        self._require_customer_managed(key, action)
        self._require_not_pending(key)
        return key


def request_alias(key_id: object) -> str | None:
    """The alias a ``KeyId`` parameter names (``alias/x`` or its ARN), for ``kms:RequestAlias``."""
    if not isinstance(key_id, str) or "alias/" not in key_id:
        return None
    if key_id.startswith("alias/"):
        return key_id
    m = _ALIAS_ARN.fullmatch(key_id)
    return m.group(4) if m is not None else None


_MARKER_CHARS = re.compile(r"[\u0020-\u00ff]*")
_OUR_MARKER = re.compile(r"[0-9]{1,19}")


def check_marker(value: object, *, ours: bool = True) -> int:
    """The offset a ``Marker`` stands for (0 when absent).

    The model's ``MarkerType`` (1-1024 characters of U+0020-U+00FF) is checked first
    (ValidationException); then, where ``ours``, the value must be a marker this KMS returned
    (a decimal offset; otherwise AWS's InvalidMarkerException). ``ours=False`` for an
    operation whose model lists no InvalidMarkerException (ListKeyPolicies: one page only).
    """
    if value is None:
        return 0
    text = v.check_str(value, "marker", max_len=1024, pattern=_MARKER_CHARS)
    if not ours:
        return 0
    if not _OUR_MARKER.fullmatch(text):
        raise InvalidMarkerException("The marker is not valid for this request.")
    return int(text)


def _page(items: Sequence[_T], start: int, limit: int) -> tuple[tuple[_T, ...], bool, str | None]:
    """One page of a Marker-paged list: the items, whether more follow, the next Marker."""
    more = start + limit < len(items)
    return tuple(items[start:start + limit]), more, str(start + limit) if more else None


def _aws_managed_policy(account_id: str, via_service: str, service: str) -> str:
    """The policy AWS puts on ``aws/<service>``: use only through the service, in this account."""
    return json.dumps({
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account that "
                       f"are authorized to use {service}",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account_id,
                                               "kms:ViaService": via_service}},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*",
            },
        ],
    }, indent=2)
