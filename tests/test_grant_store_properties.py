"""Property tests of grant constraints, the grant index and grant eventual consistency."""

from __future__ import annotations

from authz_support import KEY_ARN, ROOT, make_runtime
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.kms.grants import GrantConstraints, GrantStore

GRANTEE = "arn:aws:iam::123456789012:user/Bob"
# Small alphabets so that keys collide in case and values collide exactly.
keys = st.sampled_from(["a", "A", "b", "B", "ctx", "CTX", "aws:ebs:id"])
values = st.sampled_from(["x", "X", "y", "vol-1", ""])
contexts = st.dictionaries(keys, values, max_size=5)


def pairs_match(k1: str, v1: str, k2: str, v2: str) -> bool:
    """The grant-constraint case rule, written out: keys ignore case, values do not."""
    return k1.lower() == k2.lower() and v1 == v2


def model_subset(constraint: dict, request: dict) -> bool:
    return all(any(pairs_match(k, v, rk, rv) for rk, rv in request.items())
               for k, v in constraint.items())


def model_equals(constraint: dict, request: dict) -> bool:
    return model_subset(constraint, request) and model_subset(request, constraint)


def store_with(constraints_list, propagation=0.0):
    rt = make_runtime(propagation=propagation)
    store = GrantStore(rt)
    made = []
    for c in constraints_list:
        made.append(store.create(key_arn=KEY_ARN, grantee_principal=GRANTEE,
                                 operations=("Decrypt",), constraints=c,
                                 retiring_principal=None, name=None, created_by=ROOT.arn))
    return rt, store, made


def find(store, context, tokens=()):
    return store.find(key_arn=KEY_ARN, grantee=GRANTEE, operation="Decrypt",
                      encryption_context=context, tokens=tokens)


@given(constraint=contexts, request=contexts)
def test_equals_constraint_allows_exactly_the_equal_context(constraint, request):
    _, store, _ = store_with([GrantConstraints(encryption_context_equals=constraint)])
    assert (find(store, request) is not None) == model_equals(constraint, request)


@given(constraint=contexts, request=contexts)
def test_subset_constraint_allows_exactly_the_containing_contexts(constraint, request):
    _, store, _ = store_with([GrantConstraints(encryption_context_subset=constraint)])
    assert (find(store, request) is not None) == model_subset(constraint, request)


case_unique = contexts.filter(lambda c: c and len({k.lower() for k in c}) == len(c))


@given(constraint=case_unique, data=st.data())
def test_key_case_changes_keep_a_match_and_value_changes_break_it(constraint, data):
    request = {}
    for k, v in constraint.items():
        request[data.draw(st.sampled_from([k, k.upper(), k.lower()]))] = v
    _, store, _ = store_with([GrantConstraints(encryption_context_equals=constraint)])
    assert find(store, request) is not None
    k0 = next(iter(constraint))
    changed = {**constraint, k0: constraint[k0] + "!"}
    _, store, _ = store_with([GrantConstraints(encryption_context_subset=constraint)])
    assert find(store, changed) is None


constraint_st = st.one_of(
    st.none(),
    st.builds(lambda c: GrantConstraints(encryption_context_equals=c), contexts),
    st.builds(lambda c: GrantConstraints(encryption_context_subset=c), contexts),
    st.builds(lambda e, s: GrantConstraints(encryption_context_equals=e,
                                            encryption_context_subset=s), contexts, contexts),
)


def model_allows(c: GrantConstraints | None, request: dict) -> bool:
    if c is None:
        return True
    ok = True
    if c.encryption_context_equals is not None:
        ok = ok and model_equals(dict(c.encryption_context_equals), request)
    if c.encryption_context_subset is not None:
        ok = ok and model_subset(dict(c.encryption_context_subset), request)
    return ok


@settings(max_examples=40)
@given(constraints=st.lists(constraint_st, max_size=40), request=contexts)
def test_index_finds_a_grant_exactly_when_one_allows(constraints, request):
    # Many grants for one grantee: the subset-enumeration and the scanning paths both run.
    _, store, made = store_with(constraints)
    found = find(store, request)
    expected = [g for (g, _), c in zip(made, constraints, strict=True) if model_allows(c, request)]
    if expected:
        assert found is not None and found in expected
    else:
        assert found is None


@settings(max_examples=40)
@given(constraints=st.lists(constraint_st, min_size=1, max_size=12), data=st.data(),
       request=contexts)
def test_index_forgets_exactly_the_retired_grants_when_constraints_are_shared(constraints, data,
                                                                             request):
    # Small alphabets: several grants share a constraint, so a group grows past one grant and
    # shrinks back to one (and to none) as grants are retired.
    _, store, made = store_with(constraints)
    retired = data.draw(st.sets(st.integers(0, len(made) - 1)))
    for i in sorted(retired):
        store.retire(made[i][0])
    found = find(store, request)
    expected = [g for i, ((g, _), c) in enumerate(zip(made, constraints, strict=True))
                if i not in retired and model_allows(c, request)]
    if expected:
        assert found is not None and found in expected
    else:
        assert found is None


events = st.lists(st.tuples(st.sampled_from(["advance", "retire", "query", "query_token"]),
                            st.integers(min_value=0, max_value=400)), max_size=12)


@given(delay=st.sampled_from([0, 60, 300]), script=events)
def test_grant_liveness_follows_creation_retirement_and_tokens(delay, script):
    rt, store, [(grant, token)] = store_with([None], propagation=delay)
    created = rt.clock.now()
    retired_at = None
    for op, n in script:
        now = rt.clock.now()
        if op == "advance":
            rt.clock.advance(n)
        elif op == "retire":
            if retired_at is None:
                retired_at = now
            store.retire(grant)
        else:
            with_token = op == "query_token"
            got = find(store, {}, (token,) if with_token else ())
            age = (now - created).total_seconds()
            not_ended = retired_at is None or (now - retired_at).total_seconds() < delay
            expected = not_ended and (with_token or age >= delay)
            assert (got is not None) == expected, (op, age, retired_at, delay)


@given(delay=st.integers(min_value=1, max_value=600), wait=st.integers(min_value=0, max_value=599))
def test_before_propagation_a_new_grant_works_only_with_its_token(delay, wait):
    rt, store, [(grant, token)] = store_with([None], propagation=delay)
    rt.clock.advance(min(wait, delay - 1))
    assert find(store, {}) is None
    assert find(store, {}, (token,)) == grant


@given(delay=st.sampled_from([0, 30, 300]), extra=st.integers(min_value=0, max_value=1000),
       revoke=st.booleans())
def test_after_propagation_a_retired_or_revoked_grant_allows_nothing(delay, extra, revoke):
    rt, store, [(grant, token)] = store_with([None], propagation=delay)
    rt.clock.advance(delay)
    (store.revoke if revoke else store.retire)(grant)
    rt.clock.advance(delay + extra)
    for op in ("Decrypt",):
        assert store.find(key_arn=KEY_ARN, grantee=GRANTEE, operation=op,
                          encryption_context={}, tokens=(token,)) is None
    assert store.get(KEY_ARN, grant.grant_id) is None
