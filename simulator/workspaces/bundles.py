"""The built-in (Amazon-owned) bundles every simulated account sees.

Ids (``wsb-``/``wsi-``) come from the simulation's entropy, so a seeded simulation always has
the same bundle ids. Sizes and compute types follow the public bundles AWS offers.
"""

from __future__ import annotations

from ..runtime import Runtime
from .models import ComputeType, RootStorage, UserStorage, WorkspaceBundle

__all__ = ["COMPUTE_TYPES", "builtin_bundles"]

#: ComputeTypeName values: the WorkSpaces API model's Compute enum (a test compares them).
COMPUTE_TYPES = frozenset({
    "VALUE", "STANDARD", "PERFORMANCE", "POWER", "POWERPRO", "GRAPHICS", "GRAPHICSPRO",
    "GRAPHICS_G4DN", "GRAPHICSPRO_G4DN", "GENERALPURPOSE_4XLARGE", "GENERALPURPOSE_8XLARGE",
    "GRAPHICS_G6_XLARGE", "GRAPHICS_G6_2XLARGE", "GRAPHICS_G6_4XLARGE", "GRAPHICS_G6_8XLARGE",
    "GRAPHICS_G6_16XLARGE", "GRAPHICS_GR6_4XLARGE", "GRAPHICS_GR6_8XLARGE",
    "GRAPHICS_G6F_LARGE", "GRAPHICS_G6F_XLARGE", "GRAPHICS_G6F_2XLARGE", "GRAPHICS_G6F_4XLARGE",
    "GRAPHICS_GR6F_4XLARGE", "GRAPHICS_G7_2XLARGE", "GRAPHICS_G7_4XLARGE",
    "GRAPHICS_G7_8XLARGE", "GRAPHICS_G7_12XLARGE",
})

# (name, description, compute type, root GiB, user GiB)
_BUILTIN = (
    ("Standard with Windows 10 (Server 2019 based)",
     "Standard (2 vCPU, 4 GiB memory, 80 GB root, 50 GB user)", "STANDARD", 80, 50),
    ("Value with Amazon Linux 2",
     "Value (1 vCPU, 2 GiB memory, 80 GB root, 10 GB user)", "VALUE", 80, 10),
    ("Performance with Windows 10 (Server 2019 based)",
     "Performance (2 vCPU, 7.5 GiB memory, 80 GB root, 100 GB user)", "PERFORMANCE", 80, 100),
    ("Power with Windows 10 (Server 2019 based)",
     "Power (4 vCPU, 16 GiB memory, 175 GB root, 100 GB user)", "POWER", 175, 100),
)


def builtin_bundles(runtime: Runtime) -> dict[str, WorkspaceBundle]:
    """The Amazon-owned bundles, by bundle id, in a fixed order."""
    bundles: dict[str, WorkspaceBundle] = {}
    now = runtime.clock.now()
    for name, description, compute, root_gib, user_gib in _BUILTIN:
        bundle = WorkspaceBundle(
            bundle_id=runtime.ids.bundle_id(),
            name=name,
            owner="AMAZON",
            description=description,
            image_id=runtime.ids.image_id(),
            root_storage=RootStorage(str(root_gib)),
            user_storage=UserStorage(str(user_gib)),
            compute_type=ComputeType(compute),
            state="AVAILABLE",
            bundle_type="REGULAR",
            creation_time=now,
        )
        bundles[bundle.bundle_id] = bundle
    return bundles
