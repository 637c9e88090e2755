"""WorkSpace properties: a launch's properties from the bundle and the request, and
ModifyWorkspaceProperties (encryption is chosen at launch only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import (
    InvalidParameterValuesException,
    InvalidResourceStateException,
    OperationNotSupportedException,
)
from . import lifecycle as lc
from .core import WorkSpacesCore
from .models import WorkspaceBundle, WorkspaceProperties
from .records import CODE_INVALID_PARAMETER, ItemFailure, WsRecord
from .requests import ENCRYPTION_FIELDS, check_workspace_id, parse_properties

__all__ = ["PropertiesOps", "auto_stop_timeout", "bundle_properties"]

_MAX_VOLUME_GIB = 2000
_AUTO_STOP_DEFAULT_MINUTES = 60
_AUTO_STOP_MAX_MINUTES = 48 * 60


class PropertiesOps(WorkSpacesCore):
    """ModifyWorkspaceProperties."""

    def modify_workspace_properties(
        self, *, workspace_id: str, workspace_properties: Mapping[str, Any],
    ) -> None:
        """Change running mode, auto-stop timeout or compute type.

        Encryption is chosen at launch only (seed, restrictions): asking to encrypt an existing
        WorkSpace, to turn encryption off, or to change its key is refused with
        OperationNotSupportedException. Volume resizing is not simulated (also refused).
        """
        check_workspace_id(workspace_id, "workspace_id")
        changes = parse_properties(workspace_properties, "workspace_properties",
                                   allow_encryption=True)
        ws = self._get(workspace_id, "workspaces:ModifyWorkspaceProperties")
        for name in ENCRYPTION_FIELDS & set(changes):
            self._refuse_encryption_change(ws, name, changes[name])
        current = ws.properties
        for name, gib in (("root_volume_size_gib", current.root_volume_size_gib),
                          ("user_volume_size_gib", current.user_volume_size_gib)):
            if name in changes and changes[name] != gib:
                raise OperationNotSupportedException(
                    f"Changing {name} is not supported by the simulator (EBS volumes are not "
                    "resized); launch a new WorkSpace with the size you need.")
        mode = changes.get("running_mode", current.running_mode)
        timeout = changes.get("running_mode_auto_stop_timeout_in_minutes",
                              current.running_mode_auto_stop_timeout_in_minutes
                              if mode == current.running_mode else None)
        try:
            timeout = auto_stop_timeout(mode, timeout)
        except ItemFailure as bad:
            raise InvalidParameterValuesException(bad.message) from None
        if ws.state not in (lc.AVAILABLE, lc.STOPPED):
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is {ws.state}; its properties can be modified "
                "only when it is AVAILABLE or STOPPED.", resource_id=workspace_id)
        if mode == "ALWAYS_ON" and ws.state == lc.STOPPED:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is STOPPED; start it before switching to "
                "ALWAYS_ON.", resource_id=workspace_id)
        ws.properties = self.state.shared_properties(WorkspaceProperties(
            running_mode=mode, running_mode_auto_stop_timeout_in_minutes=timeout,
            root_volume_size_gib=current.root_volume_size_gib,
            user_volume_size_gib=current.user_volume_size_gib,
            compute_type_name=changes.get("compute_type_name", current.compute_type_name),
        ))
        self._rt.trace.record("WorkSpaces", "ModifyWorkspaceProperties", workspace_id,
                              workspace_id=workspace_id, caller=self.caller.arn,
                              running_mode=mode, compute_type_name=ws.properties.compute_type_name)

    def _refuse_encryption_change(self, ws: WsRecord, name: str, value: object) -> None:
        if name == "volume_encryption_key":
            if value != ws.volume_encryption_key and value != ws.key_arn:
                raise OperationNotSupportedException(
                    f"The volume encryption key of WorkSpace {ws.workspace_id} cannot be "
                    "changed. To use another KMS key, launch a new WorkSpace encrypted with it "
                    "(and keep the original key enabled until the old WorkSpace is gone).",
                    reason="ENCRYPTION_KEY_IMMUTABLE")
            return
        enabled = ws.root_encrypted if name.startswith("root") else ws.user_encrypted
        volume = "root" if name.startswith("root") else "user"
        if value and not enabled:
            raise OperationNotSupportedException(
                f"An existing WorkSpace cannot be encrypted: the {volume} volume of "
                f"{ws.workspace_id} was launched unencrypted, and encryption can only be chosen "
                "when a WorkSpace is launched. Launch a new WorkSpace with encryption enabled.",
                reason="ENCRYPTION_AT_LAUNCH_ONLY")
        if not value and enabled:
            raise OperationNotSupportedException(
                f"Encryption cannot be turned off: the {volume} volume of {ws.workspace_id} is "
                "encrypted, and disabling encryption of an encrypted WorkSpace is not supported.",
                reason="ENCRYPTION_CANNOT_BE_DISABLED")


def auto_stop_timeout(mode: str, timeout: int | None) -> int | None:
    if mode == "ALWAYS_ON":
        if timeout is not None:
            raise ItemFailure(CODE_INVALID_PARAMETER,
                               "running_mode_auto_stop_timeout_in_minutes applies only to "
                               "AUTO_STOP (or MANUAL) WorkSpaces.")
        return None
    if timeout is None:
        return _AUTO_STOP_DEFAULT_MINUTES
    if timeout % 60 or not 60 <= timeout <= _AUTO_STOP_MAX_MINUTES:
        raise ItemFailure(CODE_INVALID_PARAMETER,
                           "running_mode_auto_stop_timeout_in_minutes must be a multiple of 60 "
                           f"between 60 and {_AUTO_STOP_MAX_MINUTES}; {timeout} was given.")
    return timeout


def bundle_properties(bundle: WorkspaceBundle, given: Mapping[str, Any]) -> WorkspaceProperties:
    """The bundle's defaults with the request's overrides, checked against the bundle."""
    mode = given.get("running_mode", "ALWAYS_ON")
    timeout = auto_stop_timeout(mode, given.get("running_mode_auto_stop_timeout_in_minutes"))
    sizes = {}
    for name, minimum in (("root_volume_size_gib", bundle.root_volume_size_gib),
                          ("user_volume_size_gib", bundle.user_volume_size_gib)):
        gib = given.get(name, minimum)
        if not minimum <= gib <= _MAX_VOLUME_GIB:
            raise ItemFailure(CODE_INVALID_PARAMETER,
                               f"{name} must be between the bundle's {minimum} GiB and "
                               f"{_MAX_VOLUME_GIB} GiB; {gib} was given.")
        sizes[name] = gib
    return WorkspaceProperties(
        running_mode=mode, running_mode_auto_stop_timeout_in_minutes=timeout,
        root_volume_size_gib=sizes["root_volume_size_gib"],
        user_volume_size_gib=sizes["user_volume_size_gib"],
        compute_type_name=given.get("compute_type_name", bundle.compute_type.name),
    )
