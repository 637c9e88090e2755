"""What KMS operations return: small frozen dataclasses with snake_case AWS field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..crypto import SecretBytes

__all__ = [
    "AliasListEntry",
    "CreateGrantResult",
    "DataKey",
    "DecryptResult",
    "EncryptResult",
    "EncryptedDataKey",
    "GenerateRandomResult",
    "GrantListEntry",
    "KeyListEntry",
    "KeyMetadata",
    "KeyPolicyResult",
    "KeyRotationStatus",
    "ListAliasesResult",
    "ListGrantsResult",
    "ListKeyPoliciesResult",
    "ListKeyRotationsResult",
    "ListKeysResult",
    "ListResourceTagsResult",
    "MultiRegionConfiguration",
    "MultiRegionKey",
    "ReEncryptResult",
    "ReplicateKeyResult",
    "RotateKeyOnDemandResult",
    "RotationsListEntry",
    "ScheduleKeyDeletionResult",
    "Tag",
]

@dataclass(frozen=True)
class MultiRegionKey:
    """A primary or replica key of a multi-Region key: its ARN and Region."""

    arn: str
    region: str


@dataclass(frozen=True)
class MultiRegionConfiguration:
    """DescribeKey's MultiRegionConfiguration (only for multi-Region keys)."""

    multi_region_key_type: str  # PRIMARY | REPLICA
    primary_key: MultiRegionKey
    replica_keys: tuple[MultiRegionKey, ...]


@dataclass(frozen=True)
class KeyMetadata:
    """DescribeKey's KeyMetadata (no aliases, tags, policy, grants or rotation status)."""

    aws_account_id: str
    key_id: str
    arn: str
    creation_date: datetime
    enabled: bool
    description: str
    key_usage: str
    key_state: str
    origin: str
    key_manager: str
    key_spec: str
    customer_master_key_spec: str
    encryption_algorithms: tuple[str, ...]
    mac_algorithms: tuple[str, ...]
    signing_algorithms: tuple[str, ...]
    key_agreement_algorithms: tuple[str, ...]
    multi_region: bool
    deletion_date: datetime | None = None
    pending_deletion_window_in_days: int | None = None
    current_key_material_id: str | None = None
    expiration_model: str | None = None
    valid_to: datetime | None = None
    multi_region_configuration: MultiRegionConfiguration | None = None


@dataclass(frozen=True)
class DataKey:
    """GenerateDataKey: the plaintext data key (redacted repr) and its encrypted copy."""

    ciphertext_blob: bytes = field(repr=False)
    plaintext: SecretBytes
    key_id: str
    key_material_id: str


@dataclass(frozen=True)
class EncryptedDataKey:
    """GenerateDataKeyWithoutPlaintext: only the encrypted copy of the data key."""

    ciphertext_blob: bytes = field(repr=False)
    key_id: str
    key_material_id: str


@dataclass(frozen=True)
class EncryptResult:
    ciphertext_blob: bytes = field(repr=False)
    key_id: str
    encryption_algorithm: str


@dataclass(frozen=True)
class DecryptResult:
    plaintext: SecretBytes
    key_id: str
    encryption_algorithm: str
    key_material_id: str


@dataclass(frozen=True)
class ReEncryptResult:
    ciphertext_blob: bytes = field(repr=False)
    source_key_id: str
    key_id: str
    source_encryption_algorithm: str
    destination_encryption_algorithm: str
    source_key_material_id: str
    destination_key_material_id: str


@dataclass(frozen=True)
class GenerateRandomResult:
    plaintext: SecretBytes


@dataclass(frozen=True)
class KeyListEntry:
    key_id: str
    key_arn: str


@dataclass(frozen=True)
class ListKeysResult:
    keys: tuple[KeyListEntry, ...]
    truncated: bool
    next_marker: str | None = None


@dataclass(frozen=True)
class AliasListEntry:
    alias_name: str
    alias_arn: str
    target_key_id: str | None
    creation_date: datetime | None = None
    last_updated_date: datetime | None = None


@dataclass(frozen=True)
class ListAliasesResult:
    aliases: tuple[AliasListEntry, ...]
    truncated: bool
    next_marker: str | None = None


@dataclass(frozen=True)
class ScheduleKeyDeletionResult:
    """``deletion_date`` is None for a multi-Region primary key with replicas: its waiting
    period starts when its last replica is deleted."""

    key_id: str
    deletion_date: datetime | None
    key_state: str
    pending_window_in_days: int


@dataclass(frozen=True)
class ReplicateKeyResult:
    """ReplicateKey: the new replica's metadata (in its ``Creating`` state), policy and tags."""

    replica_key_metadata: KeyMetadata
    replica_policy: str
    replica_tags: tuple[Tag, ...]


@dataclass(frozen=True)
class Tag:
    tag_key: str
    tag_value: str


@dataclass(frozen=True)
class ListResourceTagsResult:
    tags: tuple[Tag, ...]
    truncated: bool
    next_marker: str | None = None


@dataclass(frozen=True)
class KeyRotationStatus:
    key_rotation_enabled: bool
    key_id: str
    rotation_period_in_days: int | None = None
    next_rotation_date: datetime | None = None
    on_demand_rotation_start_date: datetime | None = None


@dataclass(frozen=True)
class RotateKeyOnDemandResult:
    key_id: str


@dataclass(frozen=True)
class RotationsListEntry:
    key_id: str
    key_material_id: str
    rotation_date: datetime
    rotation_type: str
    key_material_state: str


@dataclass(frozen=True)
class ListKeyRotationsResult:
    rotations: tuple[RotationsListEntry, ...]
    truncated: bool
    next_marker: str | None = None


@dataclass(frozen=True)
class KeyPolicyResult:
    policy: str
    policy_name: str


@dataclass(frozen=True)
class ListKeyPoliciesResult:
    policy_names: tuple[str, ...]
    truncated: bool
    next_marker: str | None = None


@dataclass(frozen=True)
class CreateGrantResult:
    """CreateGrant: the grant id and a token that makes the grant usable at once."""

    grant_id: str
    grant_token: str = field(repr=False)


@dataclass(frozen=True)
class GrantListEntry:
    key_id: str
    grant_id: str
    name: str | None
    creation_date: datetime
    #: None for a grant to a service principal (then ``grantee_service_principal``).
    grantee_principal: str | None
    retiring_principal: str | None
    issuing_account: str
    operations: tuple[str, ...]
    constraints: dict[str, Any] | None = None
    grantee_service_principal: str | None = None
    retiring_service_principal: str | None = None


@dataclass(frozen=True)
class ListGrantsResult:
    grants: tuple[GrantListEntry, ...]
    truncated: bool
    next_marker: str | None = None
