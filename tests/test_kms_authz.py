"""KMS authorization through the service: key policy, IAM policies and grants together
(simulator.kms.authz), for operations whose rules go beyond one key."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import AccessDeniedException, InvalidGrantTokenException, NotFoundException
from simulator.iam.policy import parse_policy

ACCOUNT = "123456789012"
ALLOW_ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
              "Action": "kms:*", "Resource": "*"}


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_kms_still_applies_a_conditional_deny_to_the_root():
    sim = Simulation(seed=3)
    text = _policy(ALLOW_ROOT, {
        "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "hr"}}})
    key = sim.kms.create_key(policy=text)
    hr = sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"dept": "hr"})
    it = sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"dept": "it"})
    assert sim.kms.decrypt(ciphertext_blob=it.ciphertext_blob,
                           encryption_context={"dept": "it"}).plaintext == b"x"
    with pytest.raises(AccessDeniedException):
        sim.kms.decrypt(ciphertext_blob=hr.ciphertext_blob, encryption_context={"dept": "hr"})


def test_kms_checks_presented_grant_tokens_even_when_the_key_policy_allows():
    sim = Simulation(seed=3)
    key = sim.kms.create_key()
    with pytest.raises(InvalidGrantTokenException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256", grant_tokens=["not-a-token"])


# --- UpdateAlias: the alias, the current target and the new target ---------------------------


def _alias_world(*, on_current: bool, on_new: bool, on_alias: bool):
    """Bob may call kms:UpdateAlias on the keys the flags say (key policies naming him), and
    on the alias when ``on_alias`` (his IAM policy)."""
    sim = Simulation(seed=5)
    bob = sim.iam.create_user(user_name="Bob").arn
    bob_stmt = {"Effect": "Allow", "Principal": {"AWS": bob}, "Action": "kms:UpdateAlias",
                "Resource": "*"}
    current = sim.kms.create_key(policy=_policy(ALLOW_ROOT, *([bob_stmt] if on_current else [])))
    new = sim.kms.create_key(policy=_policy(ALLOW_ROOT, *([bob_stmt] if on_new else [])))
    sim.kms.create_alias(alias_name="alias/app", target_key_id=current.key_id)
    if on_alias:
        sim.iam.put_user_policy(user_name="Bob", policy_name="alias", policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "kms:UpdateAlias",
                "Resource": f"arn:aws:kms:us-west-2:{ACCOUNT}:alias/app"}]}))
    return sim, sim.as_principal(bob).kms, current, new


def _target(sim: Simulation) -> str:
    (entry,) = [a for a in sim.kms.list_aliases().aliases if a.alias_name == "alias/app"]
    return entry.target_key_id


@pytest.mark.parametrize("missing", ["alias", "current", "new"])
def test_update_alias_needs_permission_on_the_alias_and_both_keys(missing):
    sim, as_bob, current, new = _alias_world(on_current=missing != "current",
                                             on_new=missing != "new", on_alias=missing != "alias")
    with pytest.raises(AccessDeniedException) as err:
        as_bob.update_alias(alias_name="alias/app", target_key_id=new.key_id)
    assert "kms:UpdateAlias" in err.value.message
    assert _target(sim) == current.key_id  # a failed call changes nothing


def test_update_alias_with_permission_on_the_alias_and_both_keys_moves_it():
    sim, as_bob, _, new = _alias_world(on_current=True, on_new=True, on_alias=True)
    as_bob.update_alias(alias_name="alias/app", target_key_id=new.key_id)
    assert _target(sim) == new.key_id


# --- ARNs of another partition ---------------------------------------------------------------


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov", "aws-iso"])
def test_a_key_arn_of_another_partition_is_not_found(partition):
    sim = Simulation(seed=5)
    key = sim.kms.create_key()
    foreign = key.arn.replace("arn:aws:", f"arn:{partition}:", 1)
    with pytest.raises(NotFoundException) as err:
        sim.kms.describe_key(key_id=foreign)
    assert err.value.message == f"Key '{foreign}' does not exist"
    with pytest.raises(NotFoundException):
        sim.kms.encrypt(key_id=foreign, plaintext=b"x")


def test_an_alias_arn_of_another_partition_is_not_found():
    sim = Simulation(seed=5)
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    foreign = f"arn:aws-cn:kms:us-west-2:{ACCOUNT}:alias/app"
    with pytest.raises(NotFoundException) as err:
        sim.kms.encrypt(key_id=foreign, plaintext=b"x")
    assert err.value.message == f"Alias {foreign} is not found."
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id=foreign)
    # The simulation's own partition still resolves.
    own = foreign.replace("arn:aws-cn:", "arn:aws:", 1)
    assert sim.kms.describe_key(key_id=own).key_id == key.key_id


def test_parse_policy_takes_no_account_id():
    with pytest.raises(TypeError):
        parse_policy(_policy(ALLOW_ROOT), kind="key", account_id=ACCOUNT)  # type: ignore[call-arg]
