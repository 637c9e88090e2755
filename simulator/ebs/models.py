"""EBS results (frozen dataclasses, snake_case AWS names) and the service's internal records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .store import BlockCodec, BlockStore

__all__ = [
    "Attachment",
    "CopySnapshotResult",
    "DescribeSnapshotsResult",
    "DescribeVolumesResult",
    "EbsDefaultKmsKeyId",
    "EbsEncryptionByDefault",
    "Snapshot",
    "SnapshotRecord",
    "Tag",
    "Volume",
    "VolumeAttachment",
    "VolumeRecord",
]


@dataclass(frozen=True)
class Tag:
    """One EC2 tag (``{"Key": ..., "Value": ...}`` on the wire)."""

    key: str
    value: str


def _tags(tags: dict[str, str]) -> tuple[Tag, ...]:
    return tuple(Tag(k, v) for k, v in tags.items())


@dataclass(frozen=True)
class VolumeAttachment:
    """One attachment of a volume to an instance (``state``: attaching, attached, detaching)."""

    volume_id: str
    instance_id: str
    device: str
    state: str
    attach_time: datetime
    delete_on_termination: bool = False


@dataclass(frozen=True)
class Volume:
    """An EBS volume as DescribeVolumes shows it; ``kms_key_id`` is the key ARN."""

    volume_id: str
    size: int
    state: str
    encrypted: bool
    kms_key_id: str | None
    availability_zone: str
    snapshot_id: str | None
    create_time: datetime
    attachments: tuple[VolumeAttachment, ...]
    volume_cipher: str
    volume_type: str = "gp3"
    #: Why the volume is in ``error`` (the EventBridge ``cause``), else None.
    state_reason: str | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """An EBS snapshot; snapshots sharing ``data_encryption_key_id`` share a data key."""

    snapshot_id: str
    volume_id: str
    state: str
    encrypted: bool
    kms_key_id: str | None
    data_encryption_key_id: str | None
    volume_size: int
    start_time: datetime
    description: str
    progress: str
    state_message: str | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class CopySnapshotResult:
    """CopySnapshot's response: the new snapshot's id and its tags (nothing else, as in EC2)."""

    snapshot_id: str
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class DescribeVolumesResult:
    volumes: tuple[Volume, ...]
    #: Pass back as ``next_token`` for the next page (None: this was the last page).
    next_token: str | None = None


@dataclass(frozen=True)
class DescribeSnapshotsResult:
    snapshots: tuple[Snapshot, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class EbsEncryptionByDefault:
    ebs_encryption_by_default: bool


@dataclass(frozen=True)
class EbsDefaultKmsKeyId:
    kms_key_id: str


# --- internal, mutable ----------------------------------------------------------------------


@dataclass(eq=False)
class Attachment:
    """A live attachment: the only holder of a volume's plaintext data key (and of the codec
    that uses it, kept from the second read or write on: most attached volumes see none, and
    a fresh root volume one, its bundle image)."""

    instance_id: str
    device: str
    attach_time: datetime
    codec: BlockCodec | None
    #: The plaintext data key, wiped with ``crypto.wipe`` on detach (None when unencrypted).
    plaintext_data_key: bytearray | None = field(default=None, repr=False)
    #: Requests served by a codec that was not kept (0 or 1).
    requests: int = 0
    #: EC2's attachment states: ``attaching`` until the clock completes AttachVolume,
    #: ``attached``, then ``detaching`` (the key already wiped) until DetachVolume completes.
    state: str = "attaching"

    def __repr__(self) -> str:
        return f"Attachment(instance_id={self.instance_id!r}, device={self.device!r})"


@dataclass(eq=False)
class _Encrypted:
    """What an encrypted volume or snapshot keeps about its data key (never the plaintext)."""

    kms_key_arn: str | None = None
    encrypted_data_key: bytes | None = field(default=None, repr=False)
    encryption_context: dict[str, str] = field(default_factory=dict)
    data_encryption_key_id: str | None = None


@dataclass(eq=False)
class VolumeRecord(_Encrypted):
    volume_id: str = ""
    size: int = 0
    state: str = "creating"
    encrypted: bool = False
    availability_zone: str = ""
    snapshot_id: str | None = None
    create_time: datetime | None = None
    cipher: str = "xts"
    store: BlockStore | None = field(default=None, repr=False)
    grant_id: str | None = None
    grant_token: str | None = field(default=None, repr=False)
    attachment: Attachment | None = None
    state_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_volume(self) -> Volume:
        assert self.create_time is not None
        attachments: tuple[VolumeAttachment, ...] = ()
        a = self.attachment
        if a is not None:
            attachments = (VolumeAttachment(self.volume_id, a.instance_id, a.device, a.state,
                                            a.attach_time),)
        return Volume(
            volume_id=self.volume_id, size=self.size, state=self.state, encrypted=self.encrypted,
            kms_key_id=self.kms_key_arn, availability_zone=self.availability_zone,
            snapshot_id=self.snapshot_id, create_time=self.create_time, attachments=attachments,
            volume_cipher=self.cipher, state_reason=self.state_reason, tags=_tags(self.tags),
        )


@dataclass(eq=False)
class SnapshotRecord(_Encrypted):
    snapshot_id: str = ""
    volume_id: str = ""
    state: str = "pending"
    encrypted: bool = False
    volume_size: int = 0
    start_time: datetime | None = None
    description: str = ""
    cipher: str = "xts"
    store: BlockStore | None = field(default=None, repr=False)
    state_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_snapshot(self) -> Snapshot:
        assert self.start_time is not None
        return Snapshot(
            snapshot_id=self.snapshot_id, volume_id=self.volume_id, state=self.state,
            encrypted=self.encrypted, kms_key_id=self.kms_key_arn,
            data_encryption_key_id=self.data_encryption_key_id, volume_size=self.volume_size,
            start_time=self.start_time, description=self.description,
            progress="100%" if self.state == "completed" else "0%",
            state_message=self.state_message, tags=_tags(self.tags),
        )
