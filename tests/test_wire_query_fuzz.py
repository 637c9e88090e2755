"""Fuzzed forms through the query and ec2 protocols, in process: whatever the body, the answer is
the protocol's XML (a success or an AWS error), never a 500, and nothing is half-done."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import Simulation
from simulator.wire import Gateway, WireRequest

VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15", "ec2": "2016-11-15"}
ACTIONS = {"iam": ["CreateUser", "GetUser", "CreateRole", "CreatePolicy", "AttachRolePolicy",
                   "ListUsers", "CreateAccessKey"],
           "sts": ["AssumeRole", "GetCallerIdentity"],
           "ec2": ["CreateVolume", "DescribeVolumes", "AttachVolume", "CreateTags",
                   "DescribeSnapshots", "CopySnapshot"]}
NAMES = ["UserName", "RoleName", "PolicyArn", "PolicyDocument", "AssumeRolePolicyDocument",
         "MaxItems", "Marker", "RoleArn", "RoleSessionName", "DurationSeconds", "Size",
         "AvailabilityZone", "Encrypted", "VolumeId.1", "Filter.1.Name", "Filter.1.Value.1",
         "TagSpecification.1.ResourceType", "TagSpecification.1.Tag.1.Key", "MaxResults",
         "NextToken", "Resources.member.1", "Tags.member.1.Key", "ResourceId.1", "Tag.1.Key"]


def _request(service: str, body: bytes) -> WireRequest:
    url = f"https://{service}.amazonaws.com/"
    aws = AWSRequest(method="POST", url=url, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials("test", "test"), service,
              "us-east-1" if service == "iam" else "us-west-2").add_auth(aws)
    headers = {k.lower(): v if isinstance(v, str) else v.decode() for k, v in aws.headers.items()}
    return WireRequest("POST", url, headers, body)


def _form(service: str, action: str, fields: list[tuple[str, str]]) -> bytes:
    pairs = [("Action", action), ("Version", VERSIONS[service]), *fields]
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()


values = st.text(max_size=20) | st.sampled_from(["1", "0", "-5", "true", "x" * 300, "vol-1",
                                                 "us-west-2a", "{}", "arn:aws:iam::123456789012:role/x"])
forms = st.sampled_from(sorted(VERSIONS)).flatmap(lambda s: st.tuples(
    st.just(s), st.sampled_from(ACTIONS[s]),
    st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), values), max_size=5)))
raw = st.tuples(st.sampled_from(sorted(VERSIONS)), st.binary(max_size=80))


def _check(gateway: Gateway, service: str, body: bytes) -> None:
    response = gateway.handle(_request(service, body))
    assert response.status < 500, response.body
    root = ElementTree.fromstring(response.body)  # our own output: it must be well-formed XML
    if response.status >= 400:
        code = root.findtext("Errors/Error/Code") if service == "ec2" else root.findtext(
            "Error/Code")
        assert code, response.body


@settings(deadline=None)
@given(forms)
def test_fuzzed_forms_answer_in_the_protocols_xml(form: tuple[str, str, Any]) -> None:
    service, action, fields = form
    _check(Gateway(Simulation(seed=1)), service, _form(service, action, fields))


@settings(deadline=None)
@given(raw)
def test_fuzzed_bytes_answer_in_the_protocols_xml(case: tuple[str, bytes]) -> None:
    service, body = case
    _check(Gateway(Simulation(seed=1)), service, body)
