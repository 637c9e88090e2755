"""KMS multi-Region keys: ReplicateKey and UpdatePrimaryRegion.

A multi-Region key (``CreateKey(multi_region=True)``, key id ``mrk-...``) is a set of keys in
several Regions of one account with the same key id and key material (KMS Developer Guide,
"Multi-Region keys in AWS KMS"): a blob made in one Region decrypts in any other without
re-encryption. The primary owns the shared properties (key material, rotation) and syncs them
to its replicas; key policy, aliases, tags, description and key state are each key's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..errors import (
    MESSAGES,
    AlreadyExistsException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from ..iam.policy import default_key_policy, parse_policy
from ..regions import known_regions
from . import validation as v
from .base import KmsBase
from .keys import ImportedMaterial, KeyRecord
from .models import ReplicateKeyResult

__all__ = ["REPLICA_CREATION_SECONDS", "MultiRegionOperations"]

#: A new replica is ``Creating`` for this long ("a few seconds", ReplicateKey), then Enabled.
REPLICA_CREATION_SECONDS = 5.0
_REGION = re.compile(r"([a-z]+-){2,3}\d+")


class MultiRegionOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _check_region(self, value: object, field: str) -> str:
        region = v.check_str(value, field, max_len=32, pattern=_REGION)
        if region not in known_regions():
            raise ValidationException(f"{region} is not a Region of the aws partition.")
        return region

    def _primary(self, key: KeyRecord, operation: str) -> None:
        if key.multi_region is None:
            raise UnsupportedOperationException(
                f"{key.arn} is not a multi-Region key; {operation} needs a multi-Region "
                "primary key.")
        if key.is_replica:
            raise UnsupportedOperationException(
                f"{key.arn} is a multi-Region replica key; {operation} needs the primary key "
                f"(in {key.multi_region.primary_region}).")

    def replicate_key(
        self, *, key_id: str, replica_region: str, policy: str | None = None,
        bypass_policy_lockout_safety_check: bool = False, description: str = "",
        tags: Sequence[Mapping[str, str]] | None = None,
    ) -> ReplicateKeyResult:
        """ReplicateKey: a replica of this multi-Region primary key in ``replica_region``
        (same key id and key material; its own policy, description and tags). The replica is
        ``Creating`` for a few seconds of virtual time, then ``Enabled``.

        Needs kms:ReplicateKey on the primary (its key policy) and kms:CreateKey in an IAM
        policy (kms:TagResource too with ``tags``)."""
        with self._api("ReplicateKey", {"keyId": key_id, "replicaRegion": replica_region,
                                        "description": description,
                                        "bypassPolicyLockoutSafetyCheck":
                                            bypass_policy_lockout_safety_check}) as call:
            region = self._check_region(replica_region, "replicaRegion")
            v.check_str(description, "description", min_len=0, max_len=8192)
            bypass = v.check_bool(bypass_policy_lockout_safety_check,
                                  "bypassPolicyLockoutSafetyCheck")
            tag_map = self._check_tags(tags)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ReplicateKey", extra={"kms:ReplicaRegion": region})
            self._primary(key, "ReplicateKey")
            self._require_usable(key)
            self._authorize_identity("kms:CreateKey")
            if tag_map:
                self._authorize_identity("kms:TagResource")
            mrk = key.multi_region
            assert mrk is not None
            directory = self._s.directory
            if directory is None:
                raise UnsupportedOperationException(
                    "This KMS is not part of a simulation with other Regions.")
            if region in mrk.regions:
                raise AlreadyExistsException(
                    f"A key with ID {key.key_id} already exists in Region {region}.")
            rt = self._s.runtime
            arn = f"arn:{self._s.partition}:kms:{region}:{rt.account_id}:key/{key.key_id}"
            doc = (parse_policy(default_key_policy(rt.account_id), kind="key") if policy is None
                   else self._check_policy(policy, arn, bypass))
            # Every check passed: only now is the replica's Region (maybe new) touched.
            home = directory.kms_state(rt.account_id, region, create=True)
            assert home is not None
            replica = KeyRecord(
                key_id=key.key_id, arn=arn, account_id=rt.account_id, creation_date=self._now(),
                key_spec=key.key_spec, key_usage=key.key_usage, description=description,
                key_manager="CUSTOMER", origin=key.origin, policy=doc, tags=tag_map,
                key_state="Creating", multi_region=mrk)
            if key.origin == "EXTERNAL":
                # A replica of a key with imported material has none: the same material is
                # imported into it (ReplicateKey).
                replica.key_state = "PendingImport"
                replica.imported = ImportedMaterial()
            mrk.regions.append(region)
            home.keys[key.key_id] = replica
            self._sync_replicas(key)
            rt.clock.schedule(REPLICA_CREATION_SECONDS, f"kms:ReplicateKey {arn}",
                              lambda: self._replica_created(replica))
            # CloudTrail: ReplicateKey in the primary's Region, CreateKey in the replica's.
            home.runtime.audit.record(
                "CreateKey", user_identity=self._user_identity(),
                request_parameters={"multiRegion": True, "replicaOf": key.arn,
                                    "description": description},
                resources=[arn])
            call.response = {"replicaKeyMetadata": {"keyId": key.key_id, "arn": arn,
                                                    "keyState": "Creating"}}
            call.trace_detail = {"replica": arn, "replica_region": region}
            return ReplicateKeyResult(replica.metadata(), doc.text, replica.tag_list())

    def _replica_created(self, replica: KeyRecord) -> None:
        if replica.key_state == "Creating":  # (PendingImport stays until the import)
            replica.key_state = "Enabled"
            self._s.runtime.trace.record("KMS", "ReplicaKeyCreated", replica.arn,
                                         phase="kms.ReplicateKey", key_state="Enabled")

    def update_primary_region(self, *, key_id: str, primary_region: str) -> None:
        """UpdatePrimaryRegion: the replica in ``primary_region`` becomes the primary key and
        this primary a replica. Needs kms:UpdatePrimaryRegion in both keys' policies."""
        with self._api("UpdatePrimaryRegion", {"keyId": key_id,
                                               "primaryRegion": primary_region}) as call:
            region = self._check_region(primary_region, "primaryRegion")
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:UpdatePrimaryRegion", extra={"kms:PrimaryRegion": region})
            self._primary(key, "UpdatePrimaryRegion")
            self._require_usable(key)
            mrk = key.multi_region
            assert mrk is not None
            directory = self._s.directory
            state = (directory.kms_state(key.account_id, region)
                     if directory is not None and region != mrk.primary_region else None)
            replica = state.keys.get(key.key_id) if state is not None else None
            if state is None or replica is None:
                raise NotFoundException(MESSAGES["key_not_found"].format(
                    arn=f"arn:aws:kms:{region}:{key.account_id}:key/{key.key_id}"))
            call.resources.append(replica.arn)
            there = self._in(state)
            there._authorize(replica, "kms:UpdatePrimaryRegion",
                             extra={"kms:PrimaryRegion": region})
            if replica.key_state in ("Creating", "PendingDeletion"):
                raise self._invalid_state(replica)
            mrk.primary_region = region
            # Automatic rotation is driven by the primary: its schedule moves with it.
            if key.rotation_call is not None:
                key.rotation_call.cancel()
                key.rotation_call = None
            if replica.rotation_enabled:
                there._schedule_rotation(replica, resume=True)
            call.trace_detail = {"new_primary": replica.arn, "new_replica": key.arn}
