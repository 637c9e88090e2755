"""The Condition element: operators, missing keys, set qualifiers, IfExists, Null."""

from __future__ import annotations

import pytest

from simulator.iam.conditions import normalize_context, parse_condition_block


def holds(block: dict, request: dict) -> bool:
    """AND of every condition in the block, as a statement evaluates it."""
    ctx = normalize_context(request)
    return all(c.holds(ctx) for c in parse_condition_block(block))


def test_string_equals_is_case_sensitive_and_ors_its_values():
    block = {"StringEquals": {"kms:CallerAccount": ["111", "222"]}}
    assert holds(block, {"kms:CallerAccount": "222"})
    assert not holds(block, {"kms:CallerAccount": "333"})
    assert not holds({"StringEquals": {"kms:X": "Abc"}}, {"kms:X": "abc"})


def test_several_keys_and_several_operators_are_anded():
    block = {"StringEquals": {"kms:A": "1", "kms:B": "2"}, "Bool": {"kms:C": "true"}}
    assert holds(block, {"kms:A": "1", "kms:B": "2", "kms:C": True})
    assert not holds(block, {"kms:A": "1", "kms:B": "2", "kms:C": False})
    assert not holds(block, {"kms:A": "1", "kms:C": True})


def test_condition_key_names_are_case_insensitive():
    block = {"StringEquals": {"KMS:EncryptionContext:Dept": "hr"}}
    assert holds(block, {"kms:encryptioncontext:dept": "hr"})


def test_ignore_case_operators():
    assert holds({"StringEqualsIgnoreCase": {"kms:X": "ABC"}}, {"kms:X": "abc"})
    assert not holds({"StringNotEqualsIgnoreCase": {"kms:X": "ABC"}}, {"kms:X": "abc"})
    assert holds({"StringNotEqualsIgnoreCase": {"kms:X": "ABC"}}, {"kms:X": "abd"})


def test_string_like_wildcards_are_case_sensitive():
    block = {"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}
    assert holds(block, {"kms:ViaService": "ec2.us-west-2.amazonaws.com"})
    assert not holds(block, {"kms:ViaService": "EC2.us-west-2.amazonaws.com"})
    assert holds({"StringLike": {"kms:X": "a?c"}}, {"kms:X": "abc"})
    assert not holds({"StringLike": {"kms:X": "a?c"}}, {"kms:X": "abbc"})
    assert not holds({"StringLike": {"kms:X": "a.c"}}, {"kms:X": "abc"})  # '.' is literal


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "StringEqualsIgnoreCase",
                                      "ArnLike", "ArnEquals", "Bool", "NumericEquals",
                                      "IpAddress", "DateEquals"])
def test_positive_operator_is_false_when_the_key_is_missing(operator):
    value = {"Bool": "true", "NumericEquals": "1", "IpAddress": "10.0.0.0/8",
             "DateEquals": "2026-01-01T00:00:00Z"}.get(operator, "arn:aws:kms:*:*:*:*")
    assert not holds({operator: {"kms:Missing": value}}, {})


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotLike",
                                      "StringNotEqualsIgnoreCase", "ArnNotLike", "ArnNotEquals",
                                      "NumericNotEquals", "NotIpAddress", "DateNotEquals"])
def test_negated_operator_is_true_when_the_key_is_missing(operator):
    value = {"NumericNotEquals": "1", "NotIpAddress": "10.0.0.0/8",
             "DateNotEquals": "2026-01-01T00:00:00Z"}.get(operator, "x")
    assert holds({operator: {"kms:Missing": value}}, {})


def test_string_not_equals_with_several_values_requires_matching_none():
    block = {"StringNotEquals": {"kms:X": ["a", "b"]}}
    assert holds(block, {"kms:X": "c"})
    assert not holds(block, {"kms:X": "b"})


def test_if_exists_passes_a_missing_key_and_checks_a_present_one():
    block = {"StringEqualsIfExists": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}
    assert holds(block, {})
    assert holds(block, {"kms:ViaService": "ec2.us-west-2.amazonaws.com"})
    assert not holds(block, {"kms:ViaService": "workspaces.us-west-2.amazonaws.com"})


def test_null_checks_presence():
    assert holds({"Null": {"kms:ViaService": "true"}}, {})
    assert not holds({"Null": {"kms:ViaService": "true"}}, {"kms:ViaService": "x"})
    assert holds({"Null": {"kms:ViaService": "false"}}, {"kms:ViaService": "x"})
    assert not holds({"Null": {"kms:ViaService": False}}, {})
    assert holds({"Null": {"kms:EncryptionContextKeys": "true"}}, {"kms:EncryptionContextKeys": []})


def test_bool_accepts_json_booleans_and_strings():
    for v in (True, "true", "True"):
        assert holds({"Bool": {"kms:GrantIsForAWSResource": v}},
                     {"kms:GrantIsForAWSResource": True})
    assert not holds({"Bool": {"kms:GrantIsForAWSResource": "true"}},
                     {"kms:GrantIsForAWSResource": False})
    assert holds({"Bool": {"kms:GrantIsForAWSResource": "true"}},
                 {"kms:GrantIsForAWSResource": "TRUE"})


