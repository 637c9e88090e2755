"""``sim.view(account_id=..., region=...)``: every account and Region in one simulation."""

from __future__ import annotations

import contextlib

import pytest

from simulator import Simulation
from simulator.errors import (
    KMSInternalException,
    NoSuchEntityException,
    NotFoundException,
    ValidationException,
)
from simulator.faults import Chance, Fault, OnCall, RaiseError
from simulator.regions import BUNDLED_REGIONS, known_regions

OTHER = "111122223333"


def test_the_default_view_is_the_simulations_own_services():
    sim = Simulation(seed=1)
    own = sim.view()
    assert own is sim.view(account_id=sim.account_id, region=sim.region)
    assert (own.kms, own.ebs, own.iam, own.workspaces, own.directory, own.faults) == (
        sim.kms, sim.ebs, sim.iam, sim.workspaces, sim.directory, sim.faults)


def test_a_view_is_made_once_and_kept():
    sim = Simulation(seed=1)
    first = sim.view(account_id=OTHER, region="eu-west-1")
    assert sim.view(account_id=OTHER, region="eu-west-1") is first
    assert (first.account_id, first.region) == (OTHER, "eu-west-1")


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a", 123456789012,
                                        "１２３４５６７８９０１２", ""])
def test_account_ids_must_be_12_digits(account_id):
    sim = Simulation(seed=1)
    with pytest.raises(ValidationException, match="12 digits"):
        sim.view(account_id=account_id)


@pytest.mark.parametrize("region", ["us-west-9", "US-WEST-2", "", "cn-north-1", None.__class__])
def test_regions_must_be_of_the_aws_partition(region):
    sim = Simulation(seed=1)
    with pytest.raises(ValidationException, match="Region of the aws partition"):
        sim.view(region=region)


def test_known_regions_cover_the_bundled_commercial_list():
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= known_regions()
    assert "us-gov-west-1" not in known_regions() and "cn-north-1" not in BUNDLED_REGIONS


def test_iam_is_global_per_account_and_kms_per_region():
    sim = Simulation(seed=1)
    west, east = sim.view(account_id=OTHER), sim.view(account_id=OTHER, region="us-east-1")
    assert west.iam is east.iam and west.iam is not sim.iam
    assert west.sts_state is east.sts_state and west.sts_state is not sim.view().sts_state
    west.iam.create_user(user_name="ops")
    assert east.as_principal(f"arn:aws:iam::{OTHER}:user/ops").caller.account_id == OTHER
    key = west.kms.create_key()
    assert key.arn.startswith(f"arn:aws:kms:us-west-2:{OTHER}:key/")
    assert [k.key_id for k in east.kms.list_keys().keys] == []
    with pytest.raises(NotFoundException, match="Invalid arn us-west-2"):
        east.kms.describe_key(key_id=key.arn)


def test_accounts_do_not_see_each_others_resources():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER)
    sim.kms.create_key()
    vol = other.ebs.create_volume(size=1)
    assert other.kms.list_keys().keys == ()
    assert [v.volume_id for v in other.ebs.describe_volumes().volumes] == [vol.volume_id]
    assert sim.ebs.describe_volumes().volumes == ()
    with pytest.raises(NoSuchEntityException):
        other.as_principal(f"arn:aws:iam::{sim.account_id}:root").kms.list_keys()


def test_one_clock_and_trace_for_every_cell():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER, region="eu-west-1")
    vol = other.ebs.create_volume(size=1)
    sim.advance(10)
    assert other.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].state == "available"
    assert any(e.target == vol.volume_id for e in sim.trace.events())


def test_each_view_audits_its_own_account_and_region():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER, region="eu-west-1")
    other.kms.create_key()
    sim.kms.create_key()
    (rec,) = other.audit.events("CreateKey")
    assert (rec["recipientAccountId"], rec["awsRegion"]) == (OTHER, "eu-west-1")
    assert len(sim.view().audit.events("CreateKey")) == 1
    assert len(sim.audit.events("CreateKey")) == 2


def _run(seed: int) -> tuple[str, str]:
    sim = Simulation(seed=seed)
    for account, region in ((OTHER, "us-east-1"), ("444455556666", "eu-west-1")):
        view = sim.view(account_id=account, region=region)
        key = view.kms.create_key()
        view.kms.generate_data_key(key_id=key.key_id, key_spec="AES_256")
        view.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.kms.encrypt(key_id=sim.kms.create_key().key_id, plaintext=b"x")
    sim.run_until_idle()
    return sim.audit.to_jsonl(), repr(sim.trace.events())


