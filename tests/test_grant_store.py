"""GrantStore: creating, name idempotency, tokens, lookup, propagation, retiring, narrowing."""

from __future__ import annotations

import re

import pytest
from authz_support import ACCOUNT, KEY_ARN, OTHER_KEY_ARN, ROOT, make_runtime

from simulator.errors import InvalidGrantTokenException, LimitExceededException
from simulator.kms.grants import GrantConstraints, GrantStore

BOB = f"arn:aws:iam::{ACCOUNT}:user/Bob"
CAROL = f"arn:aws:iam::{ACCOUNT}:user/Carol"


def new_store(propagation: float = 0.0, **kw):
    rt = make_runtime(propagation=propagation)
    return rt, GrantStore(rt, **kw)


def create(store, grantee=BOB, operations=("Decrypt",), constraints=None, key=KEY_ARN,
           name=None, retiring=None):
    return store.create(key_arn=key, grantee_principal=grantee, operations=operations,
                        constraints=constraints, retiring_principal=retiring, name=name,
                        created_by=ROOT.arn)


def find(store, operation="Decrypt", context=None, grantee=BOB, key=KEY_ARN, tokens=(),
         check=None):
    return store.find(key_arn=key, grantee=grantee, operation=operation,
                      encryption_context=context, tokens=tokens, check=check)


def test_create_returns_the_grant_and_an_opaque_token():
    rt, store = new_store()
    grant, token = create(store, constraints=GrantConstraints(
        encryption_context_subset={"a": "b"}), name="n1", retiring=CAROL)
    assert re.fullmatch(r"[0-9a-f]{64}", grant.grant_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) <= 8192
    assert grant.key_arn == KEY_ARN and grant.grantee_principal == BOB
    assert grant.retiring_principal == CAROL and grant.name == "n1"
    assert grant.issuing_account == f"arn:aws:iam::{ACCOUNT}:root"
    assert grant.creation_date == rt.clock.now() and grant.created_by == ROOT.arn
    assert grant.operations == ("Decrypt",)


def test_tokens_and_ids_are_deterministic_per_seed():
    def run():
        _, store = new_store()
        return [create(store) for _ in range(3)]

    assert run() == run()


def test_duplicate_operations_are_stored_once():
    _, store = new_store()
    grant, _ = create(store, operations=("Decrypt", "Encrypt", "Decrypt"))
    assert grant.operations == ("Decrypt", "Encrypt")


def test_stored_constraints_cannot_be_changed_through_the_callers_dict():
    _, store = new_store()
    ctx = {"a": "b"}
    grant, _ = create(store, constraints=GrantConstraints(encryption_context_equals=ctx))
    ctx["a"] = "changed"
    assert dict(grant.constraints.encryption_context_equals) == {"a": "b"}
    assert find(store, context={"a": "b"}) == grant


def test_same_name_and_properties_returns_the_original_grant_with_a_new_token():
    _, store = new_store()
    g1, t1 = create(store, name="ws", operations=("Decrypt", "Encrypt"))
    g2, t2 = create(store, name="ws", operations=("Encrypt", "Decrypt"))
    assert g2 == g1 and t2 != t1
    assert store.count(KEY_ARN) == 1
    assert store.resolve_tokens([t1, t2]) == [g1, g1]


def test_same_name_with_different_properties_creates_a_new_grant():
    _, store = new_store()
    g1, _ = create(store, name="ws")
    g2, _ = create(store, name="ws", operations=("Encrypt",))
    g3, _ = create(store, name="ws", grantee=CAROL)
    g4, _ = create(store, name="ws", constraints=GrantConstraints(
        encryption_context_subset={"a": "b"}))
    assert len({g1.grant_id, g2.grant_id, g3.grant_id, g4.grant_id}) == 4


def test_without_a_name_identical_calls_create_separate_grants():
    _, store = new_store()
    assert create(store)[0] != create(store)[0]
    assert store.count(KEY_ARN) == 2


def test_name_retry_after_retirement_creates_a_new_grant():
    _, store = new_store()
    g1, _ = create(store, name="ws")
    store.retire(g1)
    g2, _ = create(store, name="ws")
    assert g2.grant_id != g1.grant_id


def test_grant_quota_per_key_is_limit_exceeded_and_changes_nothing():
    _, store = new_store(max_grants_per_key=3)
    for _ in range(3):
        create(store)
    with pytest.raises(LimitExceededException, match=KEY_ARN):
        create(store)
    assert store.count(KEY_ARN) == 3
    create(store, key=OTHER_KEY_ARN)  # quota is per key
    first = store.list(KEY_ARN)[0]
    store.revoke(first)
    create(store)
    assert store.count(KEY_ARN) == 3


