"""The simulation's index of access keys: IAM and STS write it as they issue and forget keys, so
finding a key's account is one lookup whatever the number of accounts."""

from __future__ import annotations

from simulator import Simulation

OTHER = "210987654321"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
         f'"arn:aws:iam::{OTHER}:root"}},"Action":"sts:AssumeRole"}}]}}')


def test_iam_keys_are_indexed_by_account_and_stay_after_deletion() -> None:
    sim = Simulation(seed=1)
    iam = sim.view(account_id=OTHER, region="eu-west-1").iam
    iam.create_user(user_name="ops")
    key = iam.create_access_key(user_name="ops").access_key_id
    assert sim.runtime.access_keys.account_of(key) == OTHER
    iam.delete_access_key(user_name="ops", access_key_id=key)
    # A deleted key still belongs to its account, which refuses it (it never becomes unknown).
    assert sim.cells.account_of_access_key(key) == OTHER
    assert iam.credentials_for(key).status == "Deleted"


def test_sts_session_keys_are_indexed_and_forgotten_with_their_sessions() -> None:
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER)
    other.iam.create_role(role_name="r", assume_role_policy_document=TRUST)
    other.iam.create_user(user_name="ci")
    other.iam.put_user_policy(user_name="ci", policy_name="assume", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        '"Resource":"*"}]}'))
    sts = other.as_principal(f"arn:aws:iam::{OTHER}:user/ci").sts
    first = sts.assume_role(role_arn=f"arn:aws:iam::{OTHER}:role/r",
                                  role_session_name="s0", duration_seconds=900)
    assert sim.cells.account_of_access_key(first.credentials.access_key_id) == OTHER
    for n in range(1, 63):
        sts.assume_role(role_arn=f"arn:aws:iam::{OTHER}:role/r",
                              role_session_name=f"s{n}", duration_seconds=900)
    sim.advance(2 * 86400)  # every session so far expired over a day ago
    fresh = sts.assume_role(role_arn=f"arn:aws:iam::{OTHER}:role/r",
                                  role_session_name="new", duration_seconds=900)
    assert sim.cells.account_of_access_key(first.credentials.access_key_id) is None
    assert sim.cells.account_of_access_key(fresh.credentials.access_key_id) == OTHER
    assert len(sim.runtime.access_keys) == 1


def test_the_index_repr_shows_a_count_not_the_keys() -> None:
    sim = Simulation(seed=1)
    sim.iam.create_user(user_name="u")
    key = sim.iam.create_access_key(user_name="u").access_key_id
    assert key not in repr(sim.runtime.access_keys)
    assert "1 keys" in repr(sim.runtime.access_keys)
