"""Two accounts for the cross-account tests: a security account's key, a workload account."""

from __future__ import annotations

import json
from typing import Any

from simulator import Simulation

WORKLOAD = "123456789012"  # the simulation's own (default) account
SECURITY = "111122223333"
REGION = "us-west-2"
DEV_ARN = f"arn:aws:iam::{WORKLOAD}:user/dev"

USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
               "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant",
               "kms:GetKeyRotationStatus"]


def key_policy(*external_principals: str) -> str:
    """The security account administers the key; each external principal may use it."""
    statements: list[dict[str, Any]] = [{
        "Sid": "Enable IAM policies", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SECURITY}:root"}, "Action": "kms:*",
        "Resource": "*"}]
    if external_principals:
        statements.append({
            "Sid": "Allow use of the key by the workload account", "Effect": "Allow",
            "Principal": {"AWS": list(external_principals)}, "Action": USE_ACTIONS,
            "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def iam_policy(resource: str, actions: list[str] | None = None) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions or USE_ACTIONS, "Resource": resource}]})


def two_accounts(*, key_policy_names: tuple[str, ...] = (f"arn:aws:iam::{WORKLOAD}:root",),
                 dev_iam: bool = True, seed: int = 3) -> tuple[Simulation, Any, str]:
    """The simulation (workload account), the security account's view and its key's ARN;
    the workload user ``dev`` exists, with an IAM policy on that key ARN when ``dev_iam``."""
    sim = Simulation(seed=seed)
    security = sim.view(account_id=SECURITY)
    key_arn = security.kms.create_key(policy=key_policy(*key_policy_names),
                                      description="central key").arn
    security.kms.create_alias(alias_name="alias/central", target_key_id=key_arn)
    sim.iam.create_user(user_name="dev")
    # EBS authorizes its callers too: dev runs the workload's volumes and instances.
    sim.iam.put_user_policy(user_name="dev", policy_name="Ec2", policy_document=iam_policy(
        "*", ["ec2:*", "ssm:StartSession"]))
    if dev_iam:
        sim.iam.put_user_policy(user_name="dev", policy_name="UseCentralKey",
                                policy_document=iam_policy(key_arn))
    return sim, security, key_arn
