"""KMS's account-wide state: keys, aliases, grants, and the scheduled work on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..runtime import Runtime
from .grants import GrantStore
from .keys import KeyRecord
from .seams import IamForKms

__all__ = ["AliasRecord", "KmsState"]


@dataclass
class AliasRecord:
    alias_name: str
    target_key_id: str
    creation_date: datetime
    last_updated_date: datetime


class KmsState:
    """Everything KMS knows in one account and Region; shared by all views of the service."""

    def __init__(self, runtime: Runtime, iam: IamForKms) -> None:
        self.runtime = runtime
        self.iam = iam
        self.keys: dict[str, KeyRecord] = {}
        #: Key ids of deleted keys: later lookups say "does not exist", blobs cannot decrypt.
        self.deleted: set[str] = set()
        self.aliases: dict[str, AliasRecord] = {}
        #: service name (``"ebs"``) -> key id of its AWS managed key, once created.
        self.aws_managed: dict[str, str] = {}
        self.grants = GrantStore(runtime)

    @property
    def partition(self) -> str:
        """The ARN partition of this simulation's Region (``aws``: only commercial Regions
        are simulated)."""
        return "aws"

    def key_arn(self, key_id: str) -> str:
        return f"arn:{self.partition}:kms:{self.runtime.region}:{self.runtime.account_id}:key/{key_id}"

    def alias_arn(self, alias_name: str) -> str:
        return f"arn:{self.partition}:kms:{self.runtime.region}:{self.runtime.account_id}:{alias_name}"
