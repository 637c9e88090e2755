"""NotPrincipal in a Deny exempts exactly the principals it names: a role's ARN alone does not
exempt the role's sessions; the assumed-role session ARN must be listed too (IAM User Guide,
"AWS JSON policy elements: NotPrincipal")."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException

ACCOUNT = "123456789012"


def _key(sim: Simulation, not_principals: list[str]) -> str:
    return sim.kms.create_key(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "AllowApp", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": "kms:Encrypt", "Resource": "*"},
        {"Sid": "DenyAllButApp", "Effect": "Deny", "NotPrincipal": {"AWS": not_principals},
         "Action": "kms:Encrypt", "Resource": "*"}]})).key_id


def test_listing_only_the_role_arn_does_not_exempt_its_session() -> None:
    sim = Simulation(seed=5)
    role = sim.iam.create_role(role_name="App")
    session = sim.iam.caller_for(role.arn)
    key = _key(sim, [role.arn, f"arn:aws:iam::{ACCOUNT}:root"])
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        sim.kms.with_caller(session).encrypt(key_id=key, plaintext=b"x")


def test_listing_the_session_arn_exempts_that_session_only() -> None:
    sim = Simulation(seed=5)
    role = sim.iam.create_role(role_name="App")
    session = sim.iam.caller_for(role.arn)
    key = _key(sim, [session.arn, role.arn, f"arn:aws:iam::{ACCOUNT}:root"])
    sim.kms.with_caller(session).encrypt(key_id=key, plaintext=b"x")
    other = sim.iam.caller_for(f"arn:aws:sts::{ACCOUNT}:assumed-role/App/other-session")
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        sim.kms.with_caller(other).encrypt(key_id=key, plaintext=b"x")


def test_a_user_named_in_not_principal_is_exempt() -> None:
    sim = Simulation(seed=5)
    bob = sim.iam.create_user(user_name="Bob")
    eve = sim.iam.create_user(user_name="Eve")
    key = _key(sim, [bob.arn, f"arn:aws:iam::{ACCOUNT}:root"])
    sim.as_principal(bob.arn).kms.encrypt(key_id=key, plaintext=b"x")
    with pytest.raises(AccessDeniedException):
        sim.as_principal(eve.arn).kms.encrypt(key_id=key, plaintext=b"x")
