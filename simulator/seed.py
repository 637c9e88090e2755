"""The seed document's policies (WorkSpaces guide, "Encrypted WorkSpaces"), as data.

One place for the key policy and IAM policies the guide prints, used by the scenarios, the
testing kit and the tests. Statement contents are the seed's, unchanged; account
``123456789012`` and user ``Alice`` are its sample values, which the functions substitute.

Note the seed's key-users statement lists ``"kms:ReEncrypt"`` without a wildcard. There is no
such permission (ReEncrypt needs ``kms:ReEncryptFrom`` and ``kms:ReEncryptTo``), so that entry
matches nothing, exactly as in AWS; the console's default policy uses ``kms:ReEncrypt*``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "SEED_ACCOUNT",
    "SEED_ADMIN_ARN",
    "SEED_KEY_POLICY",
    "SEED_KEY_POLICY_WITHOUT_ROOT",
    "SEED_KMS_KEY_SCOPED_POLICY",
    "SEED_KMS_USER_POLICY",
    "SEED_WORKSPACES_ADMIN_POLICY",
    "seed_key_policy",
    "seed_key_scoped_policy",
    "seed_kms_iam_policy",
    "seed_workspaces_iam_policy",
]

SEED_ACCOUNT = "123456789012"
SEED_ADMIN_ARN = "arn:aws:iam::123456789012:user/Alice"
_SEED_KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _statements(account_id: str, admin_arn: str) -> dict[str, dict[str, Any]]:
    """The seed key policy's four statements, by role."""
    return {
        "root": {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                 "Action": "kms:*", "Resource": "*"},
        "admin": {"Effect": "Allow", "Principal": {"AWS": admin_arn},
                  "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                             "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*",
                             "kms:Get*", "kms:Delete*"],
                  "Resource": "*"},
        "user": {"Effect": "Allow", "Principal": {"AWS": admin_arn},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt",
                            "kms:GenerateDataKey*", "kms:DescribeKey"],
                 "Resource": "*"},
        "grants": {"Effect": "Allow", "Principal": {"AWS": admin_arn},
                   "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                   "Resource": "*",
                   "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    }


def seed_key_policy(account_id: str = SEED_ACCOUNT, admin_arn: str | None = None, *,
                    root: bool = True, admin: bool = True, user: bool = True,
                    grants: bool = True) -> str:
    """The seed's key policy for an account and administrator; the flags keep or drop its
    statements (``root`` is the account statement that lets IAM policies count at all)."""
    keep = {"root": root, "admin": admin, "user": user, "grants": grants}
    statements = _statements(account_id, admin_arn or f"arn:aws:iam::{account_id}:user/Alice")
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [s for name, s in statements.items() if keep[name]]},
                      indent=2)


def seed_workspaces_iam_policy() -> str:
    """The seed's IAM policy for the WorkSpaces administrator (WorkSpaces and Directory)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["ds:*", "ds:DescribeDirectories", "workspaces:*",
                   "workspaces:DescribeWorkspaceBundles", "workspaces:CreateWorkspaces",
                   "workspaces:DescribeWorkspaceBundles",
                   "workspaces:DescribeWorkspaceDirectories", "workspaces:DescribeWorkspaces",
                   "workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"],
        "Resource": "*"}]}, indent=2)


def seed_kms_iam_policy(key_arn: str | None = None) -> str:
    """The seed's IAM policy for using KMS with WorkSpaces: without ``key_arn``, CreateGrant,
    Describe* and List* on any key; with it, the key-scoped variant (CreateGrant on that key,
    ListAliases and ListKeys)."""
    if key_arn is not None:
        return seed_key_scoped_policy(key_arn)
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:Describe*", "kms:List*"],
        "Resource": "*"}]}, indent=2)


def seed_key_scoped_policy(key_arn: str = _SEED_KEY_ARN) -> str:
    """The seed's key-scoped IAM policy, naming ``key_arn`` instead of its sample ARN."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": key_arn},
        {"Effect": "Allow", "Action": ["kms:ListAliases", "kms:ListKeys"], "Resource": "*"},
    ]}, indent=2)


#: The seed's sample key policy: account root ``kms:*``; Alice as key administrator; Alice as
#: key user; CreateGrant/ListGrants/RevokeGrant for Alice only through an AWS service.
SEED_KEY_POLICY = seed_key_policy()
#: The same without the first (account root) statement: IAM policies then count for nothing.
SEED_KEY_POLICY_WITHOUT_ROOT = seed_key_policy(root=False)
SEED_WORKSPACES_ADMIN_POLICY = seed_workspaces_iam_policy()
SEED_KMS_USER_POLICY = seed_kms_iam_policy()
SEED_KMS_KEY_SCOPED_POLICY = seed_key_scoped_policy()