def test_named_identical_retry_succeeds_at_the_quota():
    _, store = new_store(max_grants_per_key=1)
    g, _ = create(store, name="only")
    assert create(store, name="only")[0] == g


def test_default_quota_is_50000():
    _, store = new_store()
    assert store.max_grants_per_key == 50_000


@pytest.mark.parametrize("token", ["", "has space", "a+b/c", "x=", "é", None, 5, "a" * 8193])
def test_malformed_tokens_are_invalid_grant_token(token):
    _, store = new_store()
    with pytest.raises(InvalidGrantTokenException, match="malformed"):
        store.resolve_tokens([token])
    with pytest.raises(InvalidGrantTokenException):
        find(store, tokens=(token,))


def test_unknown_well_formed_token_is_invalid_grant_token():
    _, store = new_store()
    _, token = create(store)
    fake = token[:100] + ("A" if token[100] != "A" else "B") + token[101:]
    with pytest.raises(InvalidGrantTokenException, match="not valid"):
        store.resolve_tokens([token, fake])


def test_tokens_reveal_nothing_about_the_grant():
    _, store = new_store()
    grant, token = create(store, name="visible-name")
    for secretish in (grant.grant_id, "visible-name", BOB, KEY_ARN):
        assert secretish not in token


def test_find_matches_key_grantee_and_operation():
    _, store = new_store()
    grant, _ = create(store, operations=("Decrypt", "DescribeKey"))
    assert find(store) == grant
    assert find(store, operation="DescribeKey") == grant
    assert find(store, operation="Encrypt") is None
    assert find(store, grantee=CAROL) is None
    assert find(store, key=OTHER_KEY_ARN) is None


def test_equals_constraint_needs_the_exact_context():
    _, store = new_store()
    c = GrantConstraints(encryption_context_equals={"Dept": "hr", "app": "x"})
    grant, _ = create(store, constraints=c)
    assert find(store, context={"app": "x", "Dept": "hr"}) == grant
    assert find(store, context={"DEPT": "hr", "APP": "x"}) == grant  # keys ignore case
    assert find(store, context={"Dept": "HR", "app": "x"}) is None  # values do not
    assert find(store, context={"Dept": "hr"}) is None
    assert find(store, context={"Dept": "hr", "app": "x", "more": "1"}) is None
    assert find(store, context=None) is None


def test_subset_constraint_needs_its_pairs_and_allows_more():
    _, store = new_store()
    grant, _ = create(store, constraints=GrantConstraints(
        encryption_context_subset={"aws:workspaces:sid-directoryid": "[S-1]@[d-1]"}))
    ctx = {"aws:workspaces:sid-directoryid": "[S-1]@[d-1]", "aws:ebs:id": "vol-1"}
    assert find(store, context=ctx) == grant
    assert find(store, context={"AWS:WorkSpaces:SID-DirectoryId": "[S-1]@[d-1]"}) == grant
    assert find(store, context={"aws:workspaces:sid-directoryid": "[s-1]@[d-1]"}) is None
    assert find(store, context={"aws:ebs:id": "vol-1"}) is None
    assert find(store, context={}) is None


def test_equals_and_subset_together_must_both_hold():
    _, store = new_store()
    grant, _ = create(store, constraints=GrantConstraints(
        encryption_context_equals={"a": "1", "b": "2"}, encryption_context_subset={"a": "1"}))
    assert find(store, context={"a": "1", "b": "2"}) == grant
    _, store2 = new_store()
    create(store2, constraints=GrantConstraints(
        encryption_context_equals={"b": "2"}, encryption_context_subset={"a": "1"}))
    assert find(store2, context={"b": "2"}) is None


def test_empty_subset_constraint_allows_any_context():
    _, store = new_store()
    grant, _ = create(store, constraints=GrantConstraints(encryption_context_subset={}))
    assert find(store, context={"x": "y"}) == grant
    assert find(store, context=None) == grant


def test_constraints_are_ignored_for_operations_without_a_context():
    _, store = new_store()
    grant, _ = create(store, operations=("DescribeKey", "RetireGrant", "CreateGrant", "Decrypt"),
                      constraints=GrantConstraints(encryption_context_equals={"a": "1"}))
    for op in ("DescribeKey", "RetireGrant", "CreateGrant"):
        assert find(store, operation=op, context={"other": "x"}) == grant
        assert find(store, operation=op) == grant
    assert find(store, operation="Decrypt", context={"other": "x"}) is None


