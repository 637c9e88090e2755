"""IAM access keys: issued from the simulation's entropy, listed, deactivated, deleted."""

from __future__ import annotations

import re

import pytest

from simulator import Simulation
from simulator.errors import (
    DeleteConflictException,
    IamLimitExceededException,
    IamValidationError,
    NoSuchEntityException,
)


def test_create_access_key_issues_an_akia_id_and_a_40_character_secret_hidden_from_repr() -> None:
    sim = Simulation(seed=3)
    sim.iam.create_user(user_name="Bob")
    key = sim.iam.create_access_key(user_name="Bob")
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key.access_key_id)
    assert len(key.secret_access_key) == 40 and key.status == "Active"
    assert key.secret_access_key not in repr(key)
    listed = sim.iam.list_access_keys(user_name="Bob").access_key_metadata
    assert [k.access_key_id for k in listed] == [key.access_key_id]
    assert key.secret_access_key not in repr(listed)
    assert key.secret_access_key not in repr(sim.iam.credentials_for(key.access_key_id))


def test_a_seeded_simulation_issues_the_same_keys_on_every_run() -> None:
    def issue() -> tuple[str, str]:
        sim = Simulation(seed=5)
        sim.iam.create_user(user_name="Bob")
        key = sim.iam.create_access_key(user_name="Bob")
        return key.access_key_id, key.secret_access_key

    assert issue() == issue()


def test_a_user_has_at_most_two_access_keys() -> None:
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="Bob")
    sim.iam.create_access_key(user_name="Bob")
    sim.iam.create_access_key(user_name="Bob")
    with pytest.raises(IamLimitExceededException):
        sim.iam.create_access_key(user_name="Bob")
    assert len(sim.iam.list_access_keys(user_name="Bob").access_key_metadata) == 2


def test_update_and_delete_change_what_the_key_id_resolves_to() -> None:
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="Bob")
    key = sim.iam.create_access_key(user_name="Bob")
    sim.iam.update_access_key(user_name="Bob", access_key_id=key.access_key_id, status="Inactive")
    assert sim.iam.credentials_for(key.access_key_id).status == "Inactive"
    with pytest.raises(IamValidationError):
        sim.iam.update_access_key(user_name="Bob", access_key_id=key.access_key_id, status="Gone")
    with pytest.raises(DeleteConflictException):
        sim.iam.delete_user(user_name="Bob")
    sim.iam.delete_access_key(user_name="Bob", access_key_id=key.access_key_id)
    assert sim.iam.credentials_for(key.access_key_id).status == "Deleted"
    with pytest.raises(NoSuchEntityException):
        sim.iam.delete_access_key(user_name="Bob", access_key_id=key.access_key_id)
    sim.iam.delete_user(user_name="Bob")
    assert sim.iam.credentials_for("AKIAUNKNOWNUNKNOWN00") is None


def test_access_key_calls_for_unknown_users_or_malformed_ids_fail_cleanly() -> None:
    sim = Simulation(seed=1)
    with pytest.raises(NoSuchEntityException):
        sim.iam.create_access_key(user_name="Nobody")
    sim.iam.create_user(user_name="Bob")
    sim.iam.create_user(user_name="Eve")
    key = sim.iam.create_access_key(user_name="Eve")
    with pytest.raises(NoSuchEntityException):  # Eve's key is not Bob's to delete
        sim.iam.delete_access_key(user_name="Bob", access_key_id=key.access_key_id)
    with pytest.raises(IamValidationError):
        sim.iam.delete_access_key(user_name="Bob", access_key_id="short")
    assert sim.iam.credentials_for(key.access_key_id).status == "Active"
