"""Grant operations through the KMS service: create, use, list, retire, revoke, propagate."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    DisabledException,
    InvalidCiphertextException,
    InvalidGrantTokenException,
    NotFoundException,
    ValidationException,
)
from simulator.seed import SEED_KMS_USER_POLICY, SEED_WORKSPACES_ADMIN_POLICY, seed_key_policy
from tests.conftest import kms_fingerprint

CTX = {"aws:workspaces:sid-directoryid": "[S-1-5-21-1-2-3-1107]@[d-1234abcd01]", "aws:ebs:id": "vol-1"}


def _propagate(sim: Simulation) -> None:
    """Wait out grant eventual consistency (on by default): the change is now visible."""
    sim.advance(seconds=sim.settings.grant_propagation_seconds)


@pytest.fixture
def bob(sim: Simulation) -> str:
    return sim.iam.create_user(user_name="Bob").arn


def test_a_grant_lets_its_grantee_use_the_key(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context=CTX).ciphertext_blob
    as_bob = sim.as_principal(bob).kms
    with pytest.raises(AccessDeniedException) as err:
        as_bob.decrypt(ciphertext_blob=blob, encryption_context=CTX)
    assert bob in err.value.message and "kms:Decrypt" in err.value.message and key.arn in err.value.message
    sim.kms.create_grant(key_id=key.key_id, grantee_principal=bob, operations=["Decrypt"])
    _propagate(sim)
    assert as_bob.decrypt(ciphertext_blob=blob, encryption_context=CTX).plaintext == b"x"
    with pytest.raises(AccessDeniedException):
        as_bob.encrypt(key_id=key.arn, plaintext=b"y")


def test_subset_constraint_is_enforced_on_every_use(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt", "GenerateDataKey"],
                         constraints={"encryption_context_subset": {"aws:ebs:id": "vol-1"}})
    _propagate(sim)
    as_bob = sim.as_principal(bob).kms
    dk = as_bob.generate_data_key(key_id=key.arn, encryption_context=CTX, key_spec="AES_256")
    assert as_bob.decrypt(ciphertext_blob=dk.ciphertext_blob, encryption_context=CTX).plaintext == dk.plaintext
    with pytest.raises(AccessDeniedException):
        as_bob.generate_data_key(key_id=key.arn, encryption_context={"aws:ebs:id": "vol-2"}, key_spec="AES_256")
    with pytest.raises(AccessDeniedException):
        as_bob.generate_data_key(key_id=key.arn, key_spec="AES_256")


def test_equals_constraint_keys_are_case_insensitive_values_are_not(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"],
                         constraints={"encryption_context_equals": {"Purpose": "Test"}})
    _propagate(sim)
    as_bob = sim.as_principal(bob).kms
    as_bob.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"purpose": "Test"})
    with pytest.raises(AccessDeniedException):
        as_bob.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"purpose": "test"})
    # The cryptographic binding stays fully case-sensitive.
    blob = as_bob.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"purpose": "Test"}).ciphertext_blob
    with pytest.raises(InvalidCiphertextException):
        sim.kms.decrypt(ciphertext_blob=blob, encryption_context={"Purpose": "Test"})


def test_grant_operations_must_suit_the_key(sim: Simulation, bob: str) -> None:
    sym = sim.kms.create_key()
    sign = sim.kms.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    before = kms_fingerprint(sim)
    with pytest.raises(ValidationException):
        sim.kms.create_grant(key_id=sym.arn, grantee_principal=bob, operations=["Sign"])
    with pytest.raises(ValidationException):
        sim.kms.create_grant(key_id=sign.arn, grantee_principal=bob, operations=["GenerateDataKey"])
    with pytest.raises(ValidationException):
        sim.kms.create_grant(key_id=sign.arn, grantee_principal=bob, operations=["Sign"],
                             constraints={"encryption_context_subset": {"a": "b"}})
    assert kms_fingerprint(sim) == before


@pytest.mark.parametrize("kwargs", [
    {"operations": []}, {"operations": ["Dance"]}, {"operations": "Decrypt"},
    {"grantee_principal": "has spaces"},
    {"grantee_service_principal": "rds.amazonaws.com",
     "constraints": {"source_arn": "arn:aws:rds:us-west-2:123456789012:db:one"},
     "retiring_principal": "arn:aws:iam::123456789012:root"},  # and grantee_principal: both
    {"grantee_principal": None},
    {"grantee_principal": None, "grantee_service_principal": "rds.amazonaws.com",
     "retiring_principal": "arn:aws:iam::123456789012:root"},  # no SourceArn
    {"grantee_principal": None, "grantee_service_principal": "rds.amazonaws.com",
     "constraints": {"source_arn": "arn:aws:rds:us-west-2:123456789012:db:one"}},  # no retirer
    {"grantee_principal": None, "grantee_service_principal": "not a service",
     "constraints": {"source_arn": "arn:aws:rds:us-west-2:123456789012:db:one"},
     "retiring_principal": "arn:aws:iam::123456789012:root"},
    {"constraints": {"source_arn": "not-an-arn"}},
    {"retiring_principal": "arn:aws:iam::123456789012:root",
     "retiring_service_principal": "rds.amazonaws.com"},
    {"constraints": {"encryption_context_subset": {f"k{i}": "v" for i in range(9)}}},
    {"constraints": {"EncryptionContextSubset": {"a": "b"}}},
    {"constraints": {"encryption_context_subset": {"a": "v" * 385}}},
    {"name": "bad name!"}, {"grant_tokens": ["x"] * 11},
])
def test_bad_create_grant_input_is_a_validation_error_and_creates_nothing(
        sim: Simulation, bob: str, kwargs: dict[str, object]) -> None:
    key = sim.kms.create_key()
    params: dict[str, object] = {"key_id": key.arn, "grantee_principal": bob, "operations": ["Decrypt"]}
    params.update(kwargs)
    with pytest.raises(ValidationException):
        sim.kms.create_grant(**params)  # type: ignore[arg-type]
    assert sim.kms.list_grants(key_id=key.arn).grants == ()


def test_create_grant_on_disabled_key(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"])


def test_create_grant_takes_key_ids_and_arns_not_aliases(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/k", target_key_id=key.key_id)
    with pytest.raises(NotFoundException):
        sim.kms.create_grant(key_id="alias/k", grantee_principal=bob, operations=["Decrypt"])


def test_name_makes_create_grant_idempotent_with_a_new_token(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    a = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"], name="n1")
    b = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"], name="n1")
    assert a.grant_id == b.grant_id and a.grant_token != b.grant_token
    assert len(sim.kms.list_grants(key_id=key.arn).grants) == 1


def test_list_grants_filters_and_pages(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    carol = sim.iam.create_user(user_name="Carol").arn
    ids = [sim.kms.create_grant(key_id=key.arn, grantee_principal=p, operations=["Decrypt"]).grant_id
           for p in (bob, carol, bob)]
    page = sim.kms.list_grants(key_id=key.arn, limit=2)
    assert page.truncated and [g.grant_id for g in page.grants] == ids[:2]
    rest = sim.kms.list_grants(key_id=key.arn, limit=2, marker=page.next_marker)
    assert [g.grant_id for g in rest.grants] == ids[2:]
    assert [g.grant_id for g in sim.kms.list_grants(key_id=key.arn, grantee_principal=bob).grants] == [ids[0], ids[2]]
    entry = sim.kms.list_grants(key_id=key.arn, grant_id=ids[1]).grants[0]
    assert entry.grantee_principal == carol and entry.issuing_account == "arn:aws:iam::123456789012:root"
    assert entry.key_id == key.arn


def test_retire_by_token_by_the_retiring_principal(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    carol = sim.iam.create_user(user_name="Carol").arn
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"],
                             retiring_principal=carol)
    with pytest.raises(AccessDeniedException):
        sim.as_principal(bob).kms.retire_grant(grant_token=g.grant_token)
    sim.as_principal(carol).kms.retire_grant(grant_token=g.grant_token)
    assert sim.kms.list_grants(key_id=key.arn).grants == ()
    with pytest.raises(NotFoundException):
        sim.as_principal(carol).kms.retire_grant(grant_token=g.grant_token)
    assert [r.grant_id for r in sim.kms.list_retirable_grants(retiring_principal=carol).grants] == []


def test_grantee_may_retire_only_with_the_retire_grant_operation(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt", "RetireGrant"])
    sim.as_principal(bob).kms.retire_grant(key_id=key.arn, grant_id=g.grant_id)
    assert sim.kms.list_grants(key_id=key.arn).grants == ()


_DENY_RETIRE = """{"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "kms:RetireGrant", "Resource": "*"}]}"""


@pytest.mark.parametrize("who", ["retiring principal", "grantee"])
def test_an_iam_deny_of_retire_grant_stops_retiring_principal_and_grantee(
        sim: Simulation, bob: str, who: str) -> None:
    key = sim.kms.create_key()
    ops = ["Decrypt", "RetireGrant"]
    g = (sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=ops,
                              retiring_principal=bob) if who == "retiring principal"
         else sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=ops))
    sim.iam.put_user_policy(user_name="Bob", policy_name="no-retire", policy_document=_DENY_RETIRE)
    with pytest.raises(AccessDeniedException) as denied:
        sim.as_principal(bob).kms.retire_grant(grant_token=g.grant_token)
    assert "explicit deny" in denied.value.message and "kms:RetireGrant" in denied.value.message
    assert [e.grant_id for e in sim.kms.list_grants(key_id=key.arn).grants] == [g.grant_id]


