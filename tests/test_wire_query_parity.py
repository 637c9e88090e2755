"""boto3 through the query and ec2 protocols answers exactly as the Python API: a scenario over
every implemented IAM, STS and EC2 operation, successes and documented errors, run on a Python-API
simulation and through boto3 on a twin with the same seed; results compare as botocore parses
them, errors by code and message. A final check: the scenario covers every implemented
operation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.handlers import json_decode_policies
from botocore.parsers import create_parser
from wire_support import to_boto

from simulator import Simulation
from simulator.errors import AwsError
from simulator.wire import mock_aws
from simulator.wire.query import Ec2Protocol, QueryProtocol

ACCT = "123456789012"
MODELS = {n: botocore.session.get_session().get_service_model(n) for n in ("iam", "sts", "ec2")}
ATTRIBUTES = {"iam": "iam", "sts": "sts", "ec2": "ebs"}
PROTOCOLS = {"iam": QueryProtocol(), "sts": QueryProtocol(), "ec2": Ec2Protocol()}
#: Not API operations: what the wire uses to sign and to find callers.
HELPERS = {"caller_for", "identity_policies", "principal_exists", "credentials_for",
           "trust_policy", "with_caller", "caller_for_session", "block_device", "raw_blocks",
           "principal_tags", "unique_id"}
USER_ARN = f"arn:aws:iam::{ACCT}:user/ci"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/app"
POLICY_ARN = f"arn:aws:iam::{ACCT}:policy/use"
DOC = json.dumps({"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]})
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": USER_ARN},
                                   "Action": "sts:AssumeRole"}]})
INSTANCE = "i-0123456789abcdef0"
GHOST_VOLUME = "vol-0123456789abcdef0"


@dataclass
class Step:
    service: str
    operation: str
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]
    expect: str | None = None  # the error code, None for success
    save: str | None = None
    as_user: bool = False  # signed with the user ci's access key (else the root)


def _vol(c: dict[str, Any]) -> str:
    return str(c["vol"].volume_id)


def _snap(c: dict[str, Any]) -> str:
    return str(c["snap"].snapshot_id)


def scenario() -> list[Step]:
    s = Step
    return [
        s("iam", "CreateUser", lambda c: {"user_name": "ci"}),
        s("iam", "CreateUser", lambda c: {"user_name": "CI"}, "EntityAlreadyExists"),
        s("iam", "GetUser", lambda c: {"user_name": "ci"}),
        s("iam", "GetUser", lambda c: {"user_name": "nobody"}, "NoSuchEntity"),
        s("iam", "ListUsers", lambda c: {"max_items": 1}),
        s("iam", "ListUsers", lambda c: {"marker": "bm9ib2R5"}, "InvalidInput"),
        s("iam", "CreateAccessKey", lambda c: {"user_name": "ci"}, save="key"),
        s("iam", "ListAccessKeys", lambda c: {"user_name": "ci"}),
        s("iam", "PutUserPolicy", lambda c: {"user_name": "ci", "policy_name": "p",
                                             "policy_document": DOC}),
        s("iam", "PutUserPolicy", lambda c: {"user_name": "ci", "policy_name": "bad",
                                             "policy_document": "{"}, "MalformedPolicyDocument"),
        s("iam", "GetUserPolicy", lambda c: {"user_name": "ci", "policy_name": "p"}),
        s("iam", "ListUserPolicies", lambda c: {"user_name": "ci"}),
        s("iam", "TagUser", lambda c: {"user_name": "ci", "tags": [
            {"key": "team", "value": "blue"}, {"key": "cost", "value": "42"}]}),
        s("iam", "TagUser", lambda c: {"user_name": "ci", "tags": [
            {"key": "aws:team", "value": "x"}]}, "ValidationError"),
        s("iam", "UntagUser", lambda c: {"user_name": "ci", "tag_keys": ["cost"]}),
        s("iam", "ListUserTags", lambda c: {"user_name": "ci"}),
        s("iam", "CreateRole", lambda c: {"role_name": "app", "assume_role_policy_document": TRUST,
                                          "description": "d"}),
        s("iam", "CreateRole", lambda c: {"role_name": "bad", "assume_role_policy_document": "{}"},
          "MalformedPolicyDocument"),
        s("iam", "GetRole", lambda c: {"role_name": "app"}),
        s("iam", "ListRoles", lambda c: {}),
        s("iam", "UpdateAssumeRolePolicy", lambda c: {"role_name": "app",
                                                      "policy_document": TRUST}),
        s("iam", "PutRolePolicy", lambda c: {"role_name": "app", "policy_name": "p",
                                             "policy_document": DOC}),
        s("iam", "GetRolePolicy", lambda c: {"role_name": "app", "policy_name": "p"}),
        s("iam", "ListRolePolicies", lambda c: {"role_name": "app"}),
        s("iam", "TagRole", lambda c: {"role_name": "app", "tags": [
            {"key": "team", "value": "blue"}]}),
        s("iam", "UntagRole", lambda c: {"role_name": "app", "tag_keys": ["nope"]}),
        s("iam", "ListRoleTags", lambda c: {"role_name": "app"}),
        s("iam", "CreatePolicy", lambda c: {"policy_name": "use", "policy_document": DOC}),
        s("iam", "GetPolicy", lambda c: {"policy_arn": POLICY_ARN}),
        s("iam", "GetPolicy", lambda c: {"policy_arn": POLICY_ARN + "x"}, "NoSuchEntity"),
        s("iam", "CreatePolicyVersion", lambda c: {"policy_arn": POLICY_ARN,
                                                   "policy_document": DOC}),
        s("iam", "SetDefaultPolicyVersion", lambda c: {"policy_arn": POLICY_ARN,
                                                       "version_id": "v2"}),
        s("iam", "GetPolicyVersion", lambda c: {"policy_arn": POLICY_ARN, "version_id": "v2"}),
        s("iam", "ListPolicyVersions", lambda c: {"policy_arn": POLICY_ARN}),
        s("iam", "DeletePolicyVersion", lambda c: {"policy_arn": POLICY_ARN, "version_id": "v2"},
          "DeleteConflict"),
        s("iam", "DeletePolicyVersion", lambda c: {"policy_arn": POLICY_ARN, "version_id": "v1"}),
        s("iam", "ListPolicies", lambda c: {"scope": "Local"}),
        s("iam", "AttachRolePolicy", lambda c: {"role_name": "app", "policy_arn": POLICY_ARN}),
        s("iam", "AttachUserPolicy", lambda c: {"user_name": "ci", "policy_arn": POLICY_ARN}),
        s("iam", "ListAttachedRolePolicies", lambda c: {"role_name": "app"}),
        s("iam", "ListAttachedUserPolicies", lambda c: {"user_name": "ci"}),
        s("iam", "DeletePolicy", lambda c: {"policy_arn": POLICY_ARN}, "DeleteConflict"),
        s("sts", "GetCallerIdentity", lambda c: {}),
        s("sts", "GetCallerIdentity", lambda c: {}, as_user=True),
        s("sts", "AssumeRole", lambda c: {"role_arn": ROLE_ARN, "role_session_name": "s1"},
          "AccessDenied"),
        s("sts", "AssumeRole", lambda c: {"role_arn": ROLE_ARN, "role_session_name": "s1"},
          as_user=True),
        s("sts", "AssumeRole", lambda c: {"role_arn": ROLE_ARN, "role_session_name": "s1",
                                          "duration_seconds": 7200}, "ValidationError",
          as_user=True),
        s("ec2", "CreateVolume", lambda c: {"size": 2, "availability_zone": "us-west-2a",
                                            "encrypted": True, "tag_specifications": [
                                                {"resource_type": "volume",
                                                 "tags": [{"key": "k", "value": "v"}]}]},
          save="vol"),
        s("ec2", "CreateVolume", lambda c: {"size": 0, "availability_zone": "us-west-2a"},
          "InvalidParameterValue"),
        s("_idle", "", lambda c: {}),
        s("ec2", "DescribeVolumes", lambda c: {"filters": [{"name": "tag:k", "values": ["v"]}]}),
        s("ec2", "DescribeVolumes", lambda c: {"volume_ids": [GHOST_VOLUME]},
          "InvalidVolume.NotFound"),
        s("ec2", "CreateTags", lambda c: {"resources": [_vol(c)],
                                          "tags": [{"key": "Name", "value": "db"}]}),
        s("ec2", "DeleteTags", lambda c: {"resources": [_vol(c)], "tags": [{"key": "k"}]}),
        s("ec2", "AttachVolume", lambda c: {"volume_id": _vol(c), "instance_id": INSTANCE,
                                            "device": "/dev/sdf"}),
        s("ec2", "AttachVolume", lambda c: {"volume_id": _vol(c), "instance_id": INSTANCE,
                                            "device": "/dev/sdg"}, "VolumeInUse"),
        s("_idle", "", lambda c: {}),
        s("ec2", "CreateSnapshot", lambda c: {"volume_id": _vol(c), "description": "d"},
          save="snap"),
        s("_idle", "", lambda c: {}),
        s("ec2", "DescribeSnapshots", lambda c: {"owner_ids": ["self"]}),
        s("ec2", "CopySnapshot", lambda c: {"source_region": "us-west-2",
                                            "source_snapshot_id": _snap(c)}),
        s("ec2", "CopySnapshot", lambda c: {"source_region": "eu-west-1",
                                            "source_snapshot_id": _snap(c)},
          "InvalidSnapshot.NotFound"),
        s("_idle", "", lambda c: {}),
        s("ec2", "DeleteSnapshot", lambda c: {"snapshot_id": _snap(c)}),
        s("ec2", "DetachVolume", lambda c: {"volume_id": _vol(c)}),
        s("_idle", "", lambda c: {}),
        s("ec2", "DeleteVolume", lambda c: {"volume_id": _vol(c)}),
        s("ec2", "GetEbsEncryptionByDefault", lambda c: {}),
        s("ec2", "EnableEbsEncryptionByDefault", lambda c: {}),
        s("ec2", "DisableEbsEncryptionByDefault", lambda c: {}),
        s("ec2", "GetEbsDefaultKmsKeyId", lambda c: {}),
        s("ec2", "ModifyEbsDefaultKmsKeyId", lambda c: {"kms_key_id": "alias/aws/ebs"}),
        s("ec2", "ResetEbsDefaultKmsKeyId", lambda c: {}),
        s("iam", "DetachRolePolicy", lambda c: {"role_name": "app", "policy_arn": POLICY_ARN}),
        s("iam", "DetachUserPolicy", lambda c: {"user_name": "ci", "policy_arn": POLICY_ARN}),
        s("iam", "DeletePolicy", lambda c: {"policy_arn": POLICY_ARN}),
        s("iam", "DeleteRolePolicy", lambda c: {"role_name": "app", "policy_name": "p"}),
        s("iam", "DeleteRole", lambda c: {"role_name": "app"}),
        s("iam", "DeleteUserPolicy", lambda c: {"user_name": "ci", "policy_name": "p"}),
        s("iam", "UpdateAccessKey", lambda c: {"user_name": "ci", "status": "Inactive",
                                               "access_key_id": c["key"].access_key_id}),
        s("iam", "DeleteAccessKey", lambda c: {"user_name": "ci",
                                               "access_key_id": c["key"].access_key_id}),
        s("iam", "DeleteUser", lambda c: {"user_name": "ci"}),
    ]


def as_parsed(service: str, operation: str, result: Any) -> dict[str, Any]:
    """A Python API result as botocore parses it off the wire (no response metadata)."""
    op = MODELS[service].operation_model(operation)
    response = PROTOCOLS[service].encode(op, result, "request-id")
    parsed: dict[str, Any] = create_parser(MODELS[service].metadata["protocol"]).parse(
        {"body": response.body, "headers": response.headers, "status_code": 200}, op.output_shape)
    json_decode_policies(parsed, op)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_every_operation_succeeds_and_fails_as_the_python_api_does() -> None:
    python_sim = Simulation(seed=5)
    ctx: dict[str, Any] = {}
    with mock_aws(Simulation(seed=5)) as wire_sim:
        root = {n: boto3.client(n) for n in MODELS}
        for step in scenario():
            kwargs = step.kwargs(ctx)
            if step.service == "_idle":
                python_sim.run_until_idle()
                wire_sim.run_until_idle()
                continue
            view = python_sim.as_principal(USER_ARN) if step.as_user else python_sim
            where = f"{step.service} {step.operation} {kwargs}"
            try:
                expected: Any = getattr(getattr(view, ATTRIBUTES[step.service]),
                                        xform_name(step.operation))(**kwargs)
                code = message = None
            except AwsError as err:
                code, message = err.code, err.message
            assert code == step.expect, f"{where}: the Python API gave {code}"
            client = root[step.service]
            if step.as_user:
                key = ctx["key"]
                client = boto3.client(step.service, aws_access_key_id=key.access_key_id,
                                      aws_secret_access_key=key.secret_access_key)
            op = MODELS[step.service].operation_model(step.operation)
            try:
                got = getattr(client, xform_name(step.operation))(
                    **to_boto(op.input_shape, kwargs))
            except ClientError as err:
                assert err.response["Error"]["Code"] == code, where
                assert err.response["Error"]["Message"] == message, where
                continue
            assert code is None, f"{where}: the wire succeeded where the Python API raised {code}"
            got.pop("ResponseMetadata", None)
            assert got == as_parsed(step.service, step.operation, expected), where
            if step.save:
                ctx[step.save] = expected


@pytest.mark.parametrize("service", sorted(MODELS))
def test_the_scenario_covers_every_implemented_operation(service: str) -> None:
    sim = Simulation(seed=1)
    model = MODELS[service]
    implemented = {op for op in model.operation_names
                   if hasattr(getattr(sim, ATTRIBUTES[service]), xform_name(op))}
    methods = {n for n in dir(getattr(sim, ATTRIBUTES[service]))
               if not n.startswith("_") and callable(getattr(getattr(sim, ATTRIBUTES[service]), n))}
    assert methods - {xform_name(op) for op in model.operation_names} <= HELPERS, (
        "a public method that is neither an AWS operation nor a known helper")
    covered = {s.operation for s in scenario() if s.service == service}
    assert implemented - covered == set(), f"add parity steps for {sorted(implemented - covered)}"
