"""IAM's own authorization: a user or role session calling IAM needs iam:<Operation> on the
entity; the root needs nothing. Through the Python API (sim.as_principal(arn).iam) and boto3."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from simulator import Simulation
from simulator.errors import AccessDenied, ValidationException
from simulator.wire import mock_aws

ACCT = "123456789012"


def allow(action: str, resource: str = "*") -> str:
    return json.dumps({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


@pytest.fixture
def sim() -> Simulation:
    s = Simulation(seed=2)
    s.iam.create_user(user_name="bob")
    return s


def bob(sim: Simulation):
    return sim.as_principal(f"arn:aws:iam::{ACCT}:user/bob").iam


def test_a_user_without_iam_permissions_is_access_denied_and_nothing_changes(sim):
    with pytest.raises(AccessDenied) as err:
        bob(sim).create_user(user_name="mallory")
    assert err.value.http_status == 403 and err.value.code == "AccessDenied"
    assert err.value.message.startswith(
        f"User: arn:aws:iam::{ACCT}:user/bob is not authorized to perform: iam:CreateUser on "
        f"resource: arn:aws:iam::{ACCT}:user/mallory")
    assert [u.user_name for u in sim.iam.list_users().users] == ["bob"]


def test_permissions_are_per_action_and_resource(sim):
    sim.iam.put_user_policy(user_name="bob", policy_name="p", policy_document=allow(
        "iam:CreateUser", f"arn:aws:iam::{ACCT}:user/team-*"))
    bob(sim).create_user(user_name="team-a")
    with pytest.raises(AccessDenied):
        bob(sim).create_user(user_name="other")
    with pytest.raises(AccessDenied):
        bob(sim).list_users()
    with pytest.raises(AccessDenied):  # attaching a policy to oneself needs its own permission
        bob(sim).attach_user_policy(user_name="bob",
                                    policy_arn=f"arn:aws:iam::{ACCT}:policy/anything")


def test_users_with_paths_are_checked_under_their_arn(sim):
    sim.iam.create_user(user_name="ops1", path="/ops/")
    sim.iam.put_user_policy(user_name="bob", policy_name="p", policy_document=allow(
        "iam:GetUser", f"arn:aws:iam::{ACCT}:user/ops/*"))
    assert bob(sim).get_user(user_name="ops1").path == "/ops/"
    with pytest.raises(AccessDenied):
        bob(sim).get_user(user_name="bob")


def test_a_role_session_uses_the_roles_policies_and_the_root_needs_none(sim):
    sim.iam.create_role(role_name="admin")
    sim.iam.put_role_policy(role_name="admin", policy_name="all", policy_document=allow("iam:*"))
    admin = sim.as_principal(f"arn:aws:iam::{ACCT}:role/admin").iam
    assert admin.create_user(user_name="made").user_name == "made"
    assert sim.as_principal(f"arn:aws:iam::{ACCT}:root").iam is sim.iam


def test_the_plumbing_is_not_authorized_and_positional_calls_are_refused(sim):
    view = bob(sim)
    assert view.caller.arn.endswith(":user/bob")
    assert not hasattr(view, "caller_for") and not hasattr(view, "identity_policies")
    with pytest.raises(ValidationException):
        view.get_user("bob")


def test_through_boto3_a_users_keys_are_held_to_its_iam_permissions(sim):
    key = sim.iam.create_access_key(user_name="bob")
    with mock_aws(sim):
        iam = boto3.client("iam", aws_access_key_id=key.access_key_id,
                           aws_secret_access_key=key.secret_access_key)
        with pytest.raises(ClientError) as err:
            iam.create_user(UserName="mallory")
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        sim.iam.put_user_policy(user_name="bob", policy_name="p",
                                policy_document=allow("iam:CreateUser"))
        assert iam.create_user(UserName="mallory")["User"]["UserName"] == "mallory"
