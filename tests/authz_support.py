"""Small helpers shared by the authorisation tests (IAM, policies, evaluator, grants)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simulator.clock import Clock
from simulator.iam.policy import PolicyDocument, default_key_policy, parse_policy
from simulator.iam.principals import Caller
from simulator.iam.service import IdentityAndAccessManagement
from simulator.kms.authz import KmsDecision, KmsRequest, authorize_kms
from simulator.kms.grants import GrantStore
from simulator.runtime import Runtime, Settings

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/0987dcba-09ab-09cd-09ef-0987654321ab"
ROOT = Caller.root(ACCOUNT)


def make_runtime(seed: int = 7, *, propagation: float = 0.0) -> Runtime:
    return Runtime(Settings(grant_propagation_seconds=propagation), seed=seed, clock=Clock())


def key_policy(text: str, iam: IdentityAndAccessManagement | None = None) -> PolicyDocument:
    return parse_policy(text, kind="key",
                        principal_exists=None if iam is None else iam.principal_exists)


def identity_policy(text: str) -> PolicyDocument:
    return parse_policy(text, kind="identity")


DEFAULT_POLICY = parse_policy(default_key_policy(ACCOUNT), kind="key")


def user(name: str, account: str = ACCOUNT) -> Caller:
    return Caller(arn=f"arn:aws:iam::{account}:user/{name}", account_id=account, type="IAMUser",
                  principal_id="AIDA" + name.upper(), user_name=name)


def decide(caller: Caller, action: str, *, policy: PolicyDocument = DEFAULT_POLICY,
           iam: Sequence[PolicyDocument] = (), grants: GrantStore | None = None,
           conditions: Mapping[str, object] | None = None, grant_operation: str | None = None,
           context: Mapping[str, str] | None = None, tokens: tuple[str, ...] = (),
           resource: str = KEY_ARN) -> KmsDecision:
    req = KmsRequest(caller=caller, action=action, resource=resource,
                      conditions=dict(conditions or {}), grant_operation=grant_operation,
                      encryption_context=context, grant_tokens=tokens)
    return authorize_kms(req, key_policy=policy, identity_policies=iam, grants=grants,
                         key_arn=resource)


def statement_policy(*statements: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + ", ".join(statements) + "]}"
