"""Policy parsing and validation: what KMS and IAM accept and refuse, and with which error."""

from __future__ import annotations

import json

import pytest
from authz_support import ACCOUNT, make_runtime, statement_policy

from simulator.errors import (
    LimitExceededException,
    MalformedPolicyDocumentException,
    ValidationException,
)
from simulator.iam.policy import KEY_POLICY_MAX_BYTES, default_key_policy, parse_policy
from simulator.iam.service import IdentityAndAccessManagement

ALLOW_ROOT = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},'
              '"Action":"kms:*","Resource":"*"}')


def key(text, **kw):
    return parse_policy(text, kind="key", **kw)


def ident(text):
    return parse_policy(text, kind="identity")


def malformed(text, match=None, kind="key", **kw):
    with pytest.raises(MalformedPolicyDocumentException, match=match):
        parse_policy(text, kind=kind, **kw)


def test_default_key_policy_is_the_aws_recorded_document():
    text = default_key_policy(ACCOUNT)
    assert json.loads(text) == {
        "Version": "2012-10-17", "Id": "key-default-1",
        "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                       "Action": "kms:*", "Resource": "*"}]}
    doc = key(text)
    assert doc.id == "key-default-1" and doc.version == "2012-10-17"
    assert doc.statements[0].sid == "Enable IAM User Permissions"


def test_parsed_document_keeps_the_text_exactly():
    text = "  " + statement_policy(ALLOW_ROOT) + "\n"
    assert key(text).text == text


def test_statement_may_be_a_single_object():
    doc = key('{"Statement": ' + ALLOW_ROOT + "}")
    assert len(doc.statements) == 1


@pytest.mark.parametrize("value", [None, 5, 1.5, b"{}", {"Statement": []}, ["x"]])
def test_non_string_policy_is_a_validation_error(value):
    with pytest.raises(ValidationException):
        key(value)
    with pytest.raises(ValidationException):
        ident(value)


def test_empty_policy_is_a_validation_error():
    with pytest.raises(ValidationException):
        key("")


def test_key_policy_over_32k_bytes_is_limit_exceeded():
    base = statement_policy(ALLOW_ROOT)
    exact = base + " " * (KEY_POLICY_MAX_BYTES - len(base))
    assert len(exact.encode()) == KEY_POLICY_MAX_BYTES
    key(exact)
    with pytest.raises(LimitExceededException):
        key(exact + " ")


def test_key_policy_size_counts_bytes_not_characters():
    base = statement_policy(ALLOW_ROOT.replace('"Effect"', '"Sid":"é","Effect"'))
    padded = base + " " * (KEY_POLICY_MAX_BYTES - len(base))  # é is 2 bytes in UTF-8
    with pytest.raises(LimitExceededException):
        key(padded)


@pytest.mark.parametrize("char", ["\u0100", "\u0000", "\u001f", "\U0001F600", "\u2028"])
def test_characters_outside_the_allowed_set_are_malformed(char):
    malformed(statement_policy(ALLOW_ROOT.replace('"Effect"', f'"Sid":"{char}","Effect"')),
              "outside the allowed set")


def test_tabs_newlines_and_latin1_are_allowed():
    key("{\t\r\n" + '"Statement": ' + ALLOW_ROOT.replace('"Effect"', '"Sid":"ÿé ok","Effect"')
        + "}")


@pytest.mark.parametrize("text", ["{", "not json", '{"Statement": [}', "{'Statement': []}"])
def test_invalid_json_is_malformed(text):
    malformed(text, "Syntax errors in policy")


@pytest.mark.parametrize("text", ["[]", '"x"', "5", "null", "true"])
def test_non_object_json_is_malformed(text):
    malformed(text)


@pytest.mark.parametrize("text, match", [
    ("{}", "Missing required field Statement"),
    ('{"Statement": []}', "non-empty"),
    ('{"Statement": "x"}', "Statement"),
    ('{"Statement": ["x"]}', "JSON object"),
    ('{"Statement": [' + ALLOW_ROOT + '], "Extra": 1}', "unknown field"),
    ('{"Version": "2020-01-01", "Statement": [' + ALLOW_ROOT + "]}", "version"),
    ('{"Version": 5, "Statement": [' + ALLOW_ROOT + "]}", "version"),
    ('{"Id": 5, "Statement": [' + ALLOW_ROOT + "]}", "Id"),
])
def test_bad_document_shapes_are_malformed(text, match):
    malformed(text, match)


@pytest.mark.parametrize("effect", ["Permit", "allow", "DENY", "", None, True])
def test_unknown_effect_is_malformed(effect):
    stmt = json.loads(ALLOW_ROOT)
    stmt["Effect"] = effect
    malformed(statement_policy(json.dumps(stmt)), "Invalid effect")


def test_missing_effect_is_malformed():
    stmt = json.loads(ALLOW_ROOT)
    del stmt["Effect"]
    malformed(statement_policy(json.dumps(stmt)), "Effect")


def test_unknown_statement_field_is_malformed():
    stmt = json.loads(ALLOW_ROOT)
    stmt["Effects"] = "Allow"
    malformed(statement_policy(json.dumps(stmt)), "unknown field")


@pytest.mark.parametrize("a, b", [("Action", "NotAction"), ("Resource", "NotResource"),
                                  ("Principal", "NotPrincipal")])
def test_element_and_its_negation_together_are_malformed(a, b):
    stmt = json.loads(ALLOW_ROOT)
    stmt[a] = stmt.get(a, "*")
    stmt[b] = stmt[a]
    malformed(statement_policy(json.dumps(stmt)), "both")


@pytest.mark.parametrize("principal", [
    "Alice",
    {"AWS": "Alice"},
    {"AWS": "arn:aws:iam::12345:root"},
    {"AWS": "arn:aws:iam::123456789012:user/*"},
    {"AWS": "arn:aws:iam::123456789012:group/admins"},
    {"AWS": "arn:aws:sts::123456789012:root"},
    {"AWS": []},
    {"AWS": 123456789012},
    {"AWS": [None]},
    {"Bogus": "x"},
    {},
    [],
    "**",
    {"Service": "not a service"},
    {"Service": "*"},
])
def test_invalid_principals_are_malformed_with_the_aws_text(principal):
    stmt = json.loads(ALLOW_ROOT)
    stmt["Principal"] = principal
    malformed(statement_policy(json.dumps(stmt)),
              "Policy contains a statement with one or more invalid principals.")


def test_principal_that_does_not_exist_is_malformed():
    iam = IdentityAndAccessManagement(make_runtime())
    text = statement_policy(ALLOW_ROOT.replace(":root", ":user/Nobody"))
    malformed(text, "invalid principals", principal_exists=iam.principal_exists)
    iam.create_user(user_name="Nobody")
    key(text, principal_exists=iam.principal_exists)


def test_valid_principal_forms_are_accepted():
    for principal in ("*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"AWS": [ACCOUNT, "111122223333"]},
                      {"AWS": "arn:aws:sts::123456789012:assumed-role/R/session"},
                      {"AWS": "arn:aws:iam::123456789012:role/path/to/R"},
                      {"Service": "ec2.amazonaws.com"},
                      {"Service": ["workspaces.amazonaws.com", "logs.us-west-2.amazonaws.com"]}):
        stmt = json.loads(ALLOW_ROOT)
        stmt["Principal"] = principal
        key(statement_policy(json.dumps(stmt)))


def test_key_policy_statement_without_principal_is_malformed():
    stmt = json.loads(ALLOW_ROOT)
    del stmt["Principal"]
    malformed(statement_policy(json.dumps(stmt)), "invalid principals")


def test_identity_policy_with_principal_is_malformed():
    malformed(statement_policy(ALLOW_ROOT), "should not specify a principal", kind="identity")


@pytest.mark.parametrize("missing, match", [("Action", "must contain actions"),
                                            ("Resource", "must contain resources")])
def test_identity_statement_needs_action_and_resource(missing, match):
    stmt = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    del stmt[missing]
    malformed(statement_policy(json.dumps(stmt)), match, kind="identity")
    stmt[missing] = []
    malformed(statement_policy(json.dumps(stmt)), match, kind="identity")


def test_key_statement_without_action_or_resource_is_accepted_but_inert():
    for missing in ("Action", "Resource"):
        stmt = json.loads(ALLOW_ROOT)
        del stmt[missing]
        doc = key(statement_policy(json.dumps(stmt)))
        assert doc.statements[0].inert
        assert doc.applicable("kms:Decrypt", "arn:aws:kms:us-west-2:1:key/x") == ()


@pytest.mark.parametrize("action", ["Decrypt", "kms:", ":Decrypt", "kms:De crypt", "kms/Decrypt"])
def test_action_without_a_vendor_prefix_is_malformed(action):
    stmt = json.loads(ALLOW_ROOT)
    stmt["Action"] = action
    malformed(statement_policy(json.dumps(stmt)), "prefaced by a vendor")


@pytest.mark.parametrize("value", [5, None, {"a": 1}, [1], [None], True])
def test_action_and_resource_of_wrong_type_are_malformed(value):
    for element in ("Action", "Resource"):
        stmt = json.loads(ALLOW_ROOT)
        stmt[element] = value
        malformed(statement_policy(json.dumps(stmt)))


def test_identity_resource_must_be_an_arn_or_star():
    malformed(statement_policy('{"Effect":"Allow","Action":"kms:*","Resource":"key/1"}'),
              "ARN format", kind="identity")


def test_identity_sids_must_be_alphanumeric_and_unique():
    s = '{"Sid":"%s","Effect":"Allow","Action":"kms:*","Resource":"*"}'
    malformed(statement_policy(s % "has space"), "alpha-numeric", kind="identity")
    malformed(statement_policy(s % "One", s % "One"), "unique", kind="identity")
    ident(statement_policy(s % "One", s % "Two"))


def test_key_policy_sids_may_contain_spaces():
    key(statement_policy(ALLOW_ROOT.replace('"Effect"', '"Sid":"Enable IAM policies","Effect"')))


def test_sid_of_wrong_type_is_malformed():
    malformed(statement_policy(ALLOW_ROOT.replace('"Effect"', '"Sid":5,"Effect"')), "Sid")


@pytest.mark.parametrize("condition, match", [
    ('"x"', "JSON object"),
    ('{"StringEqual": {"kms:CallerAccount": "1"}}', "Invalid Condition type"),
    ('{"ForSomeValues:StringEquals": {"kms:CallerAccount": "1"}}', "Invalid Condition type"),
    ('{"ForAnyValue:Null": {"kms:CallerAccount": "true"}}', "Invalid Condition type"),
    ('{"StringEquals": "x"}', "must map condition keys"),
    ('{"StringEquals": {}}', "must map condition keys"),
    ('{"StringEquals": {"CallerAccount": "1"}}', "prefaced by a vendor"),
    ('{"StringEquals": {"kms:CallerAccount": {"a": 1}}}', "values must be"),
    ('{"StringEquals": {"kms:CallerAccount": [null]}}', "values must be"),
    ('{"NumericLessThan": {"kms:X": "ten"}}', "Invalid number"),
    ('{"DateLessThan": {"aws:CurrentTime": "yesterday"}}', "Invalid date"),
    ('{"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}', "Invalid IP"),
])
def test_bad_conditions_are_malformed(condition, match):
    stmt = ALLOW_ROOT[:-1] + ',"Condition":' + condition + "}"
    malformed(statement_policy(stmt), match)


@pytest.mark.parametrize("qualifier", ["ForAllValues", "ForAnyValue"])
def test_set_operator_on_encryption_context_key_is_overly_permissive_in_key_policy(qualifier):
    stmt = (ALLOW_ROOT[:-1] + ',"Condition":{"' + qualifier
            + ':StringEquals":{"kms:EncryptionContext:Dept":"hr"}}}')
    malformed(statement_policy(stmt), "OverlyPermissiveCondition")
    # The multivalued kms:EncryptionContextKeys is what set operators are for.
    key(statement_policy(stmt.replace("kms:EncryptionContext:Dept", "kms:EncryptionContextKeys")))


def test_unknown_policy_kind_is_a_validation_error():
    with pytest.raises(ValidationException):
        parse_policy(statement_policy(ALLOW_ROOT), kind="trust")  # type: ignore[arg-type]


def test_deeply_nested_json_is_malformed_not_a_crash():
    malformed("[" * 16_000 + "]" * 16_000)
    malformed("{" + '"a":{' * 100_000 + "}" * 100_001, kind="identity")


def test_a_lone_surrogate_is_malformed_not_a_unicode_error():
    malformed(statement_policy(ALLOW_ROOT.replace('"Effect"', '"Sid":"\ud800","Effect"')),
              "outside the allowed set")


def test_an_integer_beyond_pythons_digit_limit_is_malformed():
    huge = ALLOW_ROOT.replace('"Resource":"*"', '"Resource":"*","Condition":{"NumericEquals":'
                              '{"kms:GrantConstraintType":' + "1" * 5000 + "}}")
    malformed(statement_policy(huge), "Syntax errors in policy")


def test_many_wildcards_in_one_pattern_match_in_linear_time():
    import time

    deny = ('{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"arn:' + "*?" * 12
            + '*#"}')
    doc = key('{"Version":"2012-10-17","Statement":[' + ALLOW_ROOT + "," + deny + "]}")
    start = time.perf_counter()
    # A naive ".*"-per-star regex backtracks 8x per extra "*?": this took minutes before.
    assert not doc.statements[1].matches_resource("arn:aws:kms:us-west-2:" + "1" * 40)
    assert time.perf_counter() - start < 1.0
