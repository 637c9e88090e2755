"""What EBS needs from its collaborators, as typing Protocols (structural: any object with these
operations will do; ``simulator.kms.service.KeyManagementService`` is the one the simulation
passes).

EBS reaches KMS only through KMS operations, as the calling principal through EC2
(``kms:ViaService``) or as the EC2 infrastructure identity; this is the whole surface it uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..iam.principals import Caller
from ..kms.models import (
    CreateGrantResult,
    DecryptResult,
    EncryptedDataKey,
    KeyMetadata,
)

__all__ = ["EbsRegions", "KmsForEbs"]


class KmsForEbs(Protocol):
    """The KMS operations EBS calls (AWS EBS encryption: data keys, grants, a snapshot's data
    key encrypted again for a restore or copy under the same key)."""

    def with_caller(self, caller: Caller) -> KmsForEbs:
        """The same KMS, called by ``caller``."""
        ...

    def describe_key(self, *, key_id: str,
                     grant_tokens: Sequence[str] | None = None) -> KeyMetadata: ...

    def generate_data_key_without_plaintext(
        self, *, key_id: str, encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int | None = None,
        grant_tokens: Sequence[str] | None = None) -> EncryptedDataKey: ...

    def decrypt(self, *, ciphertext_blob: bytes,
                encryption_context: Mapping[str, str] | None = None,
                grant_tokens: Sequence[str] | None = None) -> DecryptResult: ...

    def generate_data_key_without_plaintext_reusing(
        self, *, key_id: str, source_ciphertext_blob: bytes,
        source_encryption_context: Mapping[str, str] | None,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None) -> EncryptedDataKey: ...

    def create_grant(self, *, key_id: str, grantee_principal: str, operations: Sequence[str],
                     retiring_principal: str | None = None,
                     constraints: Mapping[str, Any] | None = None,
                     grant_tokens: Sequence[str] | None = None) -> CreateGrantResult: ...

    def retire_grant(self, *, grant_token: str | None = None, key_id: str | None = None,
                     grant_id: str | None = None) -> None: ...


class EbsRegions(Protocol):
    """The same account's EBS in its other Regions (CopySnapshot's ``SourceRegion``)."""

    def ebs_in(self, region: str) -> Any:
        """That Region's EBS (an ``ElasticBlockStore``), or None if the account never used
        that Region (it then holds no snapshot)."""
        ...
