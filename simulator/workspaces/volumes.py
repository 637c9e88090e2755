"""The volume stages every lifecycle job is made of: create (steps 2-4 and 8), wait, attach
(steps 5-7), detach, write the bundle image, delete; and the stage builders the operation
families share. A stage function takes (service, WorkSpace) plus fixed keyword parameters bound
once in the stage tuples, so every WorkSpace's job shares the same stages."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

from ..errors import (
    AwsError,
    IncorrectState,
    InvalidVolumeNotFound,
    ValidationException,
    error_for_code,
)
from . import lifecycle as lc
from .core import WorkSpacesCore
from .jobs import NotReady, Stage
from .records import VolumeRef, WsRecord

__all__ = [
    "DETACH_ROOT",
    "DETACH_USER",
    "IMAGE",
    "VolumeSteps",
    "attach_stage",
    "create_stage",
    "make_stage",
    "ready_stage",
    "wait_stage",
]

_DEVICES = {"root": "/dev/sda1", "user": "/dev/xvdd"}
#: How often an attach polls a volume that EBS is still creating (or detaching).
_POLL_SECONDS = 1.0


class VolumeSteps(WorkSpacesCore):
    """The stages that drive EBS for a WorkSpace's volumes."""

    def _wait_step(self, ws: WsRecord, *, setting: str) -> float | None:
        """Wait ``settings.<setting>`` seconds."""
        seconds: float = getattr(self._rt.settings, setting)
        return seconds

    def _context(self, ws: WsRecord) -> dict[str, str]:
        return lc.sid_directory_context(ws.sid, ws.directory_id)

    def _create_volume(self, ws: WsRecord, kind: str, replacement: bool,
                       snapshot_id: str | None) -> None:
        """Ask EBS for the volume (steps 2-4 and 8 when encrypted), unless it exists."""
        slot = ws.replacements if replacement else ws.volumes
        if kind in slot:
            return
        encrypted = ws.root_encrypted if kind == "root" else ws.user_encrypted
        size = (ws.properties.root_volume_size_gib if kind == "root"
                else ws.properties.user_volume_size_gib)
        if encrypted and ws.grant_id is None:  # step 1 must come first
            self._grant(ws)
        request: dict[str, Any] = {"size": size, "encrypted": encrypted,
                                   "availability_zone": self._availability_zone()}
        if encrypted:
            request.update(kms_key_id=ws.key_arn, encryption_context=self._context(ws),
                           grant_tokens=[ws.grant_token] if ws.grant_token else None)
        if snapshot_id is not None:
            request["snapshot_id"] = snapshot_id
        if encrypted:
            self._step("before", ws, 2, 3, 4, 8, volume=kind)
        volume = self._ebs_ws.create_volume(**request)
        slot[kind] = VolumeRef(kind, volume.volume_id, encrypted)
        if encrypted:
            self._step("after", ws, 2, 3, 4, 8, volume=kind)

    def _create_step(self, ws: WsRecord, *, kind: str, replacement: bool = False,
                     snapshot_id: str | None = None) -> float | None:
        self._create_volume(ws, kind, replacement, snapshot_id)
        return None

    def _ready_step(self, ws: WsRecord, *, kind: str, replacement: bool = False,
                    snapshot_id: str | None = None) -> float | None:
        """Wait until EBS has made the volume. EBS checks the key asynchronously: a volume in
        ``error`` carries the KMS error in its state reason; it is deleted and the error raised
        (so a retryable one makes the job retry, and the retry creates the volume again)."""
        slot = ws.replacements if replacement else ws.volumes
        if kind not in slot:
            self._create_volume(ws, kind, replacement, snapshot_id)
            raise NotReady(self._rt.settings.volume_create_seconds)
        volume = slot[kind]
        described = self._ebs_ws.describe_volumes(volume_ids=[volume.volume_id]).volumes[0]
        if described.state == "creating":
            raise NotReady(_POLL_SECONDS)
        if described.state == "error":
            del slot[kind]
            try:
                self._delete_volume(volume)
            except (AwsError, NotReady):
                ws.orphans += (volume,)
            raise _volume_error(volume.volume_id, described.state_reason)
        return None

    def _attach_step(self, ws: WsRecord, *, kind: str, replacement: bool = False) -> float | None:
        """AttachVolume (steps 5-7), then poll DescribeVolumes until EC2 reports the attachment
        ``attached``: AttachVolume returns while it is still ``attaching``."""
        slot = ws.replacements if replacement else ws.volumes
        volume = slot.get(kind)
        if volume is None:  # a launch that failed before this volume was made
            raise IncorrectState(f"The WorkSpace {ws.workspace_id} has no {kind} volume.")
        state, attachment = self._volume_state(volume.volume_id)
        if volume.attached:
            if attachment == "attaching":
                raise NotReady(_POLL_SECONDS)
            if attachment == "attached":
                return None
            volume.attached = False  # lost meanwhile (a host failure): attach again
        if state == "creating" or attachment in ("detaching", "attaching"):
            raise NotReady(_POLL_SECONDS)
        if volume.encrypted:
            self._step("before", ws, 5, 6, 7, volume=kind)
        self._ebs_ws.attach_volume(volume_id=volume.volume_id, instance_id=ws.instance_id,
                                   device=_DEVICES[kind])
        volume.attached = True
        if volume.encrypted:
            self._step("after", ws, 5, 6, 7, volume=kind)
        # Look again when EBS says an attachment completes (then every poll interval).
        raise NotReady(self._rt.settings.volume_attach_seconds)

    def _detach_step(self, ws: WsRecord, *, kind: str) -> float | None:
        volume = ws.volumes.get(kind)
        if volume is not None:
            self._detach(volume)
        return None

    def _detach(self, volume: VolumeRef) -> None:
        """DetachVolume if EBS still has it attached (a host failure may already have dropped
        it); the detach completes on the clock, which whoever needs the volume next waits for."""
        if volume.attached and self._volume_state(volume.volume_id)[1] in ("attaching",
                                                                           "attached"):
            self._ebs_ws.detach_volume(volume_id=volume.volume_id)
        volume.attached = False

    def _image_step(self, ws: WsRecord) -> float | None:
        """The root volume gets the bundle image: a marker written at its start, so a rebuild
        visibly restores it."""
        root = ws.volumes.get("root")
        if ws.image_pending and root is not None and root.attached:
            device = self._ebs_ws.block_device(root.volume_id)
            device.write(0, _image_marker(ws.image_id))
            ws.image_pending = False
        return None

    def _volume_state(self, volume_id: str) -> tuple[str, str | None]:
        """The volume's state and its attachment's (None when it has none)."""
        volume = self._ebs_ws.describe_volumes(volume_ids=[volume_id]).volumes[0]
        attachment = volume.attachments[0].state if volume.attachments else None
        return str(volume.state), attachment

    def _delete_volume(self, volume: VolumeRef) -> None:
        """Detach (if attached) and delete; NotReady while EBS is still creating or detaching
        it."""
        try:
            self._detach(volume)
            state, attachment = self._volume_state(volume.volume_id)
            if attachment == "detaching":
                raise NotReady(self._rt.settings.volume_attach_seconds)
            if state == "creating" or attachment is not None:
                raise NotReady(_POLL_SECONDS)
            if state in ("deleting", "deleted"):
                return
            self._ebs_ws.delete_volume(volume_id=volume.volume_id)
        except InvalidVolumeNotFound:
            pass  # already gone: what we wanted

    def _availability_zone(self) -> str:
        return _zone(self._rt.region)

    def _delete_orphans_step(self, ws: WsRecord) -> float | None:
        while ws.orphans:
            self._delete_volume(ws.orphans[0])
            ws.orphans = ws.orphans[1:]
        return None



