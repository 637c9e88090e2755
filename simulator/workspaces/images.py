"""Custom images: CreateWorkspaceImage (unencrypted WorkSpaces only), DescribeWorkspaceImages,
DeleteWorkspaceImage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import (
    InvalidResourceStateException,
    OperationNotSupportedException,
    ResourceNotFoundException,
    ValidationException,
)
from . import lifecycle as lc
from .core import WorkSpacesCore
from .models import DescribeWorkspaceImagesResult, WorkspaceImage
from .requests import check_workspace_id, parse_tags

__all__ = ["ImageOps"]

_IMAGE_NAME = re.compile(r"[a-zA-Z0-9_./()\\-]{1,64}")


class ImageOps(WorkSpacesCore):
    """Custom images."""

    def create_workspace_image(
        self, *, name: str, description: str, workspace_id: str,
        tags: Any = None,
    ) -> WorkspaceImage:
        """Make a custom image from an unencrypted WorkSpace (SUSPENDED while it builds).

        Not supported for encrypted WorkSpaces (seed, restrictions).
        """
        if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
            raise ValidationException(
                "name must be 1 to 64 letters, digits or _ . / ( ) \\ - characters.")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise ValidationException("description must be 1 to 256 characters long.")
        check_workspace_id(workspace_id, "workspace_id")
        if tags is not None:
            parse_tags(tags, "tags")
        ws = self._get(workspace_id, "workspaces:CreateWorkspaceImage")
        if ws.encrypted:
            raise OperationNotSupportedException(
                f"Creating a custom image from an encrypted WorkSpace is not supported: "
                f"{workspace_id} has encrypted volumes.", reason="ENCRYPTED_WORKSPACE")
        if ws.state != lc.AVAILABLE:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} is {ws.state}; an image can be created only from "
                "an AVAILABLE WorkSpace.", resource_id=workspace_id)
        root = ws.volumes.get("root")
        if root is None:
            raise InvalidResourceStateException(
                f"The WorkSpace {workspace_id} has no root volume.", resource_id=workspace_id)
        rt = self._rt
        with rt.trace.scope(workspace_id=workspace_id, steps=lc.STEP_OF_PHASE):
            snapshot = self._ebs_ws.create_snapshot(
                volume_id=root.volume_id, description=f"WorkSpaces image {name}")
        image_id = rt.ids.image_id()
        image = WorkspaceImage(image_id=image_id, name=name, description=description,
                               state="PENDING", owner_account_id=rt.account_id,
                               created=rt.clock.now(), source_workspace_id=workspace_id)
        self.state.images[image_id] = image
        self.state.image_snapshots[image_id] = snapshot.snapshot_id
        self._cancel_job(ws)
        self._set_state(ws, lc.SUSPENDED, "CreateWorkspaceImage")

        def built() -> None:
            if image_id in self.state.images:
                self.state.images[image_id] = WorkspaceImage(
                    image_id=image_id, name=name, description=description, state="AVAILABLE",
                    owner_account_id=rt.account_id, created=image.created,
                    source_workspace_id=workspace_id)
            if ws.state == lc.SUSPENDED:
                self._set_state(ws, lc.AVAILABLE, "image created")

        rt.clock.schedule(lc.IMAGE_CREATION_SECONDS, f"workspaces.image:{image_id}", built)
        return image

    def describe_workspace_images(
        self, *, image_ids: Sequence[str] | None = None,
    ) -> DescribeWorkspaceImagesResult:
        """The account's custom images (all, or those named)."""
        self._require("workspaces:DescribeWorkspaceImages", "*")
        if image_ids is None:
            return DescribeWorkspaceImagesResult(tuple(self.state.images.values()))
        if isinstance(image_ids, str) or not isinstance(image_ids, Sequence):
            raise ValidationException("image_ids must be a list of image ids.")
        return DescribeWorkspaceImagesResult(tuple(
            self.state.images[i] for i in image_ids
            if isinstance(i, str) and i in self.state.images))

    def delete_workspace_image(self, *, image_id: str) -> None:
        """Delete a custom image and the snapshot behind it."""
        if not isinstance(image_id, str):
            raise ValidationException("image_id must be a string.")
        self._require("workspaces:DeleteWorkspaceImage", self._image_arn(image_id))
        if image_id not in self.state.images:
            raise ResourceNotFoundException(f"The image {image_id} could not be found.",
                                            resource_id=image_id)
        snapshot_id = self.state.image_snapshots.pop(image_id, None)
        del self.state.images[image_id]
        if snapshot_id is not None:
            self._delete_snapshot(snapshot_id)

