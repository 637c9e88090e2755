"""IAM's Marker/MaxItems paging on the List* operations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.errors import IamInvalidInputException, IamValidationError

POLICY = '{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}'


def _all_pages(call, field, max_items):
    seen, marker, pages = [], None, 0
    while True:
        got = call(marker=marker, max_items=max_items)
        seen += getattr(got, field)
        pages += 1
        assert got.is_truncated == (got.marker is not None)
        if not got.is_truncated:
            return seen, pages
        marker = got.marker


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 12), size=st.integers(1, 5))
def test_pages_cover_every_user_once_in_order(n, size):
    sim = Simulation(seed=1)
    made = [sim.iam.create_user(user_name=f"u{i:02d}") for i in range(n)]
    seen, pages = _all_pages(sim.iam.list_users, "users", size)
    assert seen == made
    assert pages == max(1, -(-n // size))


def test_every_list_operation_pages(sim=None):
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="u")
    sim.iam.create_role(role_name="r")
    for i in range(3):
        sim.iam.create_role(role_name=f"r{i}")
        sim.iam.put_user_policy(user_name="u", policy_name=f"p{i}", policy_document=POLICY)
        sim.iam.put_role_policy(role_name="r", policy_name=f"p{i}", policy_document=POLICY)
        arn = sim.iam.create_policy(policy_name=f"m{i}", policy_document=POLICY).arn
        sim.iam.attach_user_policy(user_name="u", policy_arn=arn)
        sim.iam.attach_role_policy(role_name="r", policy_arn=arn)
    checks = [
        (sim.iam.list_roles, "roles", 4),
        (lambda **kw: sim.iam.list_user_policies(user_name="u", **kw), "policy_names", 3),
        (lambda **kw: sim.iam.list_role_policies(role_name="r", **kw), "policy_names", 3),
        (sim.iam.list_policies, "policies", 3),
        (lambda **kw: sim.iam.list_attached_user_policies(user_name="u", **kw),
         "attached_policies", 3),
        (lambda **kw: sim.iam.list_attached_role_policies(role_name="r", **kw),
         "attached_policies", 3),
    ]
    for call, field, total in checks:
        seen, pages = _all_pages(call, field, 1)
        assert len(seen) == total and pages == total, field


def test_default_page_is_100_items():
    sim = Simulation(seed=1)
    for i in range(101):
        sim.iam.create_user(user_name=f"u{i:03d}")
    got = sim.iam.list_users()
    assert len(got.users) == 100 and got.is_truncated


@pytest.mark.parametrize("max_items", [0, 1001, -1, True, "5"])
def test_max_items_out_of_range_is_a_validation_error(max_items):
    with pytest.raises(IamValidationError):
        Simulation(seed=1).iam.list_users(max_items=max_items)


@pytest.mark.parametrize("marker", ["", "!!!", "bm9ib2R5", "x" * 321, 5])
def test_a_marker_this_simulation_did_not_issue_is_refused(marker):
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="a")
    with pytest.raises((IamInvalidInputException, IamValidationError)):
        sim.iam.list_users(marker=marker)


def test_path_prefix_filters_users_and_roles():
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="a", path="/ops/")
    sim.iam.create_user(user_name="b")
    sim.iam.create_role(role_name="r", path="/ops/")
    assert [u.user_name for u in sim.iam.list_users(path_prefix="/ops/").users] == ["a"]
    assert [r.role_name for r in sim.iam.list_roles(path_prefix="/ops").roles] == ["r"]
    with pytest.raises(IamValidationError):
        sim.iam.list_users(path_prefix="ops")
