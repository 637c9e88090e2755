"""The WorkSpaces tests' world: the kit's, with Alice as the seed document's administrator.

Not a test module (it holds no tests); ``tests/conftest.py`` makes it the ``fleet`` fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator import Simulation
from simulator.testing.world import WorkspacesWorld

USERS = ("jdoe", "asmith", "bwong")


def alice_world(seed: int = 7, users: Sequence[str] = USERS, *, iam_policies: bool = True,
                **settings: Any) -> WorkspacesWorld:
    """Alice with the seed's key policy and IAM policies, her key, a directory and ``users``."""
    return WorkspacesWorld.build(Simulation(seed=seed, **settings), users=users, admin="Alice",
                                 iam_policies=iam_policies)
