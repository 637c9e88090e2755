"""The Regions a simulation accepts: the commercial (``aws``) partition's.

From botocore's partition data (``botocore/data/endpoints.json``) when botocore is importable,
so the list follows the installed SDK; otherwise from the list bundled here (botocore 1.40's).
Only the ``aws`` partition: every ARN the simulation makes is an ``arn:aws:`` ARN.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

__all__ = ["BUNDLED_REGIONS", "known_regions", "regions_source"]

#: The ``aws`` partition's Regions when botocore is not importable.
BUNDLED_REGIONS: frozenset[str] = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
    "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
    "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
})


@lru_cache(maxsize=1)
def _load() -> tuple[frozenset[str], str]:
    # Found, not imported: only its data file is read.
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        return BUNDLED_REGIONS, "bundled"
    path = Path(spec.origin).parent / "data" / "endpoints.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        regions = next(p["regions"] for p in data["partitions"] if p["partition"] == "aws")
    except (OSError, ValueError, KeyError, StopIteration):
        return BUNDLED_REGIONS, "bundled"
    return frozenset(regions), "botocore"


def known_regions() -> frozenset[str]:
    """Every Region name of the ``aws`` partition."""
    return _load()[0]


def regions_source() -> str:
    """``"botocore"`` or ``"bundled"``: where :func:`known_regions` came from."""
    return _load()[1]
