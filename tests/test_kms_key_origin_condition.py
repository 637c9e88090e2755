"""kms:KeyOrigin is a condition key of every operation on a key (AWS KMS Developer Guide,
"kms:KeyOrigin": CreateKey and key resource operations), not only the asymmetric ones."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException


def test_a_key_policy_conditioned_on_the_key_origin_governs_symmetric_operations(
        sim: Simulation) -> None:
    bob = sim.iam.create_user(user_name="Bob").arn
    root = f"arn:aws:iam::{sim.account_id}:root"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": bob},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_KMS"}}},
        {"Effect": "Deny", "Principal": {"AWS": bob}, "Action": "kms:GenerateDataKey",
         "Resource": "*", "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_KMS"}}}]})
    key = sim.kms.create_key(policy=policy).arn
    as_bob = sim.as_principal(bob).kms

    blob = as_bob.encrypt(key_id=key, plaintext=b"x").ciphertext_blob
    assert as_bob.decrypt(ciphertext_blob=blob).plaintext == b"x"
    assert as_bob.describe_key(key_id=key).origin == "AWS_KMS"
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        as_bob.generate_data_key(key_id=key, key_spec="AES_256")
