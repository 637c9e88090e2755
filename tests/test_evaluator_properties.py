"""Random key policies, IAM policies, grants and requests against an independent model.

The model below is written from spec section C directly, with ``fnmatch`` for wildcards and a
handful of explicit condition forms, sharing no code with the evaluator. The evaluator must agree
with it on every decision, so in particular it never allows what neither a policy statement nor a
live grant allows, and an explicit Deny always wins.
"""

from __future__ import annotations

import fnmatch
import json

from authz_support import ACCOUNT, KEY_ARN, OTHER_ACCOUNT, ROOT, make_runtime, user
from hypothesis import given
from hypothesis import strategies as st

from simulator.iam.policy import parse_policy
from simulator.kms.authz import KmsRequest, authorize_kms
from simulator.kms.grants import GrantConstraints, GrantStore

CALLERS = {
    "root": ROOT,
    "bob": user("Bob"),
    "carol": user("Carol"),
    "eve": user("Eve", OTHER_ACCOUNT),
}
PRINCIPALS = {
    "*": "*",
    "account": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "bare-account": {"AWS": ACCOUNT},
    "other-account": {"AWS": OTHER_ACCOUNT},
    "bob": {"AWS": CALLERS["bob"].arn},
    "carol": {"AWS": CALLERS["carol"].arn},
}
ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:DescribeKey",
           "kms:GenerateDataKey", "kms:ReEncryptFrom"]
PATTERNS = ["kms:*", "*", "kms:Decrypt", "kms:De*", "kms:GenerateDataKey*", "kms:Create*",
            "kms:ReEncrypt*", "kms:?ncrypt", "KMS:DESCRIBEKEY"]
CONDITIONS = {
    "none": None,
    "service": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    "via-ec2": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}},
    "via-ec2-if-exists": {"StringEqualsIfExists": {
        "kms:ViaService": "ec2.us-west-2.amazonaws.com"}},
    "other-account": {"StringNotEquals": {"kms:CallerAccount": ACCOUNT}},
    "context-dept-hr": {"StringEquals": {"kms:EncryptionContext:dept": "hr"}},
}


def model_condition(name, caller, context):
    via = caller.via_service
    if name == "none":
        return True
    if name == "service":
        return via is not None
    if name == "via-ec2":
        return via == "ec2.us-west-2.amazonaws.com"
    if name == "via-ec2-if-exists":
        return via is None or via == "ec2.us-west-2.amazonaws.com"
    if name == "other-account":
        return caller.account_id != ACCOUNT
    if name == "context-dept-hr":
        return any(k.lower() == "dept" and v == "hr" for k, v in (context or {}).items())
    raise AssertionError(name)


def model_principal(name, caller):
    """'direct', 'account' or None: how a key-policy principal covers the caller."""
    if name == "*":
        return "direct"
    if name in ("account", "bare-account"):
        if caller.account_id != ACCOUNT:
            return None
        return "direct" if caller.is_root else "account"
    if name == "other-account":
        return None if caller.account_id != OTHER_ACCOUNT else (
            "direct" if caller.is_root else "account")
    return "direct" if PRINCIPALS[name]["AWS"] == caller.arn else None


def action_matches(patterns, action):
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


key_statement = st.fixed_dictionaries({
    "effect": st.sampled_from(["Allow", "Allow", "Deny"]),
    "principal": st.sampled_from(sorted(PRINCIPALS)),
    "actions": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
    "condition": st.sampled_from(sorted(CONDITIONS)),
})
iam_statement = st.fixed_dictionaries({
    "effect": st.sampled_from(["Allow", "Allow", "Deny"]),
    "actions": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
    "resource": st.sampled_from(["*", KEY_ARN, "arn:aws:kms:*:123456789012:key/*",
                                 "arn:aws:kms:us-west-2:123456789012:key/other"]),
    "condition": st.sampled_from(sorted(CONDITIONS)),
})
grant_spec = st.fixed_dictionaries({
    "grantee": st.sampled_from(["bob", "carol", "eve"]),
    "operations": st.lists(st.sampled_from(["Decrypt", "Encrypt", "DescribeKey",
                                            "GenerateDataKey", "CreateGrant"]),
                           min_size=1, max_size=3),
    "subset": st.sampled_from([None, {"dept": "hr"}, {"DEPT": "hr"}, {"dept": "it"}]),
    "retired": st.booleans(),
})
request_spec = st.fixed_dictionaries({
    "caller": st.sampled_from(sorted(CALLERS)),
    "via": st.sampled_from([None, "ec2", "workspaces"]),
    "action": st.sampled_from(ACTIONS),
    "context": st.sampled_from([None, {}, {"dept": "hr"}, {"Dept": "hr"}, {"dept": "HR"},
                                {"dept": "hr", "x": "1"}]),
})


