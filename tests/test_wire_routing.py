"""One wire endpoint, every account and Region: a request goes to the cell of (its access key's
account, its SigV4 credential scope's Region), in process through ``mock_aws``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts_support import iam_policy, key_policy
from botocore.exceptions import ClientError

from simulator import Simulation
from simulator.wire import mock_aws

A = "123456789012"  # the simulation's default account
B = "210987654321"
ROLE_TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
              f'"arn:aws:iam::{B}:root"}},"Action":"sts:AssumeRole"}}]}}')


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _message(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Message"])


def _user_of(sim: Simulation, account: str, name: str = "bob", policy: str | None = None) -> Any:
    """A user of ``account`` with an access key (and an inline policy if given)."""
    iam = sim.view(account_id=account).iam
    iam.create_user(user_name=name)
    if policy is not None:
        iam.put_user_policy(user_name=name, policy_name="p", policy_document=policy)
    return iam.create_access_key(user_name=name)


def _client(service: str, key: Any = None, region: str = "us-west-2") -> Any:
    creds = {} if key is None else {"aws_access_key_id": key.access_key_id,
                                    "aws_secret_access_key": key.secret_access_key}
    return boto3.client(service, region_name=region, **creds)


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with mock_aws(Simulation(seed=5)) as routed:
        yield routed


ALL_KMS = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'


# --- Regions ----------------------------------------------------------------------------------


def test_a_key_made_in_one_region_is_not_visible_from_another(sim: Simulation) -> None:
    east, west = _client("kms", region="us-east-1"), _client("kms", region="eu-west-1")
    made = east.create_key(Description="east")["KeyMetadata"]
    assert made["Arn"].startswith(f"arn:aws:kms:us-east-1:{A}:key/")
    assert west.list_keys()["Keys"] == []
    with pytest.raises(ClientError) as err:
        west.describe_key(KeyId=made["KeyId"])
    assert _code(err) == "NotFoundException"
    assert [k.key_id for k in sim.view(region="us-east-1").kms.list_keys().keys] == [made["KeyId"]]
    assert sim.kms.list_keys().keys == ()  # the default Region's KMS saw nothing either
    record = sim.view(region="us-east-1").audit.events("CreateKey")[0]
    assert record["awsRegion"] == "us-east-1" and record["recipientAccountId"] == A


def test_a_multi_region_key_replicated_through_boto3_decrypts_the_primarys_blob(
        sim: Simulation) -> None:
    east, west = _client("kms", region="us-east-1"), _client("kms", region="eu-west-1")
    primary = east.create_key(MultiRegion=True)["KeyMetadata"]
    replica = east.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")
    assert replica["ReplicaKeyMetadata"]["Arn"] == primary["Arn"].replace("us-east-1", "eu-west-1")
    sim.run_until_idle()  # the replica is Creating until KMS has made it
    blob = east.encrypt(KeyId=primary["KeyId"], Plaintext=b"payload",
                        EncryptionContext={"app": "x"})["CiphertextBlob"]
    got = west.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "x"})
    assert got["Plaintext"] == b"payload"
    assert got["KeyId"] == replica["ReplicaKeyMetadata"]["Arn"]
    # And the other way round: the replica's blob decrypts in the primary's Region.
    back = west.encrypt(KeyId=primary["KeyId"], Plaintext=b"back")["CiphertextBlob"]
    assert east.decrypt(CiphertextBlob=back)["Plaintext"] == b"back"
    assert sim.view(region="eu-west-1").audit.events("Decrypt")[0]["awsRegion"] == "eu-west-1"


@pytest.mark.parametrize("service, call", [
    ("kms", lambda c: c.list_keys()),
    ("ec2", lambda c: c.describe_volumes()),
    ("workspaces", lambda c: c.describe_workspaces()),
])
def test_an_invalid_region_name_is_refused_by_name_and_changes_nothing(
        sim: Simulation, service: str, call: Callable[[Any], Any]) -> None:
    cells, records = len(sim.cells), len(sim.audit)
    with pytest.raises(ClientError) as err:
        call(_client(service, region="xx-nowhere-1"))
    assert _code(err) == "InvalidSignatureException"
    assert "xx-nowhere-1" in _message(err) and "valid region" in _message(err)
    assert (len(sim.cells), len(sim.audit)) == (cells, records)


def test_iam_and_sts_are_one_per_account_whatever_region_signs(sim: Simulation) -> None:
    _client("iam", region="eu-west-1").create_user(UserName="carol")
    assert _client("iam", region="ap-south-1").get_user(UserName="carol")["User"]["UserName"] \
        == "carol"
    assert sim.iam.get_user(user_name="carol").user_name == "carol"
    for region in ("us-east-1", "eu-central-1"):
        assert _client("sts", region=region).get_caller_identity()["Account"] == A
    assert len(sim.cells) == 1  # global services made no cell of another Region


# --- accounts -----------------------------------------------------------------------------------


def test_keys_issued_in_another_account_act_there(sim: Simulation) -> None:
    bob_key = _user_of(sim, B, policy=ALL_KMS)
    bob = _client("kms", bob_key, region="eu-west-1")
    made = bob.create_key(Description="b's")["KeyMetadata"]
    assert made["Arn"].startswith(f"arn:aws:kms:eu-west-1:{B}:key/")
    assert [k.key_id for k in sim.view(B, "eu-west-1").kms.list_keys().keys] == [made["KeyId"]]
    assert _client("kms", region="eu-west-1").list_keys()["Keys"] == []  # the default account
    identity = _client("sts", bob_key).get_caller_identity()
    assert (identity["Account"], identity["Arn"]) == (B, f"arn:aws:iam::{B}:user/bob")
    record = sim.view(B, "eu-west-1").audit.events("CreateKey")[0]
    assert record["userIdentity"]["accessKeyId"] == bob_key.access_key_id
    assert record["recipientAccountId"] == B
    assert bob_key.secret_access_key not in sim.audit.to_jsonl()


def test_an_unknown_key_is_the_default_accounts_root_in_the_signed_region(sim: Simulation) -> None:
    made = _client("kms", region="ap-northeast-1").create_key()["KeyMetadata"]
    assert made["Arn"].startswith(f"arn:aws:kms:ap-northeast-1:{A}:key/")
    identity = sim.view(region="ap-northeast-1").audit.events("CreateKey")[0]["userIdentity"]
    assert identity["type"] == "Root" and identity["accountId"] == A


def test_strict_credentials_refuse_unknown_keys_and_accept_every_accounts_issued_keys() -> None:
    sim = Simulation(seed=5)
    bob_key = _user_of(sim, B, policy=ALL_KMS)
    with mock_aws(sim, strict_credentials=True):
        with pytest.raises(ClientError) as err:
            _client("kms", region="eu-west-1").list_keys()
        assert _code(err) == "UnrecognizedClientException"
        assert _client("kms", bob_key, region="eu-west-1").list_keys()["Keys"] == []


@pytest.mark.parametrize("status", ["Inactive", "deleted"])
def test_another_accounts_inactive_or_deleted_key_stays_refused_never_the_root(
        sim: Simulation, status: str) -> None:
    bob_key = _user_of(sim, B, policy=ALL_KMS)
    iam = sim.view(account_id=B).iam
    if status == "deleted":
        iam.delete_access_key(user_name="bob", access_key_id=bob_key.access_key_id)
    else:
        iam.update_access_key(user_name="bob", access_key_id=bob_key.access_key_id,
                              status="Inactive")
    with pytest.raises(ClientError) as err:
        _client("kms", bob_key).create_key()
    assert _code(err) == "UnrecognizedClientException"
    assert sim.audit.events("CreateKey") == []


def test_another_accounts_role_session_acts_in_that_account(sim: Simulation) -> None:
    bob_key = _user_of(sim, B, policy=iam_policy("*", ["sts:AssumeRole"]))
    b_iam = sim.view(account_id=B).iam
    b_iam.create_role(role_name="builder", assume_role_policy_document=ROLE_TRUST)
    b_iam.put_role_policy(role_name="builder", policy_name="kms", policy_document=ALL_KMS)
    creds = _client("sts", bob_key).assume_role(
        RoleArn=f"arn:aws:iam::{B}:role/builder", RoleSessionName="ci")["Credentials"]
    assert sim.cells.account_of_access_key(creds["AccessKeyId"]) == B
    kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    made = kms.create_key()["KeyMetadata"]
    assert made["Arn"].startswith(f"arn:aws:kms:us-east-1:{B}:key/")
    identity = sim.view(B, "us-east-1").audit.events("CreateKey")[0]["userIdentity"]
    assert identity["arn"] == f"arn:aws:sts::{B}:assumed-role/builder/ci"


# --- cross-account keys -------------------------------------------------------------------------


@pytest.mark.parametrize("key_side, iam_side, refusal", [
    (True, True, None),
    (True, False, "because no identity-based policy allows the kms:Encrypt action"),
    (False, True, "because no resource-based policy allows the kms:Encrypt action"),
    (False, False, "because no resource-based policy allows the kms:Encrypt action"),
])
def test_another_accounts_key_by_arn_needs_both_sides(
        sim: Simulation, key_side: bool, iam_side: bool, refusal: str | None) -> None:
    owner = _client("kms", region="eu-west-1")  # account A's root
    names = (f"arn:aws:iam::{B}:user/bob",) if key_side else ()
    key_arn = owner.create_key(Policy=key_policy_of_a(*names))["KeyMetadata"]["Arn"]
    bob_key = _user_of(sim, B, policy=iam_policy(key_arn) if iam_side else None)
    bob = _client("kms", bob_key, region="eu-west-1")
    if refusal is None:
        blob = bob.encrypt(KeyId=key_arn, Plaintext=b"cross")["CiphertextBlob"]
        assert bob.decrypt(CiphertextBlob=blob)["Plaintext"] == b"cross"
        # CloudTrail: the call is in the caller's account's trail and the key owner's.
        for account in (A, B):
            records = sim.view(account, "eu-west-1").audit.events("Encrypt")
            assert [r["userIdentity"]["arn"] for r in records] == [f"arn:aws:iam::{B}:user/bob"]
        return
    with pytest.raises(ClientError) as err:
        bob.encrypt(KeyId=key_arn, Plaintext=b"cross")
    assert _code(err) == "AccessDeniedException"
    assert _message(err) == (f"User: arn:aws:iam::{B}:user/bob is not authorized to perform: "
                             f"kms:Encrypt on resource: {key_arn} {refusal}")


def key_policy_of_a(*external: str) -> str:
    """``accounts_support.key_policy`` with account A (the default) as the key's owner."""
    return key_policy(*external).replace("111122223333", A)


