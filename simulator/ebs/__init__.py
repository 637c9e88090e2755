"""Amazon EBS: volumes that really encrypt every block, attachments holding the data key, snapshots."""

from .models import (
    CopySnapshotResult,
    DescribeSnapshotsResult,
    DescribeVolumesResult,
    EbsDefaultKmsKeyId,
    EbsEncryptionByDefault,
    Snapshot,
    Tag,
    Volume,
    VolumeAttachment,
)
from .service import BlockDevice, ElasticBlockStore
from .state import EbsState
from .store import BLOCK_SIZE

__all__ = [
    "BLOCK_SIZE",
    "BlockDevice",
    "CopySnapshotResult",
    "DescribeSnapshotsResult",
    "DescribeVolumesResult",
    "EbsDefaultKmsKeyId",
    "EbsEncryptionByDefault",
    "EbsState",
    "ElasticBlockStore",
    "Snapshot",
    "Tag",
    "Volume",
    "VolumeAttachment",
]
