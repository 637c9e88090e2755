"""What EBS keeps for one account and Region (shared by every caller's view)."""

from __future__ import annotations

from ..runtime import Runtime
from .authz import Ec2Authorizer, IamForEbs
from .models import SnapshotRecord, VolumeRecord
from .store import ChunkPool

__all__ = ["EbsState"]


class EbsState:
    """Volumes, snapshots and the Region's encryption-by-default settings."""

    def __init__(self, runtime: Runtime, iam: IamForEbs) -> None:
        self.runtime = runtime
        #: Decides every caller's EC2 requests by its IAM identity policies.
        self.authz = Ec2Authorizer(iam, runtime.region, runtime.clock.now)
        self.volumes: dict[str, VolumeRecord] = {}
        self.snapshots: dict[str, SnapshotRecord] = {}
        #: (instance id, device) -> the volume attached there
        self.attached: dict[tuple[str, str], str] = {}
        self.encryption_by_default = False
        #: Key for new encrypted volumes when none is given (resolved by KMS on first use).
        self.default_kms_key_id = "alias/aws/ebs"
        #: Arena chunks of deleted volumes and snapshots, reused by new ones.
        self.chunk_pool = ChunkPool()
        #: CreateVolume ClientToken -> (the request's parameters, the volume it created)
        self.client_tokens: dict[str, tuple[str, str]] = {}
