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


def test_a_recreated_user_does_not_inherit_the_old_users_key_policy_access() -> None:
    sim = Simulation(seed=5)
    old = sim.iam.create_user(user_name="Alice")
    key = sim.kms.create_key(policy=_policy(old.arn))
    sim.as_principal(old.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")

    sim.iam.delete_user(user_name="Alice")
    shown = sim.kms.get_key_policy(key_id=key.key_id).policy
    assert old.arn not in shown and json.dumps(old.user_id) in shown

    new = sim.iam.create_user(user_name="Alice")
    assert new.arn == old.arn and new.user_id != old.user_id
    with pytest.raises(AccessDeniedException):
        sim.as_principal(new.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    # Still shown as the old id: the policy names the deleted user, not the new one.
    assert json.dumps(old.user_id) in sim.kms.get_key_policy(key_id=key.key_id).policy

    sim.kms.put_key_policy(key_id=key.key_id, policy=_policy(new.arn))
    sim.as_principal(new.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    assert new.arn in sim.kms.get_key_policy(key_id=key.key_id).policy


def test_a_recreated_role_does_not_inherit_the_old_roles_key_policy_access() -> None:
    sim = Simulation(seed=5)
    old = sim.iam.create_role(role_name="App")
    key = sim.kms.create_key(policy=_policy(old.arn))
    sim.as_principal(old.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    sim.iam.delete_role(role_name="App")
    new = sim.iam.create_role(role_name="App")
    with pytest.raises(AccessDeniedException):
        sim.as_principal(new.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
    assert json.dumps(old.role_id) in sim.kms.get_key_policy(key_id=key.key_id).policy


def test_a_live_user_keeps_the_policy_text_as_written() -> None:
    sim = Simulation(seed=5)
    user = sim.iam.create_user(user_name="Bob")
    text = _policy(user.arn)
    key = sim.kms.create_key(policy=text)
    assert sim.kms.get_key_policy(key_id=key.key_id).policy == text
