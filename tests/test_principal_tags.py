"""IAM users and roles carry tags (CreateUser/CreateRole Tags, TagUser, TagRole, UntagUser,
UntagRole, ListUserTags, ListRoleTags), and every service's decisions see them as
``aws:PrincipalTag/<key>`` (a role's tags are its sessions')."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    IamLimitExceededException,
    IamValidationError,
    UnauthorizedOperation,
)
from simulator.iam.service import Tag

ONLY_BLUE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ec2:DescribeVolumes", "ds:DescribeDirectories"],
     "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})


def test_user_tags_are_put_listed_and_removed() -> None:
    sim = Simulation(seed=2)
    sim.iam.create_user(user_name="Bob", tags=[{"key": "team", "value": "blue"}])
    sim.iam.tag_user(user_name="Bob", tags=[{"key": "cost", "value": "42"}])
    assert sim.iam.list_user_tags(user_name="Bob").tags == [Tag("team", "blue"), Tag("cost", "42")]
    sim.iam.untag_user(user_name="Bob", tag_keys=["team"])
    assert sim.iam.list_user_tags(user_name="Bob").tags == [Tag("cost", "42")]
    sim.iam.create_role(role_name="App", tags=[{"key": "team", "value": "red"}])
    sim.iam.tag_role(role_name="App", tags=[{"key": "team", "value": "blue"}])
    assert sim.iam.list_role_tags(role_name="App").tags == [Tag("team", "blue")]
    sim.iam.untag_role(role_name="App", tag_keys=["team"])
    assert sim.iam.list_role_tags(role_name="App").tags == []


@pytest.mark.parametrize("tags", [
    "team=blue", [{"key": "aws:x", "value": "1"}], [{"key": "", "value": "1"}],
    [{"key": "k", "value": 1}], [{"Key": "k", "Value": "v"}], [{"key": "k" * 129, "value": ""}]])
def test_bad_tags_are_refused_and_change_nothing(tags: object) -> None:
    sim = Simulation(seed=2)
    sim.iam.create_user(user_name="Bob")
    with pytest.raises(IamValidationError):
        sim.iam.tag_user(user_name="Bob", tags=tags)  # type: ignore[arg-type]
    assert sim.iam.list_user_tags(user_name="Bob").tags == []
    with pytest.raises(IamValidationError):
        sim.iam.create_user(user_name="Carol", tags=tags)  # type: ignore[arg-type]
    assert [u.user_name for u in sim.iam.list_users().users] == ["Bob"]


def test_more_than_fifty_tags_is_a_limit() -> None:
    sim = Simulation(seed=2)
    sim.iam.create_user(user_name="Bob", tags=[{"key": f"k{i}", "value": ""} for i in range(50)])
    with pytest.raises(IamLimitExceededException):
        sim.iam.tag_user(user_name="Bob", tags=[{"key": "one-more", "value": ""}])


def test_ec2_and_directory_service_decisions_see_principal_tags() -> None:
    sim = Simulation(seed=2)
    for name, team in (("Blue", "blue"), ("Red", "red")):
        sim.iam.create_user(user_name=name, tags=[{"key": "team", "value": team}])
        sim.iam.put_user_policy(user_name=name, policy_name="p", policy_document=ONLY_BLUE)
    blue = sim.as_principal(f"arn:aws:iam::{sim.account_id}:user/Blue")
    red = sim.as_principal(f"arn:aws:iam::{sim.account_id}:user/Red")
    blue.ebs.describe_volumes()
    blue.directory.describe_directories()
    with pytest.raises(UnauthorizedOperation):
        red.ebs.describe_volumes()
    with pytest.raises(AccessDeniedException):
        red.directory.describe_directories()
    # Tags are read at decision time: retagging changes the next decision.
    sim.iam.tag_user(user_name="Red", tags=[{"key": "team", "value": "blue"}])
    red.ebs.describe_volumes()


def test_a_roles_tags_are_its_sessions_tags() -> None:
    sim = Simulation(seed=2)
    role = sim.iam.create_role(role_name="App", tags=[{"key": "team", "value": "blue"}])
    sim.iam.put_role_policy(role_name="App", policy_name="p", policy_document=ONLY_BLUE)
    sim.as_principal(role.arn).ebs.describe_volumes()
    sim.iam.untag_role(role_name="App", tag_keys=["team"])
    with pytest.raises(UnauthorizedOperation):
        sim.as_principal(role.arn).ebs.describe_volumes()


def test_list_user_tags_pages_with_marker_and_max_items() -> None:
    sim = Simulation(seed=2)
    sim.iam.create_user(user_name="Bob", tags=[{"key": k, "value": ""} for k in "abc"])
    first = sim.iam.list_user_tags(user_name="Bob", max_items=2)
    assert [t.key for t in first.tags] == ["a", "b"] and first.is_truncated
    rest = sim.iam.list_user_tags(user_name="Bob", marker=first.marker)
    assert [t.key for t in rest.tags] == ["c"] and not rest.is_truncated
