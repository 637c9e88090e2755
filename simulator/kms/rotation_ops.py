"""KMS key rotation: automatic (Enable/DisableKeyRotation) and on demand."""

from __future__ import annotations

from datetime import timedelta

from ..errors import (
    MESSAGES,
    ConflictException,
    LimitExceededException,
    UnsupportedOperationException,
)
from . import validation as v
from .base import KmsBase, _Api, _page, check_marker
from .keys import KeyRecord, Rotation
from .models import (
    KeyRotationStatus,
    ListKeyRotationsResult,
    RotateKeyOnDemandResult,
    RotationsListEntry,
)

__all__ = ["RotationOperations"]



class RotationOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _rotation_key(self, key_id: str, action: str, call: _Api,
                      params: dict[str, object] | None = None) -> KeyRecord:
        key = self._resolve(key_id, aliases=False)
        call.resources.append(key.arn)
        self._authorize(key, action, extra=params)
        self._require_customer_managed(key, action)
        if key.origin != "AWS_KMS":  # KMS cannot make new material for imported keys
            raise UnsupportedOperationException(
                MESSAGES["origin_not_valid"].format(arn=key.arn, origin=key.origin))
        self._require_usable(key)
        if not key.is_symmetric:
            raise UnsupportedOperationException(
                f"{key.arn} key spec {key.key_spec} does not support key rotation.")
        if key.is_replica:
            # Rotation is a shared property: managed on the primary key, synced to replicas.
            raise UnsupportedOperationException(
                f"{key.arn} is a multi-Region replica key; manage rotation on its primary key.")
        return key

    def enable_key_rotation(self, *, key_id: str, rotation_period_in_days: int | None = None) -> None:
        """EnableKeyRotation (90-2560 days, default 365); the first rotation is one period away."""
        with self._api("EnableKeyRotation", {"keyId": key_id,
                                             "rotationPeriodInDays": rotation_period_in_days}) as call:
            days = (365 if rotation_period_in_days is None else
                    v.check_int(rotation_period_in_days, "rotationPeriodInDays", 90, 2560))
            key = self._rotation_key(key_id, "kms:EnableKeyRotation", call,
                                     {"kms:RotationPeriodInDays": days})
            changed = not key.rotation_enabled or key.rotation_period_in_days != days
            key.rotation_enabled = True
            key.rotation_period_in_days = days
            if changed:
                key.next_rotation_date = None
                self._schedule_rotation(key)
            self._sync_replicas(key)
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
            self._sync_replicas(key)

    def get_key_rotation_status(self, *, key_id: str) -> KeyRotationStatus:
        """GetKeyRotationStatus; reads false while the key is pending deletion."""
        with self._api("GetKeyRotationStatus", {"keyId": key_id}, read_only=True) as call:
            key = self._resolve(key_id, aliases=False, cross_account=True)
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
            self._sync_replicas(key)
            call.trace_detail = {"key_material_id": material_id, "rotation_type": "ON_DEMAND"}
            return RotateKeyOnDemandResult(key.arn)

    def list_key_rotations(self, *, key_id: str, limit: int | None = None,
                           marker: str | None = None) -> ListKeyRotationsResult:
        with self._api("ListKeyRotations", {"keyId": key_id, "limit": limit, "marker": marker},
                       read_only=True) as call:
            lim = v.check_limit(limit) or 100
            start = check_marker(marker)
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
