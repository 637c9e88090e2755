"""EC2 tags on volumes and snapshots: TagSpecifications on create, CreateTags, DeleteTags.

Rules (EC2 User Guide, "Tag your Amazon EC2 resources", "Tag restrictions"): at most 50 tags per
resource; keys are 1-128 characters and unique per resource, values 0-256 characters; keys
starting with ``aws:`` are reserved. A TagSpecification names the resource type it tags, and on
CreateVolume that must be ``volume`` (on CreateSnapshot and CopySnapshot ``snapshot``).

Tags and tag specifications are given as boto3 gives them, with snake_case members:
``[{"key": "Name", "value": "data"}]`` and
``[{"resource_type": "volume", "tags": [{"key": "Name", "value": "data"}]}]`` (a
:class:`~simulator.ebs.models.Tag` works too). Every check runs before anything changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import (
    InvalidID,
    InvalidParameterValue,
    InvalidSnapshotNotFound,
    InvalidTagKeyMalformed,
    InvalidVolumeNotFound,
    MissingParameter,
    TagLimitExceeded,
)
from .models import SnapshotRecord, Tag, VolumeRecord

if TYPE_CHECKING:
    from .state import EbsState

__all__ = ["MAX_TAGS", "Tagging", "check_tags", "tags_from_specifications"]

MAX_TAGS = 50


def _pair(item: object, where: str, *, value_required: bool) -> tuple[str, str | None]:
    key: object
    value: object
    if isinstance(item, Tag):
        key, value = item.key, item.value
    elif isinstance(item, Mapping) and set(item) <= {"key", "value"}:
        key, value = item.get("key"), item.get("value")
    else:
        raise InvalidParameterValue(
            f"Each entry of {where} must be a tag such as {{'key': 'Name', 'value': 'data'}}.")
    if not isinstance(key, str) or not 1 <= len(key) <= 128:
        raise InvalidTagKeyMalformed(
            "Tag keys must be between 1 and 128 characters long.")
    if key.lower().startswith("aws:"):
        raise InvalidParameterValue(
            f"Tag key '{key}' is not valid: tag keys starting with 'aws:' are reserved for "
            "internal use.")
    if value is None and value_required:
        value = ""
    if value is not None and (not isinstance(value, str) or len(value) > 256):
        raise InvalidParameterValue(
            f"Tag value for key '{key}' must be a string of at most 256 characters.")
    return key, value


def check_tags(tags: object, where: str = "Tags") -> dict[str, str]:
    """Validated tags as a dict (duplicate keys are InvalidParameterValue)."""
    if tags is None:
        return {}
    if isinstance(tags, str | bytes | Mapping) or not isinstance(tags, Sequence):
        raise InvalidParameterValue(f"{where} must be a list of tags.")
    out: dict[str, str] = {}
    for item in tags:
        key, value = _pair(item, where, value_required=True)
        if key in out:
            raise InvalidParameterValue(f"Duplicate tag key '{key}' specified.")
        out[key] = value or ""
    if len(out) > MAX_TAGS:
        raise TagLimitExceeded(f"The maximum number of tags per resource is {MAX_TAGS}.")
    return out


def tags_from_specifications(specs: object, resource_type: str) -> dict[str, str]:
    """The tags ``TagSpecifications`` put on a new resource of ``resource_type``."""
    if specs is None:
        return {}
    if isinstance(specs, str | bytes | Mapping) or not isinstance(specs, Sequence):
        raise InvalidParameterValue("TagSpecifications must be a list of tag specifications.")
    out: dict[str, str] = {}
    for spec in specs:
        if not isinstance(spec, Mapping) or not set(spec) <= {"resource_type", "tags"}:
            raise InvalidParameterValue(
                "Each TagSpecification must be {'resource_type': ..., 'tags': [...]}.")
        kind = spec.get("resource_type")
        if kind != resource_type:
            raise InvalidParameterValue(
                f"'{str(kind)[:64]}' is not a valid taggable resource type for this operation.")
        for key, value in check_tags(spec.get("tags"), "TagSpecification.Tags").items():
            if key in out:
                raise InvalidParameterValue(f"Duplicate tag key '{key}' specified.")
            out[key] = value
    if len(out) > MAX_TAGS:
        raise TagLimitExceeded(f"The maximum number of tags per resource is {MAX_TAGS}.")
    return out


class Tagging:
    """CreateTags and DeleteTags on EBS volumes and snapshots (a mixin of ElasticBlockStore)."""

    if TYPE_CHECKING:
        _state: EbsState

        def _allow_tags(self, action: str, rec: VolumeRecord | SnapshotRecord,
                        tags: Mapping[str, str] | None, keys: Sequence[str] | None) -> None: ...

    def _taggable(self, resources: object) -> list[VolumeRecord | SnapshotRecord]:
        if isinstance(resources, str | bytes | Mapping) or not isinstance(resources, Sequence):
            raise InvalidParameterValue("Resources must be a list of resource ids.")
        if not resources:
            raise MissingParameter("The request must contain the parameter resourceIdSet")
        found: list[VolumeRecord | SnapshotRecord] = []
        for rid in resources:
            if not isinstance(rid, str):
                raise InvalidID(f"The ID '{str(rid)[:64]}' is not valid")
            rec: VolumeRecord | SnapshotRecord | None
            if rid.startswith("vol-"):
                rec = self._state.volumes.get(rid)
                if rec is None or rec.state == "deleted":
                    raise InvalidVolumeNotFound(f"The volume '{rid}' does not exist.")
            elif rid.startswith("snap-"):
                rec = self._state.snapshots.get(rid)
                if rec is None:
                    raise InvalidSnapshotNotFound(f"The snapshot '{rid}' does not exist.")
            else:
                raise InvalidID(f"The ID '{rid[:64]}' is not valid")
            found.append(rec)
        return found

    def create_tags(self, *, resources: Sequence[str], tags: Sequence[Mapping[str, str]]) -> None:
        """CreateTags: add or overwrite tags on volumes and snapshots (all or nothing)."""
        records = self._taggable(resources)
        new = check_tags(tags)
        if not new:
            raise MissingParameter("The request must contain the parameter Tags")
        for rec in records:
            self._allow_tags("CreateTags", rec, new, None)
        for rec in records:
            if len({**rec.tags, **new}) > MAX_TAGS:
                raise TagLimitExceeded(
                    f"The maximum number of tags per resource is {MAX_TAGS}.")
        for rec in records:
            rec.tags.update(new)

    def delete_tags(self, *, resources: Sequence[str],
                    tags: Sequence[Mapping[str, str]] | None = None) -> None:
        """DeleteTags: without ``tags``, every tag; a tag given with a value is deleted only
        when the value matches; deleting a tag that is not there is not an error."""
        records = self._taggable(resources)
        wanted: list[tuple[str, str | None]] = []
        if tags is not None:
            if isinstance(tags, str | bytes | Mapping) or not isinstance(tags, Sequence):
                raise InvalidParameterValue("Tags must be a list of tags.")
            wanted = [_pair(t, "Tags", value_required=False) for t in tags]
        for rec in records:
            self._allow_tags("DeleteTags", rec, None,
                             None if tags is None else [key for key, _ in wanted])
        for rec in records:
            if tags is None:
                rec.tags.clear()
                continue
            for key, value in wanted:
                if key in rec.tags and (value is None or rec.tags[key] == value):
                    del rec.tags[key]
