"""KMS's account-wide state: keys, aliases, grants, and the scheduled work on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..runtime import Runtime
from .grants import GrantStore
from .keys import KeyRecord
from .seams import IamForKms, KmsDirectory

__all__ = ["AliasRecord", "KeyTable", "KmsState"]


@dataclass
class AliasRecord:
    alias_name: str
    target_key_id: str
    creation_date: datetime
    last_updated_date: datetime


class KeyTable(dict[str, KeyRecord]):
    """A KMS cell's keys by key id; each new key is noted in the simulation's directory, so a
    blob naming it can be traced to this cell from another account (a dict lookup)."""

    __slots__ = ("_home",)

    def __init__(self, home: KmsState) -> None:
        super().__init__()
        self._home = home

    def __setitem__(self, key_id: str, record: KeyRecord) -> None:
        super().__setitem__(key_id, record)
        home = self._home
        if home.directory is not None:
            home.directory.add_key(home.runtime.region, key_id, home)


class KmsState:
    """Everything KMS knows in one account and Region; shared by all views of the service.

    ``directory`` (optional: a lone KMS has none) finds the other accounts' and Regions' KMS.
    """

    def __init__(self, runtime: Runtime, iam: IamForKms,
                 directory: KmsDirectory | None = None) -> None:
        self.runtime = runtime
        self.iam = iam
        self.directory = directory
        self.keys: dict[str, KeyRecord] = KeyTable(self)
        #: Key ids of deleted keys: later lookups say "does not exist", blobs cannot decrypt.
        self.deleted: set[str] = set()
        self.aliases: dict[str, AliasRecord] = {}
        #: service name (``"ebs"``) -> key id of its AWS managed key, once created.
        self.aws_managed: dict[str, str] = {}
        self.grants = GrantStore(runtime)
        #: ``arn:aws:kms:<region>:<account>:``: what this cell's key ARNs start with.
        self.arn_prefix = f"arn:{self.partition}:kms:{runtime.region}:{runtime.account_id}:"

    @property
    def partition(self) -> str:
        """The ARN partition of this simulation's Region (``aws``: only commercial Regions
        are simulated)."""
        return "aws"

    def key_arn(self, key_id: str) -> str:
        return f"arn:{self.partition}:kms:{self.runtime.region}:{self.runtime.account_id}:key/{key_id}"

    def alias_arn(self, alias_name: str) -> str:
        return f"arn:{self.partition}:kms:{self.runtime.region}:{self.runtime.account_id}:{alias_name}"
