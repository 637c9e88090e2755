"""IAM, STS and EC2 against the real server: botocore's EC2 waiters in realtime mode, a realistic
application (a role assumed through STS creating and attaching an encrypted volume), the
aws-cli, and hostile or malformed forms answered in each protocol's XML error shape."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from wire_support import serve

ACCT = "123456789012"
REGION = "us-west-2"
INSTANCE = "i-0123456789abcdef0"
AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Any]]:
    with serve("--seed", "17", "--clock", "realtime", "--speed", "50") as running:
        yield running
        _, proc = running
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
        assert "Traceback" not in out


def client(endpoint: str, name: str, **creds: Any) -> Any:
    creds.setdefault("aws_access_key_id", "test")
    creds.setdefault("aws_secret_access_key", "test")
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint, **creds)


def test_ec2_waiters_volume_available_and_volume_in_use(server: tuple[str, Any]) -> None:
    endpoint, _ = server
    ec2 = client(endpoint, "ec2")
    vol = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    fast = {"Delay": 1, "MaxAttempts": 20}
    ec2.get_waiter("volume_available").wait(VolumeIds=[vol], WaiterConfig=fast)
    ec2.attach_volume(VolumeId=vol, InstanceId=INSTANCE, Device="/dev/sdg")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[vol], WaiterConfig=fast)
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Attachments"][0][
        "InstanceId"] == INSTANCE


def _key_policy(*extra: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
         "Action": "kms:*", "Resource": "*"}, *extra]})


def test_a_role_assumed_through_sts_creates_and_attaches_an_encrypted_volume(
        server: tuple[str, Any]) -> None:
    """As an application would: an admin sets up the user ci, the role app it may assume and a
    customer managed key for the role; ci assumes app and uses EC2 with the role's credentials."""
    endpoint, _ = server
    admin_iam, admin_kms = client(endpoint, "iam"), client(endpoint, "kms")
    ci = admin_iam.create_user(UserName="ci-app")["User"]
    ci_key = admin_iam.create_access_key(UserName="ci-app")["AccessKey"]
    role = admin_iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "AWS": ci["Arn"]}, "Action": "sts:AssumeRole"}]}))["Role"]
    admin_iam.put_role_policy(RoleName="app", PolicyName="ec2", PolicyDocument=json.dumps({
        "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}))
    allowed = admin_kms.create_key(Policy=_key_policy({
        "Sid": "app", "Effect": "Allow", "Principal": {"AWS": role["Arn"]},
        "Action": ["kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant", "kms:Decrypt",
                   "kms:DescribeKey", "kms:ReEncrypt*"], "Resource": "*"}))["KeyMetadata"]
    other = admin_kms.create_key(Policy=_key_policy())["KeyMetadata"]

    sts = client(endpoint, "sts", aws_access_key_id=ci_key["AccessKeyId"],
                 aws_secret_access_key=ci_key["SecretAccessKey"])
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="deploy")["Credentials"]
    ec2 = client(endpoint, "ec2", aws_access_key_id=creds["AccessKeyId"],
                 aws_secret_access_key=creds["SecretAccessKey"],
                 aws_session_token=creds["SessionToken"])
    fast = {"Delay": 1, "MaxAttempts": 20}

    vol = ec2.create_volume(Size=4, AvailabilityZone=f"{REGION}a", Encrypted=True,
                            KmsKeyId=allowed["Arn"])
    assert vol["Encrypted"] is True and vol["KmsKeyId"] == allowed["Arn"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)
    ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId=INSTANCE, Device="/dev/sdh")
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig=fast)
    grants = admin_kms.list_grants(KeyId=allowed["KeyId"])["Grants"]
    assert len(grants) == 1 and grants[0]["GranteePrincipal"].endswith("aws:ec2-infrastructure/ebs")

    # A key whose policy does not name the role: EC2 accepts the request (AWS checks the key
    # asynchronously), the volume fails, and the role's KMS denial is on record; no grant and
    # no usable volume are left behind.
    bad = ec2.create_volume(Size=4, AvailabilityZone=f"{REGION}a", Encrypted=True,
                            KmsKeyId=other["Arn"])
    state = "creating"
    for _ in range(100):
        state = ec2.describe_volumes(VolumeIds=[bad["VolumeId"]])["Volumes"][0]["State"]
        if state != "creating":
            break
        time.sleep(0.05)
    assert state == "error"
    assert admin_kms.list_grants(KeyId=other["KeyId"])["Grants"] == []
    with pytest.raises(ClientError) as err:
        ec2.attach_volume(VolumeId=bad["VolumeId"], InstanceId=INSTANCE, Device="/dev/sdi")
    assert err.value.response["Error"]["Code"] == "IncorrectState"
    audit = urllib.request.urlopen(
        f"{endpoint}/_envelope-sim/audit?event_name=GenerateDataKeyWithoutPlaintext",
        timeout=10).read().decode()
    denied = [json.loads(line) for line in audit.splitlines()
              if '"errorCode": "AccessDeniedException"' in line
              or '"errorCode":"AccessDeniedException"' in line]
    assert denied and denied[-1]["userIdentity"]["arn"] == (
        f"arn:aws:sts::{ACCT}:assumed-role/app/deploy")
    ec2.delete_volume(VolumeId=bad["VolumeId"])


