"""A key policy naming a user or role is bound to that principal's unique id, as AWS does: after
the user is deleted the policy shows the id, and a new user of the same name does not match
until the policy is updated."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException

ACCOUNT = "123456789012"


def _policy(*arns: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": list(arns)},
         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]})


@pytest.mark.parametrize("kind", ["user", "role"])
def test_a_recreated_principal_does_not_inherit_the_old_ones_key_policy_access(kind: str) -> None:
    sim = Simulation(seed=5)

    def create() -> tuple[str, str]:
        if kind == "user":
            u = sim.iam.create_user(user_name="Alice")
            return u.arn, u.user_id
        r = sim.iam.create_role(role_name="Alice")
        return r.arn, r.role_id

    old_arn, old_id = create()
    key = sim.kms.create_key(policy=_policy(old_arn))
    sim.as_principal(old_arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")

    getattr(sim.iam, f"delete_{kind}")(**{f"{kind}_name": "Alice"})
    shown = sim.kms.get_key_policy(key_id=key.key_id).policy
    assert old_arn not in shown and json.dumps(old_id) in shown

    new_arn, new_id = create()
    assert new_arn == old_arn and new_id != old_id
    with pytest.raises(AccessDeniedException):
        sim.as_principal(new_arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    # Still shown as the old id: the policy names the deleted principal, not the new one.
    assert json.dumps(old_id) in sim.kms.get_key_policy(key_id=key.key_id).policy

    sim.kms.put_key_policy(key_id=key.key_id, policy=_policy(new_arn))
    sim.as_principal(new_arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    assert new_arn in sim.kms.get_key_policy(key_id=key.key_id).policy


def test_a_live_user_keeps_the_policy_text_as_written() -> None:
    sim = Simulation(seed=5)
    user = sim.iam.create_user(user_name="Bob")
    text = _policy(user.arn)
    key = sim.kms.create_key(policy=text)
    assert sim.kms.get_key_policy(key_id=key.key_id).policy == text
