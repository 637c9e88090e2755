"""IAM, STS and EC2 through boto3 in process (the query and ec2 protocols): every operation the
simulator implements answers, errors carry the Python API's code, and temporary credentials act
as their assumed-role session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from simulator import Simulation
from simulator.errors import AwsError
from simulator.wire import mock_aws

ACCT = "123456789012"
REGION = "us-west-2"


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with mock_aws(Simulation(seed=21)) as s:
        yield s


def client(name: str, **creds: Any) -> Any:
    return boto3.client(name, region_name=REGION, **creds)


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def trust_for(arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]})


def test_iam_users_roles_inline_and_managed_policies(sim: Simulation) -> None:
    iam = client("iam")
    user = iam.create_user(UserName="ci", Path="/build/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCT}:user/build/ci" and user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName="ci")["User"]["CreateDate"].year == sim.clock.now().year
    doc = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="ci", PolicyName="kms", PolicyDocument=json.dumps(doc))
    assert iam.get_user_policy(UserName="ci", PolicyName="kms")["PolicyDocument"] == doc
    assert iam.list_user_policies(UserName="ci")["PolicyNames"] == ["kms"]
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust_for(user["Arn"]),
                           MaxSessionDuration=7200, Description="the app")["Role"]
    got = iam.get_role(RoleName="app")["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(trust_for(user["Arn"]))
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "the app"
    policy = iam.create_policy(PolicyName="use", PolicyDocument=json.dumps(doc))["Policy"]
    assert policy["DefaultVersionId"] == "v1" and policy["IsAttachable"] is True
    iam.attach_role_policy(RoleName="app", PolicyArn=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == doc and version["IsDefaultVersion"] is True
    attached = iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]
    assert attached == [{"PolicyName": "use", "PolicyArn": policy["Arn"]}]
    with pytest.raises(ClientError) as err:
        iam.delete_policy(PolicyArn=policy["Arn"])
    assert code(err) == "DeleteConflict" and err.value.response["ResponseMetadata"][
        "HTTPStatusCode"] == 409
    iam.detach_role_policy(RoleName="app", PolicyArn=policy["Arn"])
    iam.delete_policy(PolicyArn=policy["Arn"])
    assert role["RoleId"].startswith("AROA")


def test_iam_paging_through_botocore_paginators(sim: Simulation) -> None:
    iam = client("iam")
    for i in range(7):
        iam.create_user(UserName=f"u{i}")
    pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["Users"]) for p in pages] == [3, 3, 1]
    assert pages[0]["IsTruncated"] is True and "Marker" in pages[0]


@pytest.mark.parametrize("call, expected", [
    (lambda iam: iam.get_user(UserName="nobody"), "NoSuchEntity"),
    (lambda iam: iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}"),
     "MalformedPolicyDocument"),
    (lambda iam: iam.get_policy(PolicyArn="arn:aws:iam::123456789012:policy/none"),
     "NoSuchEntity"),
    (lambda iam: iam.get_policy(PolicyArn="arn:aws:kms:us-west-2:123456789012:key/abc"),
     "InvalidInput"),
    (lambda iam: iam.list_users(Marker="bm9ib2R5"), "InvalidInput"),
])
def test_iam_errors_have_the_python_apis_code(sim: Simulation, call: Any, expected: str) -> None:
    with pytest.raises(ClientError) as err:
        call(client("iam"))
    assert code(err) == expected


def test_duplicate_user_is_the_same_error_as_the_python_api(sim: Simulation) -> None:
    client("iam").create_user(UserName="dup")
    with pytest.raises(AwsError) as direct:
        sim.iam.create_user(user_name="dup")
    with pytest.raises(ClientError) as wire:
        client("iam").create_user(UserName="dup")
    assert code(wire) == direct.value.code == "EntityAlreadyExists"
    assert wire.value.response["Error"]["Message"] == direct.value.message


def test_access_keys_through_iam_and_get_caller_identity(sim: Simulation) -> None:
    iam = client("iam")
    iam.create_user(UserName="ci")
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    sts = client("sts", aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"])
    who = sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCT}:user/ci" and who["Account"] == ACCT
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="ci")["AccessKeyMetadata"]] == [
        key["AccessKeyId"]]
    forged = client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as err:
        forged.get_caller_identity()
    assert code(err) == "InvalidSignatureException"


def _assume(sim: Simulation, duration: int = 3600) -> dict[str, Any]:
    iam = client("iam")
    user = iam.create_user(UserName="ci")["User"]
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust_for(user["Arn"]))["Role"]
    sts = client("sts", aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"])
    got = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build-9",
                          DurationSeconds=duration)
    return dict(got["Credentials"], role=role, user_key=key, who=got["AssumedRoleUser"])


def session(creds: dict[str, Any], name: str) -> Any:
    return client(name, aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])


def test_assumed_role_credentials_act_as_the_session(sim: Simulation) -> None:
    creds = _assume(sim)
    assert creds["AccessKeyId"].startswith("ASIA")
    assert creds["who"]["Arn"] == f"arn:aws:sts::{ACCT}:assumed-role/app/build-9"
    assert session(creds, "sts").get_caller_identity()["Arn"] == creds["who"]["Arn"]
    kms = session(creds, "kms")
    with pytest.raises(ClientError) as err:
        kms.create_key()
    assert code(err) == "AccessDeniedException"
    assert "assumed-role/app/build-9" in err.value.response["Error"]["Message"]


def test_expired_forged_and_missing_session_tokens_are_refused(sim: Simulation) -> None:
    creds = _assume(sim, duration=900)
    for name, expected in (("sts", "InvalidClientTokenId"), ("kms", "UnrecognizedClientException")):
        forged = dict(creds, SessionToken="forged")
        with pytest.raises(ClientError) as err:
            getattr(session(forged, name), "get_caller_identity" if name == "sts" else "list_keys")()
        assert code(err) == expected
    sim.advance(900)
    with pytest.raises(ClientError) as err:
        session(creds, "sts").get_caller_identity()
    assert code(err) == "ExpiredToken"
    with pytest.raises(ClientError) as err:
        session(creds, "kms").list_keys()
    assert code(err) == "ExpiredTokenException"


def test_untrusted_assume_role_is_access_denied(sim: Simulation) -> None:
    iam = client("iam")
    iam.create_user(UserName="ci")
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust_for(
        f"arn:aws:iam::{ACCT}:user/ci"))["Role"]
    other = iam.create_user(UserName="other")["User"]
    key = iam.create_access_key(UserName=other["UserName"])["AccessKey"]
    sts = client("sts", aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="x1")
    assert code(err) == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_ec2_volumes_snapshots_tags_filters_and_paging(sim: Simulation) -> None:
    ec2 = client("ec2")
    key = client("kms").create_key()["KeyMetadata"]
    made = [ec2.create_volume(Size=1 + i, AvailabilityZone=f"{REGION}a", Encrypted=True,
                              KmsKeyId=key["Arn"], TagSpecifications=[{
                                  "ResourceType": "volume",
                                  "Tags": [{"Key": "team", "Value": f"t{i % 2}"}]}])
            for i in range(7)]
    assert made[0]["State"] == "creating" and made[0]["KmsKeyId"] == key["Arn"]
    sim.run_until_idle()
    pages = list(ec2.get_paginator("describe_volumes").paginate(
        Filters=[{"Name": "tag:team", "Values": ["t0"]}], PaginationConfig={"PageSize": 5}))
    found = [v["VolumeId"] for p in pages for v in p["Volumes"]]
    assert found == [m["VolumeId"] for m in made[::2]] and len(pages) == 1
    pages = list(ec2.get_paginator("describe_volumes").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["Volumes"]) for p in pages] == [5, 2]
    vid = made[0]["VolumeId"]
    ec2.create_tags(Resources=[vid], Tags=[{"Key": "Name", "Value": "db"}])
    ec2.delete_tags(Resources=[vid], Tags=[{"Key": "team"}])
    assert ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["Tags"] == [
        {"Key": "Name", "Value": "db"}]
    att = ec2.attach_volume(VolumeId=vid, InstanceId="i-0123456789abcdef0", Device="/dev/sdf")
    assert att["VolumeId"] == vid and att["Device"] == "/dev/sdf"
    sim.run_until_idle()
    got = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                         "Values": ["i-0123456789abcdef0"]}])["Volumes"]
    assert [v["VolumeId"] for v in got] == [vid] and got[0]["State"] == "in-use"
    snap = ec2.create_snapshot(VolumeId=vid, Description="nightly", TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "v"}]}])
    sim.run_until_idle()
    copy = ec2.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap["SnapshotId"])
    sim.run_until_idle()
    snaps = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
        {"Name": "encrypted", "Values": ["true"]}])["Snapshots"]
    assert {s["SnapshotId"] for s in snaps} == {snap["SnapshotId"], copy["SnapshotId"]}
    ec2.delete_snapshot(SnapshotId=copy["SnapshotId"])
    ec2.detach_volume(VolumeId=vid)
    sim.run_until_idle()
    ec2.delete_volume(VolumeId=made[1]["VolumeId"])


def test_encryption_by_default_calls(sim: Simulation) -> None:
    ec2 = client("ec2")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.enable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    key = client("kms").create_key()["KeyMetadata"]
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=key["Arn"])
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == key["Arn"]
    vol = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")
    assert vol["Encrypted"] is True
    assert ec2.disable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False


def test_client_token_makes_create_volume_idempotent(sim: Simulation) -> None:
    ec2 = client("ec2")
    a = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a", ClientToken="t-1")
    b = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a", ClientToken="t-1")
    assert a["VolumeId"] == b["VolumeId"] and len(sim.ebs.describe_volumes().volumes) == 1
    with pytest.raises(ClientError) as err:
        ec2.create_volume(Size=2, AvailabilityZone=f"{REGION}a", ClientToken="t-1")
    assert code(err) == "IdempotentParameterMismatch"


@pytest.mark.parametrize("call, expected", [
    (lambda ec2: ec2.describe_volumes(VolumeIds=["vol-0123456789abcdef0"]),
     "InvalidVolume.NotFound"),
    (lambda ec2: ec2.describe_volumes(Filters=[{"Name": "bogus", "Values": ["x"]}]),
     "InvalidParameterValue"),
    (lambda ec2: ec2.describe_volumes(MaxResults=5, NextToken="bogus"), "InvalidPaginationToken"),
    (lambda ec2: ec2.create_volume(Size=1, AvailabilityZone="us-west-2a", KmsKeyId="alias/x"),
     "InvalidParameterDependency"),
    (lambda ec2: ec2.copy_snapshot(SourceRegion="eu-west-1",
                                   SourceSnapshotId="snap-0123456789abcdef0"),
     "InvalidSnapshot.NotFound"),
    (lambda ec2: ec2.create_tags(Resources=["i-0123456789abcdef0"],
                                 Tags=[{"Key": "a", "Value": "b"}]), "InvalidID"),
])
def test_ec2_errors_have_the_python_apis_code(sim: Simulation, call: Any, expected: str) -> None:
    with pytest.raises(ClientError) as err:
        call(client("ec2"))
    assert code(err) == expected


def test_sts_signed_for_its_global_endpoint_is_accepted(sim: Simulation) -> None:
    sts = boto3.client("sts", region_name="us-east-1")  # the global endpoint's signing Region
    assert sts.get_caller_identity()["Account"] == ACCT
    # The account's one STS, whatever Region signs (regional STS endpoints exist too).
    assert boto3.client("sts", region_name="eu-west-1").get_caller_identity()["Account"] == ACCT