def test_unknown_and_malformed_grant_tokens(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    with pytest.raises(InvalidGrantTokenException):
        sim.kms.retire_grant(grant_token="not a token!")
    with pytest.raises(InvalidGrantTokenException):
        sim.kms.encrypt(key_id=key.arn, plaintext=b"x", grant_tokens=["A" * 64])


def test_revoke_grant_stops_the_grantee(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    _propagate(sim)
    as_bob = sim.as_principal(bob).kms
    as_bob.encrypt(key_id=key.arn, plaintext=b"x")
    sim.kms.revoke_grant(key_id=key.arn, grant_id=g.grant_id)
    _propagate(sim)
    with pytest.raises(AccessDeniedException):
        as_bob.encrypt(key_id=key.arn, plaintext=b"x")
    with pytest.raises(NotFoundException):
        sim.kms.revoke_grant(key_id=key.arn, grant_id=g.grant_id)


def test_grant_eventual_consistency_is_on_by_default() -> None:
    sim = Simulation(seed=5)
    assert sim.settings.grant_propagation_seconds == 300  # KMS guide: usually within 5 minutes
    bob = sim.iam.create_user(user_name="Bob").arn
    key = sim.kms.create_key()
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    as_bob = sim.as_principal(bob).kms
    with pytest.raises(AccessDeniedException):  # not yet propagated, and no token
        as_bob.encrypt(key_id=key.arn, plaintext=b"x")
    as_bob.encrypt(key_id=key.arn, plaintext=b"x", grant_tokens=[g.grant_token])
    sim.kms.revoke_grant(key_id=key.arn, grant_id=g.grant_id)
    as_bob.encrypt(key_id=key.arn, plaintext=b"x", grant_tokens=[g.grant_token])  # still ending


def test_zero_propagation_is_an_explicit_choice() -> None:
    sim = Simulation(seed=5, grant_propagation_seconds=0)
    bob = sim.iam.create_user(user_name="Bob").arn
    key = sim.kms.create_key()
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    sim.as_principal(bob).kms.encrypt(key_id=key.arn, plaintext=b"x")
    sim.kms.revoke_grant(key_id=key.arn, grant_id=g.grant_id)
    with pytest.raises(AccessDeniedException):
        sim.as_principal(bob).kms.encrypt(key_id=key.arn, plaintext=b"x")


def test_propagation_delay_needs_the_token_and_keeps_retired_grants_alive() -> None:
    sim = Simulation(seed=5, grant_propagation_seconds=300)
    bob = sim.iam.create_user(user_name="Bob").arn
    key = sim.kms.create_key()
    g = sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    as_bob = sim.as_principal(bob).kms
    with pytest.raises(AccessDeniedException):
        as_bob.encrypt(key_id=key.arn, plaintext=b"x")
    as_bob.encrypt(key_id=key.arn, plaintext=b"x", grant_tokens=[g.grant_token])
    sim.advance(seconds=300)
    as_bob.encrypt(key_id=key.arn, plaintext=b"x")
    sim.kms.revoke_grant(key_id=key.arn, grant_id=g.grant_id)
    as_bob.encrypt(key_id=key.arn, plaintext=b"x")  # still propagating
    sim.advance(seconds=300)
    with pytest.raises(AccessDeniedException):
        as_bob.encrypt(key_id=key.arn, plaintext=b"x")


def test_a_create_grant_grant_allows_only_narrower_children(sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    carol = sim.iam.create_user(user_name="Carol").arn
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["CreateGrant", "Decrypt"],
                         constraints={"encryption_context_subset": {"tenant": "a"}})
    _propagate(sim)
    as_bob = sim.as_principal(bob).kms
    as_bob.create_grant(key_id=key.arn, grantee_principal=carol, operations=["Decrypt"],
                        constraints={"encryption_context_subset": {"tenant": "a", "vol": "1"}})
    with pytest.raises(AccessDeniedException):
        as_bob.create_grant(key_id=key.arn, grantee_principal=carol, operations=["Encrypt"],
                            constraints={"encryption_context_subset": {"tenant": "a"}})
    with pytest.raises(AccessDeniedException):
        as_bob.create_grant(key_id=key.arn, grantee_principal=carol, operations=["Decrypt"])


def test_seed_grant_statement_lets_alice_create_grants_only_through_a_service(sim: Simulation) -> None:
    import json

    alice = sim.iam.create_user(user_name="Alice")
    sim.iam.put_user_policy(user_name="Alice", policy_name="ws", policy_document=SEED_WORKSPACES_ADMIN_POLICY)
    sim.iam.put_user_policy(user_name="Alice", policy_name="kms", policy_document=SEED_KMS_USER_POLICY)
    # Keep only the seed's 4th statement (CreateGrant/ListGrants/RevokeGrant if GrantIsForAWSResource)
    # and the root statement without IAM rights for Alice's kms:CreateGrant... i.e. the 4th alone.
    seed = json.loads(seed_key_policy(sim.account_id, alice.arn))
    fourth = [st for st in seed["Statement"] if "Condition" in st]
    keep_admin = {"Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "kms:PutKeyPolicy", "Resource": "*"}
    key = sim.kms.create_key(policy=json.dumps({"Version": "2012-10-17", "Statement": [*fourth, keep_admin]}),
                             bypass_policy_lockout_safety_check=True)
    grantee = "arn:aws:sts::123456789012:assumed-role/aws:workspaces-infrastructure/workspaces"
    direct = sim.as_principal(alice.arn).kms
    with pytest.raises(AccessDeniedException):
        direct.create_grant(key_id=key.arn, grantee_principal=grantee, operations=["Decrypt"])
    via = direct.with_caller(direct.caller.through("workspaces", sim.region))
    via.create_grant(key_id=key.arn, grantee_principal=grantee, operations=["Decrypt"])
    rec = sim.audit.events(event_name="CreateGrant", principal_arn=alice.arn)
    assert rec[0]["errorCode"] == "AccessDeniedException" and "invokedBy" not in rec[0]["userIdentity"]
    assert rec[1]["userIdentity"]["invokedBy"] == "workspaces.amazonaws.com" and "errorCode" not in rec[1]


def test_explicit_deny_in_the_key_policy_beats_a_grant(sim: Simulation, bob: str) -> None:
    import json

    key = sim.kms.create_key()
    sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Encrypt"])
    policy = json.loads(sim.kms.get_key_policy(key_id=key.arn).policy)
    policy["Statement"].append({"Effect": "Deny", "Principal": {"AWS": bob}, "Action": "kms:Encrypt",
                                "Resource": "*"})
    sim.kms.put_key_policy(key_id=key.arn, policy=json.dumps(policy))
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        sim.as_principal(bob).kms.encrypt(key_id=key.arn, plaintext=b"x")


def test_constraint_names_that_are_not_strings_are_a_validation_error_and_audited(
        sim: Simulation, bob: str) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.create_grant(key_id=key.arn, grantee_principal=bob, operations=["Decrypt"],
                             constraints={1: {}})  # type: ignore[dict-item]
    assert [e["errorCode"] for e in sim.audit.events("CreateGrant")] == ["ValidationException"]
    assert sim.kms.list_grants(key_id=key.arn).grants == ()


def test_a_grant_to_a_service_principal_for_one_resource(sim: Simulation) -> None:
    key = sim.kms.create_key()
    source = "arn:aws:rds:us-west-2:123456789012:db:orders"
    made = sim.kms.create_grant(
        key_id=key.arn, grantee_service_principal="rds.amazonaws.com", operations=["Decrypt"],
        retiring_service_principal="rds.amazonaws.com", constraints={"source_arn": source})
    [entry] = sim.kms.list_grants(key_id=key.arn).grants
    assert entry.grant_id == made.grant_id
    assert (entry.grantee_principal, entry.grantee_service_principal) == (None,
                                                                          "rds.amazonaws.com")
    assert (entry.retiring_principal, entry.retiring_service_principal) == (None,
                                                                            "rds.amazonaws.com")
    assert entry.constraints == {"source_arn": source}
    sim.kms.revoke_grant(key_id=key.arn, grant_id=made.grant_id)
    assert sim.kms.list_grants(key_id=key.arn).grants == ()


def test_a_source_arn_grant_allows_no_request_made_for_no_resource(sim: Simulation,
                                                                    bob: str) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x").ciphertext_blob
    made = sim.kms.create_grant(
        key_id=key.arn, grantee_principal=bob, operations=["Decrypt"],
        constraints={"source_arn": "arn:aws:rds:us-west-2:123456789012:db:orders"})
    _propagate(sim)
    with pytest.raises(AccessDeniedException):
        sim.as_principal(bob).kms.decrypt(ciphertext_blob=blob, grant_tokens=[made.grant_token])


def test_a_service_principal_may_be_named_as_grantee_principal(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.create_grant(key_id=key.arn, grantee_principal="logs.us-west-2.amazonaws.com",
                         operations=["Encrypt"])
    [entry] = sim.kms.list_grants(key_id=key.arn).grants
    assert entry.grantee_principal == "logs.us-west-2.amazonaws.com"
    assert entry.grantee_service_principal is None
