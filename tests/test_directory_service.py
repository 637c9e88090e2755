"""Directory Service: directories, users, SIDs and the errors DS names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.clock import Clock
from simulator.errors import (
    AccessDeniedException,
    DsEntityAlreadyExistsException,
    EntityDoesNotExistException,
    InvalidParameterException,
)
from simulator.iam.principals import Caller
from simulator.runtime import Runtime, Settings
from simulator.workspaces.directory import FIRST_RID, DirectoryService, DirectoryState

_SID = re.compile(r"^S-1-5-21-(\d+)-(\d+)-(\d+)-(\d+)$")


def _service(seed: int = 3) -> DirectoryService:
    return DirectoryService(DirectoryState(Runtime(Settings(), seed, Clock())))


def test_directory_id_is_d_and_ten_hex_digits() -> None:
    d = _service().create_directory(name="corp.example.com")
    assert re.fullmatch(r"d-[0-9a-f]{10}", d.directory_id)
    assert d.stage == "Active"
    assert d.short_name == "CORP"


def test_user_sids_share_the_domain_sid_and_count_rids_up_from_1104() -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    sids = [ds.create_user(directory_id=d.directory_id, user_name=n).sid
            for n in ("jdoe", "asmith", "bwong")]
    parts = [_SID.fullmatch(s) for s in sids]
    assert all(parts)
    domains = {m.groups()[:3] for m in parts if m}
    assert len(domains) == 1
    assert [int(m.group(4)) for m in parts if m] == [FIRST_RID, FIRST_RID + 1, FIRST_RID + 2]


def test_each_directory_has_its_own_domain_sid() -> None:
    ds = _service()
    a = ds.create_directory(name="a.example.com")
    b = ds.create_directory(name="b.example.com")
    sid_a = ds.create_user(directory_id=a.directory_id, user_name="jdoe").sid
    sid_b = ds.create_user(directory_id=b.directory_id, user_name="jdoe").sid
    assert sid_a.rsplit("-", 1)[0] != sid_b.rsplit("-", 1)[0]
    assert sid_a.endswith(f"-{FIRST_RID}") and sid_b.endswith(f"-{FIRST_RID}")


def test_user_names_are_unique_per_directory_ignoring_case() -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    ds.create_user(directory_id=d.directory_id, user_name="JDoe")
    with pytest.raises(DsEntityAlreadyExistsException, match="JDOE already exists"):
        ds.create_user(directory_id=d.directory_id, user_name="JDOE")
    assert [u.user_name for u in ds.list_users(directory_id=d.directory_id).users] == ["JDoe"]


def test_describe_user_finds_the_user_in_any_case() -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    made = ds.create_user(directory_id=d.directory_id, user_name="JDoe")
    assert ds.describe_user(directory_id=d.directory_id, user_name="jdoe") == made
    assert ds.state.find_user(d.directory_id, "JDOE") == made


def test_unknown_directory_is_entity_does_not_exist() -> None:
    ds = _service()
    with pytest.raises(EntityDoesNotExistException, match="d-0123456789"):
        ds.create_user(directory_id="d-0123456789", user_name="jdoe")
    with pytest.raises(EntityDoesNotExistException):
        ds.describe_directories(directory_ids=["d-0123456789"])
    with pytest.raises(EntityDoesNotExistException):
        ds.list_users(directory_id="d-0123456789")


def test_unknown_user_is_entity_does_not_exist() -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    with pytest.raises(EntityDoesNotExistException, match="nobody"):
        ds.describe_user(directory_id=d.directory_id, user_name="nobody")


@pytest.mark.parametrize("name", ["", "corp", "corp..example.com", "-corp.example.com", 7, None])
def test_bad_directory_name_is_invalid_parameter(name: object) -> None:
    ds = _service()
    with pytest.raises(InvalidParameterException):
        ds.create_directory(name=name)  # type: ignore[arg-type]
    assert ds.describe_directories().directory_descriptions == ()


@pytest.mark.parametrize("kwargs", [
    {"short_name": "a" * 16}, {"short_name": ".corp"}, {"description": "x" * 129},
    {"size": "Huge"},
])
def test_bad_directory_options_are_invalid_parameter(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterException):
        _service().create_directory(name="corp.example.com", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("user_name", ["", "a" * 21, "bad name", "dot.", "x/y", 12, None])
def test_bad_user_name_is_invalid_parameter_and_creates_nothing(user_name: object) -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    with pytest.raises(InvalidParameterException):
        ds.create_user(directory_id=d.directory_id, user_name=user_name)  # type: ignore[arg-type]
    assert ds.list_users(directory_id=d.directory_id).users == ()
    # The failed call consumed no RID.
    assert ds.create_user(directory_id=d.directory_id, user_name="ok").sid.endswith(
        f"-{FIRST_RID}")


@pytest.mark.parametrize("directory_id", ["d-123", "D-0123456789", "x", 5, None])
def test_malformed_directory_id_is_invalid_parameter(directory_id: object) -> None:
    with pytest.raises(InvalidParameterException):
        _service().create_user(directory_id=directory_id, user_name="jdoe")  # type: ignore[arg-type]


def test_describe_directories_lists_all_or_the_ones_named() -> None:
    ds = _service()
    a = ds.create_directory(name="a.example.com")
    b = ds.create_directory(name="b.example.com")
    assert ds.describe_directories().directory_descriptions == (a, b)
    assert ds.describe_directories(directory_ids=[b.directory_id]).directory_descriptions == (b,)
    with pytest.raises(InvalidParameterException):
        ds.describe_directories(directory_ids=b.directory_id)  # type: ignore[arg-type]


def test_same_seed_gives_the_same_ids_and_sids() -> None:
    def run() -> tuple[str, str]:
        ds = _service(seed=11)
        d = ds.create_directory(name="corp.example.com")
        return d.directory_id, ds.create_user(directory_id=d.directory_id, user_name="j").sid

    assert run() == run()


def test_a_denied_caller_gets_access_denied_and_nothing_changes() -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    bob = Caller(arn="arn:aws:iam::123456789012:user/Bob", account_id="123456789012",
                 type="IAMUser", user_name="Bob")

    def deny(caller: Caller, action: str, resource: str) -> str | None:
        return None if caller.is_root else f"{caller.arn} may not {action} on {resource}"

    denied = DirectoryService(ds.state, bob, deny)
    with pytest.raises(AccessDeniedException, match="ds-data:CreateUser"):
        denied.create_user(directory_id=d.directory_id, user_name="jdoe")
    with pytest.raises(AccessDeniedException, match="ds:CreateDirectory"):
        denied.create_directory(name="other.example.com")
    assert ds.list_users(directory_id=d.directory_id).users == ()
    assert len(ds.describe_directories().directory_descriptions) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,19}", fullmatch=True), min_size=1,
                max_size=12))
def test_every_user_gets_a_distinct_sid_and_names_clash_only_ignoring_case(
        names: list[str]) -> None:
    ds = _service()
    d = ds.create_directory(name="corp.example.com")
    made: dict[str, str] = {}
    for name in names:
        if name.lower() in made:
            with pytest.raises(DsEntityAlreadyExistsException):
                ds.create_user(directory_id=d.directory_id, user_name=name)
        else:
            made[name.lower()] = ds.create_user(directory_id=d.directory_id, user_name=name).sid
    assert len(set(made.values())) == len(made)
