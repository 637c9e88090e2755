"""Amazon EBS (the EC2 volume and snapshot operations) with envelope encryption that really encrypts.

The envelope flow (spec E, docs/architecture.md "Identities used by the nine steps"):

- CreateVolume, as the caller *through EC2*: GenerateDataKeyWithoutPlaintext (64 bytes, context
  ``{"aws:ebs:id": <volume id>}`` plus the calling service's pairs), then CreateGrant for the EBS
  identity constrained to that context; the encrypted data key and the grant are kept with the
  volume. KMS failures do not fail the call: the volume goes to ``error`` when the clock runs,
  with the reason in ``state_reason``, as AWS checks the key asynchronously.
- AttachVolume, as the EBS identity: Decrypt with the same context and the grant token. The
  plaintext data key lives only in the attachment (a bytearray wiped on detach).
- DeleteVolume: the EBS identity retires its grant.

A disabled key or a revoked grant does nothing to an attached volume; the next attach fails
with the KMS error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, TypeVar

from ..boundary import operation_boundary
from ..crypto import wipe
from ..crypto.volume import DATA_KEY_SIZE, VOLUME_CIPHERS, GcmVolumeCipher, XtsVolumeCipher
from ..errors import (
    AwsError,
    IdempotentParameterMismatch,
    IncorrectState,
    InvalidAttachmentNotFound,
    InvalidBlockCiphertext,
    InvalidParameterCombination,
    InvalidParameterDependency,
    InvalidParameterValue,
    InvalidSnapshotNotFound,
    InvalidVolumeNotFound,
    MissingParameter,
    VolumeInUse,
)
from ..iam.principals import Caller, ebs_identity_arn
from ..runtime import Runtime
from .authz import DEVICE_ACTION, instance_arn, snapshot_arn, volume_arn
from .filters import SNAPSHOT_FILTERS, VOLUME_FILTERS, apply_filters, paginate
from .models import (
    Attachment,
    CopySnapshotResult,
    DescribeSnapshotsResult,
    DescribeVolumesResult,
    EbsDefaultKmsKeyId,
    EbsEncryptionByDefault,
    Snapshot,
    SnapshotRecord,
    Volume,
    VolumeAttachment,
    VolumeRecord,
)
from .seams import EbsRegions, KmsForEbs
from .state import EbsState
from .store import (
    BLOCK_SIZE,
    BlockCodec,
    BlockStore,
    GcmCodec,
    PlainCodec,
    TamperedBlock,
    XtsCodec,
)
from .tagging import Tagging, tags_from_specifications
from .tamper import VolumeTamper

__all__ = ["DEFAULT_KMS_KEY", "MAX_IO_BYTES", "BlockDevice", "ElasticBlockStore"]

DEFAULT_KMS_KEY: Final = "alias/aws/ebs"
GiB: Final = 1 << 30
#: gp3, the volume type simulated: 1 to 65,536 GiB (CreateVolume reference).
MAX_SIZE_GIB: Final = 65536
#: The most one BlockDevice read or write moves. EBS itself splits I/O far smaller (it counts
#: IOPS in 256 KiB units); the bound keeps one call from allocating unbounded memory (a 1 GiB
#: read of a never-written volume used to allocate 1 GiB) while any sensible request fits.
MAX_IO_BYTES: Final = 16 * 1024 * 1024
#: What the EBS identity may do with the key, for this volume's context only.
EBS_GRANT_OPERATIONS: Final = ("Decrypt", "ReEncryptFrom", "ReEncryptTo", "RetireGrant")
_INSTANCE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_DEVICE = re.compile(r"/dev/(?:sd[a-z][0-9]{0,2}|xvd[a-z]{1,2}|nvme[0-9]{1,2}n1)")
_VOLUME_ID = re.compile(r"vol-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_SNAPSHOT_ID = re.compile(r"snap-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_T = TypeVar("_T")


def _ebs_caller(account_id: str) -> Caller:
    return Caller(arn=ebs_identity_arn(account_id), account_id=account_id, type="AssumedRole",
                  principal_id="AROAEC2INFRASTRUCTURE:ebs")


@operation_boundary(lambda device: device._ebs._state.runtime.lock)
class BlockDevice:
    """``/dev/sdf`` as the instance sees it: plaintext reads and writes, only while attached."""

    def __init__(self, ebs: ElasticBlockStore, volume_id: str, attachment: Attachment) -> None:
        self._ebs = ebs
        self.volume_id = volume_id
        self._attachment = attachment

    def __repr__(self) -> str:
        return f"BlockDevice({self.volume_id!r})"

    @property
    def size(self) -> int:
        """The device size in bytes."""
        return self._live().size * GiB

    def _live(self) -> VolumeRecord:
        rec = self._ebs._state.volumes.get(self.volume_id)
        if rec is None or rec.state in ("deleting", "deleted"):
            raise IncorrectState(f"The volume '{self.volume_id}' is deleted.")
        if rec.attachment is not self._attachment or self._attachment.state != "attached":
            raise IncorrectState(f"The volume '{self.volume_id}' is not attached: "
                                 "the device is gone.")
        return rec

    def _range(self, rec: VolumeRecord, offset: object, length: object) -> tuple[int, int]:
        for name, value in (("offset", offset), ("length", length)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidParameterValue(f"Value ({value!r}) for parameter {name} is invalid. "
                                            "It must be an integer.")
            if value < 0:
                raise InvalidParameterValue(f"Value ({value}) for parameter {name} is invalid. "
                                            "It must not be negative.")
        assert isinstance(offset, int) and isinstance(length, int)
        if length > MAX_IO_BYTES:
            raise InvalidParameterValue(
                f"Value ({length}) for parameter length is invalid. One read or write moves at "
                f"most {MAX_IO_BYTES} bytes (16 MiB); split larger transfers.")
        if offset + length > rec.size * GiB:
            raise InvalidParameterValue(
                f"The range [{offset}, {offset + length}) is outside volume {self.volume_id} "
                f"({rec.size * GiB} bytes).")
        return offset, length

    def _codec(self, rec: VolumeRecord, length: int) -> tuple[BlockCodec, bool]:
        """The codec for one request, and whether the attachment keeps it.

        It is kept from the attachment's second request on, or at once for a request longer
        than a block: a single small write (a fresh root volume's bundle image) then leaves no
        key schedules or buffers behind on an attachment that may live for months.
        """
        a = self._attachment
        codec = a.codec
        if codec is not None:
            return codec, True
        codec = self._ebs._codec(rec.cipher, a.plaintext_data_key, rec.volume_id)
        if a.requests or length > BLOCK_SIZE:
            a.codec = codec
            return codec, True
        a.requests += 1
        return codec, False

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from byte ``offset``; never-written bytes read as zeros."""
        rec = self._live()
        off, n = self._range(rec, offset, length)
        assert rec.store is not None
        codec, kept = self._codec(rec, n)
        try:
            with self._ebs._named_tamper(self.volume_id):
                return rec.store.read(codec, off, n)
        finally:
            if not kept:
                codec.close()

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at byte ``offset`` (any offset and length inside the volume)."""
        rec = self._live()
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidParameterValue(
                f"The data must be bytes, not {type(data).__name__}.")
        try:
            view = memoryview(data).cast("B")
        except (TypeError, ValueError) as exc:  # strided or released views
            raise InvalidParameterValue(f"The data must be a contiguous buffer: {exc}.") from None
        off, n = self._range(rec, offset, view.nbytes)
        assert rec.store is not None
        codec, kept = self._codec(rec, n)
        try:
            with self._ebs._named_tamper(self.volume_id):
                rec.store.write(codec, off, view)
        finally:
            if not kept:
                codec.close()

    def flush(self) -> None:
        """Make the writes so far durable, as a disk's cache flush does: with a state file
        (``Simulation(state=...)``) they are committed to it when this returns; in memory
        every write already is as durable as the simulation."""
        self._live()


class _TamperNamer:
    def __init__(self, volume_id: str) -> None:
        self.volume_id = volume_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: object, ev: object, tb: object) -> None:
        if isinstance(ev, TamperedBlock):
            raise InvalidBlockCiphertext(
                f"Block {ev.index} of volume {self.volume_id} failed authentication: it was "
                "modified, moved from another block or volume, or replayed.",
                volume_id=self.volume_id, block_index=ev.index) from None


@operation_boundary(lambda ebs: ebs._state.runtime.lock)
class ElasticBlockStore(Tagging):
    """EBS for one account and Region, as seen by one caller (a view: see docs/architecture.md).

    Tags (CreateTags, DeleteTags, TagSpecifications) are :mod:`.tagging`'s; describe filters
    and paging :mod:`.filters`'."""

    def __init__(self, state: EbsState, kms: KmsForEbs, caller: Caller,
                 regions: EbsRegions | None = None) -> None:
        self._state = state
        self._kms = kms
        self._caller = caller
        self._regions = regions
        # KMS views made on first use and kept: one caller object per view, not one per call.
        self._kms_ec2: KmsForEbs | None = None
        self._kms_ebs: KmsForEbs | None = None

    def with_caller(self, caller: Caller) -> ElasticBlockStore:
        """The same EBS, called by ``caller``."""
        return ElasticBlockStore(self._state, self._kms, caller, self._regions)

    @property
    def caller(self) -> Caller:
        return self._caller

    @property
    def tamper(self) -> VolumeTamper:
        """The public seam for faults and tests to corrupt blocks and fail hosts (not an API)."""
        return VolumeTamper(self)

    # --- plumbing ------------------------------------------------------------------------

    @property
    def _rt(self) -> Runtime:
        return self._state.runtime

    def _kms_via_ec2(self) -> KmsForEbs:
        """KMS as the caller, through EC2 (``kms:ViaService`` = ec2, GrantIsForAWSResource)."""
        kms = self._kms_ec2
        if kms is None:
            kms = self._kms_ec2 = self._kms.with_caller(
                self._caller.through("ec2", self._rt.region))
        return kms

    def _kms_as_ebs(self) -> KmsForEbs:
        kms = self._kms_ebs
        if kms is None:
            kms = self._kms_ebs = self._kms.with_caller(_ebs_caller(self._rt.account_id))
        return kms

    def _retrying(self, fn: Callable[[], _T]) -> _T:
        """Call KMS, retrying retryable errors (KMSInternal, DependencyTimeout) like the SDK."""
        attempts = max(0, int(self._rt.settings.max_retries)) + 1
        for attempt in range(attempts):
            try:
                return fn()
            except AwsError as err:
                if not err.retryable or attempt == attempts - 1:
                    raise
                self._rt.trace.record("EBS", "RetryKmsCall", "-", outcome=err.code,
                                      attempt=attempt + 1)
        raise AssertionError("unreachable")

    def _before(self, operation: str, **params: Any) -> None:
        """Emit ``before-call.ec2.<operation>`` (simulator.hooks), as KMS does: an AWS error
        raised by a handler (a fault plan) fails the call before anything has changed."""
        self._rt.hooks.emit("before-call.ec2." + operation, caller=self._caller, params=params)

    def _allow(self, action: str, resources: Sequence[str],
               conditions: dict[str, object] | None = None) -> None:
        """Authorize ``ec2:<action>`` for the caller on ``resources`` (UnauthorizedOperation);
        ``conditions``: the request's EC2 condition keys (a None value is an absent key)."""
        self._state.authz.check(self._caller, "ec2:" + action, resources, conditions)

    def _volume_arn(self, volume_id: str = "*") -> str:
        return volume_arn(self._rt.region, self._rt.account_id, volume_id)

    def _snapshot_arn(self, snapshot_id: str = "*") -> str:
        return snapshot_arn(self._rt.region, snapshot_id)

    def _instance_arn(self, instance_id: str) -> str:
        return instance_arn(self._rt.region, self._rt.account_id, instance_id)

    def _resource_conditions(self, rec: VolumeRecord | SnapshotRecord) -> dict[str, object]:
        """The EC2 condition keys of an existing volume or snapshot, its tags included
        (``ec2:ResourceTag/<key>`` and ``aws:ResourceTag/<key>``)."""
        conds: dict[str, object]
        if isinstance(rec, VolumeRecord):
            conds = {"ec2:Encrypted": rec.encrypted, "ec2:VolumeID": rec.volume_id,
                     "ec2:VolumeSize": rec.size, "ec2:AvailabilityZone": rec.availability_zone,
                     "ec2:ParentSnapshot": (self._snapshot_arn(rec.snapshot_id)
                                            if rec.snapshot_id else None)}
        else:
            conds = {"ec2:Encrypted": rec.encrypted, "ec2:SnapshotID": rec.snapshot_id,
                     "ec2:VolumeSize": rec.volume_size,
                     "ec2:ParentVolume": self._volume_arn(rec.volume_id)}
        for k, v in rec.tags.items():
            conds["ec2:ResourceTag/" + k] = conds["aws:ResourceTag/" + k] = v
        return conds

    @staticmethod
    def _request_tags(conds: dict[str, object], tags: Mapping[str, str] | None,
                      keys: Sequence[str] | None = None) -> dict[str, object]:
        """``conds`` with a request's tags: ``aws:RequestTag/<key>`` and ``aws:TagKeys``."""
        if tags:
            for k, v in tags.items():
                conds["aws:RequestTag/" + k] = v
        if keys is not None or tags:
            conds["aws:TagKeys"] = list(keys if keys is not None else tags or ())
        return conds

    def _allow_volume(self, action: str, rec: VolumeRecord, *more: str) -> None:
        self._allow(action, (self._volume_arn(rec.volume_id), *more),
                    self._resource_conditions(rec))

    def _allow_snapshot(self, action: str, snap: SnapshotRecord, *more: str) -> None:
        self._allow(action, (self._snapshot_arn(snap.snapshot_id), *more),
                    self._resource_conditions(snap))

    def _allow_tags(self, action: str, rec: VolumeRecord | SnapshotRecord,
                    tags: Mapping[str, str] | None, keys: Sequence[str] | None) -> None:
        """CreateTags / DeleteTags on one volume or snapshot."""
        arn = (self._volume_arn(rec.volume_id) if isinstance(rec, VolumeRecord)
               else self._snapshot_arn(rec.snapshot_id))
        self._allow(action, (arn,), self._request_tags(self._resource_conditions(rec), tags, keys))

    def _allow_tags_on_create(self, action: str, arn: str, tags: Mapping[str, str]) -> None:
        """Tags given at creation (TagSpecifications) also need ``ec2:CreateTags`` on the new
        resource, with ``ec2:CreateAction`` naming the creating action (EC2 User Guide,
        "Grant permission to tag Amazon EC2 resources during creation")."""
        if tags:
            self._allow("CreateTags", (arn,),
                        self._request_tags({"ec2:CreateAction": action}, tags))

    def _named_tamper(self, volume_id: str) -> _TamperNamer:
        return _TamperNamer(volume_id)

    def _volume(self, volume_id: object) -> VolumeRecord:
        if not isinstance(volume_id, str) or not _VOLUME_ID.fullmatch(volume_id):
            raise InvalidParameterValue(f"Invalid id: \"{volume_id}\" (expecting \"vol-...\")")
        rec = self._state.volumes.get(volume_id)
        if rec is None or rec.state == "deleted":
            raise InvalidVolumeNotFound(f"The volume '{volume_id}' does not exist.")
        return rec

    def _snapshot(self, snapshot_id: object) -> SnapshotRecord:
        if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
            raise InvalidParameterValue(f"Invalid id: \"{snapshot_id}\" (expecting \"snap-...\")")
        rec = self._state.snapshots.get(snapshot_id)
        if rec is None:
            raise InvalidSnapshotNotFound(f"The snapshot '{snapshot_id}' does not exist.")
        return rec

    @staticmethod
    def _check_bool(value: object, name: str) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise InvalidParameterValue(f"Value ({value!r}) for parameter {name} is invalid. "
                                        "It must be a boolean.")
        return value

    @staticmethod
    def _check_key_id(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value or len(value) > 2048:
            raise InvalidParameterValue(f"Value ({value!r}) for parameter kmsKeyId is invalid.")
        return value

    @staticmethod
    def _check_context(value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and k for k, v in value.items()):
            raise InvalidParameterValue("encryption_context must map non-empty strings to strings.")
        if "aws:ebs:id" in value:
            raise InvalidParameterValue("The encryption context pair 'aws:ebs:id' is set by EBS.")
        return dict(value)

    @staticmethod
    def _check_tokens(value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(
                isinstance(t, str) for t in value):
            raise InvalidParameterValue("grant_tokens must be a list of strings.")
        return tuple(value)

    def _check_cipher(self, value: object) -> str:
        cipher = self._rt.settings.volume_cipher if value is None else value
        if cipher not in VOLUME_CIPHERS:
            raise InvalidParameterValue(
                f"Value ({cipher!r}) for parameter volumeCipher is invalid. Valid values: xts, gcm.")
        assert isinstance(cipher, str)
        return cipher

    def _codec(self, cipher: str, data_key: bytearray | None, binding: str) -> BlockCodec:
        if data_key is None:
            return PlainCodec()
        if cipher == "gcm":
            return GcmCodec(GcmVolumeCipher(data_key), binding, self._rt.entropy.token_bytes)
        return XtsCodec(XtsVolumeCipher(data_key))

    def _decrypt_key(self, kms: KmsForEbs, blob: bytes, context: dict[str, str],
                     tokens: Sequence[str]) -> bytearray:
        result = self._retrying(lambda: kms.decrypt(
            ciphertext_blob=blob, encryption_context=context, grant_tokens=list(tokens) or None))
        key = bytearray(result.plaintext)
        if len(key) != DATA_KEY_SIZE:
            wipe(key)
            raise InvalidParameterValue("The volume's data key is not 64 bytes.")
        return key

    def _trace(self, action: str, target: str, *, outcome: str = "ok", **detail: Any) -> None:
        detail.setdefault("caller", self._caller.arn)  # who asked EBS (narration's arrow source)
        self._rt.trace.record("EBS", action, target, outcome=outcome, **detail)

    # --- volumes -------------------------------------------------------------------------

    def create_volume(
        self, *, size: int | None = None, encrypted: bool | None = None,
        kms_key_id: str | None = None, availability_zone: str | None = None,
        snapshot_id: str | None = None, volume_cipher: str | None = None,
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None,
        tag_specifications: Sequence[Mapping[str, Any]] | None = None,
        client_token: str | None = None,
    ) -> Volume:
        """CreateVolume: returns at once in ``creating``; ``available`` (or ``error``) later.

        ``client_token`` makes the call idempotent (EC2 API Reference, "Ensuring idempotency"):
        the same token with the same parameters returns the volume it created; with other
        parameters it is ``IdempotentParameterMismatch``.

        ``encryption_context`` holds the pairs a calling AWS service adds (WorkSpaces:
        ``aws:workspaces:sid-directoryid``); EBS adds ``aws:ebs:id``. ``volume_cipher`` is
        ``"xts"`` or ``"gcm"`` (default: the simulation's ``volume_cipher`` setting).
        """
        self._before("CreateVolume", kmsKeyId=kms_key_id, snapshotId=snapshot_id)
        request = repr((size, encrypted, kms_key_id, availability_zone, snapshot_id,
                        volume_cipher, encryption_context, grant_tokens, tag_specifications))
        if client_token is not None:
            if not isinstance(client_token, str) or not 1 <= len(client_token) <= 64 or (
                    not client_token.isascii()):
                raise InvalidParameterValue(
                    "The client token must be 1 to 64 ASCII characters.")
            seen = self._state.client_tokens.get(client_token)
            if seen is not None:
                if seen[0] != request:
                    raise IdempotentParameterMismatch(
                        f"The client token {client_token} was used with other parameters.")
                done = self._state.volumes.get(seen[1])
                if done is not None:
                    # A replay is still the caller's CreateVolume: authorized like the first.
                    self._allow("CreateVolume", (self._volume_arn(),),
                                self._resource_conditions(done))
                    return done.to_volume()
        rt = self._rt
        enc_flag = self._check_bool(encrypted, "encrypted")
        key_arg = self._check_key_id(kms_key_id)
        if key_arg is not None and enc_flag is not True:
            raise InvalidParameterDependency(
                "The parameter [KmsKeyId] requires the parameter Encrypted to be set.")
        snap = self._snapshot(snapshot_id) if snapshot_id is not None else None
        if snap is not None and snap.state != "completed":
            raise IncorrectState(f"Snapshot '{snap.snapshot_id}' is not completed "
                                 f"(state: {snap.state}).")
        if size is None:
            if snap is None:
                raise MissingParameter("The request must contain the parameter size or snapshotId.")
            size = snap.volume_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE_GIB:
            raise InvalidParameterValue(
                f"Volume of {size!r} GiB is not valid: the size must be an integer from 1 to "
                f"{MAX_SIZE_GIB} GiB.")
        if snap is not None and size < snap.volume_size:
            raise InvalidParameterValue(
                f"Volume of {size}GiB is too small; minimum is {snap.volume_size}GiB.")
        az = f"{rt.region}a" if availability_zone is None else availability_zone
        if not isinstance(az, str) or not re.fullmatch(re.escape(rt.region) + "[a-f]", az):
            raise InvalidParameterValue(
                f"Invalid availability zone: [{az}]; expected {rt.region}a to {rt.region}f.")
        cipher = self._check_cipher(volume_cipher)
        extra_context = self._check_context(encryption_context)
        tokens = self._check_tokens(grant_tokens)
        tags = tags_from_specifications(tag_specifications, "volume")
        if snap is not None and snap.encrypted and enc_flag is False:
            raise InvalidParameterCombination(
                f"Snapshot '{snap.snapshot_id}' is encrypted: a volume created from it is "
                "encrypted, and encryption cannot be removed.")
        will_encrypt = (enc_flag is True or self._state.encryption_by_default
                        or (snap is not None and snap.encrypted))
        if not will_encrypt and extra_context:
            raise InvalidParameterCombination(
                "An encryption context applies only to encrypted volumes.")
        parent = self._snapshot_arn(snap.snapshot_id) if snap is not None else None
        self._allow("CreateVolume", (self._volume_arn(),) + ((parent,) if parent else ()),
                    self._request_tags({"ec2:Encrypted": will_encrypt, "ec2:VolumeSize": size,
                                        "ec2:AvailabilityZone": az, "ec2:ParentSnapshot": parent},
                                       tags))
        self._allow_tags_on_create("CreateVolume", self._volume_arn(), tags)

        # Valid: from here the call succeeds; KMS problems surface as the volume's error state.
        volume_id = rt.ids.volume_id()
        rec = VolumeRecord(
            volume_id=volume_id, size=size, state="creating", encrypted=will_encrypt,
            availability_zone=az, snapshot_id=snapshot_id, create_time=rt.clock.now(),
            cipher=cipher, tags=tags,
        )
        self._state.volumes[volume_id] = rec
        if client_token is not None:
            self._state.client_tokens[client_token] = (request, volume_id)
        with rt.trace.phase("ebs.create_volume"):
            self._trace("CreateVolume", volume_id, size_gib=size, encrypted=will_encrypt,
                        volume_cipher=cipher, snapshot_id=snapshot_id, availability_zone=az)
            failure: str | None = None
            try:
                self._provision(rec, snap, key_arg, extra_context, tokens)
            except AwsError as err:
                failure = f"{err.code}: {err.message}" if err.message else err.code
                # Nothing half-made stays with the failed volume: no data key, grant or blocks.
                if rec.grant_id is not None and rec.kms_key_arn is not None:
                    self._retire_grant(rec)
                rec.store = None
                rec.encrypted_data_key = rec.data_encryption_key_id = None
                rec.grant_id = rec.grant_token = None
                self._trace("CreateVolume", volume_id, outcome=err.code,
                            reason=failure, kms_key=rec.kms_key_arn)
        delay = rt.settings.volume_create_seconds
        if failure is None:
            rt.clock.schedule(delay, f"ebs:{volume_id}:available",
                              lambda: self._settle(rec, "available", None))
        else:
            rt.clock.schedule(delay, f"ebs:{volume_id}:error",
                              lambda: self._settle(rec, "error", failure))
        return rec.to_volume()

    def _settle(self, rec: VolumeRecord, state: str, reason: str | None) -> None:
        if rec.state != "creating":
            return
        rec.state = state
        rec.state_reason = reason
        self._trace("VolumeStateChange", rec.volume_id, outcome="ok" if reason is None else "failed",
                    state=state, cause=reason)

    def _provision(self, rec: VolumeRecord, snap: SnapshotRecord | None, key_arg: str | None,
                   extra: dict[str, str], tokens: tuple[str, ...]) -> None:
        """The KMS side of CreateVolume; raises the KMS error that makes the volume fail."""
        size_bytes = rec.size * GiB
        if not rec.encrypted:
            assert snap is None or not snap.encrypted
            rec.store = (snap.store.clone(size_bytes) if snap is not None and snap.store is not None
                         else BlockStore(size_bytes, self._state.chunk_pool))
            return
        kms = self._kms_via_ec2()
        context = {**extra, "aws:ebs:id": rec.volume_id}
        rec.encryption_context = context
        same_key_restore = False
        if snap is not None and snap.encrypted:
            if key_arg is None:
                target_arn = snap.kms_key_arn
            else:
                target_arn = self._retrying(
                    lambda: kms.describe_key(key_id=key_arg, grant_tokens=list(tokens) or None)).arn
            same_key_restore = target_arn == snap.kms_key_arn
            key_ref = target_arn
        else:
            key_ref = key_arg if key_arg is not None else self._state.default_kms_key_id
        assert key_ref is not None
        if same_key_restore:
            assert snap is not None and snap.encrypted_data_key is not None
            blob = snap.encrypted_data_key
            with self._rt.trace.phase("ebs.generate_data_key"):
                # The EC2 guide: under the snapshot's own key, EC2 sends
                # GenerateDataKeyWithoutPlaintext and KMS encrypts the snapshot's data key
                # again, for this volume's context.
                self._trace("GenerateDataKeyWithoutPlaintext", rec.volume_id, kms_key=key_ref,
                            number_of_bytes=DATA_KEY_SIZE, encryption_context=context,
                            source_snapshot=snap.snapshot_id)
                wrapped = self._retrying(lambda: kms.generate_data_key_without_plaintext_reusing(
                    key_id=key_ref, source_ciphertext_blob=blob,
                    source_encryption_context=snap.encryption_context,
                    encryption_context=context, grant_tokens=list(tokens) or None))
            rec.kms_key_arn = wrapped.key_id
            rec.encrypted_data_key = wrapped.ciphertext_blob
            rec.data_encryption_key_id = snap.data_encryption_key_id
        else:
            with self._rt.trace.phase("ebs.generate_data_key"):
                # EBS's own record of the request it sends KMS (step 3; KMS records step 4).
                self._trace("GenerateDataKeyWithoutPlaintext", rec.volume_id, kms_key=key_ref,
                            number_of_bytes=DATA_KEY_SIZE, encryption_context=context)
                made = self._retrying(lambda: kms.generate_data_key_without_plaintext(
                    key_id=key_ref, number_of_bytes=DATA_KEY_SIZE, encryption_context=context,
                    grant_tokens=list(tokens) or None))
            rec.kms_key_arn = made.key_id
            rec.encrypted_data_key = made.ciphertext_blob
            rec.data_encryption_key_id = self._rt.ids.uuid()
        self._grant(rec, kms, tokens)
        with self._rt.trace.phase("ebs.store_encrypted_key"):
            self._trace("StoreEncryptedDataKey", rec.volume_id, kms_key=rec.kms_key_arn,
                        encryption_context=context, grant_id=rec.grant_id,
                        data_encryption_key_id=rec.data_encryption_key_id,
                        encrypted_data_key_bytes=len(rec.encrypted_data_key))
        # The blocks: shared as they are when cipher and data key carry over; otherwise every
        # written block is re-encrypted (a full copy) with the plaintext keys held briefly.
        if snap is None:
            rec.store = BlockStore(size_bytes, self._state.chunk_pool)
        elif same_key_restore and snap.cipher == rec.cipher:
            assert snap.store is not None
            rec.store = snap.store.clone(size_bytes)
        else:
            rec.store = self._reencrypt(snap, rec, kms, tokens, size_bytes)

    def _reencrypt(self, snap: SnapshotRecord, dest: VolumeRecord | SnapshotRecord,
                   kms: KmsForEbs, tokens: tuple[str, ...],
                   size_bytes: int, *, source_kms: KmsForEbs | None = None) -> BlockStore:
        """``snap``'s blocks under ``dest``'s data key; ``source_kms`` (default ``kms``)
        decrypts the source data key (another Region's KMS for a cross-Region copy)."""
        assert snap.store is not None and dest.encrypted_data_key is not None
        binding = dest.volume_id if isinstance(dest, VolumeRecord) else dest.snapshot_id
        src_key = (self._decrypt_key(source_kms or kms, snap.encrypted_data_key,
                                     snap.encryption_context, tokens)
                   if snap.encrypted and snap.encrypted_data_key is not None else None)
        dst_key: bytearray | None = None
        src_codec: BlockCodec | None = None
        dst_codec: BlockCodec | None = None
        try:
            dst_key = self._decrypt_key(kms, dest.encrypted_data_key, dest.encryption_context,
                                        tokens)
            src_codec = self._codec(snap.cipher, src_key, snap.volume_id)
            dst_codec = self._codec(dest.cipher, dst_key, binding)
            out = BlockStore(size_bytes, self._state.chunk_pool)
            indexes = sorted(set(snap.store.blocks) | set(snap.store.written))
            plain = src_codec.buffer(BLOCK_SIZE)
            with self._named_tamper(snap.volume_id):
                for index in indexes:
                    src_codec.decode_into(snap.store, index, 1, plain)
                    dst_codec.encode(out, index, plain)
            self._trace("ReEncryptBlocks", binding, blocks=len(indexes),
                        source_snapshot=snap.snapshot_id, kms_key=dest.kms_key_arn)
            return out
        finally:
            for codec in (src_codec, dst_codec):
                if codec is not None:
                    codec.close()
            for key in (src_key, dst_key):
                if key is not None:
                    wipe(key)

    def _grant(self, rec: VolumeRecord, kms: KmsForEbs,
               tokens: tuple[str, ...]) -> None:
        assert rec.kms_key_arn is not None
        arn = rec.kms_key_arn
        with self._rt.trace.phase("ebs.grant"):
            grant = self._retrying(lambda: kms.create_grant(
                key_id=arn, grantee_principal=ebs_identity_arn(self._rt.account_id),
                operations=list(EBS_GRANT_OPERATIONS),
                constraints={"encryption_context_subset": dict(rec.encryption_context)},
                retiring_principal=self._caller.arn, grant_tokens=list(tokens) or None))
        rec.grant_id = grant.grant_id
        rec.grant_token = grant.grant_token
        self._trace("CreateGrant", rec.volume_id, kms_key=arn, grant_id=grant.grant_id,
                    grantee=ebs_identity_arn(self._rt.account_id),
                    operations=list(EBS_GRANT_OPERATIONS),
                    encryption_context_subset=dict(rec.encryption_context))

    def describe_volumes(
        self, *, volume_ids: Sequence[str] | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None, max_results: int | None = None,
        next_token: str | None = None,
    ) -> DescribeVolumesResult:
        """DescribeVolumes: the given volumes (all must exist), or every volume; narrowed by
        ``filters`` (``[{"name": "tag:team", "values": ["data*"]}]``) and paged by
        ``max_results``/``next_token`` (see :mod:`.filters`)."""
        self._allow("DescribeVolumes", ("*",))
        if volume_ids is None:
            recs = [r for r in self._state.volumes.values() if r.state != "deleted"]
        else:
            if isinstance(volume_ids, str) or not isinstance(volume_ids, Sequence):
                raise InvalidParameterValue("volume_ids must be a list of volume ids.")
            # Look every id up first (a bad one is the EC2 error), then drop repeats, in order.
            recs = list({id(r): r for r in map(self._volume, volume_ids)}.values())
        recs = apply_filters(recs, filters, VOLUME_FILTERS)
        got = paginate(recs, lambda r: r.volume_id, max_results=max_results,
                       next_token=next_token, limits=(5, 500), ids_given=volume_ids is not None)
        return DescribeVolumesResult(tuple(r.to_volume() for r in got.items), got.next_token)

    def attach_volume(self, *, volume_id: str, instance_id: str, device: str) -> VolumeAttachment:
        """AttachVolume: the EBS identity decrypts the data key (step 5-6); I/O is ready (7).

        Returns the attachment ``attaching``, as EC2 does; it is ``attached`` (and the device
        usable) ``volume_attach_seconds`` later: poll DescribeVolumes for it.
        """
        self._before("AttachVolume", volumeId=volume_id, instanceId=instance_id)
        rec = self._volume(volume_id)
        if not isinstance(instance_id, str) or not _INSTANCE.fullmatch(instance_id):
            raise InvalidParameterValue(f"Invalid id: \"{instance_id}\" (expecting \"i-...\")")
        if not isinstance(device, str) or not _DEVICE.fullmatch(device):
            raise InvalidParameterValue(f"Value ({device!r}) for parameter device is invalid. "
                                        "Expected a name like /dev/sdf or /dev/xvdf.")
        self._allow_volume("AttachVolume", rec, self._instance_arn(instance_id))
        if rec.attachment is not None:
            raise VolumeInUse(f"{rec.volume_id} is already attached to an instance")
        if rec.state != "available":
            raise IncorrectState(f"The volume '{rec.volume_id}' is not 'available' "
                                 f"(state: {rec.state}).")
        if (instance_id, device) in self._state.attached:  # an index: attach stays O(1)
            raise InvalidParameterValue(
                f"Invalid value '{device}' for unixDevice. Attachment point {device} is "
                "already in use")
        rt = self._rt
        with rt.trace.phase("ebs.attach"):
            self._trace("AttachVolume", rec.volume_id, instance_id=instance_id, device=device,
                        kms_key=rec.kms_key_arn)
            data_key: bytearray | None = None
            if rec.encrypted:
                assert rec.encrypted_data_key is not None
                blob = rec.encrypted_data_key
                tokens = [rec.grant_token] if rec.grant_token else []
                with rt.trace.phase("ebs.decrypt"):
                    try:
                        data_key = self._decrypt_key(self._kms_as_ebs(), blob,
                                                     rec.encryption_context, tokens)
                    except AwsError as err:
                        self._trace("AttachVolume", rec.volume_id, outcome=err.code,
                                    cause=err.message, kms_key=rec.kms_key_arn)
                        raise
                    self._trace("DecryptDataKey", rec.volume_id, kms_key=rec.kms_key_arn,
                                encryption_context=rec.encryption_context,
                                grant_id=rec.grant_id,
                                caller=ebs_identity_arn(rt.account_id))
            # The codec (and its cipher) is made on the first read or write; the key is
            # checked now, so an unusable one still fails the attach.
            if data_key is not None and rec.cipher == "xts":
                try:
                    XtsVolumeCipher.check_key(data_key)
                except ValueError:
                    wipe(data_key)
                    raise InvalidParameterValue(
                        f"The data key of volume {rec.volume_id} is unusable.") from None
            attachment = Attachment(instance_id, device, rt.clock.now(), None, data_key)
            rec.attachment = attachment
            self._state.attached[(instance_id, device)] = rec.volume_id
            rec.state = "in-use"
            rt.clock.schedule(rt.settings.volume_attach_seconds,
                              f"ebs:{rec.volume_id}:attached",
                              lambda: self._attachment_settled(rec, attachment, "attached"))
            with rt.trace.phase("ebs.io_ready"):
                self._trace("VolumeIoReady", rec.volume_id, instance_id=instance_id,
                            volume_cipher=rec.cipher if rec.encrypted else "none",
                            key_in_memory=rec.encrypted)
        return rec.to_volume().attachments[0]

    def detach_volume(self, *, volume_id: str, instance_id: str | None = None,
                      device: str | None = None, force: bool = False) -> VolumeAttachment:
        """DetachVolume: the plaintext data key is wiped at once and the device is gone; the
        attachment is ``detaching`` until ``volume_attach_seconds`` later, when the volume is
        ``available`` again (poll DescribeVolumes for it)."""
        self._before("DetachVolume", volumeId=volume_id)
        rec = self._volume(volume_id)
        self._check_bool(force, "force")
        a = rec.attachment
        instance = a.instance_id if a is not None else instance_id
        self._allow_volume("DetachVolume", rec, *(
            (self._instance_arn(instance),) if isinstance(instance, str)
            and _INSTANCE.fullmatch(instance) else ()))
        if a is None:
            raise IncorrectState(f"Volume '{rec.volume_id}' is in the '{rec.state}' state.")
        if (instance_id is not None and instance_id != a.instance_id) or (
                device is not None and device != a.device):
            raise InvalidAttachmentNotFound(
                f"The volume {rec.volume_id} is not attached to {instance_id or a.instance_id} "
                f"at {device or a.device}.")
        if a.state == "detaching":
            raise IncorrectState(f"The volume '{rec.volume_id}' is already detaching.")
        self._release_key(a)
        a.state = "detaching"
        self._trace("DetachVolume", rec.volume_id, instance_id=a.instance_id, device=a.device,
                    key_wiped=rec.encrypted, force=bool(force))
        rt = self._rt
        rt.clock.schedule(rt.settings.volume_attach_seconds, f"ebs:{rec.volume_id}:detached",
                          lambda: self._attachment_settled(rec, a, "detached"))
        return rec.to_volume().attachments[0]

    def _attachment_settled(self, rec: VolumeRecord, a: Attachment, state: str) -> None:
        """AttachVolume or DetachVolume completes on the clock (unless the attachment is gone:
        a host failure, or a detach while it was still attaching)."""
        if rec.attachment is not a:
            return
        if state == "attached":
            if a.state != "attaching":
                return
            a.state = "attached"
        else:
            rec.attachment = None
            self._state.attached.pop((a.instance_id, a.device), None)
            rec.state = "available"
        self._trace("AttachmentStateChange", rec.volume_id, instance_id=a.instance_id,
                    device=a.device, state=state)

    @staticmethod
    def _release_key(a: Attachment) -> None:
        if a.codec is not None:
            a.codec.close()
            a.codec = None
        if a.plaintext_data_key is not None:
            wipe(a.plaintext_data_key)

    def _drop_attachment(self, rec: VolumeRecord, action: str, **detail: Any) -> None:
        a = rec.attachment
        assert a is not None
        self._release_key(a)
        rec.attachment = None
        self._state.attached.pop((a.instance_id, a.device), None)
        rec.state = "available"
        self._trace(action, rec.volume_id, instance_id=a.instance_id, device=a.device,
                    key_wiped=rec.encrypted, **detail)

    def delete_volume(self, *, volume_id: str) -> None:
        """DeleteVolume: the EBS grant is retired (step 9); the blocks go with the volume."""
        self._before("DeleteVolume", volumeId=volume_id)
        rec = self._volume(volume_id)
        self._allow_volume("DeleteVolume", rec)
        if rec.attachment is not None:
            raise VolumeInUse(f"Volume {rec.volume_id} is currently attached to "
                              f"{rec.attachment.instance_id}")
        if rec.state not in ("available", "error"):
            raise IncorrectState(f"The volume '{rec.volume_id}' is '{rec.state}' and cannot be "
                                 "deleted now.")
        rt = self._rt
        rec.state = "deleting"
        self._trace("DeleteVolume", rec.volume_id)
        if rec.grant_id is not None and rec.kms_key_arn is not None:
            self._retire_grant(rec)
        rec.grant_token = None
        rec.store = None

        def gone() -> None:
            rec.state = "deleted"
            self._state.volumes.pop(rec.volume_id, None)

        rt.clock.schedule(rt.settings.volume_create_seconds, f"ebs:{rec.volume_id}:deleted", gone)

    def _retire_grant(self, rec: VolumeRecord) -> None:
        """The EBS identity retires the volume's grant (DeleteVolume, or a failed create)."""
        with self._rt.trace.phase("ebs.retire_grant"):
            try:
                self._retrying(lambda: self._kms_as_ebs().retire_grant(
                    key_id=rec.kms_key_arn, grant_id=rec.grant_id))
                self._trace("RetireGrant", rec.volume_id, kms_key=rec.kms_key_arn,
                            grant_id=rec.grant_id)
            except AwsError as err:  # already revoked or retired: nothing left to retire
                self._trace("RetireGrant", rec.volume_id, outcome=err.code,
                            kms_key=rec.kms_key_arn, grant_id=rec.grant_id, cause=err.message)

    def block_device(self, volume_id: str) -> BlockDevice:
        """The attached volume as a block device (refused unless attached: IncorrectState)."""
        rec = self._volume(volume_id)
        if rec.attachment is None or rec.attachment.state != "attached":
            raise IncorrectState(f"The volume '{rec.volume_id}' is not attached "
                                 f"(state: {rec.state}); attach it to read or write.")
        # The instance's view: reached through a session on the attachment's instance.
        self._state.authz.check(
            self._caller, DEVICE_ACTION,
            (self._instance_arn(rec.attachment.instance_id), self._volume_arn(rec.volume_id)))
        return BlockDevice(self, rec.volume_id, rec.attachment)

    def raw_blocks(self, volume_id: str) -> Mapping[int, bytes]:
        """What sits on disk: block index -> stored bytes (ciphertext when encrypted), read-only.

        Blocks are :data:`~simulator.ebs.store.BLOCK_SIZE` bytes of plaintext each; gcm blocks
        store ``nonce || ciphertext || tag``.
        """
        rec = self._volume(volume_id)
        return rec.store.blocks if rec.store is not None else MappingProxyType({})

    # --- snapshots -----------------------------------------------------------------------

    def create_snapshot(self, *, volume_id: str, description: str | None = None,
                        tag_specifications: Sequence[Mapping[str, Any]] | None = None,
                        ) -> Snapshot:
        """CreateSnapshot: a point-in-time copy sharing the volume's KMS key and data key."""
        self._before("CreateSnapshot", volumeId=volume_id)
        rec = self._volume(volume_id)
        desc = "" if description is None else description
        if not isinstance(desc, str) or len(desc) > 255:
            raise InvalidParameterValue("The description must be a string of at most 255 characters.")
        tags = tags_from_specifications(tag_specifications, "snapshot")
        self._allow("CreateSnapshot", (self._volume_arn(rec.volume_id), self._snapshot_arn()),
                    self._request_tags(self._resource_conditions(rec), tags))
        self._allow_tags_on_create("CreateSnapshot", self._snapshot_arn(), tags)
        if rec.state not in ("available", "in-use") or rec.store is None:
            raise IncorrectState(f"The volume '{rec.volume_id}' is '{rec.state}'.")
        rt = self._rt
        snap = SnapshotRecord(
            snapshot_id=rt.ids.snapshot_id(), volume_id=rec.volume_id, state="pending",
            encrypted=rec.encrypted, volume_size=rec.size, start_time=rt.clock.now(),
            description=desc, cipher=rec.cipher, store=rec.store.clone(),
            kms_key_arn=rec.kms_key_arn, encrypted_data_key=rec.encrypted_data_key,
            encryption_context=dict(rec.encryption_context),
            data_encryption_key_id=rec.data_encryption_key_id, tags=tags,
        )
        self._state.snapshots[snap.snapshot_id] = snap
        self._trace("CreateSnapshot", snap.snapshot_id, volume_id=rec.volume_id,
                    kms_key=rec.kms_key_arn, data_encryption_key_id=rec.data_encryption_key_id)
        rt.clock.schedule(rt.settings.snapshot_seconds, f"ebs:{snap.snapshot_id}:completed",
                          lambda: self._settle_snapshot(snap, "completed", None))
        # EC2's CreateSnapshot response leaves DataEncryptionKeyId out; DescribeSnapshots has it.
        return dataclasses.replace(snap.to_snapshot(), data_encryption_key_id=None)

    def _settle_snapshot(self, snap: SnapshotRecord, state: str, message: str | None) -> None:
        if snap.state != "pending" or snap.snapshot_id not in self._state.snapshots:
            return
        snap.state = state
        snap.state_message = message
        self._trace("SnapshotStateChange", snap.snapshot_id,
                    outcome="ok" if message is None else "failed", state=state, cause=message)

    def describe_snapshots(
        self, *, snapshot_ids: Sequence[str] | None = None,
        owner_ids: Sequence[str] | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None, max_results: int | None = None,
        next_token: str | None = None,
    ) -> DescribeSnapshotsResult:
        """DescribeSnapshots: the given snapshots (all must exist), or every snapshot;
        ``owner_ids`` (``"self"`` or account ids: only this account owns snapshots here),
        ``filters`` and paging as for :meth:`describe_volumes`."""
        self._allow("DescribeSnapshots", ("*",))
        if snapshot_ids is None:
            recs = list(self._state.snapshots.values())
        else:
            if isinstance(snapshot_ids, str) or not isinstance(snapshot_ids, Sequence):
                raise InvalidParameterValue("snapshot_ids must be a list of snapshot ids.")
            recs = list({id(r): r for r in map(self._snapshot, snapshot_ids)}.values())
        account = self._rt.account_id
        if owner_ids is not None:
            if isinstance(owner_ids, str) or not isinstance(owner_ids, Sequence) or not all(
                    isinstance(o, str) for o in owner_ids):
                raise InvalidParameterValue("owner_ids must be a list of account ids or 'self'.")
            if not {"self", account} & set(owner_ids):
                recs = []
        owner = {"owner-id": lambda r: (account,)}
        recs = apply_filters(recs, filters, SNAPSHOT_FILTERS, owner)
        got = paginate(recs, lambda r: r.snapshot_id, max_results=max_results,
                       next_token=next_token, limits=(5, 1000),
                       ids_given=snapshot_ids is not None)
        return DescribeSnapshotsResult(tuple(r.to_snapshot() for r in got.items), got.next_token)

    def delete_snapshot(self, *, snapshot_id: str) -> None:
        """DeleteSnapshot (volumes restored from it keep their own blocks)."""
        self._before("DeleteSnapshot", snapshotId=snapshot_id)
        snap = self._snapshot(snapshot_id)
        self._allow_snapshot("DeleteSnapshot", snap)
        del self._state.snapshots[snap.snapshot_id]
        snap.store = None
        self._trace("DeleteSnapshot", snap.snapshot_id)

    def copy_snapshot(
        self, *, source_region: str, source_snapshot_id: str, encrypted: bool | None = None,
        kms_key_id: str | None = None, description: str | None = None,
        tag_specifications: Sequence[Mapping[str, Any]] | None = None,
        destination_region: str | None = None, presigned_url: str | None = None,
    ) -> CopySnapshotResult:
        """CopySnapshot: encrypted copies stay encrypted; a new key means a new data key and
        re-encrypted blocks (a full copy). The copy's context is ``{"aws:ebs:id": <copy id>}``.

        ``source_region`` is required, as in EC2. A copy from another Region (this account's
        snapshot there) is made in this Region and encrypted under a key of this Region: the
        one ``kms_key_id`` names, or this Region's default EBS key. The source data key is
        decrypted by the source Region's KMS, a new one generated by this Region's, and every
        block re-encrypted. A key of another Region fails the copy (it goes to ``error``): EC2
        checks the key asynchronously (EC2 API Reference, CopySnapshot ``KmsKeyId``). SDKs add
        ``destination_region`` (it must be this Region, where the copy is made) and
        ``presigned_url`` (the source Region's authorization of the read: checked to be text,
        not used; the simulation reads its own Regions directly).
        """
        if destination_region is not None and destination_region != self._rt.region:
            raise InvalidParameterValue(
                f"Value ({str(destination_region)[:64]!r}) for parameter DestinationRegion is "
                f"invalid: this call is made in Region {self._rt.region}.")
        if presigned_url is not None and not isinstance(presigned_url, str):
            raise InvalidParameterValue("PresignedUrl must be a string.")
        self._before("CopySnapshot", snapshotId=source_snapshot_id, kmsKeyId=kms_key_id,
                     sourceRegion=source_region)
        if not isinstance(source_region, str) or not _REGION.fullmatch(source_region):
            raise InvalidParameterValue(
                f"Value ({source_region!r}) for parameter SourceRegion is invalid. "
                "It must be a Region name such as 'us-west-2'.")
        source = self
        if source_region != self._rt.region:
            found = self._regions.ebs_in(source_region) if self._regions is not None else None
            if found is None:
                raise InvalidSnapshotNotFound(
                    f"The snapshot '{source_snapshot_id}' does not exist in Region "
                    f"{source_region}.")
            source = found.with_caller(self._caller)
        src = source._snapshot(source_snapshot_id)
        enc_flag = self._check_bool(encrypted, "encrypted")
        key_arg = self._check_key_id(kms_key_id)
        if enc_flag is False:
            raise InvalidParameterCombination(
                "The parameter Encrypted cannot be set to false for CopySnapshot.")
        if key_arg is not None and enc_flag is not True:
            raise InvalidParameterDependency(
                "The parameter [KmsKeyId] requires the parameter Encrypted to be set.")
        desc = "" if description is None else description
        if not isinstance(desc, str) or len(desc) > 255:
            raise InvalidParameterValue("The description must be a string of at most 255 characters.")
        tags = tags_from_specifications(tag_specifications, "snapshot")
        if src.state != "completed" or src.store is None:
            raise IncorrectState(f"Snapshot '{src.snapshot_id}' is not completed "
                                 f"(state: {src.state}).")
        rt = self._rt
        will_encrypt = src.encrypted or enc_flag is True or self._state.encryption_by_default
        self._allow_snapshot("CopySnapshot", src)
        self._allow("CopySnapshot", (self._snapshot_arn(),), self._request_tags(
            {"ec2:Encrypted": will_encrypt, "ec2:VolumeSize": src.volume_size}, tags))
        self._allow_tags_on_create("CopySnapshot", self._snapshot_arn(), tags)
        copy = SnapshotRecord(
            snapshot_id=rt.ids.snapshot_id(), volume_id=src.volume_id, state="pending",
            encrypted=will_encrypt, volume_size=src.volume_size, start_time=rt.clock.now(),
            description=desc or f"Copied for DestinationRegion {rt.region} from "
                                f"SourceSnapshot {src.snapshot_id}",
            cipher=src.cipher, tags=tags,
        )
        self._state.snapshots[copy.snapshot_id] = copy
        self._trace("CopySnapshot", copy.snapshot_id, source_snapshot_id=src.snapshot_id,
                    encrypted=will_encrypt, source_region=source_region)
        failure: str | None = None
        try:
            self._copy_blocks(src, copy, key_arg, source)
        except AwsError as err:
            failure = f"{err.code}: {err.message}" if err.message else err.code
            copy.store = None
            self._trace("CopySnapshot", copy.snapshot_id, outcome=err.code, reason=failure)
        rt.clock.schedule(rt.settings.snapshot_seconds, f"ebs:{copy.snapshot_id}:settle",
                          lambda: self._settle_snapshot(copy, "error" if failure else "completed",
                                                        failure))
        return CopySnapshotResult(copy.snapshot_id, copy.to_snapshot().tags)

    def _copy_blocks(self, src: SnapshotRecord, copy: SnapshotRecord, key_arg: str | None,
                     source: ElasticBlockStore) -> None:
        assert src.store is not None
        if not copy.encrypted:
            copy.store = src.store.clone()
            return
        kms = self._kms_via_ec2()
        context = {"aws:ebs:id": copy.snapshot_id}
        copy.encryption_context = context
        source_kms: KmsForEbs | None = None
        if src.encrypted and source is not self:
            # Another Region: always a new data key under a key of this Region, the old one
            # decrypted by the source Region's KMS.
            key_ref = key_arg if key_arg is not None else self._state.default_kms_key_id
            source_kms = source._kms_via_ec2()
        elif src.encrypted:
            target = (src.kms_key_arn if key_arg is None
                      else self._retrying(lambda: kms.describe_key(key_id=key_arg)).arn)
            if target == src.kms_key_arn:
                assert src.encrypted_data_key is not None and target is not None
                blob = src.encrypted_data_key
                # As for a restore under the same key (the EC2 guide): the source's data key,
                # encrypted again by KMS for the copy's context.
                wrapped = self._retrying(lambda: kms.generate_data_key_without_plaintext_reusing(
                    key_id=target, source_ciphertext_blob=blob,
                    source_encryption_context=src.encryption_context,
                    encryption_context=context))
                copy.kms_key_arn = wrapped.key_id
                copy.encrypted_data_key = wrapped.ciphertext_blob
                copy.data_encryption_key_id = src.data_encryption_key_id
                copy.store = src.store.clone()
                return
            key_ref = target or DEFAULT_KMS_KEY
        else:
            key_ref = key_arg if key_arg is not None else self._state.default_kms_key_id
        made = self._retrying(lambda: kms.generate_data_key_without_plaintext(
            key_id=key_ref, number_of_bytes=DATA_KEY_SIZE, encryption_context=context))
        copy.kms_key_arn = made.key_id
        copy.encrypted_data_key = made.ciphertext_blob
        copy.data_encryption_key_id = self._rt.ids.uuid()
        copy.store = self._reencrypt(src, copy, kms, (), src.store.size_bytes,
                                     source_kms=source_kms)

    # --- encryption by default -----------------------------------------------------------

    def enable_ebs_encryption_by_default(self) -> EbsEncryptionByDefault:
        """New volumes and snapshot copies are encrypted (existing ones are unaffected)."""
        self._allow("EnableEbsEncryptionByDefault", ("*",))
        self._state.encryption_by_default = True
        self._trace("EnableEbsEncryptionByDefault", self._rt.region)
        return EbsEncryptionByDefault(True)

    def disable_ebs_encryption_by_default(self) -> EbsEncryptionByDefault:
        self._allow("DisableEbsEncryptionByDefault", ("*",))
        self._state.encryption_by_default = False
        self._trace("DisableEbsEncryptionByDefault", self._rt.region)
        return EbsEncryptionByDefault(False)

    def get_ebs_encryption_by_default(self) -> EbsEncryptionByDefault:
        self._allow("GetEbsEncryptionByDefault", ("*",))
        return EbsEncryptionByDefault(self._state.encryption_by_default)

    def modify_ebs_default_kms_key_id(self, *, kms_key_id: str) -> EbsDefaultKmsKeyId:
        """Use ``kms_key_id`` (id, ARN, alias or alias ARN) for new encrypted volumes."""
        key = self._check_key_id(kms_key_id)
        if key is None:
            raise MissingParameter("The request must contain the parameter KmsKeyId.")
        self._allow("ModifyEbsDefaultKmsKeyId", ("*",))
        self._state.default_kms_key_id = key
        self._trace("ModifyEbsDefaultKmsKeyId", self._rt.region, kms_key=key)
        return EbsDefaultKmsKeyId(key)

    def get_ebs_default_kms_key_id(self) -> EbsDefaultKmsKeyId:
        self._allow("GetEbsDefaultKmsKeyId", ("*",))
        return EbsDefaultKmsKeyId(self._state.default_kms_key_id)

    def reset_ebs_default_kms_key_id(self) -> EbsDefaultKmsKeyId:
        """Back to the AWS managed key ``alias/aws/ebs``."""
        self._allow("ResetEbsDefaultKmsKeyId", ("*",))
        self._state.default_kms_key_id = DEFAULT_KMS_KEY
        self._trace("ResetEbsDefaultKmsKeyId", self._rt.region)
        return EbsDefaultKmsKeyId(DEFAULT_KMS_KEY)

