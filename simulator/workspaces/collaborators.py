"""What WorkSpaces needs from KMS, EBS and IAM: the operations it actually calls, as Protocols.

WorkSpaces talks to the other services only through their operations (as the real service
does, as its own identity or on the caller's behalf); these Protocols make that seam visible
to a reader and to mypy. The simulation's ``KeyManagementService``, ``ElasticBlockStore`` and
``IdentityAndAccessManagement`` satisfy them structurally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..ebs.models import (
    DescribeSnapshotsResult,
    DescribeVolumesResult,
    Snapshot,
    Volume,
    VolumeAttachment,
)
from ..iam.policy import PolicyDocument
from ..iam.principals import Caller
from ..kms.models import CreateGrantResult, KeyMetadata

__all__ = ["BlockWriter", "EbsApi", "IamApi", "KmsApi"]


class KmsApi(Protocol):
    """The KMS operations WorkSpaces calls: step 1's grant and step 9's retirement."""

    def with_caller(self, caller: Caller) -> KmsApi: ...

    def describe_key(self, *, key_id: str,
                     grant_tokens: Sequence[str] | None = None) -> KeyMetadata: ...

    def create_grant(
        self, *, key_id: str, grantee_principal: str, operations: Sequence[str],
        retiring_principal: str | None = None, constraints: Mapping[str, Any] | None = None,
        grant_tokens: Sequence[str] | None = None,
    ) -> CreateGrantResult: ...

    def retire_grant(self, *, grant_token: str | None = None, key_id: str | None = None,
                     grant_id: str | None = None) -> None: ...


class BlockWriter(Protocol):
    """An attached volume as the instance sees it (WorkSpaces writes the bundle image)."""

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None: ...


class EbsApi(Protocol):
    """The EBS operations WorkSpaces calls to make, attach and snapshot a WorkSpace's volumes."""

    def with_caller(self, caller: Caller) -> EbsApi: ...

    def create_volume(
        self, *, size: int | None = None, encrypted: bool | None = None,
        kms_key_id: str | None = None, availability_zone: str | None = None,
        snapshot_id: str | None = None, encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None,
    ) -> Volume: ...

    def describe_volumes(self, *,
                         volume_ids: Sequence[str] | None = None) -> DescribeVolumesResult: ...

    def attach_volume(self, *, volume_id: str, instance_id: str,
                      device: str) -> VolumeAttachment: ...

    def detach_volume(self, *, volume_id: str) -> VolumeAttachment: ...

    def delete_volume(self, *, volume_id: str) -> None: ...

    def block_device(self, volume_id: str) -> BlockWriter: ...

    def create_snapshot(self, *, volume_id: str, description: str | None = None) -> Snapshot: ...

    def describe_snapshots(self, *, snapshot_ids: Sequence[str] | None = None,
                           ) -> DescribeSnapshotsResult: ...

    def delete_snapshot(self, *, snapshot_id: str) -> None: ...


class IamApi(Protocol):
    """What WorkSpaces asks IAM: who an ARN is, which identity policies apply to a caller, and
    the caller's tags (``aws:PrincipalTag/<key>``)."""

    def caller_for(self, arn: str) -> Caller: ...

    def identity_policies(self, caller: Caller) -> Sequence[PolicyDocument]: ...

    def principal_tags(self, caller: Caller) -> Mapping[str, str]: ...
