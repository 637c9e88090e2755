"""Shared helpers for the project's own tests."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from workspaces_support import alice_world

from simulator import Simulation
from simulator.testing.world import WorkspacesWorld

# CI runs the bounded profile; HYPOTHESIS_PROFILE=long explores much further (see README).
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def fleet() -> WorkspacesWorld:
    """Alice (the seed's administrator), her key, a directory and three users; seed 7."""
    return alice_world()


def kms_fingerprint(s: Simulation) -> Any:
    """Everything observable about KMS state, to show a failed call changed nothing."""
    keys = []
    for entry in s.kms.list_keys(limit=1000).keys:
        md = s.kms.describe_key(key_id=entry.key_id)
        tags = s.kms.list_resource_tags(key_id=entry.key_id).tags
        policy = s.kms.get_key_policy(key_id=entry.key_id).policy
        grants = s.kms.grants.list(md.arn)
        rotation = s.kms.get_key_rotation_status(key_id=entry.key_id) if md.key_spec == "SYMMETRIC_DEFAULT" else None
        keys.append((md, tags, policy, tuple(g.grant_id for g in grants), rotation))
    aliases: list[Any] = []
    marker = None
    while True:  # ListAliases pages hold at most 100
        page = s.kms.list_aliases(limit=100, marker=marker)
        aliases += page.aliases
        if not page.truncated:
            break
        marker = page.next_marker
    return keys, aliases, s.clock.pending().__len__()