def test_for_any_value_needs_one_match_and_fails_on_an_empty_set():
    block = {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]}}
    assert holds(block, {"kms:EncryptionContextKeys": ["x", "b"]})
    assert not holds(block, {"kms:EncryptionContextKeys": ["x", "y"]})
    assert not holds(block, {"kms:EncryptionContextKeys": []})
    assert not holds(block, {})


def test_for_all_values_needs_every_value_to_match_and_passes_an_empty_set():
    block = {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "RetireGrant"]}}
    assert holds(block, {"kms:GrantOperations": ["Decrypt"]})
    assert holds(block, {"kms:GrantOperations": ["Decrypt", "RetireGrant"]})
    assert not holds(block, {"kms:GrantOperations": ["Decrypt", "Encrypt"]})
    assert holds(block, {"kms:GrantOperations": []})
    assert holds(block, {})


def test_set_qualifiers_with_negated_operators():
    keys = {"kms:EncryptionContextKeys": ["a", "secret"]}
    assert not holds({"ForAllValues:StringNotEquals": {"kms:EncryptionContextKeys": "secret"}},
                     keys)
    assert holds({"ForAnyValue:StringNotEquals": {"kms:EncryptionContextKeys": "secret"}}, keys)
    assert holds({"ForAllValues:StringNotLike": {"kms:EncryptionContextKeys": "sec*"}},
                 {"kms:EncryptionContextKeys": ["a"]})


def test_multivalued_key_without_qualifier_matches_any_value():
    keys = {"kms:EncryptionContextKeys": ["a", "b"]}
    assert holds({"StringEquals": {"kms:EncryptionContextKeys": "b"}}, keys)
    assert not holds({"StringNotEquals": {"kms:EncryptionContextKeys": "b"}}, keys)


def test_qualifier_names_ignore_case_and_combine_with_if_exists():
    block = {"forallvalues:StringLikeIfExists": {"kms:GrantOperations": "Re*"}}
    assert holds(block, {"kms:GrantOperations": ["RetireGrant", "ReEncryptFrom"]})
    assert not holds(block, {"kms:GrantOperations": ["Decrypt"]})


def test_numeric_operators():
    assert holds({"NumericLessThan": {"kms:N": "10"}}, {"kms:N": 9})
    assert not holds({"NumericLessThan": {"kms:N": 10}}, {"kms:N": "10"})
    assert holds({"NumericLessThanEquals": {"kms:N": 10}}, {"kms:N": "10"})
    assert holds({"NumericGreaterThan": {"kms:N": "1.5"}}, {"kms:N": "2"})
    assert holds({"NumericGreaterThanEquals": {"kms:N": "2"}}, {"kms:N": "2.0"})
    assert holds({"NumericEquals": {"kms:N": ["1", "2"]}}, {"kms:N": "2"})
    assert not holds({"NumericEquals": {"kms:N": "1"}}, {"kms:N": "one"})
    assert holds({"NumericNotEquals": {"kms:N": "1"}}, {"kms:N": "2"})


def test_date_operators_accept_iso_and_epoch():
    now = {"aws:CurrentTime": "2026-01-05T09:00:00+00:00"}
    assert holds({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, now)
    assert holds({"DateLessThan": {"aws:CurrentTime": "2026-02-01"}}, now)
    assert not holds({"DateLessThan": {"aws:CurrentTime": 1767225600}}, now)  # 2026-01-01
    assert holds({"DateEquals": {"aws:CurrentTime": "2026-01-05T09:00:00Z"}}, now)


def test_ip_address_operators():
    assert holds({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.1"]}},
                 {"aws:SourceIp": "10.1.2.3"})
    assert not holds({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"})
    assert holds({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"})
    assert not holds({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "garbage"})


def test_arn_operators_match_component_by_component():
    role = "arn:aws:iam::123456789012:role/Ops"
    assert holds({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
                 {"aws:PrincipalArn": role})
    assert holds({"ArnEquals": {"aws:PrincipalArn": role}}, {"aws:PrincipalArn": role})
    # a wildcard does not span the colon between the account and resource components
    assert not holds({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}},
                     {"aws:PrincipalArn": role})
    assert holds({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}},
                 {"aws:PrincipalArn": role})
    assert not holds({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
                     {"aws:PrincipalArn": "not-an-arn"})


def test_binary_equals_compares_the_base64_text():
    assert holds({"BinaryEquals": {"kms:B": "QmluYXJ5"}}, {"kms:B": "QmluYXJ5"})


def test_request_values_are_normalised_to_strings():
    ctx = normalize_context({"kms:B": True, "kms:N": 3, "kms:L": ("x", "y"), "kms:None": None,
                             "KMS:Mixed": "v"})
    assert ctx == {"kms:b": ("true",), "kms:n": ("3",), "kms:l": ("x", "y"),
                   "kms:mixed": ("v",)}


def test_parsed_conditions_keep_what_was_written():
    (c,) = parse_condition_block({"ForAnyValue:StringLikeIfExists": {"kms:K": ["a", 1, True]}})
    assert (c.operator, c.base, c.qualifier, c.if_exists, c.key, c.values) == (
        "ForAnyValue:StringLikeIfExists", "StringLike", "ForAnyValue", True, "kms:K",
        ("a", "1", "true"))
