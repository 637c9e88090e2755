"""Cost of one KMS authorisation decision, and that it stays flat in the number of grants.

Run: ``python bench/authz_bench.py`` (a few seconds). Prints microseconds per decision and the
ratio to a baseline measured in the same run:

- grants: a Decrypt allowed by a grant (EncryptionContextSubset on two pairs, as EBS uses), with
  1, 100 and 10,000 grants on the key, laid out two ways: many grantees with one grant each, and
  one grantee holding every grant with a different context. Ratio to the 1-grant case.
- policies: a Decrypt allowed by the key policy, with 1 and 50 statements (ratio to 1), plus an
  IAM-path decision (account statement + identity policy) and the root with the default policy.
- a bare AES-256-GCM wrap + unwrap of a 32-byte data key, for scale (the KMS bench budgets a
  GenerateDataKey + Decrypt pair at about 25x that).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from simulator.clock import Clock
from simulator.iam.policy import default_key_policy, parse_policy
from simulator.iam.principals import Caller, ebs_identity_arn
from simulator.kms.authz import KmsRequest, authorize_kms
from simulator.kms.grants import GrantConstraints, GrantStore
from simulator.runtime import Runtime, Settings

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SID_KEY = "aws:workspaces:sid-directoryid"
DEFAULT = parse_policy(default_key_policy(ACCOUNT), kind="key")
EBS = Caller(arn=ebs_identity_arn(ACCOUNT), account_id=ACCOUNT, type="AWSService")


def per_call_us(fn: Callable[[], object], min_time: float = 0.4) -> float:
    """Best of 5 runs, each long enough to be timed well; microseconds per call."""
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t
        if elapsed > min_time / 5:
            break
        n *= 2
    best = elapsed / n
    for _ in range(4):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def context(i: int) -> dict[str, str]:
    return {SID_KEY: f"[S-1-5-21-1-2-3-{1000 + i}]@[d-1234abcd01]", "aws:ebs:id": f"vol-{i:017x}"}


def grant_store(n: int, layout: str) -> tuple[GrantStore, dict[str, str]]:
    """``n`` grants on one key; returns the store and the context the EBS Decrypt will use."""
    store = GrantStore(Runtime(Settings(), seed=1, clock=Clock()))
    for i in range(n):
        grantee = EBS.arn if layout == "one-grantee" or i == n - 1 else (
            f"arn:aws:iam::{ACCOUNT}:user/u{i}")
        store.create(key_arn=KEY_ARN, grantee_principal=grantee,
                     operations=("Decrypt", "ReEncryptFrom", "ReEncryptTo", "RetireGrant"),
                     constraints=GrantConstraints(encryption_context_subset=context(i)),
                     retiring_principal=None, name=None, created_by=f"arn:aws:iam::{ACCOUNT}:root")
    return store, context(n - 1)


def decrypt_via_grant(store: GrantStore, ctx: dict[str, str]) -> Callable[[], object]:
    conditions: dict[str, object] = {f"kms:EncryptionContext:{k}": v for k, v in ctx.items()}
    conditions["kms:EncryptionContextKeys"] = list(ctx)
    conditions["kms:CallerAccount"] = ACCOUNT
    req = KmsRequest(caller=EBS, action="kms:Decrypt", resource=KEY_ARN, conditions=conditions,
                      grant_operation="Decrypt", encryption_context=ctx)

    def run() -> object:
        d = authorize_kms(req, key_policy=DEFAULT, identity_policies=(), grants=store,
                          key_arn=KEY_ARN)
        assert d.allowed and d.reason == "grant"
        return d

    return run


def policy_with(n_statements: int) -> str:
    stmts = [{"Sid": f"Other{i}", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/other{i}"},
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
              "Resource": "*",
              "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}}
             for i in range(n_statements - 1)]
    stmts.append({"Sid": "Alice", "Effect": "Allow",
                  "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Alice"},
                  "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                  "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}})
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})


def decrypt_via_policy(n_statements: int) -> Callable[[], object]:
    doc = parse_policy(policy_with(n_statements), kind="key")
    alice = Caller(arn=f"arn:aws:iam::{ACCOUNT}:user/Alice", account_id=ACCOUNT, type="IAMUser",
                   user_name="Alice")
    req = KmsRequest(caller=alice, action="kms:Decrypt", resource=KEY_ARN,
                      conditions={"kms:CallerAccount": ACCOUNT,
                                  "kms:EncryptionContext:a": "b"})

    def run() -> object:
        d = authorize_kms(req, key_policy=doc, identity_policies=(), grants=None,
                          key_arn=KEY_ARN)
        assert d.allowed and d.reason == "key-policy"
        return d

    return run


def root_default() -> Callable[[], object]:
    req = KmsRequest(caller=Caller.root(ACCOUNT), action="kms:Decrypt", resource=KEY_ARN,
                      conditions={"kms:CallerAccount": ACCOUNT})

    def run() -> object:
        return authorize_kms(req, key_policy=DEFAULT, identity_policies=(), grants=None,
                             key_arn=KEY_ARN)

    return run


def iam_path() -> Callable[[], object]:
    bob = Caller(arn=f"arn:aws:iam::{ACCOUNT}:user/Bob", account_id=ACCOUNT, type="IAMUser",
                 user_name="Bob")
    iam = parse_policy('{"Statement":{"Effect":"Allow","Action":["kms:Decrypt","kms:Describe*"],'
                       '"Resource":"arn:aws:kms:*:123456789012:key/*"}}', kind="identity")
    req = KmsRequest(caller=bob, action="kms:Decrypt", resource=KEY_ARN,
                      conditions={"kms:CallerAccount": ACCOUNT})

    def run() -> object:
        d = authorize_kms(req, key_policy=DEFAULT, identity_policies=(iam,), grants=None,
                          key_arn=KEY_ARN)
        assert d.allowed and d.reason == "iam"
        return d

    return run


def aes_gcm_pair() -> Callable[[], object] | None:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover
        return None
    aead = AESGCM(b"k" * 32)
    nonce, data_key, aad = b"n" * 12, b"d" * 32, b"context"

    def run() -> object:
        return aead.decrypt(nonce, aead.encrypt(nonce, data_key, aad), aad)

    return run


def main() -> None:
    print("KMS authorisation cost (µs per decision; best of 5)\n")
    print("Decrypt allowed by a grant (EncryptionContextSubset, 2 pairs):")
    for layout in ("many-grantees", "one-grantee"):
        base = None
        for n in (1, 100, 10_000):
            store, ctx = grant_store(n, layout)
            us = per_call_us(decrypt_via_grant(store, ctx))
            base = base or us
            print(f"  {layout:14s} {n:>6d} grants on the key: {us:7.2f} µs   x{us / base:5.2f}")
    print("\nDecrypt allowed by the key policy (statement naming the caller, one condition):")
    base = None
    for n in (1, 50):
        us = per_call_us(decrypt_via_policy(n))
        base = base or us
        print(f"  {n:>3d} statements: {us:7.2f} µs   x{us / base:5.2f}")
    root_us = per_call_us(root_default())
    print(f"\nroot + default key policy:            {root_us:7.2f} µs")
    print(f"IAM path (account statement + IAM):  {per_call_us(iam_path()):7.2f} µs")
    pair = aes_gcm_pair()
    if pair is not None:
        aes = per_call_us(pair)
        print(f"bare AES-256-GCM wrap+unwrap (32 B): {aes:7.2f} µs  "
              f"(root decision = x{root_us / aes:.2f} of it)")


if __name__ == "__main__":
    main()
