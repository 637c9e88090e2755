"""KMS keys and aliases: creation, description, listing, key states, deletion, aliases."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import (
    MESSAGES,
    AlreadyExistsException,
    InvalidAliasNameException,
    KMSInvalidStateException,
    LimitExceededException,
    NotFoundException,
    ValidationException,
)
from ..iam.policy import default_key_policy, parse_policy
from . import validation as v
from .base import _ALIAS_ARN, KmsBase, _page, check_marker
from .key_material import check_creatable, generate_material
from .keys import (
    AWS_MANAGED_SERVICES,
    ENCRYPT_DECRYPT,
    KEY_SPECS,
    ImportedMaterial,
    KeyRecord,
    MultiRegion,
)
from .models import (
    AliasListEntry,
    KeyListEntry,
    KeyMetadata,
    ListAliasesResult,
    ListKeysResult,
    ScheduleKeyDeletionResult,
)
from .state import AliasRecord

__all__ = ["KeyOperations"]

_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9:/_-]+")
_ALIASES_PER_KEY = 50


class KeyOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

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
            check_creatable(spec, origin)
            multi = v.check_bool(multi_region, "multiRegion")
            bypass = v.check_bool(bypass_policy_lockout_safety_check, "bypassPolicyLockoutSafetyCheck")
            tag_map = self._check_tags(tags)
            self._authorize_identity("kms:CreateKey", request_tags=tag_map, params={
                "kms:KeySpec": spec, "kms:CustomerMasterKeySpec": spec, "kms:KeyUsage": usage,
                "kms:CustomerMasterKeyUsage": usage, "kms:KeyOrigin": origin,
                "kms:MultiRegion": multi, "kms:MultiRegionKeyType": "PRIMARY" if multi else None,
                "kms:BypassPolicyLockoutSafetyCheck": bypass,
                "aws:TagKeys": list(tag_map)})
            key_id = rt.ids.key_id()
            if multi:  # mrk- and 32 hex digits (KMS Developer Guide, "Multi-Region key IDs")
                key_id = "mrk-" + key_id.replace("-", "")
            arn = self._s.key_arn(key_id)
            doc = (parse_policy(default_key_policy(rt.account_id), kind="key")
                   if policy is None else self._check_policy(policy, arn, bypass))
            key = KeyRecord(
                key_id=key_id, arn=arn, account_id=rt.account_id, creation_date=self._now(),
                key_spec=spec, key_usage=usage, description=description,
                key_manager="CUSTOMER", origin=origin, policy=doc, tags=tag_map,
                multi_region=MultiRegion(rt.region, [rt.region]) if multi else None,
            )
            if origin == "EXTERNAL":
                key.key_state = "PendingImport"
                key.imported = ImportedMaterial()
            elif spec == "SYMMETRIC_DEFAULT":
                self._new_material(key)
            else:
                generate_material(key, rt.entropy)
            self._s.keys[key_id] = key
            call.resources.append(arn)
            call.response = {"keyMetadata": {"keyId": key_id, "arn": arn, "keySpec": spec,
                                             "keyUsage": usage, "keyState": key.key_state,
                                             "origin": origin}}
            call.trace_detail = {"key_spec": spec, "description": description}
            return key.metadata()

    def describe_key(self, *, key_id: str, grant_tokens: Sequence[str] | None = None) -> KeyMetadata:
        """DescribeKey; on a predefined ``alias/aws/<service>`` it creates that AWS managed key."""
        with self._api("DescribeKey", {"keyId": key_id}, read_only=True) as call:
            tokens = v.check_tokens(grant_tokens)
            ident = v.check_str(key_id, "keyId")
            alias = ident if ident.startswith("alias/") else None
            m = _ALIAS_ARN.fullmatch(ident)
            if (m is not None and m.group(1) == self._s.partition
                    and m.group(2) == self._s.runtime.region
                    and m.group(3) == self._s.runtime.account_id):
                alias = m.group(4)
            service = alias[len("alias/aws/"):] if alias and alias.startswith("alias/aws/") else None
            if service in AWS_MANAGED_SERVICES and alias not in self._s.aliases:
                key = self._aws_managed_key(service)
            else:
                key = self._resolve(ident, aliases=True, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:DescribeKey", grant_operation="DescribeKey", tokens=tokens,
                            extra={"kms:RequestAlias": alias})
            return key.metadata()

    def list_keys(self, *, limit: int | None = None, marker: str | None = None) -> ListKeysResult:
        """ListKeys, in creation order, with Marker paging."""
        with self._api("ListKeys", {"limit": limit, "marker": marker}, read_only=True):
            lim = v.check_limit(limit) or 100
            start = check_marker(marker)
            self._authorize_identity("kms:ListKeys")
            page, more, marker = _page(list(self._s.keys.values()), start, lim)
            return ListKeysResult(tuple(KeyListEntry(k.key_id, k.arn) for k in page), more, marker)

    def enable_key(self, *, key_id: str) -> None:
        """EnableKey (a no-op on an enabled key)."""
        with self._api("EnableKey", {"keyId": key_id}) as call:
            key = self._admin_key(key_id, "kms:EnableKey", call)
            self._require_material(key)
            was = key.key_state
            key.key_state = "Enabled"
            if was != "Enabled" and key.rotation_enabled:
                self._schedule_rotation(key, resume=True)
            call.trace_detail = {"from_state": was, "to_state": "Enabled"}

    def disable_key(self, *, key_id: str) -> None:
        """DisableKey: cryptographic use stops at once; attached EBS volumes keep working."""
        with self._api("DisableKey", {"keyId": key_id}) as call:
            key = self._admin_key(key_id, "kms:DisableKey", call)
            self._require_material(key)
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
            key = self._admin_key(key_id, "kms:ScheduleKeyDeletion", call,
                                  {"kms:ScheduleKeyDeletionPendingWindowInDays": days})
            when = self._now() + timedelta(days=days)
            key.key_state = "PendingDeletion"
            key.deletion_date = when
            key.pending_window_in_days = days
            if key.multi_region is not None and not key.is_replica and self._replicas(key):
                # KMS never deletes a primary key with replicas: it waits, unusable, until the
                # last replica is deleted, and only then starts its waiting period.
                key.key_state = "PendingReplicaDeletion"
                call.response = {"keyId": key.arn, "keyState": key.key_state,
                                 "pendingWindowInDays": days}
                call.trace_detail = {"pending_window_in_days": days,
                                     "waiting_for": [r.arn for _, r in self._replicas(key)]}
                return ScheduleKeyDeletionResult(key.arn, None, key.key_state, days)
            when = self._start_deletion(key)
            call.response = {"keyId": key.arn, "deletionDate": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "keyState": "PendingDeletion", "pendingWindowInDays": days}
            call.trace_detail = {"deletion_date": when, "pending_window_in_days": days}
            return ScheduleKeyDeletionResult(key.arn, when, "PendingDeletion", days)

    def _start_deletion(self, key: KeyRecord) -> datetime:
        """Start ``key``'s waiting period (``pending_window_in_days``); returns its end."""
        when = self._now() + timedelta(days=key.pending_window_in_days or 30)
        key.key_state = "PendingDeletion"
        key.deletion_date = when
        key.deletion_call = self._s.runtime.clock.schedule_at(
            when, f"kms:DeleteKey {key.key_id}", lambda: self._delete_key(key))
        return when

    def cancel_key_deletion(self, *, key_id: str) -> str:
        """CancelKeyDeletion: the key goes back to Disabled (not Enabled), or to PendingImport if it
        has no key material. Returns the key ARN."""
        with self._api("CancelKeyDeletion", {"keyId": key_id}) as call:
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:CancelKeyDeletion")
            if key.key_state not in ("PendingDeletion", "PendingReplicaDeletion"):
                raise KMSInvalidStateException(
                    MESSAGES["key_not_pending_deletion"].format(arn=key.arn))
            if key.deletion_call is not None:
                key.deletion_call.cancel()
            # A key of imported material that has none (never imported, expired or deleted)
            # goes back to PendingImport, as in AWS.
            key.key_state = "Disabled" if key.has_material else "PendingImport"
            key.deletion_date = key.pending_window_in_days = key.deletion_call = None
            call.response = {"keyId": key.arn}
            call.trace_detail = {"to_state": key.key_state}
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
        key.asymmetric = key.hmac = None
        rt.audit.record("DeleteKey", user_identity=None, resources=[key.arn],
                        event_type="AwsServiceEvent", source_ip="AWS Internal",
                        user_agent="AWS Internal",
                        additional_event_data={"keyId": key.arn})
        rt.trace.record("KMS", "DeleteKey", key.arn, phase="kms.DeleteKey",
                        reason="the deletion waiting period ended; key material destroyed")
        mrk = key.multi_region
        if mrk is not None:
            mrk.regions.remove(rt.region)
            self._after_replica_deleted(key)

    def _after_replica_deleted(self, key: KeyRecord) -> None:
        """A primary waiting for its replicas' deletion starts its own waiting period when
        the last of them is gone (ScheduleKeyDeletion, multi-Region primary keys)."""
        mrk = key.multi_region
        directory = self._s.directory
        if mrk is None or directory is None or mrk.regions != [mrk.primary_region]:
            return
        state = directory.kms_state(key.account_id, mrk.primary_region)
        primary = state.keys.get(key.key_id) if state is not None else None
        if state is None or primary is None or primary.key_state != "PendingReplicaDeletion":
            return
        when = self._in(state)._start_deletion(primary)
        state.runtime.trace.record("KMS", "ScheduleKeyDeletion", primary.arn,
                                   phase="kms.ScheduleKeyDeletion", deletion_date=when,
                                   reason="the last replica key was deleted")

    def update_key_description(self, *, key_id: str, description: str) -> None:
        with self._api("UpdateKeyDescription", {"keyId": key_id, "description": description}) as call:
            v.check_str(description, "description", min_len=0, max_len=8192)
            key = self._admin_key(key_id, "kms:UpdateKeyDescription", call)
            key.description = description

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
            # AWS KMS API Reference, UpdateAlias: kms:UpdateAlias on the alias (IAM policy), on
            # the current target key and on the new target key (key policies).
            self._authorize_identity("kms:UpdateAlias", self._s.alias_arn(name))
            self._authorize(current, "kms:UpdateAlias")
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
            # The ListAliases reference: Limit "must be between 1 and 100, inclusive".
            lim = v.check_limit(limit, high=100) or 50
            start = check_marker(marker)
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
