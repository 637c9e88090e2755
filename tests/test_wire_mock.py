"""mock_aws: which clients it reaches, what it refuses, and who the caller is."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError

from simulator import Simulation
from simulator.errors import ValidationException
from simulator.faults import Fault, OnCall, RaiseError
from simulator.wire import MockClosedError, mock_aws


def test_clients_created_inside_keep_the_route_and_refuse_after_it_closes() -> None:
    sim = Simulation(seed=1)
    with mock_aws(sim):
        kms = boto3.client("kms")
        key = kms.create_key()["KeyMetadata"]
    assert sim.kms.describe_key(key_id=key["KeyId"]).key_state == "Enabled"
    with pytest.raises(MockClosedError):
        kms.list_keys()


def test_a_client_made_between_routes_answers_from_the_open_one() -> None:
    with mock_aws(Simulation(seed=1)):
        pass
    between = boto3.client("kms", region_name="us-west-2", aws_access_key_id="test",
                           aws_secret_access_key="test")
    other = Simulation(seed=2)
    with mock_aws(other):
        assert between.create_key()["KeyMetadata"]["KeyId"] == other.kms.list_keys().keys[-1].key_id


def test_a_call_from_a_client_with_its_own_route_is_answered_once_by_that_route() -> None:
    outer, inner = Simulation(seed=1), Simulation(seed=2)
    with mock_aws(outer):
        kms = boto3.client("kms")
        with mock_aws(inner):  # the process-wide handler now points at the inner route
            kms.create_key()
    assert len(outer.audit.events("CreateKey")) == 1
    assert inner.audit.events("CreateKey") == []


def test_a_retried_call_of_a_client_made_outside_any_route_is_answered_by_the_route_each_time(
) -> None:
    sim = Simulation(seed=1)
    kms = boto3.client("kms", region_name=sim.region, aws_access_key_id="test",
                       aws_secret_access_key="test")
    with mock_aws(sim):
        key = sim.kms.create_key().key_id
        sim.faults.inject(Fault(OnCall("kms:DescribeKey"), RaiseError("KMSInternalException", 1)))
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key  # after one retry
    assert [e.get("errorCode") for e in sim.audit.events("DescribeKey")] == [
        "KMSInternalException", None]


def test_the_route_supplies_harmless_credentials_and_region_and_restores_the_environment() -> None:
    saved = {n: os.environ.pop(n, None) for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                  "AWS_DEFAULT_REGION")}
    try:
        with mock_aws(Simulation(seed=1, region="eu-central-1")) as sim:
            boto3.client("kms").create_key()
            record = sim.audit.events("CreateKey")[0]
            assert record["userIdentity"]["accessKeyId"] == "test"
            assert record["awsRegion"] == "eu-central-1"
        assert "AWS_ACCESS_KEY_ID" not in os.environ
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value


def test_mock_aws_works_as_a_decorator_and_makes_a_simulation_when_given_none() -> None:
    @mock_aws()
    def make_key() -> str:
        return str(boto3.client("kms", region_name="us-west-2").create_key()["KeyMetadata"]["Arn"])

    assert make_key().startswith("arn:aws:kms:us-west-2:123456789012:key/")


def test_the_aws_fixture_routes_boto3_to_its_simulation(aws: Simulation) -> None:
    key = boto3.client("kms").create_key(Description="via fixture")["KeyMetadata"]
    assert aws.kms.describe_key(key_id=key["KeyId"]).description == "via fixture"


def test_other_services_get_an_error_and_never_the_network() -> None:
    with mock_aws(Simulation(seed=1)), pytest.raises(ClientError):
        boto3.client("s3").list_buckets()


def test_unimplemented_operations_and_members_are_refused_by_name() -> None:
    with mock_aws(Simulation(seed=1)):
        kms = boto3.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        with pytest.raises(ClientError) as err:
            kms.get_key_last_usage(KeyId=key)
        assert err.value.response["Error"]["Code"] == "UnsupportedOperationException"
        assert "envelope-sim does not implement KMS GetKeyLastUsage" in \
            err.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as err:
            boto3.client("ds").add_ip_routes(DirectoryId="d-1234567890", IpRoutes=[])
        assert err.value.response["Error"]["Code"] == "UnsupportedOperationException"
        with pytest.raises(ClientError) as err:
            kms.create_key(XksKeyId="x")
        assert "XksKeyId" in err.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as err:
            boto3.client("workspaces").describe_workspaces(WorkspaceName="w")
        assert err.value.response["Error"]["Code"] == "OperationNotSupportedException"


def test_blobs_round_trip_byte_for_byte_and_grant_tokens_pass_through() -> None:
    sim = Simulation(seed=4, grant_propagation_seconds=600)
    with mock_aws(sim):
        kms = boto3.client("kms")
        key = kms.create_key()["KeyMetadata"]["Arn"]
        every_byte = bytes(range(256)) * 16
        blob = kms.encrypt(KeyId=key, Plaintext=every_byte)["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == every_byte
        token = kms.create_grant(KeyId=key, GranteePrincipal="arn:aws:iam::123456789012:root",
                                 Operations=["Decrypt"])["GrantToken"]
        assert kms.decrypt(CiphertextBlob=blob, GrantTokens=[token])["Plaintext"] == every_byte
        with pytest.raises(ClientError) as err:
            kms.decrypt(CiphertextBlob=blob, GrantTokens=["not-a-token"])
        assert err.value.response["Error"]["Code"] == "InvalidGrantTokenException"


def test_the_readme_example_runs_and_prints_the_disabled_key_error() -> None:
    import contextlib
    import io
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Use it from boto3, the aws-cli and the Encryption SDK\n")
    code = re.findall(r"```python\n(.*?)```", text[start:text.find("\n## ", start + 1)], re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README.md>", "exec"), {})
    assert "DisabledException" in out.getvalue() and "is disabled." in out.getvalue()


@pytest.mark.parametrize("options", [
    {"sim": "not a simulation"}, {"clock": "realtime", "speed": -1},
    {"clock": "realtime", "speed": "fast"}, {"clock": "realtime", "speed": float("nan")},
    {"speed": 0}, {"strict_credentials": "yes"}, {"strict_credentials": 1},
])
def test_bad_mock_aws_options_are_a_validation_error_and_open_no_route(
        options: dict[str, object]) -> None:
    with pytest.raises(ValidationException), mock_aws(**options):  # type: ignore[arg-type]
        pass
    kms = boto3.client("kms", region_name="us-west-2", aws_access_key_id="test",
                       aws_secret_access_key="test", endpoint_url="http://127.0.0.1:9")
    with mock_aws(Simulation(seed=1)) as sim:  # the router has no dangling route
        kms.create_key()
        assert len(sim.kms.list_keys().keys) == 1