def test_check_predicate_filters_candidates():
    _, store = new_store()
    g1, _ = create(store, operations=("CreateGrant", "Decrypt"))
    g2, _ = create(store, operations=("CreateGrant", "Encrypt"))
    assert find(store, operation="CreateGrant",
                check=lambda g: "Encrypt" in g.operations) == g2
    assert find(store, operation="CreateGrant", check=lambda g: False) is None
    assert find(store, operation="CreateGrant") == g1  # earliest first


def test_many_grants_for_one_grantee_with_different_contexts_are_each_found():
    _, store = new_store()
    grants = {}
    for i in range(300):
        kind = "equals" if i % 2 else "subset"
        c = GrantConstraints(**{f"encryption_context_{kind}": {"vol": f"v{i}"}})
        grants[i] = create(store, constraints=c)[0]
    for i in (0, 1, 150, 299):
        assert find(store, context={"vol": f"v{i}"}) == grants[i]
    assert find(store, context={"vol": "v0", "extra": "e"}) == grants[0]  # subset
    assert find(store, context={"vol": "v1", "extra": "e"}) is None  # equals
    assert find(store, context={"vol": "v9999"}) is None


def test_subset_lookup_scans_when_the_context_is_larger_than_the_bucket():
    _, store = new_store()
    grant, _ = create(store, constraints=GrantConstraints(
        encryption_context_subset={"k3": "v3", "k7": "v7"}))
    big = {f"k{i}": f"v{i}" for i in range(20)}  # 2**20 subsets: must not enumerate them
    assert find(store, context=big) == grant
    big["k7"] = "other"
    assert find(store, context=big) is None


def test_subset_lookup_with_many_constraints_and_a_large_context_finds_the_right_grant():
    _, store = new_store()
    made = {}
    for i in range(12):  # more distinct constraints than are scanned outright
        c = GrantConstraints(encryption_context_subset={f"k{i}": f"v{i}", f"k{i + 1}": "x"})
        made[i] = create(store, constraints=c)[0]
    big = {f"k{i}": f"v{i}" for i in range(16)}  # 2**16 subsets > 12 constraints: scan
    assert find(store, context=big) is None
    big["k6"] = "x"
    assert find(store, context=big) == made[5]
    small = {"k3": "v3", "K4": "x", "other": "o"}  # 2**3 <= 12: enumerate subsets
    assert find(store, context=small) == made[3]


def test_new_grant_needs_its_token_until_propagation_passes():
    rt, store = new_store(propagation=300)
    grant, token = create(store)
    assert find(store) is None
    assert find(store, tokens=(token,)) == grant
    rt.clock.advance(299)
    assert find(store) is None
    rt.clock.advance(1)
    assert find(store) == grant


def test_a_token_of_another_grant_does_not_make_this_one_usable():
    _, store = new_store(propagation=300)
    create(store)
    _, other_token = create(store, grantee=CAROL)
    assert find(store, tokens=(other_token,)) is None


def test_retired_grant_keeps_working_until_propagation_passes():
    rt, store = new_store(propagation=300)
    grant, token = create(store)
    rt.clock.advance(300)
    store.retire(grant)
    assert store.get(KEY_ARN, grant.grant_id) is None
    assert store.list(KEY_ARN) == [] and store.count(KEY_ARN) == 0
    assert find(store) == grant
    rt.clock.advance(300)
    assert find(store) is None
    assert find(store, tokens=(token,)) is None


def test_revoked_grant_stops_at_once_without_propagation_delay():
    _, store = new_store()
    grant, token = create(store)
    store.revoke(grant)
    assert find(store) is None
    assert find(store, tokens=(token,)) is None
    assert store.resolve_tokens([token]) == []  # a valid token; its grant is gone (forgotten)


def test_retire_and_revoke_of_a_grant_no_longer_current_do_nothing():
    _, store = new_store()
    grant, _ = create(store)
    store.retire(grant)
    store.revoke(grant)
    store.retire(grant)
    assert store.count(KEY_ARN) == 0