def make_stage(label: str, run: Callable[..., float | None], /, *, best_effort: bool = False,
           **params: Any) -> Stage:
    """A stage calling ``run(service, ws, **params)``."""
    return Stage(label, partial(run, **params) if params else run, best_effort)


def create_stage(kind: str, *, replacement: bool = False,
                  snapshot_id: str | None = None) -> Stage:
    label = f"creating the {kind} volume" + (" from the latest snapshot" if snapshot_id else "")
    return make_stage(label, VolumeSteps._create_step, kind=kind, replacement=replacement,
                  snapshot_id=snapshot_id)


def ready_stage(kind: str, *, replacement: bool = False, snapshot_id: str | None = None) -> Stage:
    return make_stage(f"waiting for the {kind} volume", VolumeSteps._ready_step, kind=kind,
                  replacement=replacement, snapshot_id=snapshot_id)


def attach_stage(kind: str, *, replacement: bool = False) -> Stage:
    return make_stage(f"attaching the {kind} volume", VolumeSteps._attach_step, kind=kind,
                  replacement=replacement)


def wait_stage(label: str, setting: str) -> Stage:
    return make_stage(label, VolumeSteps._wait_step, setting=setting)


DETACH_ROOT = make_stage("detaching the root volume", VolumeSteps._detach_step, kind="root")
DETACH_USER = make_stage("detaching the user volume", VolumeSteps._detach_step, kind="user")
IMAGE = Stage("writing the bundle image to the root volume", VolumeSteps._image_step)


@cache
def _zone(region: str) -> str:
    """The Region's first zone, one string for every volume (each record keeps it)."""
    return f"{region}a"


def _image_marker(image_id: str) -> bytes:
    return f"envelope-sim bundle image {image_id}\n".encode()


def _volume_error(volume_id: str, reason: str | None) -> AwsError:
    """The error behind a volume EBS put in ``error`` (its reason reads ``"<Code>: <text>"``)."""
    code, _, text = (reason or "").partition(": ")
    try:
        cls = error_for_code(code)
    except ValidationException:
        return IncorrectState(f"The volume {volume_id} could not be created: {reason}")
    return cls(text)