def to_json(stmt, with_principal):
    out = {"Effect": stmt["effect"], "Action": stmt["actions"],
           "Resource": stmt.get("resource", "*")}
    if with_principal:
        out["Principal"] = PRINCIPALS[stmt["principal"]]
    if CONDITIONS[stmt["condition"]] is not None:
        out["Condition"] = CONDITIONS[stmt["condition"]]
    return out


@given(key_stmts=st.lists(key_statement, min_size=1, max_size=5),
       iam_stmts=st.lists(iam_statement, max_size=3),
       grants=st.lists(grant_spec, max_size=4), req=request_spec)
def test_decisions_agree_with_an_independent_model(key_stmts, iam_stmts, grants, req):
    caller = CALLERS[req["caller"]]
    if req["via"]:
        caller = caller.through(req["via"], "us-west-2")
    action, context = req["action"], req["context"]
    grant_op = action.split(":")[1]
    uses_context = grant_op in ("Decrypt", "Encrypt", "GenerateDataKey", "ReEncryptFrom")

    key_doc = parse_policy(json.dumps({"Statement": [to_json(s, True) for s in key_stmts]}),
                           kind="key")
    iam_docs = []
    if iam_stmts and not caller.is_root:
        iam_docs = [parse_policy(json.dumps({"Statement": [to_json(s, False)
                                                           for s in iam_stmts]}),
                                 kind="identity")]
    rt = make_runtime(propagation=60)
    store = GrantStore(rt)
    made = [store.create(key_arn=KEY_ARN, grantee_principal=CALLERS[g["grantee"]].arn,
                         operations=g["operations"],
                         constraints=(None if g["subset"] is None else
                                      GrantConstraints(encryption_context_subset=g["subset"])),
                         retiring_principal=None, name=None, created_by=ROOT.arn)[0]
            for g in grants]
    rt.clock.advance(60)  # propagated
    for g, grant in zip(grants, made, strict=True):
        if g["retired"]:
            store.retire(grant)
    rt.clock.advance(60)  # and the retirements too

    conditions = {f"kms:EncryptionContext:{k}": v for k, v in (context or {}).items()}
    conditions["kms:GrantIsForAWSResource"] = caller.via_service is not None
    decision = authorize_kms(
        KmsRequest(caller=caller, action=action, resource=KEY_ARN, conditions=conditions,
                    grant_operation=grant_op, encryption_context=context),
        key_policy=key_doc, identity_policies=iam_docs, grants=store, key_arn=KEY_ARN)

    # --- the model -------------------------------------------------------------------------
    deny = direct = account = iam_allow = False
    for s in key_stmts:
        how = model_principal(s["principal"], caller)
        if how and action_matches(s["actions"], action) and model_condition(
                s["condition"], caller, context):
            if s["effect"] == "Deny":
                deny = True
            elif how == "direct":
                direct = True
            else:
                account = True
    if not caller.is_root:
        for s in iam_stmts:
            resource_ok = fnmatch.fnmatchcase(KEY_ARN, s["resource"])
            if resource_ok and action_matches(s["actions"], action) and model_condition(
                    s["condition"], caller, context):
                if s["effect"] == "Deny":
                    deny = True
                else:
                    iam_allow = True
    grant_ok = any(
        not g["retired"] and CALLERS[g["grantee"]].arn == caller.arn and grant_op in g["operations"]
        and (not uses_context or g["subset"] is None or all(
            any(k.lower() == ck.lower() and v == cv for ck, cv in (context or {}).items())
            for k, v in g["subset"].items()))
        for g in grants)
    if caller.account_id != ACCOUNT:
        # Another account's caller needs its own IAM policy even where the key policy names it
        # (KMS Developer Guide, "Allowing users in other accounts to use a KMS key").
        account, direct = account or direct, False
    expected = not deny and (direct or (account and (iam_allow or caller.is_root)) or grant_ok)

    assert decision.allowed == expected
    if deny:
        assert decision.reason == "explicit-deny"
    if decision.allowed:
        assert decision.reason in ("key-policy", "iam", "grant")
        assert direct or account or grant_ok  # never allows what nothing allows
    else:
        assert caller.arn in decision.message and action in decision.message