def test_get_and_list_show_current_grants_in_creation_order():
    _, store = new_store()
    g1, _ = create(store)
    g2, _ = create(store, grantee=CAROL)
    g3, _ = create(store)
    create(store, key=OTHER_KEY_ARN)
    assert store.list(KEY_ARN) == [g1, g2, g3]
    assert store.list(KEY_ARN, grantee_principal=BOB) == [g1, g3]
    assert store.list(KEY_ARN, grant_id=g2.grant_id) == [g2]
    assert store.list(KEY_ARN, grant_id="0" * 64) == []
    assert store.get(KEY_ARN, g1.grant_id) == g1
    assert store.get(OTHER_KEY_ARN, g1.grant_id) is None
    store.retire(g2)
    assert store.list(KEY_ARN) == [g1, g3]


def test_list_retirable_spans_keys_and_drops_retired_grants():
    _, store = new_store()
    g1, _ = create(store, retiring=CAROL)
    g2, _ = create(store, key=OTHER_KEY_ARN, retiring=CAROL)
    create(store, retiring=BOB)
    assert store.list_retirable(CAROL) == [g1, g2]
    store.retire(g1)
    assert store.list_retirable(CAROL) == [g2]
    assert store.list_retirable("arn:aws:iam::123456789012:user/Nobody") == []


def test_remove_key_forgets_its_grants_and_tokens():
    _, store = new_store(propagation=300)
    grant, token = create(store, retiring=CAROL, name="n")
    keep, keep_token = create(store, key=OTHER_KEY_ARN)
    store.remove_key(KEY_ARN)
    assert store.count(KEY_ARN) == 0 and store.list(KEY_ARN) == []
    assert store.list_retirable(CAROL) == []
    assert find(store, tokens=(keep_token,), key=OTHER_KEY_ARN) == keep
    with pytest.raises(InvalidGrantTokenException):
        store.resolve_tokens([token])
    assert create(store, name="n")[0] != grant


def test_propagation_delay_can_change_at_run_time():
    rt, store = new_store(propagation=0)
    grant, _ = create(store)
    rt.settings.grant_propagation_seconds = 600
    assert find(store) is None  # a fault stretched propagation: not visible yet
    rt.clock.advance(600)
    assert find(store) == grant


# --- is_narrower ---------------------------------------------------------------------------------


def parent(operations=("Decrypt", "Encrypt", "CreateGrant"), constraints=None):
    _, store = new_store()
    return create(store, operations=operations, constraints=constraints)[0]


def eq(**kv):
    return GrantConstraints(encryption_context_equals=kv)


def sub(**kv):
    return GrantConstraints(encryption_context_subset=kv)


def test_child_operations_must_be_a_subset_of_the_parents():
    p = parent()
    assert GrantStore.is_narrower(["Decrypt"], None, p)
    assert GrantStore.is_narrower(["Decrypt", "Encrypt", "CreateGrant"], None, p)
    assert not GrantStore.is_narrower(["Decrypt", "ReEncryptFrom"], None, p)


@pytest.mark.parametrize("parent_c, child_c, ok", [
    (None, None, True),
    (None, sub(a="1"), True),
    (None, eq(a="1"), True),
    (sub(a="1"), None, False),
    (sub(a="1"), sub(a="1"), True),
    (sub(a="1"), sub(A="1"), True),  # keys ignore case
    (sub(a="1"), sub(a="1", b="2"), True),
    (sub(a="1"), sub(b="2"), False),
    (sub(a="1"), sub(a="X"), False),
    (sub(a="1"), eq(a="1", b="2"), True),
    (sub(a="1"), eq(b="2"), False),
    (eq(a="1"), eq(a="1"), True),
    (eq(a="1"), eq(a="1", b="2"), False),
    (eq(a="1"), sub(a="1"), False),
    (eq(a="1"), None, False),
    (eq(a="1"), GrantConstraints(encryption_context_equals={"b": "2"},
                                 encryption_context_subset={"a": "1"}), True),  # allows nothing
])
def test_child_constraints_must_be_at_least_as_strict(parent_c, child_c, ok):
    assert GrantStore.is_narrower(["Decrypt"], child_c, parent(constraints=parent_c)) is ok


def test_constraints_allows_helper_and_constraint_types():
    c = GrantConstraints(encryption_context_equals={"a": "1"},
                         encryption_context_subset={"a": "1"})
    assert c.allows({"A": "1"}) and not c.allows({"a": "2"})
    assert c.constraint_types == ("EncryptionContextEquals", "EncryptionContextSubset")
    assert c.to_dict() == {"encryption_context_equals": {"a": "1"},
                           "encryption_context_subset": {"a": "1"}}
