"""KMS tags: TagResource, UntagResource, ListResourceTags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import (
    LimitExceededException,
)
from . import validation as v
from .base import KmsBase, _page, check_marker
from .models import (
    ListResourceTagsResult,
)

__all__ = ["TagOperations"]

_TAG_LIMIT = 50


class TagOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def tag_resource(self, *, key_id: str, tags: Sequence[Mapping[str, str]]) -> None:
        with self._api("TagResource", {"keyId": key_id, "tags": tags}) as call:
            new = self._check_tags(tags)
            key = self._admin_key(key_id, "kms:TagResource", call, {"aws:TagKeys": list(new)},
                                  request_tags=new)
            if len({**key.tags, **new}) > _TAG_LIMIT:
                raise LimitExceededException(f"A key can have at most {_TAG_LIMIT} tags.")
            key.tags.update(new)

    def untag_resource(self, *, key_id: str, tag_keys: Sequence[str]) -> None:
        with self._api("UntagResource", {"keyId": key_id, "tagKeys": tag_keys}) as call:
            names = [v.check_str(t, "tagKeys.member", max_len=128) for t in v.as_list(tag_keys, "tagKeys")]
            key = self._admin_key(key_id, "kms:UntagResource", call, {"aws:TagKeys": names})
            for name in names:
                key.tags.pop(name, None)

    def list_resource_tags(self, *, key_id: str, limit: int | None = None,
                           marker: str | None = None) -> ListResourceTagsResult:
        with self._api("ListResourceTags", {"keyId": key_id, "limit": limit, "marker": marker},
                       read_only=True) as call:
            lim = v.check_limit(limit, high=50) or 50
            start = check_marker(marker)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListResourceTags")
            tags = key.tag_list()
            return ListResourceTagsResult(*_page(tags, start, lim))