def _cli(endpoint: str, *args: str, key: str = "test", secret: str = "test"
         ) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.Popen([AWS, "--endpoint-url", endpoint, "--output", "json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _ok(proc: subprocess.Popen[str]) -> Any:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out) if out.strip() else {}


def test_the_aws_cli_manages_iam_sts_and_ec2(server: tuple[str, Any]) -> None:
    endpoint, _ = server
    _ok(_cli(endpoint, "iam", "create-user", "--user-name", "cli-user"))
    key = _ok(_cli(endpoint, "iam", "create-access-key", "--user-name", "cli-user"))["AccessKey"]
    who = _cli(endpoint, "sts", "get-caller-identity", key=key["AccessKeyId"],
               secret=key["SecretAccessKey"])
    kms_key = client(endpoint, "kms").create_key()["KeyMetadata"]
    made = _cli(endpoint, "ec2", "create-volume", "--size", "2", "--availability-zone",
                f"{REGION}a", "--encrypted", "--kms-key-id", kms_key["Arn"],
                "--tag-specifications", "ResourceType=volume,Tags=[{Key=app,Value=cli}]")
    assert _ok(who)["Arn"] == f"arn:aws:iam::{ACCT}:user/cli-user"
    volume = _ok(made)
    assert volume["Encrypted"] is True and volume["KmsKeyId"] == kms_key["Arn"]
    found = _ok(_cli(endpoint, "ec2", "describe-volumes", "--filters",
                     "Name=tag:app,Values=cli", "Name=encrypted,Values=true"))["Volumes"]
    assert [v["VolumeId"] for v in found] == [volume["VolumeId"]]
    failed = _cli(endpoint, "iam", "get-user", "--user-name", "nobody")
    _, err = failed.communicate(timeout=60)
    assert failed.returncode != 0 and "NoSuchEntity" in err


def _signed(endpoint: str, service: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = AWSRequest(method="POST", url=endpoint + "/", data=body,
                         headers={"Content-Type": content_type})
    SigV4Auth(Credentials("test", "test"), service,
              "us-east-1" if service == "iam" else REGION).add_auth(request)
    prepared = urllib.request.Request(endpoint + "/", data=body, method="POST",
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


FORM = "application/x-www-form-urlencoded; charset=utf-8"
HOSTILE_XML = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
               b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Action>&lol2;</Action>')


@pytest.mark.parametrize("service, body, content_type, expected", [
    ("iam", b"Action=Nope&Version=2010-05-08", FORM, "InvalidAction"),
    ("iam", b"Action=CreateUser&Version=2011-01-01&UserName=x", FORM, "InvalidAction"),
    ("sts", b"Version=2011-06-15", FORM, "MissingAction"),
    ("iam", b"%%%&&==&", FORM, "MalformedQueryString"),
    ("iam", HOSTILE_XML, "text/xml", "MalformedQueryString"),
    ("ec2", HOSTILE_XML, FORM, "MalformedQueryString"),
    ("ec2", b"Action=CreateVolume&Version=2016-11-15&Size=abc", FORM, "MalformedQueryString"),
    ("ec2", b"Action=DescribeVolumes&Version=2016-11-15&Bogus=1", FORM, "UnknownParameter"),
    ("ec2", b"Action=DescribeVolumes&Version=2016-11-15&VolumeId.99999=vol-1", FORM,
     "MalformedQueryString"),
    ("ec2", b"Action=DescribeVolumes&Version=2016-11-15&" + b".".join([b"a"] * 40) + b"=1", FORM,
     "MalformedQueryString"),
    ("ec2", b"Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=\xff", FORM,
     "MalformedQueryString"),
    ("ec2", b"&".join(b"f%d=1" % i for i in range(5000)), FORM, "MalformedQueryString"),
    ("ec2", b"Action=DescribeVolumes&Version=2016-11-15&x=" + b"a" * (2 << 20), FORM,
     "SerializationException"),
    ("iam", b"Action=GetUser&Version=2010-05-08&UserName=nobody", FORM, "NoSuchEntity"),
])
def test_malformed_and_hostile_forms_get_the_protocols_xml_error(
        server: tuple[str, Any], service: str, body: bytes, content_type: str,
        expected: str) -> None:
    endpoint, _ = server
    status, raw = _signed(endpoint, service, body, content_type)
    assert 400 <= status < 500
    root = ElementTree.fromstring(raw)  # our own server's answer, not client input
    if service == "ec2":
        assert root.tag == "Response" and root.findtext("Errors/Error/Code") == expected
    else:
        assert root.tag == "ErrorResponse" and root.findtext("Error/Code") == expected
    with urllib.request.urlopen(endpoint + "/_envelope-sim/health", timeout=10) as resp:
        assert resp.status == 200


def test_the_readme_ec2_example_runs_against_the_server(server: tuple[str, Any]) -> None:
    endpoint, _ = server
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Use it from boto3, the aws-cli and the Encryption SDK\n")
    blocks = re.findall(r"```python\n(.*?)```", text[start:text.find("\n## ", start + 1)], re.S)
    code = next(block for block in blocks if 'boto3.client("ec2"' in block)
    namespace: dict[str, Any] = {"boto3": boto3}
    exec(compile(code.replace("http://127.0.0.1:4599", endpoint), "<README.md>", "exec"),
         namespace)
    assert namespace["ec2"].describe_volumes(VolumeIds=[namespace["vol"]["VolumeId"]])[
        "Volumes"][0]["State"] == "available"
