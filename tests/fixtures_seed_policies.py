"""The seed document's policies (WorkSpaces guide, "Encrypted WorkSpaces"), as reusable text.

The JSON is the seed's, unchanged except for line breaks. Account ``123456789012`` and user
``Alice`` are the seed's sample values; :func:`seed_key_policy` substitutes others.

Note the seed's key-users statement lists ``"kms:ReEncrypt"`` without a wildcard. There is no
such permission (ReEncrypt needs ``kms:ReEncryptFrom`` and ``kms:ReEncryptTo``), so that entry
matches nothing, exactly as in AWS; the console's default policy uses ``kms:ReEncrypt*``.
"""

from __future__ import annotations

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
]

SEED_ACCOUNT = "123456789012"
SEED_ADMIN_ARN = "arn:aws:iam::123456789012:user/Alice"

_ROOT_STATEMENT = """{
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
      "Action": "kms:*",
      "Resource": "*"
    }"""

_ADMIN_STATEMENTS = """{
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:user/Alice"},
      "Action": [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*"
      ],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:user/Alice"},
      "Action": [
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey*",
        "kms:DescribeKey"
      ],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:user/Alice"},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    }"""

#: The seed's sample key policy: account root ``kms:*``; Alice as key administrator; Alice as
#: key user; CreateGrant/ListGrants/RevokeGrant for Alice only through an AWS service.
SEED_KEY_POLICY = (
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n    ' + _ROOT_STATEMENT + ",\n    "
    + _ADMIN_STATEMENTS + "\n  ]\n}"
)

#: The same without the first (account root) statement: IAM policies then count for nothing.
SEED_KEY_POLICY_WITHOUT_ROOT = (
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n    ' + _ADMIN_STATEMENTS + "\n  ]\n}"
)

#: IAM policy for the WorkSpaces administrator (directory and WorkSpaces permissions).
SEED_WORKSPACES_ADMIN_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ds:*", "ds:DescribeDirectories", "workspaces:*", "workspaces:DescribeWorkspaceBundles",
        "workspaces:CreateWorkspaces", "workspaces:DescribeWorkspaceBundles",
        "workspaces:DescribeWorkspaceDirectories", "workspaces:DescribeWorkspaces",
        "workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"
      ],
      "Resource": "*"
    }
  ]
}"""

#: IAM policy giving read-only access to keys and the ability to create grants.
SEED_KMS_USER_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["kms:CreateGrant", "kms:Describe*", "kms:List*"],
      "Resource": "*"
    }
  ]
}"""

#: IAM policy naming one key (the seed's sample ARN, in account 111122223333).
SEED_KMS_KEY_SCOPED_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "kms:CreateGrant",
      "Resource": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    },
    {
      "Effect": "Allow",
      "Action": ["kms:ListAliases", "kms:ListKeys"],
      "Resource": "*"
    }
  ]
}"""


def seed_key_policy(account_id: str = SEED_ACCOUNT, admin_arn: str | None = None, *,
                    with_root: bool = True) -> str:
    """The seed key policy for another account and/or administrator ARN."""
    text = SEED_KEY_POLICY if with_root else SEED_KEY_POLICY_WITHOUT_ROOT
    text = text.replace(SEED_ADMIN_ARN, admin_arn or f"arn:aws:iam::{account_id}:user/Alice")
    return text.replace(f"arn:aws:iam::{SEED_ACCOUNT}:root", f"arn:aws:iam::{account_id}:root")


def seed_key_scoped_policy(key_arn: str) -> str:
    """The seed's key-scoped IAM policy, naming ``key_arn`` instead of the sample ARN."""
    return SEED_KMS_KEY_SCOPED_POLICY.replace(
        "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", key_arn)
