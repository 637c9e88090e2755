"""The KMS service: keys, aliases, key states, envelope operations, rotation, grants.

``KeyManagementService`` is a *view*: the account's :class:`KmsState` plus the caller it acts as.
``sim.kms`` is the account root's view; ``sim.as_principal(arn).kms`` another; EBS and
WorkSpaces call through views whose caller carries the service (``kms:ViaService``).

Every call, successful or failed, is written to the audit trail; every rule (validation, key
resolution, authorization, key state) is checked before any state changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from ..boundary import operation_boundary
from ..crypto import BackingKey, BlobError, SecretBytes, open_blob, seal
from ..crypto.envelope import header_ids
from ..errors import (
    MESSAGES,
    AccessDeniedException,
    AlreadyExistsException,
    AwsError,
    ConflictException,
    DisabledException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidAliasNameException,
    InvalidArnException,
    InvalidCiphertextException,
    InvalidGrantIdException,
    InvalidKeyUsageException,
    KMSInvalidStateException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
)
from ..iam.evaluator import AuthRequest, authorize_identity, authorize_kms, key_policy_settles
from ..iam.policy import PolicyDocument, default_key_policy, parse_policy
from ..iam.principals import Caller
from . import validation as v
from .grants import CONTEXT_OPERATIONS, Grant, GrantConstraints, GrantStore
from .keys import AWS_MANAGED_SERVICES, ENCRYPT_DECRYPT, KEY_SPECS, KeyRecord, Rotation
from .models import (
    AliasListEntry,
    CreateGrantResult,
    DataKey,
    DecryptResult,
    EncryptedDataKey,
    EncryptResult,
    GenerateRandomResult,
    GrantListEntry,
    KeyListEntry,
    KeyMetadata,
    KeyPolicyResult,
    KeyRotationStatus,
    ListAliasesResult,
    ListGrantsResult,
    ListKeyPoliciesResult,
    ListKeyRotationsResult,
    ListKeysResult,
    ListResourceTagsResult,
    ReEncryptResult,
    RotateKeyOnDemandResult,
    RotationsListEntry,
    ScheduleKeyDeletionResult,
    new_data_key,
    new_decrypt_result,
)
from .state import AliasRecord, KmsState

__all__ = ["GRANT_OPERATIONS", "KeyManagementService"]

_T = TypeVar("_T")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/(.+)")
_ALIAS_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(alias/.+)")
_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9:/_-]+")
_PRINCIPAL = re.compile(r"[\w+=,.@:/-]+")
_GRANT_NAME = re.compile(r"[a-zA-Z0-9:/_-]+")
_TAG_LIMIT = 50
_ALIASES_PER_KEY = 50

#: Every value of the GrantOperation enum.
GRANT_OPERATIONS = (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret",
)
_COMMON_GRANT_OPS = frozenset({"CreateGrant", "RetireGrant", "DescribeKey"})
_GRANT_OPS_BY_USAGE = {
    ("SYMMETRIC", ENCRYPT_DECRYPT): frozenset({
        "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom", "ReEncryptTo", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext"}),
    ("ASYMMETRIC", ENCRYPT_DECRYPT): frozenset({
        "Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"}),
    ("ASYMMETRIC", "SIGN_VERIFY"): frozenset({"Sign", "Verify", "GetPublicKey"}),
    ("ASYMMETRIC", "KEY_AGREEMENT"): frozenset({"DeriveSharedSecret", "GetPublicKey"}),
    ("HMAC", "GENERATE_VERIFY_MAC"): frozenset({"GenerateMac", "VerifyMac"}),
}
_DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")


class _Api:
    """Audits one API call on exit, successful or not (cheaper than @contextmanager)."""

    __slots__ = ("_read_only", "_shared", "_svc", "additional", "name", "params", "resources",
                 "response", "trace_detail")

    def __init__(self, svc: KeyManagementService, name: str, params: dict[str, Any] | None,
                 read_only: bool) -> None:
        self._svc = svc
        self.name = name
        self.params = params
        self._read_only = read_only
        self._shared = False  # whether hook handlers were given ``params``
        self.resources: list[str] = []
        self.response: dict[str, Any] | None = None
        self.trace_detail: dict[str, Any] | None = None
        self.additional: dict[str, Any] | None = None

    def __enter__(self) -> _Api:
        # Fault plans and observers hook in here (simulator.hooks); an AWS error raised by a
        # handler fails this call like any other error, audit record included.
        hooks = self._svc._s.runtime.hooks
        event = "before-call.kms." + self.name
        if event in hooks:  # emitting with no handler would do nothing
            self._shared = True
            try:
                hooks.emit(event, caller=self._svc._caller, params=self.params)
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
        if ev is None:  # success: the common case, without the error fields
            ident = svc._identity
            rt.audit.record(
                name, user_identity=ident.copy() if ident is not None else svc._user_identity(),
                request_parameters=self.params,
                response_elements=self.response, additional_event_data=self.additional,
                resources=self.resources, read_only=self._read_only,
                owned=not self._shared)  # params are built per call: no copy unless shared
            detail = self.trace_detail
            if detail is not None:
                if "caller" not in detail:  # the hot operations put the caller in themselves
                    detail = {"caller": caller.arn, "invoked_by": caller.invoked_by, **detail}
                rt.trace.record_detail(
                    "KMS", name, self.resources[0] if self.resources else "-", detail,
                    outcome="ok", phase="kms." + name)
            return
        err = ev if isinstance(ev, AwsError) else None
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
        )
        if self.trace_detail is not None or err is not None:
            detail = self.trace_detail or {}
            if err is not None and err.message:
                detail = {**detail, "error": err.message}
            rt.trace.record_detail(
                "KMS", name, self.resources[0] if self.resources else "-",
                {"caller": caller.arn, "invoked_by": caller.invoked_by, **detail},
                outcome=err.code if err is not None else "error", phase="kms." + name)


@operation_boundary(lambda kms: kms._s.runtime.lock)
class KeyManagementService:
    """AWS KMS for one account and Region, as seen by one caller."""

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

    def with_caller(self, caller: Caller) -> KeyManagementService:
        """The same KMS, called by ``caller``."""
        return KeyManagementService(self._s, caller)

    @property
    def caller(self) -> Caller:
        return self._caller

    @property
    def grants(self) -> GrantStore:
        """The grant store (read access for tests, fault injection and scenarios)."""
        return self._s.grants

    # ================================================================ helpers

    def _api(self, name: str, params: dict[str, Any] | None, read_only: bool = False) -> _Api:
        return _Api(self, name, params, read_only)

    def _now(self) -> datetime:
        return self._s.runtime.clock.now()

    def _key_by_id(self, key_id: str, shown: str) -> KeyRecord:
        key = self._s.keys.get(key_id)
        if key is not None:
            if len(self._s.key_ids_by_ref) < 100_000:
                self._s.key_ids_by_ref[shown] = key_id
            return key
        raise NotFoundException(MESSAGES["key_not_found"].format(arn=self._s.key_arn(key_id))
                                if _UUID.fullmatch(key_id) else
                                MESSAGES["invalid_key_id"].format(value=shown))

    def _resolve(self, key_id: object, *, aliases: bool, field: str = "keyId") -> KeyRecord:
        """Find the key ``key_id`` names, in the forms AWS accepts for this operation (A5)."""
        if type(key_id) is str:
            # Hot path: a key ARN or id this KMS has already resolved (they never change
            # meaning; a deleted key is simply no longer in ``keys``).
            known = self._s.key_ids_by_ref.get(key_id)
            if known is not None:
                key = self._s.keys.get(known)
                if key is not None:
                    return key
        ident = v.check_str(key_id, field, max_len=2048)
        rt = self._s.runtime
        if ident.startswith("arn:"):
            m = _KEY_ARN.fullmatch(ident)
            if m is not None:
                region, account, kid = m.groups()
                if region != rt.region:
                    raise NotFoundException(MESSAGES["invalid_arn_region"].format(region=region))
                if account != rt.account_id:
                    raise NotFoundException(MESSAGES["key_not_found"].format(arn=ident))
                return self._key_by_id(kid, ident)
            m = _ALIAS_ARN.fullmatch(ident)
            if m is not None and aliases:
                region, account, alias = m.groups()
                if region != rt.region:
                    raise NotFoundException(MESSAGES["invalid_arn_region"].format(region=region))
                if account != rt.account_id:
                    raise NotFoundException(MESSAGES["alias_not_found"].format(arn=ident))
                return self._by_alias(alias)
            if m is None and not ident.startswith("arn:aws"):
                raise InvalidArnException(f"Invalid arn {ident}")
            raise NotFoundException(MESSAGES["invalid_key_id"].format(value=ident))
        if ident.startswith("alias/"):
            if not aliases:
                raise NotFoundException(MESSAGES["invalid_key_id"].format(value=ident))
            return self._by_alias(ident)
        return self._key_by_id(ident, ident)

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
            policy=parse_policy(text, kind="key", account_id=rt.account_id),
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
        return material_id

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
    ) -> None:
        caller = caller or self._caller
        if tokens:
            # After the key is found (a deleted key is NotFound, not a bad token), and whoever
            # the caller: unknown or malformed tokens are refused even if a policy allows.
            self._s.grants.resolve_tokens(tokens)
        # The root has every IAM permission: its identity policies are never consulted.
        identity = () if caller.type == "Root" else self._s.iam.identity_policies(caller)
        if key_policy_settles(key.policy, action, key.arn, caller,
                              identity):
            # The key policy allows the caller unconditionally and nothing can deny it: the
            # decision authorize_kms would reach, without building its condition keys.
            return
        # kms:CallerAccount and kms:ViaService the evaluator derives from the caller itself.
        conditions: dict[str, object] = {
            "kms:GrantIsForAWSResource": caller.via_service is not None,
            "kms:KeySpec": key.key_spec,
            "kms:KeyUsage": key.key_usage,
        }
        if context is not None or grant_operation in CONTEXT_OPERATIONS:
            ctx = context or {}
            for k, val in ctx.items():
                conditions["kms:EncryptionContext:" + k] = val
            conditions["kms:EncryptionContextKeys"] = list(ctx)
        if extra:
            conditions.update(extra)
        decision = authorize_kms(
            AuthRequest(
                caller=caller, action=action, resource=key.arn, conditions=conditions,
                grant_operation=grant_operation, encryption_context=context,
                grant_tokens=tokens, grant_check=grant_check,
            ),
            key_policy=key.policy,
            identity_policies=identity,
            grants=self._s.grants,
            key_arn=key.arn,
        )
        if not decision.allowed:
            raise AccessDeniedException(decision.message)

    def _authorize_identity(self, action: str, resource: str = "*") -> None:
        decision = authorize_identity(
            AuthRequest(caller=self._caller, action=action, resource=resource,
                        conditions={"kms:CallerAccount": self._caller.account_id}),
            identity_policies=self._s.iam.identity_policies(self._caller),
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
        raise KMSInvalidStateException(MESSAGES["key_pending_deletion"].format(arn=key.arn))

    @staticmethod
    def _require_not_pending(key: KeyRecord) -> None:
        if key.key_state == "PendingDeletion":
            raise KMSInvalidStateException(MESSAGES["key_pending_deletion"].format(arn=key.arn))

    def _require_encrypt_usage(self, key: KeyRecord, operation: str) -> None:
        if key.key_usage != ENCRYPT_DECRYPT:
            raise InvalidKeyUsageException(
                MESSAGES["key_usage"].format(arn=key.arn, usage=key.key_usage, operation=operation))
        if not key.is_symmetric:
            raise UnsupportedOperationException(
                f"{key.arn} is an asymmetric {key.key_spec} key: envelope-sim does not perform "
                "asymmetric cryptography (RSA key generation cannot be seeded, so it would "
                "break replayable runs)."
            )

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

    def _check_algorithm(self, key: KeyRecord, algorithm: object) -> None:
        if algorithm is None:
            return
        v.check_enum(algorithm, "encryptionAlgorithm", _ALGORITHMS)
        if key.is_symmetric and algorithm != "SYMMETRIC_DEFAULT":
            raise InvalidKeyUsageException(
                f"{key.arn} key usage is {key.key_usage} which is not valid for the "
                f"encryption algorithm {algorithm}.")

    def _seal(self, key: KeyRecord, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
        return seal(key.current_material, key.key_id, plaintext, context,
                    self._s.runtime.entropy.token_bytes(12))

    def _open(self, blob: bytes, expected: KeyRecord | None) -> tuple[KeyRecord, str]:
        """The key a blob names (checked against ``expected``), without decrypting yet."""
        try:
            key_id, material_id = header_ids(blob)
        except BlobError:
            raise InvalidCiphertextException("") from None
        key = self._s.keys.get(key_id)
        if key is None:
            if key_id in self._s.deleted:
                raise NotFoundException(
                    MESSAGES["key_not_found"].format(arn=self._s.key_arn(key_id)))
            raise InvalidCiphertextException("")
        if expected is not None and expected is not key:
            raise IncorrectKeyException(MESSAGES["incorrect_key"])
        return key, material_id

    @staticmethod
    def _decrypt_with(key: KeyRecord, material_id: str, blob: bytes,
                      context: Mapping[str, str] | None) -> SecretBytes:
        backing = key.materials.get(material_id)
        if backing is None:
            raise InvalidCiphertextException("")
        try:
            return open_blob(backing, blob, context)
        except BlobError:
            raise InvalidCiphertextException("") from None

    # ================================================================ keys

    def create_key(
        self,
        *,
        policy: str | None = None,
        description: str = "",
        key_usage: str | None = None,
        key_spec: str | None = None,
        customer_master_key_spec: str | None = None,
        origin: str = "AWS_KMS",
        bypass_policy_lockout_safety_check: bool = False,
        tags: Sequence[Mapping[str, str]] | None = None,
        multi_region: bool = False,
    ) -> KeyMetadata:
        """CreateKey: a customer managed key (SYMMETRIC_DEFAULT unless ``key_spec`` says)."""
        params: dict[str, Any] = {"description": description, "keyUsage": key_usage,
                                  "keySpec": key_spec, "origin": origin,
                                  "bypassPolicyLockoutSafetyCheck": bypass_policy_lockout_safety_check,
                                  "multiRegion": multi_region}
        with self._api("CreateKey", params) as call:
            rt = self._s.runtime
            v.check_str(description, "description", min_len=0, max_len=8192)
            spec = key_spec if key_spec is not None else customer_master_key_spec
            spec = v.check_enum(spec if spec is not None else "SYMMETRIC_DEFAULT", "keySpec",
                                tuple(KEY_SPECS))
            if key_usage is None:
                if spec != "SYMMETRIC_DEFAULT":
                    raise ValidationException(
                        "You must specify a KeyUsage value for all KMS keys except for "
                        "symmetric encryption keys.")
                usage = ENCRYPT_DECRYPT
            else:
                usage = v.check_enum(key_usage, "keyUsage", (
                    "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"))
                if usage not in KEY_SPECS[spec]:
                    raise ValidationException(
                        f"KeyUsage {usage} is not compatible with KeySpec {spec}.")
            v.check_enum(origin, "origin", ("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"))
            if origin != "AWS_KMS":
                raise UnsupportedOperationException(
                    f"Origin {origin} is not supported by envelope-sim; use AWS_KMS.")
            if v.check_bool(multi_region, "multiRegion"):
                raise UnsupportedOperationException(
                    "Multi-Region keys are not supported by envelope-sim.")
            bypass = v.check_bool(bypass_policy_lockout_safety_check, "bypassPolicyLockoutSafetyCheck")
            tag_map = self._check_tags(tags)
            self._authorize_identity("kms:CreateKey")
            key_id = rt.ids.key_id()
            arn = self._s.key_arn(key_id)
            doc = (parse_policy(default_key_policy(rt.account_id), kind="key",
                                account_id=rt.account_id)
                   if policy is None else self._check_policy(policy, arn, bypass))
            key = KeyRecord(
                key_id=key_id, arn=arn, account_id=rt.account_id, creation_date=self._now(),
                key_spec=spec, key_usage=usage, description=description,
                key_manager="CUSTOMER", origin=origin, policy=doc, tags=tag_map,
            )
            if spec == "SYMMETRIC_DEFAULT":
                self._new_material(key)
            self._s.keys[key_id] = key
            call.resources.append(arn)
            call.response = {"keyMetadata": {"keyId": key_id, "arn": arn, "keySpec": spec,
                                             "keyUsage": usage, "keyState": "Enabled"}}
            call.trace_detail = {"key_spec": spec, "description": description}
            return key.metadata()

    def _check_policy(self, policy: object, key_arn: str, bypass: bool) -> PolicyDocument:
        """The parsed key policy (parse_policy checks its size and syntax) and the lockout check."""
        text = v.check_str(policy, "policy", max_len=131072)
        doc = parse_policy(text, kind="key", account_id=self._s.runtime.account_id,
                           principal_exists=self._s.iam.principal_exists)
        if not bypass:
            decision = authorize_kms(
                AuthRequest(caller=self._caller, action="kms:PutKeyPolicy", resource=key_arn,
                            conditions={"kms:CallerAccount": self._caller.account_id}),
                key_policy=doc, identity_policies=self._s.iam.identity_policies(self._caller),
                grants=None, key_arn=key_arn,
            )
            if not decision.allowed:
                raise MalformedPolicyDocumentException(
                    "The new key policy will not allow you to update the key policy in the future.")
        return doc

    def describe_key(self, *, key_id: str, grant_tokens: Sequence[str] | None = None) -> KeyMetadata:
        """DescribeKey; on a predefined ``alias/aws/<service>`` it creates that AWS managed key."""
        with self._api("DescribeKey", {"keyId": key_id}, read_only=True) as call:
            tokens = v.check_tokens(grant_tokens)
            ident = v.check_str(key_id, "keyId")
            alias = ident if ident.startswith("alias/") else None
            m = _ALIAS_ARN.fullmatch(ident)
            if (m is not None and m.group(1) == self._s.runtime.region
                    and m.group(2) == self._s.runtime.account_id):
                alias = m.group(3)
            service = alias[len("alias/aws/"):] if alias and alias.startswith("alias/aws/") else None
            if service in AWS_MANAGED_SERVICES and alias not in self._s.aliases:
                key = self._aws_managed_key(service)
            else:
                key = self._resolve(ident, aliases=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:DescribeKey", grant_operation="DescribeKey", tokens=tokens)
            return key.metadata()

    def list_keys(self, *, limit: int | None = None, marker: str | None = None) -> ListKeysResult:
        """ListKeys, in creation order, with Marker paging."""
        with self._api("ListKeys", {"limit": limit, "marker": marker}, read_only=True):
            lim = v.check_limit(limit) or 100
            start = v.check_marker(marker)
            self._authorize_identity("kms:ListKeys")
            page, more, marker = _page(list(self._s.keys.values()), start, lim)
            return ListKeysResult(tuple(KeyListEntry(k.key_id, k.arn) for k in page), more, marker)

    def enable_key(self, *, key_id: str) -> None:
        """EnableKey (a no-op on an enabled key)."""
        with self._api("EnableKey", {"keyId": key_id}) as call:
            key = self._admin_key(key_id, "kms:EnableKey", call)
            was = key.key_state
            key.key_state = "Enabled"
            if was != "Enabled" and key.rotation_enabled:
                self._schedule_rotation(key, resume=True)
            call.trace_detail = {"from_state": was, "to_state": "Enabled"}

    def disable_key(self, *, key_id: str) -> None:
        """DisableKey: cryptographic use stops at once; attached EBS volumes keep working."""
        with self._api("DisableKey", {"keyId": key_id}) as call:
            key = self._admin_key(key_id, "kms:DisableKey", call)
            was = key.key_state
            key.key_state = "Disabled"
            call.trace_detail = {"from_state": was, "to_state": "Disabled"}

    def schedule_key_deletion(self, *, key_id: str,
                              pending_window_in_days: int = 30) -> ScheduleKeyDeletionResult:
        """ScheduleKeyDeletion (7-30 days); the key is deleted when the window ends."""
        with self._api("ScheduleKeyDeletion", {"keyId": key_id,
                                               "pendingWindowInDays": pending_window_in_days}) as call:
            days = v.check_int(pending_window_in_days, "pendingWindowInDays", 1, 365)
            if not 7 <= days <= 30:
                raise ValidationException(
                    f"PendingWindowInDays should be between 7 and 30, but it is {days}")
            key = self._admin_key(key_id, "kms:ScheduleKeyDeletion", call)
            when = self._now() + timedelta(days=days)
            key.key_state = "PendingDeletion"
            key.deletion_date = when
            key.pending_window_in_days = days
            key.deletion_call = self._s.runtime.clock.schedule_at(
                when, f"kms:DeleteKey {key.key_id}", lambda: self._delete_key(key))
            call.response = {"keyId": key.arn, "deletionDate": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "keyState": "PendingDeletion", "pendingWindowInDays": days}
            call.trace_detail = {"deletion_date": when, "pending_window_in_days": days}
            return ScheduleKeyDeletionResult(key.arn, when, "PendingDeletion", days)

    def cancel_key_deletion(self, *, key_id: str) -> str:
        """CancelKeyDeletion: the key goes back to Disabled (not Enabled). Returns the key ARN."""
        with self._api("CancelKeyDeletion", {"keyId": key_id}) as call:
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:CancelKeyDeletion")
            if key.key_state != "PendingDeletion":
                raise KMSInvalidStateException(
                    MESSAGES["key_not_pending_deletion"].format(arn=key.arn))
            if key.deletion_call is not None:
                key.deletion_call.cancel()
            key.key_state = "Disabled"
            key.deletion_date = key.pending_window_in_days = key.deletion_call = None
            call.response = {"keyId": key.arn}
            call.trace_detail = {"to_state": "Disabled"}
            return key.arn

    def _delete_key(self, key: KeyRecord) -> None:
        """The waiting period ended: delete the key, its aliases and grants (a service event)."""
        rt = self._s.runtime
        if self._s.keys.get(key.key_id) is not key or key.key_state != "PendingDeletion":
            return
        del self._s.keys[key.key_id]
        self._s.deleted.add(key.key_id)
        for name in [n for n, a in self._s.aliases.items() if a.target_key_id == key.key_id]:
            del self._s.aliases[name]
        self._s.grants.remove_key(key.arn)
        if key.rotation_call is not None:
            key.rotation_call.cancel()
        key.materials.clear()
        rt.audit.record("DeleteKey", user_identity=None, resources=[key.arn],
                        event_type="AwsServiceEvent", source_ip="AWS Internal",
                        user_agent="AWS Internal",
                        additional_event_data={"keyId": key.arn})
        rt.trace.record("KMS", "DeleteKey", key.arn, phase="kms.DeleteKey",
                        reason="the deletion waiting period ended; key material destroyed")

    def update_key_description(self, *, key_id: str, description: str) -> None:
        with self._api("UpdateKeyDescription", {"keyId": key_id, "description": description}) as call:
            v.check_str(description, "description", min_len=0, max_len=8192)
            key = self._admin_key(key_id, "kms:UpdateKeyDescription", call)
            key.description = description

    # ---------------------------------------------------------------- tags

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

    def tag_resource(self, *, key_id: str, tags: Sequence[Mapping[str, str]]) -> None:
        with self._api("TagResource", {"keyId": key_id, "tags": tags}) as call:
            new = self._check_tags(tags)
            key = self._admin_key(key_id, "kms:TagResource", call)
            if len({**key.tags, **new}) > _TAG_LIMIT:
                raise LimitExceededException(f"A key can have at most {_TAG_LIMIT} tags.")
            key.tags.update(new)

    def untag_resource(self, *, key_id: str, tag_keys: Sequence[str]) -> None:
        with self._api("UntagResource", {"keyId": key_id, "tagKeys": tag_keys}) as call:
            names = [v.check_str(t, "tagKeys.member", max_len=128) for t in v.as_list(tag_keys, "tagKeys")]
            key = self._admin_key(key_id, "kms:UntagResource", call)
            for name in names:
                key.tags.pop(name, None)

    def list_resource_tags(self, *, key_id: str, limit: int | None = None,
                           marker: str | None = None) -> ListResourceTagsResult:
        with self._api("ListResourceTags", {"keyId": key_id, "limit": limit, "marker": marker},
                       read_only=True) as call:
            lim = v.check_limit(limit, high=50) or 50
            start = v.check_marker(marker)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListResourceTags")
            tags = key.tag_list()
            return ListResourceTagsResult(*_page(tags, start, lim))

    # ---------------------------------------------------------------- aliases

    def _check_alias_name(self, alias_name: object) -> str:
        name = v.check_str(alias_name, "aliasName", max_len=256)
        if not name.startswith("alias/"):
            raise ValidationException(
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
        if not _ALIAS_NAME.fullmatch(name) or ":" in name or name == "alias/":
            raise ValidationException(f"{name} contains invalid characters for an alias")
        return name

    def _alias_target(self, target_key_id: object) -> KeyRecord:
        key = self._resolve(target_key_id, aliases=False, field="targetKeyId")
        if key.is_aws_managed:
            raise ValidationException(
                f"{key.arn} is an AWS managed key; aliases can target customer managed keys only.")
        return key

    def create_alias(self, *, alias_name: str, target_key_id: str) -> None:
        """CreateAlias: ``alias/<name>``, unique per account and Region; not ``alias/aws/``."""
        with self._api("CreateAlias", {"aliasName": alias_name, "targetKeyId": target_key_id}) as call:
            name = self._check_alias_name(alias_name)
            if name.startswith("alias/aws/"):
                raise InvalidAliasNameException(
                    "Alias names starting with alias/aws/ are reserved for AWS managed keys.")
            key = self._alias_target(target_key_id)
            call.resources.append(key.arn)
            self._authorize(key, "kms:CreateAlias")
            self._require_not_pending(key)
            if name in self._s.aliases:
                raise AlreadyExistsException(
                    f"An alias with the name {self._s.alias_arn(name)} already exists")
            if sum(a.target_key_id == key.key_id for a in self._s.aliases.values()) >= _ALIASES_PER_KEY:
                raise LimitExceededException(f"A key can have at most {_ALIASES_PER_KEY} aliases.")
            now = self._now()
            self._s.aliases[name] = AliasRecord(name, key.key_id, now, now)
            call.trace_detail = {"alias": name}

    def update_alias(self, *, alias_name: str, target_key_id: str) -> None:
        """UpdateAlias: point an alias at another key of the same type and usage."""
        with self._api("UpdateAlias", {"aliasName": alias_name, "targetKeyId": target_key_id}) as call:
            name = self._check_alias_name(alias_name)
            rec = self._s.aliases.get(name)
            if rec is None or name.startswith("alias/aws/"):
                raise NotFoundException(MESSAGES["alias_not_found"].format(arn=self._s.alias_arn(name)))
            key = self._alias_target(target_key_id)
            call.resources.append(key.arn)
            current = self._s.keys[rec.target_key_id]
            self._authorize(key, "kms:UpdateAlias")
            self._require_not_pending(key)
            if (current.is_symmetric, current.key_usage) != (key.is_symmetric, key.key_usage) or (
                    current.key_spec.startswith("HMAC") != key.key_spec.startswith("HMAC")):
                raise ValidationException(
                    f"Alias {name} cannot be changed from a {current.key_spec}/{current.key_usage} "
                    f"key to a {key.key_spec}/{key.key_usage} key.")
            rec.target_key_id = key.key_id
            rec.last_updated_date = self._now()

    def delete_alias(self, *, alias_name: str) -> None:
        with self._api("DeleteAlias", {"aliasName": alias_name}) as call:
            name = self._check_alias_name(alias_name)
            rec = self._s.aliases.get(name)
            if rec is None or name.startswith("alias/aws/"):
                raise NotFoundException(MESSAGES["alias_not_found"].format(arn=self._s.alias_arn(name)))
            key = self._s.keys[rec.target_key_id]
            call.resources.append(key.arn)
            self._authorize(key, "kms:DeleteAlias")
            del self._s.aliases[name]

    def list_aliases(self, *, key_id: str | None = None, limit: int | None = None,
                     marker: str | None = None) -> ListAliasesResult:
        """ListAliases; includes the predefined ``alias/aws/*`` names (without a target until used)."""
        with self._api("ListAliases", {"keyId": key_id, "limit": limit, "marker": marker},
                       read_only=True):
            lim = v.check_limit(limit) or 50
            start = v.check_marker(marker)
            target = self._resolve(key_id, aliases=False) if key_id is not None else None
            self._authorize_identity("kms:ListAliases")
            entries = []
            for svc in AWS_MANAGED_SERVICES:
                name = f"alias/aws/{svc}"
                if name not in self._s.aliases and target is None:
                    entries.append(AliasListEntry(name, self._s.alias_arn(name), None))
            for rec in self._s.aliases.values():
                if target is None or rec.target_key_id == target.key_id:
                    entries.append(AliasListEntry(rec.alias_name, self._s.alias_arn(rec.alias_name),
                                                  rec.target_key_id, rec.creation_date,
                                                  rec.last_updated_date))
            entries.sort(key=lambda e: e.alias_name)
            return ListAliasesResult(*_page(entries, start, lim))

    # ---------------------------------------------------------------- key policies

    def get_key_policy(self, *, key_id: str, policy_name: str = "default") -> KeyPolicyResult:
        with self._api("GetKeyPolicy", {"keyId": key_id, "policyName": policy_name},
                       read_only=True) as call:
            self._check_policy_name(policy_name)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:GetKeyPolicy")
            return KeyPolicyResult(key.policy.text, "default")

    def put_key_policy(self, *, key_id: str, policy: str, policy_name: str = "default",
                       bypass_policy_lockout_safety_check: bool = False) -> None:
        """PutKeyPolicy: validated, size-limited, with the lockout safety check."""
        with self._api("PutKeyPolicy", {"keyId": key_id, "policyName": policy_name,
                                        "bypassPolicyLockoutSafetyCheck":
                                            bypass_policy_lockout_safety_check}) as call:
            self._check_policy_name(policy_name)
            bypass = v.check_bool(bypass_policy_lockout_safety_check, "bypassPolicyLockoutSafetyCheck")
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:PutKeyPolicy")
            self._require_customer_managed(key, "kms:PutKeyPolicy")
            key.policy = self._check_policy(policy, key.arn, bypass)
            call.trace_detail = {"policy_statements": len(key.policy.statements)}

    def list_key_policies(self, *, key_id: str, limit: int | None = None,
                          marker: str | None = None) -> ListKeyPoliciesResult:
        with self._api("ListKeyPolicies", {"keyId": key_id}, read_only=True) as call:
            v.check_limit(limit)
            v.check_marker(marker)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListKeyPolicies")
            return ListKeyPoliciesResult(("default",), False)

    @staticmethod
    def _check_policy_name(name: object) -> None:
        if v.check_str(name, "policyName", max_len=128) != "default":
            raise NotFoundException("No such policy exists")

    # ================================================================ cryptographic operations

    def encrypt(self, *, key_id: str, plaintext: bytes,
                encryption_context: Mapping[str, str] | None = None,
                grant_tokens: Sequence[str] | None = None,
                encryption_algorithm: str | None = None, dry_run: bool = False) -> EncryptResult:
        """Encrypt up to 4096 bytes directly under a KMS key."""
        with self._api("Encrypt", {"keyId": key_id, "encryptionContext": encryption_context,
                                   "encryptionAlgorithm": encryption_algorithm or "SYMMETRIC_DEFAULT"},
                       read_only=True) as call:
            data = v.check_plaintext(plaintext)
            ctx = v.check_context(encryption_context)
            tokens = v.check_tokens(grant_tokens)
            key = self._resolve(key_id, aliases=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:Encrypt", grant_operation="Encrypt", context=ctx, tokens=tokens)
            self._require_usable(key)
            self._check_algorithm(key, encryption_algorithm)
            self._require_encrypt_usage(key, "Encrypt")
            self._dry_run(dry_run)
            blob = self._seal(key, data, ctx)
            call.trace_detail = {"encryption_context": ctx or {}, "bytes": len(data)}
            return EncryptResult(blob, key.arn, "SYMMETRIC_DEFAULT")

    def _data_key_size(self, key_spec: object, number_of_bytes: object) -> int:
        if (key_spec is None) == (number_of_bytes is None):
            raise ValidationException("Please specify either number of bytes or key spec.")
        if key_spec is not None:
            return _DATA_KEY_SPECS[v.check_enum(key_spec, "keySpec", tuple(_DATA_KEY_SPECS))]
        return v.check_int(number_of_bytes, "numberOfBytes", 1, 1024)

    def _generate(self, name: str, key_id: object, encryption_context: object,
                  number_of_bytes: object, key_spec: object, grant_tokens: object,
                  dry_run: object) -> tuple[KeyRecord, SecretBytes, bytes, dict[str, str] | None]:
        params: dict[str, Any] = {"keyId": key_id, "encryptionContext": encryption_context}
        if key_spec is not None:
            params["keySpec"] = key_spec
        if number_of_bytes is not None:
            params["numberOfBytes"] = number_of_bytes
        with _Api(self, name, params, True) as call:
            size = (_DATA_KEY_SPECS.get(key_spec) if number_of_bytes is None
                    and type(key_spec) is str else None) or self._data_key_size(
                        key_spec, number_of_bytes)
            # Not copied: read during the call only (seal, authorization); the trace and the
            # audit record keep redacted copies.
            ctx = v.check_context(encryption_context, copy=False)
            tokens = v.check_tokens(grant_tokens) if grant_tokens is not None else ()
            known = self._s.key_ids_by_ref.get(key_id) if type(key_id) is str else None
            key = (self._s.keys.get(known) if known is not None else None) or self._resolve(
                key_id, aliases=True)  # (the first half is _resolve's own hot path, inlined)
            call.resources.append(key.arn)
            self._authorize(key, "kms:" + name, grant_operation=name, context=ctx, tokens=tokens)
            if key.key_state != "Enabled":
                self._require_usable(key)
            if key.key_usage != ENCRYPT_DECRYPT or key.key_spec != "SYMMETRIC_DEFAULT":
                raise InvalidKeyUsageException(
                    MESSAGES["key_usage"].format(arn=key.arn, usage=key.key_usage, operation=name)
                    if key.key_usage != ENCRYPT_DECRYPT else
                    f"{key.arn} key spec {key.key_spec} is not valid for {name}.")
            if dry_run is not False:
                self._dry_run(dry_run)
            entropy = self._s.runtime.entropy
            if size % 4:
                data_key = SecretBytes(entropy.token_bytes(size))
                nonce = entropy.token_bytes(12)
            else:
                # One draw for the data key and the blob's nonce. Seeded, it gives the very
                # bytes of two draws (data key, then nonce): random.Random.randbytes takes
                # whole 32-bit words in order, so a split at a multiple of 4 bytes is exact
                # (tests/test_kms_crypto.py checks it; the golden trace would show a change).
                raw = entropy.token_bytes(size + 12)
                data_key, nonce = SecretBytes(raw[:size]), raw[size:]
            material_id = key.current_material_id
            assert material_id is not None  # every symmetric key has material
            blob = seal(key.materials[material_id], key.key_id, data_key, ctx, nonce)
            caller = self._caller
            call.trace_detail = {"caller": caller.arn, "invoked_by": caller.invoked_by,
                                 "encryption_context": ctx or {}, "data_key_bytes": size,
                                 "key_material_id": material_id}
            return key, data_key, blob, ctx

    def generate_data_key(
        self, *, key_id: str, encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int | None = None, key_spec: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> DataKey:
        """GenerateDataKey: a fresh data key, in plaintext and encrypted under the KMS key."""
        key, data_key, blob, _ = self._generate(
            "GenerateDataKey", key_id, encryption_context, number_of_bytes, key_spec,
            grant_tokens, dry_run)
        return new_data_key(blob, data_key, key.arn, key.current_material_id or "")

    def generate_data_key_without_plaintext(
        self, *, key_id: str, encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int | None = None, key_spec: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> EncryptedDataKey:
        """GenerateDataKeyWithoutPlaintext: only the encrypted copy leaves KMS (EBS step 3-4)."""
        key, data_key, blob, _ = self._generate(
            "GenerateDataKeyWithoutPlaintext", key_id, encryption_context, number_of_bytes,
            key_spec, grant_tokens, dry_run)
        del data_key
        return EncryptedDataKey(blob, key.arn, key.current_material_id or "")

    def decrypt(
        self, *, ciphertext_blob: bytes, encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None, key_id: str | None = None,
        encryption_algorithm: str | None = None, dry_run: bool = False,
    ) -> DecryptResult:
        """Decrypt a blob; the key comes from the blob, ``key_id`` (optional) must match it."""
        with _Api(self, "Decrypt", {"keyId": key_id, "encryptionContext": encryption_context,
                                    "encryptionAlgorithm": encryption_algorithm or "SYMMETRIC_DEFAULT"},
                  True) as call:
            blob = v.check_blob(ciphertext_blob)
            ctx = v.check_context(encryption_context, copy=False)  # read during the call only
            tokens = v.check_tokens(grant_tokens) if grant_tokens is not None else ()
            expected = self._resolve(key_id, aliases=True) if key_id is not None else None
            key, material_id = self._open(blob, expected)
            call.resources.append(key.arn)
            self._authorize(key, "kms:Decrypt", grant_operation="Decrypt", context=ctx, tokens=tokens)
            if key.key_state != "Enabled":
                self._require_usable(key)
            if encryption_algorithm is not None:
                self._check_algorithm(key, encryption_algorithm)
            if dry_run is not False:
                self._dry_run(dry_run)
            plaintext = self._decrypt_with(key, material_id, blob, ctx)
            caller = self._caller
            call.trace_detail = {"caller": caller.arn, "invoked_by": caller.invoked_by,
                                 "encryption_context": ctx or {}, "key_material_id": material_id}
            return new_decrypt_result(plaintext, key.arn, "SYMMETRIC_DEFAULT", material_id)

    def re_encrypt(
        self, *, ciphertext_blob: bytes, destination_key_id: str,
        source_encryption_context: Mapping[str, str] | None = None,
        source_key_id: str | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
        source_encryption_algorithm: str | None = None,
        destination_encryption_algorithm: str | None = None,
        grant_tokens: Sequence[str] | None = None, dry_run: bool = False,
    ) -> ReEncryptResult:
        """ReEncrypt: decrypt under the source key and context, encrypt under the destination's.

        Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination.
        """
        with self._api("ReEncrypt", {
                "sourceKeyId": source_key_id, "destinationKeyId": destination_key_id,
                "sourceEncryptionContext": source_encryption_context,
                "destinationEncryptionContext": destination_encryption_context,
                "sourceEncryptionAlgorithm": source_encryption_algorithm or "SYMMETRIC_DEFAULT",
                "destinationEncryptionAlgorithm": destination_encryption_algorithm or "SYMMETRIC_DEFAULT",
        }, read_only=True) as call:
            blob = v.check_blob(ciphertext_blob)
            src_ctx = v.check_context(source_encryption_context, "sourceEncryptionContext")
            dst_ctx = v.check_context(destination_encryption_context, "destinationEncryptionContext")
            tokens = v.check_tokens(grant_tokens)
            expected = (self._resolve(source_key_id, aliases=True, field="sourceKeyId")
                        if source_key_id is not None else None)
            dest = self._resolve(destination_key_id, aliases=True, field="destinationKeyId")
            src, material_id = self._open(blob, expected)
            call.resources.extend(dict.fromkeys([src.arn, dest.arn]))
            self._authorize(src, "kms:ReEncryptFrom", grant_operation="ReEncryptFrom",
                            context=src_ctx, tokens=tokens)
            self._authorize(dest, "kms:ReEncryptTo", grant_operation="ReEncryptTo",
                            context=dst_ctx, tokens=tokens)
            self._require_usable(src)
            self._require_usable(dest)
            self._check_algorithm(src, source_encryption_algorithm)
            self._check_algorithm(dest, destination_encryption_algorithm)
            self._require_encrypt_usage(dest, "ReEncrypt")
            self._dry_run(dry_run)
            plaintext = self._decrypt_with(src, material_id, blob, src_ctx)
            new_blob = self._seal(dest, plaintext, dst_ctx)
            call.trace_detail = {"source_encryption_context": src_ctx or {},
                                 "destination_encryption_context": dst_ctx or {},
                                 "destination_key": dest.arn}
            return ReEncryptResult(new_blob, src.arn, dest.arn, "SYMMETRIC_DEFAULT",
                                   "SYMMETRIC_DEFAULT", material_id, dest.current_material_id or "")

    def generate_random(self, *, number_of_bytes: int) -> GenerateRandomResult:
        """GenerateRandom: random bytes from the simulation's entropy (1-1024)."""
        with self._api("GenerateRandom", {"numberOfBytes": number_of_bytes}, read_only=True):
            n = v.check_int(number_of_bytes, "numberOfBytes", 1, 1024)
            self._authorize_identity("kms:GenerateRandom")
            return GenerateRandomResult(SecretBytes(self._s.runtime.entropy.token_bytes(n)))

    # ================================================================ rotation

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
        rt.audit.record("RotateKey", user_identity=None, resources=[key.arn],
                        event_type="AwsServiceEvent", source_ip="AWS Internal",
                        user_agent="AWS Internal",
                        additional_event_data={"keyId": key.arn, "rotationType": "AUTOMATIC"})
        rt.trace.record("KMS", "RotateKey", key.arn, phase="kms.RotateKey",
                        key_material_id=material_id, rotation_type="AUTOMATIC")
        key.next_rotation_date = None
        self._schedule_rotation(key)

    def _admin_key(self, key_id: str, action: str, call: _Api) -> KeyRecord:
        """The customer managed key a key-administration call acts on, authorized and not
        pending deletion (EnableKey, DisableKey, ScheduleKeyDeletion, tags, description)."""
        key = self._resolve(key_id, aliases=False)
        call.resources.append(key.arn)
        self._authorize(key, action)
        self._require_customer_managed(key, action)
        self._require_not_pending(key)
        return key

    def _rotation_key(self, key_id: str, action: str, call: _Api) -> KeyRecord:
        key = self._resolve(key_id, aliases=False)
        call.resources.append(key.arn)
        self._authorize(key, action)
        self._require_customer_managed(key, action)
        self._require_usable(key)
        if not key.is_symmetric:
            raise UnsupportedOperationException(
                f"{key.arn} key spec {key.key_spec} does not support key rotation.")
        return key

    def enable_key_rotation(self, *, key_id: str, rotation_period_in_days: int | None = None) -> None:
        """EnableKeyRotation (90-2560 days, default 365); the first rotation is one period away."""
        with self._api("EnableKeyRotation", {"keyId": key_id,
                                             "rotationPeriodInDays": rotation_period_in_days}) as call:
            days = (365 if rotation_period_in_days is None else
                    v.check_int(rotation_period_in_days, "rotationPeriodInDays", 90, 2560))
            key = self._rotation_key(key_id, "kms:EnableKeyRotation", call)
            changed = not key.rotation_enabled or key.rotation_period_in_days != days
            key.rotation_enabled = True
            key.rotation_period_in_days = days
            if changed:
                key.next_rotation_date = None
                self._schedule_rotation(key)
            call.trace_detail = {"rotation_period_in_days": days,
                                 "next_rotation_date": key.next_rotation_date}

    def disable_key_rotation(self, *, key_id: str) -> None:
        with self._api("DisableKeyRotation", {"keyId": key_id}) as call:
            key = self._rotation_key(key_id, "kms:DisableKeyRotation", call)
            key.rotation_enabled = False
            key.next_rotation_date = None
            if key.rotation_call is not None:
                key.rotation_call.cancel()
                key.rotation_call = None

    def get_key_rotation_status(self, *, key_id: str) -> KeyRotationStatus:
        """GetKeyRotationStatus; reads false while the key is pending deletion."""
        with self._api("GetKeyRotationStatus", {"keyId": key_id}, read_only=True) as call:
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:GetKeyRotationStatus")
            enabled = key.rotation_enabled and key.key_state != "PendingDeletion"
            return KeyRotationStatus(
                key_rotation_enabled=enabled, key_id=key.arn,
                rotation_period_in_days=key.rotation_period_in_days if enabled else None,
                next_rotation_date=key.next_rotation_date if enabled else None,
                on_demand_rotation_start_date=(
                    key.rotations[-1].rotation_date
                    if key.rotations and key.rotations[-1].rotation_type == "ON_DEMAND" else None),
            )

    def rotate_key_on_demand(self, *, key_id: str) -> RotateKeyOnDemandResult:
        """RotateKeyOnDemand: new backing material now; the automatic schedule is unchanged."""
        with self._api("RotateKeyOnDemand", {"keyId": key_id}) as call:
            key = self._rotation_key(key_id, "kms:RotateKeyOnDemand", call)
            rt = self._s.runtime
            if key.on_demand_rotations >= rt.settings.on_demand_rotation_limit:
                raise LimitExceededException(MESSAGES["on_demand_rotation_limit"].format(arn=key.arn))
            if key.next_rotation_date is not None and (
                    key.next_rotation_date - self._now()) <= timedelta(minutes=20):
                raise ConflictException(
                    f"{key.arn} has an automatic rotation due within 20 minutes; try later.")
            material_id = self._new_material(key)
            key.on_demand_rotations += 1
            key.rotations.append(Rotation(material_id, self._now(), "ON_DEMAND"))
            call.trace_detail = {"key_material_id": material_id, "rotation_type": "ON_DEMAND"}
            return RotateKeyOnDemandResult(key.arn)

    def list_key_rotations(self, *, key_id: str, limit: int | None = None,
                           marker: str | None = None) -> ListKeyRotationsResult:
        with self._api("ListKeyRotations", {"keyId": key_id, "limit": limit, "marker": marker},
                       read_only=True) as call:
            lim = v.check_limit(limit) or 100
            start = v.check_marker(marker)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListKeyRotations")
            if not key.is_symmetric:
                raise UnsupportedOperationException(
                    f"{key.arn} key spec {key.key_spec} does not support key rotation.")
            entries = tuple(
                RotationsListEntry(key.arn, r.key_material_id, r.rotation_date, r.rotation_type,
                                   "CURRENT" if r.key_material_id == key.current_material_id
                                   else "NON_CURRENT")
                for r in key.rotations)
            return ListKeyRotationsResult(*_page(entries, start, lim))

    # ================================================================ grants

    def _check_constraints(self, constraints: object) -> GrantConstraints | None:
        if constraints is None:
            return None
        if not isinstance(constraints, Mapping):
            raise ValidationException("constraints must be a mapping with the keys "
                                      "'encryption_context_subset' and/or "
                                      "'encryption_context_equals'.")
        unknown = set(constraints) - {"encryption_context_subset", "encryption_context_equals"}
        if unknown:
            raise ValidationException(
                f"Unknown grant constraint(s) {sorted(map(str, unknown))}; use "
                "'encryption_context_subset' or 'encryption_context_equals'.")
        parsed: dict[str, dict[str, str] | None] = {}
        for name in ("encryption_context_subset", "encryption_context_equals"):
            ctx = v.check_context(constraints.get(name), "constraints." + name)
            raw = constraints.get(name)
            if raw is not None and ctx is None:
                ctx = {}
            if ctx is not None:
                if len(ctx) > 8:
                    raise ValidationException(
                        f"1 validation error detected: Value at 'constraints.{name}' failed to "
                        "satisfy constraint: Member must have at most 8 entries")
                for val in ctx.values():
                    if len(val) > 384:
                        raise ValidationException(MESSAGES["too_long"].format(
                            field=f"constraints.{name}.value", limit=384))
            parsed[name] = ctx
        return GrantConstraints(encryption_context_equals=parsed["encryption_context_equals"],
                                encryption_context_subset=parsed["encryption_context_subset"])

    def create_grant(
        self, *, key_id: str, grantee_principal: str, operations: Sequence[str],
        retiring_principal: str | None = None, constraints: Mapping[str, Any] | None = None,
        grant_tokens: Sequence[str] | None = None, name: str | None = None,
        dry_run: bool = False,
    ) -> CreateGrantResult:
        """CreateGrant: let ``grantee_principal`` perform ``operations`` with this key."""
        params: dict[str, Any] = {"keyId": key_id, "granteePrincipal": grantee_principal,
                                  "operations": operations, "retiringPrincipal": retiring_principal,
                                  "name": name}
        if constraints is not None:
            params["constraints"] = (
                {(_camel(k) if type(k) is str else k): val for k, val in constraints.items()}
                if isinstance(constraints, Mapping) else constraints)
        with self._api("CreateGrant", params) as call:
            grantee = v.check_str(grantee_principal, "granteePrincipal", max_len=256, pattern=_PRINCIPAL)
            if grantee.endswith(".amazonaws.com"):
                raise ValidationException(
                    f"{grantee} is a service principal; grantees must be accounts, users or roles.")
            retiring = (None if retiring_principal is None else
                        v.check_str(retiring_principal, "retiringPrincipal", max_len=256,
                                    pattern=_PRINCIPAL))
            ops = v.as_list(operations, "operations")
            if not ops:
                raise ValidationException(MESSAGES["too_short"].format(field="operations", limit=1))
            for op in ops:
                v.check_enum(op, "operations.member", GRANT_OPERATIONS)
            ops_t = tuple(dict.fromkeys(ops))
            cons = self._check_constraints(constraints)
            grant_name = (None if name is None else
                          v.check_str(name, "name", max_len=256, pattern=_GRANT_NAME))
            tokens = v.check_tokens(grant_tokens)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            family = "SYMMETRIC" if key.is_symmetric else (
                "HMAC" if key.key_spec.startswith("HMAC") else "ASYMMETRIC")
            allowed = _GRANT_OPS_BY_USAGE.get((family, key.key_usage), frozenset()) | _COMMON_GRANT_OPS
            bad = [op for op in ops_t if op not in allowed]
            if bad:
                raise ValidationException(
                    f"Grant operations {bad} are not valid for a {key.key_spec} key with key usage "
                    f"{key.key_usage}.")
            if cons is not None and not key.is_symmetric:
                raise ValidationException(
                    "Grant constraints are only valid for symmetric encryption KMS keys.")
            extra: dict[str, object] = {"kms:GrantOperations": list(ops_t),
                                        "kms:GranteePrincipal": grantee}
            if retiring is not None:
                extra["kms:RetiringPrincipal"] = retiring
            ctx_for_conditions: dict[str, str] | None = None
            if cons is not None:
                ctype = ("EncryptionContextEquals" if cons.encryption_context_equals is not None
                         else "EncryptionContextSubset")
                extra["kms:GrantConstraintType"] = ctype
                ctx_for_conditions = dict(cons.encryption_context_equals
                                          or cons.encryption_context_subset or {})
            self._authorize(
                key, "kms:CreateGrant", grant_operation="CreateGrant", tokens=tokens, extra=extra,
                context=ctx_for_conditions,
                grant_check=lambda parent: GrantStore.is_narrower(ops_t, cons, parent),
            )
            self._require_usable(key)
            self._dry_run(dry_run)
            grant, token = self._s.grants.create(
                key_arn=key.arn, grantee_principal=grantee, operations=ops_t, constraints=cons,
                retiring_principal=retiring, name=grant_name, created_by=self._caller.arn)
            call.response = {"grantId": grant.grant_id}
            call.trace_detail = {"grant_id": grant.grant_id, "grantee": grantee,
                                 "operations": list(ops_t), "constraints": _constraints_dict(cons),
                                 "retiring_principal": retiring}
            return CreateGrantResult(grant.grant_id, token)

    def _grant_entry(self, g: Grant) -> GrantListEntry:
        return GrantListEntry(
            key_id=g.key_arn, grant_id=g.grant_id, name=g.name, creation_date=g.creation_date,
            grantee_principal=g.grantee_principal, retiring_principal=g.retiring_principal,
            issuing_account=g.issuing_account, operations=g.operations,
            constraints=_constraints_dict(g.constraints))

    def list_grants(self, *, key_id: str, limit: int | None = None, marker: str | None = None,
                    grant_id: str | None = None,
                    grantee_principal: str | None = None) -> ListGrantsResult:
        """ListGrants on a key (ids, never tokens), filtered by grant id or grantee."""
        with self._api("ListGrants", {"keyId": key_id, "limit": limit, "marker": marker,
                                      "grantId": grant_id, "granteePrincipal": grantee_principal},
                       read_only=True) as call:
            lim = v.check_limit(limit, high=100) or 50
            start = v.check_marker(marker)
            if grant_id is not None:
                v.check_str(grant_id, "grantId", max_len=128)
            if grantee_principal is not None:
                v.check_str(grantee_principal, "granteePrincipal", max_len=256, pattern=_PRINCIPAL)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListGrants")
            grants = self._s.grants.list(key.arn, grant_id=grant_id,
                                         grantee_principal=grantee_principal)
            page, more, marker = _page(grants, start, lim)
            return ListGrantsResult(tuple(map(self._grant_entry, page)), more, marker)

    def list_retirable_grants(self, *, retiring_principal: str, limit: int | None = None,
                              marker: str | None = None) -> ListGrantsResult:
        """ListRetirableGrants: authorised by the caller's IAM policy only."""
        with self._api("ListRetirableGrants", {"retiringPrincipal": retiring_principal,
                                               "limit": limit, "marker": marker}, read_only=True):
            lim = v.check_limit(limit, high=100) or 50
            start = v.check_marker(marker)
            principal = v.check_str(retiring_principal, "retiringPrincipal", max_len=256,
                                    pattern=_PRINCIPAL)
            self._authorize_identity("kms:ListRetirableGrants")
            grants = self._s.grants.list_retirable(principal)
            page, more, marker = _page(grants, start, lim)
            return ListGrantsResult(tuple(map(self._grant_entry, page)), more, marker)

    def retire_grant(self, *, grant_token: str | None = None, key_id: str | None = None,
                     grant_id: str | None = None, dry_run: bool = False) -> None:
        """RetireGrant by token, or by key ARN + grant id, by one of the allowed retirers."""
        by_token = grant_token is not None
        params = None if by_token else {"keyId": key_id, "grantId": grant_id}
        with self._api("RetireGrant", params) as call:
            if by_token:
                if key_id is not None or grant_id is not None:
                    raise ValidationException(
                        "Specify either a grant token, or a key ARN and a grant ID, not both.")
                tok = v.check_str(grant_token, "grantToken", max_len=8192)
                known = self._s.grants.resolve_tokens([tok])
                if not known or self._s.grants.get(known[0].key_arn, known[0].grant_id) is None:
                    raise NotFoundException("The grant of this token is already retired or revoked.")
                grant = known[0]
            else:
                if key_id is None or grant_id is None:
                    raise ValidationException(
                        "RetireGrant needs a grant token, or both a key ARN and a grant ID.")
                gid = v.check_str(grant_id, "grantId", max_len=128)
                key = self._resolve(key_id, aliases=False)
                found = self._s.grants.get(key.arn, gid)
                if found is None:
                    raise _grant_not_found(gid)
                grant = found
            call.resources.append(grant.key_arn)
            call.additional = {"grantId": grant.grant_id}
            self._check_retirer(grant)
            self._dry_run(dry_run)
            self._s.grants.retire(grant)
            call.trace_detail = {"grant_id": grant.grant_id, "grantee": grant.grantee_principal}

    def _check_retirer(self, grant: Grant) -> None:
        caller = self._caller
        arn = caller.arn
        if grant.retiring_principal == arn:
            return
        if grant.grantee_principal == arn and "RetireGrant" in grant.operations:
            return
        if caller.is_root and caller.account_id == grant.issuing_account.split(":")[4]:
            return
        # (4) delegation: a principal of the issuing account whose IAM policy allows RetireGrant.
        if caller.account_id == grant.issuing_account.split(":")[4] and not caller.is_root:
            decision = authorize_identity(
                AuthRequest(caller=caller, action="kms:RetireGrant", resource=grant.key_arn),
                identity_policies=self._s.iam.identity_policies(caller))
            if decision.allowed:
                return
        raise AccessDeniedException(MESSAGES["access_denied"].format(
            principal=arn, action="kms:RetireGrant", resource=grant.key_arn,
            policy_kind="resource-based"))

    def revoke_grant(self, *, key_id: str, grant_id: str, dry_run: bool = False) -> None:
        """RevokeGrant: key administrators remove a grant (no token accepted)."""
        with self._api("RevokeGrant", {"keyId": key_id, "grantId": grant_id}) as call:
            gid = v.check_str(grant_id, "grantId", max_len=128)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:RevokeGrant")
            grant = self._s.grants.get(key.arn, gid)
            if grant is None:
                raise _grant_not_found(gid)
            self._dry_run(dry_run)
            self._s.grants.revoke(grant)
            call.trace_detail = {"grant_id": gid, "grantee": grant.grantee_principal}


def _page(items: Sequence[_T], start: int, limit: int) -> tuple[tuple[_T, ...], bool, str | None]:
    """One page of a Marker-paged list: the items, whether more follow, the next Marker."""
    more = start + limit < len(items)
    return tuple(items[start:start + limit]), more, str(start + limit) if more else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _constraints_dict(cons: GrantConstraints | None) -> dict[str, Any] | None:
    return None if cons is None else dict(cons.to_dict())


def _grant_not_found(grant_id: str) -> AwsError:
    if not re.fullmatch(r"[0-9a-f]{64}", grant_id):
        return InvalidGrantIdException(f"Invalid grant ID '{grant_id}'")
    return NotFoundException(f"Grant ID {grant_id} not found")


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