# --- the routing cost ---------------------------------------------------------------------------


def test_routing_asks_only_the_keys_own_account(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulation(seed=6)
    accounts = [str(100000000000 + i) for i in range(12)]
    keys = {acct: _user_of(sim, acct, policy=ALL_KMS) for acct in accounts}
    asked: list[str] = []
    for acct in [sim.account_id, *accounts]:
        iam = sim.view(account_id=acct).iam
        original = iam.credentials_for

        def counted(key_id: object, acct: str = acct, original: Any = original) -> Any:
            asked.append(acct)
            return original(key_id)

        monkeypatch.setattr(iam, "credentials_for", counted)
    assert sim.cells.account_of_access_key("AKIAUNKNOWNKEY000000") is None
    assert sim.cells.account_of_access_key(keys[accounts[7]].access_key_id) == accounts[7]
    assert asked == []  # the index answers: no account's IAM is asked
    with mock_aws(sim):
        _client("kms", keys[accounts[7]]).list_keys()
        _client("kms").list_keys()  # unknown: the default account's root, no IAM asked
    assert asked == [accounts[7]]


def test_the_readme_example_of_accounts_and_regions_runs_as_printed() -> None:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = text.index("**Accounts and Regions on the wire.**")
    code = re.findall(r"```python\n(.*?)```", text[start:], re.S)[0]
    namespace: dict[str, Any] = {"boto3": boto3, "Simulation": Simulation, "mock_aws": mock_aws}
    with pytest.raises(ClientError) as err:  # its last line: bob's call, refused by the key
        exec(compile(code, "<README.md>", "exec"), namespace)
    assert _code(err) == "AccessDeniedException"
    assert "because no resource-based policy allows the kms:Encrypt action" in _message(err)
    assert namespace["blob"]  # everything before it ran


def test_an_ec2_client_in_another_region_copies_a_snapshot_from_the_default_region(
        sim: Simulation) -> None:
    here, there = _client("ec2"), _client("ec2", region="eu-west-1")
    volume = here.create_volume(Size=1, AvailabilityZone="us-west-2a", Encrypted=True)
    sim.run_until_idle()
    snapshot = here.create_snapshot(VolumeId=volume["VolumeId"])
    sim.run_until_idle()
    copy = there.copy_snapshot(SourceRegion="us-west-2", SourceSnapshotId=snapshot["SnapshotId"])
    sim.run_until_idle()
    found = there.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"][0]
    assert found["Encrypted"] and ":eu-west-1:" in found["KmsKeyId"]
    with pytest.raises(ClientError) as err:  # the copy lives in eu-west-1 only
        here.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])
    assert _code(err) == "InvalidSnapshot.NotFound"


def _seeded_run() -> list[str]:
    with mock_aws(Simulation(seed=9)) as sim:
        bob_key = _user_of(sim, B, policy=ALL_KMS)
        out = []
        for region, key in (("us-east-1", None), ("eu-west-1", bob_key), ("us-east-1", bob_key)):
            kms = _client("kms", key, region=region)
            made = kms.create_key()["KeyMetadata"]["Arn"]
            blob = kms.encrypt(KeyId=made, Plaintext=b"same")["CiphertextBlob"]
            out += [made, blob.hex()]
        return out


def test_a_seed_replays_every_account_and_region_through_the_wire() -> None:
    first = _seeded_run()
    assert _seeded_run() == first
    assert {arn.split(":")[3] for arn in first[::2]} == {"us-east-1", "eu-west-1"}
    assert {arn.split(":")[4] for arn in first[::2]} == {A, B}