def test_a_seed_replays_every_account_and_region():
    assert _run(5) == _run(5)
    assert _run(5) != _run(6)


def test_faults_installed_through_a_view_trigger_in_that_account_and_region_only():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER, region="eu-west-1")
    other.faults.inject(Fault(OnCall("kms:Encrypt"), RaiseError("KMSInternalException")))
    own_key, other_key = sim.kms.create_key(), other.kms.create_key()
    sim.kms.encrypt(key_id=own_key.key_id, plaintext=b"x")  # not this account: no fault
    with pytest.raises(KMSInternalException):
        other.kms.encrypt(key_id=other_key.key_id, plaintext=b"x")
    assert other.audit.events("FaultInjected")
    assert sim.view().audit.events("FaultInjected") == []


def test_an_access_key_is_traced_to_the_account_whose_iam_issued_it():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER, region="eu-west-1")
    other.iam.create_user(user_name="ops")
    key = other.iam.create_access_key(user_name="ops").access_key_id
    sim.iam.create_user(user_name="dev")
    own = sim.iam.create_access_key(user_name="dev").access_key_id
    assert sim.cells.account_of_access_key(key) == OTHER
    assert sim.cells.account_of_access_key(key) == OTHER  # now a dict lookup
    assert sim.cells.account_of_access_key(own) == sim.account_id
    assert sim.cells.account_of_access_key("AKIAUNKNOWNKEY000000") is None


def test_no_data_key_of_another_cell_reaches_a_repr_or_the_trace():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER, region="us-east-1")
    key = other.kms.create_key(multi_region=True)
    made = other.kms.generate_data_key(key_id=key.key_id, key_spec="AES_256")
    secret = bytes(made.plaintext)
    for text in (repr(other), repr(other.kms), sim.trace.to_json(), sim.audit.to_jsonl(),
                 other.audit.to_jsonl()):
        assert secret.hex() not in text and repr(secret) not in text


def test_a_fault_naming_an_account_and_region_is_installed_there():
    sim = Simulation(seed=1)
    fault = Fault(OnCall("kms:Encrypt"), RaiseError("KMSInternalException"),
                  account_id=OTHER, region="eu-west-1")
    assert Fault.from_json(fault.to_json()) == fault
    assert "account 111122223333, eu-west-1" in fault.describe()
    sim.faults.inject(fault)
    own = sim.kms.create_key()
    sim.kms.encrypt(key_id=own.key_id, plaintext=b"x")
    other = sim.view(account_id=OTHER, region="eu-west-1")
    with pytest.raises(KMSInternalException):
        other.kms.encrypt(key_id=other.kms.create_key().key_id, plaintext=b"x")
    assert other.faults.active and not sim.faults.active


@pytest.mark.parametrize("where", [{"account_id": "12"}, {"region": ""}, {"region": "moon-1"}])
def test_a_fault_naming_no_valid_account_or_region_is_refused(where):
    sim = Simulation(seed=1)
    with pytest.raises(ValidationException):
        sim.faults.inject(Fault(OnCall("kms:Encrypt"), RaiseError("KMSInternalException"),
                                **where))


def _faulty_run(seed: int) -> str:
    sim = Simulation(seed=seed)
    other = sim.view(account_id=OTHER, region="us-east-1")
    other.faults.inject(Fault(Chance(0.5, "kms:Encrypt"), RaiseError("KMSInternalException")))
    key = other.kms.create_key().key_id
    for _ in range(20):
        with contextlib.suppress(KMSInternalException):
            other.kms.encrypt(key_id=key, plaintext=b"x")
    return sim.audit.to_jsonl()


def test_faults_in_another_account_replay_for_a_seed():
    assert _faulty_run(4) == _faulty_run(4)
    assert "KMSInternalException" in _faulty_run(4)


def test_a_role_session_of_another_account_calls_that_accounts_services():
    sim = Simulation(seed=1)
    other = sim.view(account_id=OTHER)
    other.iam.create_role(role_name="app", assume_role_policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
        f'"arn:aws:iam::{OTHER}:root"}},"Action":"sts:AssumeRole"}}]}}'))
    other.iam.create_user(user_name="ops")
    other.iam.put_user_policy(user_name="ops", policy_name="assume", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        '"Resource":"*"}]}'))
    ops = other.as_principal(f"arn:aws:iam::{OTHER}:user/ops")
    creds = ops.sts.assume_role(role_arn=f"arn:aws:iam::{OTHER}:role/app",
                                role_session_name="s1").credentials
    session = other.as_principal(creds)
    assert session.caller.account_id == OTHER
    assert session.sts.get_caller_identity().account == OTHER
