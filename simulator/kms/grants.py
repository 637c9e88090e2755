"""KMS grants: the store, its index, eventual consistency and grant tokens.

The KMS service validates parameters and authorises callers; this module keeps the grants and
answers the one question the evaluator asks on every call: *is there a live grant on this key for
this grantee that allows this operation with this encryption context?* (:meth:`GrantStore.find`).

Lookup is flat in the number of grants on a key. Grants are indexed by
``(key ARN, grantee, operation)``; inside that bucket, unconstrained grants sit in one dict,
``EncryptionContextEquals`` grants under the frozen set of their (lower-cased key, value) pairs,
``EncryptionContextSubset`` grants likewise (a constraint held by one grant maps to that grant
itself, by several to a dict of them: EBS makes one grant per volume, each with its own
context, and a dict per grant and operation would be four more objects per volume for the
garbage collector to walk). A request with context C finds an Equals grant with
one dict lookup (C's pairs), and a Subset grant by looking up every subset of C's pairs, or, when
``2 ** len(C)`` exceeds the number of distinct Subset constraints in the bucket, by scanning those.

Eventual consistency (``settings.grant_propagation_seconds``, mutable at run time): a new grant is
usable once the delay has passed, or at once by a caller presenting one of its tokens; a retired
or revoked grant disappears from ``list``/``get`` at once but keeps allowing until the delay has
passed since its retirement.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain, combinations
from math import comb
from types import MappingProxyType
from typing import TypeVar

from ..crypto import TokenError, open_token, seal_token
from ..errors import InvalidGrantTokenException, LimitExceededException
from ..runtime import Runtime

__all__ = [
    "CONTEXT_OPERATIONS",
    "GRANTS_PER_KEY_LIMIT",
    "Grant",
    "GrantConstraints",
    "GrantStore",
]

#: Grant operations that take an encryption context: only these check grant constraints.
CONTEXT_OPERATIONS = frozenset({
    "Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
})
#: Grants per customer managed key (KMS resource quotas).
GRANTS_PER_KEY_LIMIT = 50_000
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,8192}\Z")
_TOKEN_NONCE = 16
_TOKEN_PAYLOAD = 16 + 32  # key id (UUID bytes) + grant id (32 bytes)
#: Buckets with at most this many distinct Subset constraints are scanned (cheaper than lookups).
_SCAN_BELOW = 4
_SHARED_VALUES = 256
_V = TypeVar("_V", tuple[str, ...], str)

Pairs = frozenset[tuple[str, str]]
_EMPTY: Pairs = frozenset()


def _same_value(value: _V) -> _V:
    return value


def _pairs(context: Mapping[str, str] | None) -> Pairs:
    """Grant-constraint view of a context: keys case-insensitive, values case-sensitive."""
    if not context:
        return _EMPTY
    return frozenset(zip(map(str.lower, context), context.values(), strict=True))


@dataclass(frozen=True)
class GrantConstraints:
    """``Constraints`` of CreateGrant; both may be set (then both must hold)."""

    encryption_context_equals: Mapping[str, str] | None = None
    encryption_context_subset: Mapping[str, str] | None = None
    #: Allows only requests made on behalf of this resource (``aws:SourceArn``).
    source_arn: str | None = None

    def __post_init__(self) -> None:
        # Own read-only copies, so a caller's dict cannot change a stored grant.
        for name in ("encryption_context_equals", "encryption_context_subset"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))

    @property
    def constraint_types(self) -> tuple[str, ...]:
        """The ``kms:GrantConstraintType`` values: ``EncryptionContextEquals``/``...Subset``."""
        out = []
        if self.encryption_context_equals is not None:
            out.append("EncryptionContextEquals")
        if self.encryption_context_subset is not None:
            out.append("EncryptionContextSubset")
        return tuple(out)

    def allows(self, encryption_context: Mapping[str, str] | None) -> bool:
        """Whether a request with this encryption context satisfies the constraints."""
        return _allows(_norm(self), _pairs(encryption_context))

    def to_dict(self) -> dict[str, dict[str, str] | str]:
        out: dict[str, dict[str, str] | str] = {}
        if self.encryption_context_equals is not None:
            out["encryption_context_equals"] = dict(self.encryption_context_equals)
        if self.encryption_context_subset is not None:
            out["encryption_context_subset"] = dict(self.encryption_context_subset)
        if self.source_arn is not None:
            out["source_arn"] = self.source_arn
        return out


def _norm(c: GrantConstraints | None) -> tuple[Pairs | None, Pairs | None]:
    if c is None:
        return None, None
    eq = None if c.encryption_context_equals is None else _pairs(c.encryption_context_equals)
    sub = None if c.encryption_context_subset is None else _pairs(c.encryption_context_subset)
    return eq, sub


def _allows(norm: tuple[Pairs | None, Pairs | None], request: Pairs) -> bool:
    eq, sub = norm
    if eq is not None and request != eq:
        return False
    return not (sub is not None and not sub <= request)


@dataclass(frozen=True)
class Grant:
    """One grant, as ListGrants shows it (``issuing_account`` is ``arn:aws:iam::<acct>:root``)."""

    key_arn: str
    grant_id: str
    name: str | None
    grantee_principal: str
    retiring_principal: str | None
    operations: tuple[str, ...]
    constraints: GrantConstraints | None
    issuing_account: str
    creation_date: datetime
    created_by: str
    #: Set when the grantee (or the retiring principal) is an AWS service principal
    #: (``GranteeServicePrincipal``/``RetiringServicePrincipal``): the same string as
    #: ``grantee_principal`` (``retiring_principal``), which ListGrants then leaves out.
    grantee_service_principal: str | None = None
    retiring_service_principal: str | None = None


class _Entry:
    __slots__ = ("eq", "grant", "ops", "retired_at", "sub")

    def __init__(self, grant: Grant) -> None:
        self.grant = grant
        # A few distinct names: a tuple is as quick as a set here. A SourceArn grant allows
        # only requests made on behalf of that resource, and no request of this simulator is
        # (no service acts for a resource with aws:SourceArn): it allows nothing, so it is not
        # indexed for lookups (it is still listed, retired and revoked).
        constraints = grant.constraints
        self.ops = () if constraints is not None and constraints.source_arn else grant.operations
        self.eq, self.sub = _norm(grant.constraints)
        self.retired_at: datetime | None = None


#: The grants under one constraint in a bucket: the grant itself when it is the only one.
_Group = _Entry | dict[str, _Entry]


def _add(groups: dict[Pairs, _Group], pairs: Pairs, e: _Entry) -> bool:
    """Put ``e`` in its group; True if the group is new."""
    g = groups.get(pairs)
    if g is None:
        groups[pairs] = e
        return True
    if isinstance(g, _Entry):
        groups[pairs] = {g.grant.grant_id: g, e.grant.grant_id: e}
    else:
        g[e.grant.grant_id] = e
    return False


def _discard(groups: dict[Pairs, _Group], pairs: Pairs, e: _Entry) -> bool:
    """Take ``e`` out of its group; True if the group is now gone."""
    g = groups.get(pairs)
    if g is None:
        return False
    if isinstance(g, _Entry):
        if g is not e:
            return False
        del groups[pairs]
        return True
    g.pop(e.grant.grant_id, None)
    if len(g) == 1:
        groups[pairs] = next(iter(g.values()))
    elif not g:
        del groups[pairs]
        return True
    return False


def _members(g: _Group) -> Iterable[_Entry]:
    return (g,) if isinstance(g, _Entry) else g.values()


class _Bucket:
    """The grants of one (key, grantee, operation), split by constraint shape.

    ``subset_sizes`` counts Subset constraints by number of pairs, so a lookup enumerates only
    the subsets of the request that have a size some constraint has.
    """

    __slots__ = ("equals", "free", "subset", "subset_sizes")

    def __init__(self) -> None:
        self.free: dict[str, _Entry] = {}
        self.equals: dict[Pairs, _Group] = {}
        self.subset: dict[Pairs, _Group] = {}
        self.subset_sizes: dict[int, int] = {}

    def add(self, e: _Entry) -> None:
        if e.eq is not None:
            _add(self.equals, e.eq, e)
        elif e.sub:
            if _add(self.subset, e.sub, e):
                n = len(e.sub)
                self.subset_sizes[n] = self.subset_sizes.get(n, 0) + 1
        else:
            self.free[e.grant.grant_id] = e

    def remove(self, e: _Entry) -> None:
        if e.eq is not None:
            _discard(self.equals, e.eq, e)
        elif e.sub:
            if _discard(self.subset, e.sub, e):
                n = len(e.sub)
                left = self.subset_sizes[n] - 1
                if left:
                    self.subset_sizes[n] = left
                else:
                    del self.subset_sizes[n]
        else:
            self.free.pop(e.grant.grant_id, None)

    def empty(self) -> bool:
        return not (self.free or self.equals or self.subset)

    def groups(self, request: Pairs | None) -> Iterable[_Group]:
        """Groups of entries whose constraints may allow ``request`` (None: ignore constraints).

        Flat in the bucket's size: an Equals lookup is one dict lookup; Subset lookups look up
        each subset of the request of a size some constraint has, unless that is more lookups
        than there are distinct Subset constraints, in which case those are scanned.
        """
        if request is None:  # lazily: the first live grant usually ends the search
            return chain((self.free,), self.equals.values(), self.subset.values())
        out: builtins.list[_Group] = [self.free] if self.free else []
        hit = self.equals.get(request)
        if hit is not None:
            out.append(hit)
        subset = self.subset
        if not subset:
            return out
        if len(subset) <= _SCAN_BELOW:
            out.extend(d for pairs, d in subset.items() if pairs <= request)
            return out
        n = len(request)
        sizes = [r for r in self.subset_sizes if r <= n]
        if sum(comb(n, r) for r in sizes) > len(subset):
            out.extend(d for pairs, d in subset.items() if pairs <= request)
            return out
        for r in sorted(sizes):
            if r == n:
                hit = subset.get(request)
                if hit is not None:
                    out.append(hit)
                continue
            for combo in combinations(sorted(request), r):
                hit = subset.get(frozenset(combo))
                if hit is not None:
                    out.append(hit)
        return out


class GrantStore:
    """All grants of one simulated KMS (every key), with their tokens."""

    def __init__(self, runtime: Runtime, *, max_grants_per_key: int = GRANTS_PER_KEY_LIMIT
                 ) -> None:
        self._rt = runtime
        self._clock = runtime.clock
        self._settings = runtime.settings
        self.max_grants_per_key = max_grants_per_key
        #: current (not retired/revoked) grants per key, in creation order
        self._by_key: dict[str, dict[str, _Entry]] = {}
        self._by_name: dict[tuple[str, str], list[_Entry]] = {}
        self._by_retiring: dict[str, dict[tuple[str, str], _Entry]] = {}
        #: every grant that may still allow something (current, or retired within the delay)
        self._index: dict[tuple[str, str, str], _Bucket] = {}
        # Tokens are sealed, not stored (crypto.tokens): the MAC key is the only token state.
        self._token_key = runtime.entropy.token_bytes(32)
        self._arn_prefix = f"arn:aws:kms:{runtime.region}:{runtime.account_id}:key/"
        #: keys deleted (their tokens are refused as invalid)
        self._removed: set[str] = set()
        #: retired or revoked grants still inside the propagation window, per key
        self._ending: dict[str, dict[str, _Entry]] = {}
        #: One object per distinct operations tuple and issuing account, shared by the grants
        #: (a fleet's grants repeat a few of each): an lru_cache of the identity function
        #: returns the first equal value it saw.
        self._shared: Callable[[_V], _V] = lru_cache(maxsize=_SHARED_VALUES)(_same_value)

    # --- creating ---------------------------------------------------------------------------

    def create(self, *, key_arn: str, grantee_principal: str, operations: Sequence[str],
               constraints: GrantConstraints | None, retiring_principal: str | None,
               name: str | None, created_by: str, grantee_is_service: bool = False,
               retiring_is_service: bool = False) -> tuple[Grant, str]:
        """Make a grant (or, for a same-name identical retry, return the original) and a token.

        A new token is issued every time; every token of a grant works.
        """
        ops = self._shared(tuple(dict.fromkeys(operations)))
        if name is not None:
            for e in self._by_name.get((key_arn, name), ()):
                if self._same(e.grant, grantee_principal, ops, constraints, retiring_principal):
                    return e.grant, self._issue_token(e)
        current = self._by_key.get(key_arn, {})
        if len(current) >= self.max_grants_per_key:
            raise LimitExceededException(
                f"The grant quota for this KMS key ({self.max_grants_per_key} grants) has been "
                f"reached: {key_arn}")
        grant = Grant(
            key_arn=key_arn, grant_id=self._rt.ids.grant_id(), name=name,
            grantee_principal=grantee_principal, retiring_principal=retiring_principal,
            operations=ops, constraints=constraints,
            issuing_account=self._shared(f"arn:aws:iam::{_account_of(key_arn)}:root"),
            creation_date=self._clock.now(), created_by=created_by,
            grantee_service_principal=grantee_principal if grantee_is_service else None,
            retiring_service_principal=retiring_principal if retiring_is_service else None)
        e = _Entry(grant)
        self._by_key.setdefault(key_arn, current)[grant.grant_id] = e
        if name is not None:
            self._by_name.setdefault((key_arn, name), []).append(e)
        if retiring_principal is not None:
            self._by_retiring.setdefault(retiring_principal, {})[(key_arn, grant.grant_id)] = e
        for op in e.ops:
            self._index.setdefault((key_arn, grantee_principal, op), _Bucket()).add(e)
        return grant, self._issue_token(e)

    @staticmethod
    def _same(g: Grant, grantee: str, ops: tuple[str, ...], constraints: GrantConstraints | None,
              retiring: str | None) -> bool:
        def plain(c: GrantConstraints | None) -> dict[str, dict[str, str] | str] | None:
            return None if c is None else c.to_dict()

        return (g.grantee_principal == grantee and g.retiring_principal == retiring
                and frozenset(g.operations) == frozenset(ops)
                and plain(g.constraints) == plain(constraints))

    def _issue_token(self, e: _Entry) -> str:
        g = e.grant
        key_id = g.key_arn.rsplit("/", 1)[-1]
        # A multi-Region key id is "mrk-" and the 32 hex digits of 16 bytes, like a UUID's.
        raw = bytes.fromhex(key_id[4:]) if key_id.startswith("mrk-") else uuid.UUID(key_id).bytes
        payload = raw + bytes.fromhex(g.grant_id)
        return seal_token(self._token_key, payload, self._rt.entropy.token_bytes(_TOKEN_NONCE))

    # --- tokens -----------------------------------------------------------------------------

    def resolve_tokens(self, tokens: Sequence[str]) -> builtins.list[Grant]:
        """The grants these tokens were issued for that KMS still knows (current, or ended
        within the propagation window); tokens of grants ended longer ago resolve to nothing.

        A malformed token, or one this KMS never issued, raises ``InvalidGrantTokenException``.
        """
        return [e.grant for e in self._resolve(tokens)]

    def _resolve(self, tokens: Sequence[str]) -> builtins.list[_Entry]:
        out = []
        for t in tokens:
            if not isinstance(t, str) or not _TOKEN_RE.match(t):
                raise InvalidGrantTokenException("The grant token is malformed.")
            try:
                payload = open_token(self._token_key, t, _TOKEN_PAYLOAD, _TOKEN_NONCE)
            except TokenError:
                raise InvalidGrantTokenException("The grant token is not valid.") from None
            key_arn = self._arn_prefix + str(uuid.UUID(bytes=payload[:16]))
            if (key_arn not in self._by_key and key_arn not in self._ending
                    and key_arn not in self._removed):
                key_arn = self._arn_prefix + "mrk-" + payload[:16].hex()
            if key_arn in self._removed:
                raise InvalidGrantTokenException("The grant token is not valid.")
            grant_id = payload[16:].hex()
            e = self._by_key.get(key_arn, {}).get(grant_id) or \
                self._ending.get(key_arn, {}).get(grant_id)
            if e is not None:
                out.append(e)
        return out

    # --- the hot path -----------------------------------------------------------------------

    def find(self, *, key_arn: str, grantee: str, operation: str,
             encryption_context: Mapping[str, str] | None, tokens: Sequence[str] = (),
             check: Callable[[Grant], bool] | None = None) -> Grant | None:
        """A live grant allowing ``operation`` on ``key_arn`` to ``grantee``, or ``None``.

        Live: propagated (or presented by one of ``tokens``) and not retired/revoked more than
        the propagation delay ago. Constraints are checked only for :data:`CONTEXT_OPERATIONS`.
        ``check`` is an extra predicate (CreateGrant passes "the child grant is narrower").
        """
        now = self._clock.now()
        delay = self._settings.grant_propagation_seconds
        window = timedelta(seconds=delay) if delay > 0 else None
        request = _pairs(encryption_context) if operation in CONTEXT_OPERATIONS else None
        presented: set[int] = set()
        if tokens:
            for e in self._resolve(tokens):
                g = e.grant
                if (g.key_arn == key_arn and g.grantee_principal == grantee
                        and operation in e.ops and _live_retired(e, now, window)
                        and (request is None or _allows((e.eq, e.sub), request))
                        and (check is None or check(g))):
                    return g
                presented.add(id(e))
        bucket = self._index.get((key_arn, grantee, operation))
        if bucket is None:
            return None
        dead: builtins.list[_Entry] | None = None
        found: Grant | None = None
        for group in bucket.groups(request):
            for e in _members(group):
                if e.retired_at is not None and not _live_retired(e, now, window):
                    dead = dead or []
                    dead.append(e)
                    continue
                if (window is not None and now - e.grant.creation_date < window
                        and id(e) not in presented):
                    continue  # not propagated yet, and no token for it
                if request is not None:
                    # The lookup narrowed by shape; a grant with both constraints, or a
                    # scanned group, is verified here.
                    if e.eq is not None and e.eq != request:
                        continue
                    if e.sub and not e.sub <= request:
                        continue
                if check is not None and not check(e.grant):
                    continue
                found = e.grant
                break
            if found is not None:
                break
        if dead:
            for e in dead:
                self._unindex(e)
        return found

    # --- reading ----------------------------------------------------------------------------

    def get(self, key_arn: str, grant_id: str) -> Grant | None:
        """The current (not retired or revoked) grant with this id on this key."""
        e = self._by_key.get(key_arn, {}).get(grant_id)
        return None if e is None else e.grant

    def list(self, key_arn: str, *, grant_id: str | None = None,
             grantee_principal: str | None = None) -> builtins.list[Grant]:
        """Current grants of a key in creation order, optionally filtered."""
        current = self._by_key.get(key_arn, {})
        if grant_id is not None:
            e = current.get(grant_id)
            entries = [] if e is None else [e]
        else:
            entries = list(current.values())
        return [e.grant for e in entries
                if grantee_principal is None or e.grant.grantee_principal == grantee_principal]

    def list_retirable(self, retiring_principal: str) -> builtins.list[Grant]:
        """Current grants (on any key) whose retiring principal is this, in creation order."""
        return [e.grant for e in self._by_retiring.get(retiring_principal, {}).values()]

    def count(self, key_arn: str) -> int:
        """Current grants on the key (what the 50,000 quota counts)."""
        return len(self._by_key.get(key_arn, {}))

    # --- ending -----------------------------------------------------------------------------

    def retire(self, grant: Grant) -> None:
        """Retire a current grant (no-op if it is not current); see the module docstring."""
        self._end(grant)

    def revoke(self, grant: Grant) -> None:
        """Revoke a current grant (no-op if it is not current); same effect as :meth:`retire`."""
        self._end(grant)

    def _end(self, grant: Grant) -> None:
        current = self._by_key.get(grant.key_arn)
        e = None if current is None else current.pop(grant.grant_id, None)
        if e is None:
            return
        e.retired_at = self._clock.now()
        if grant.name is not None:
            named = self._by_name.get((grant.key_arn, grant.name), [])
            if e in named:
                named.remove(e)
            if not named:
                self._by_name.pop((grant.key_arn, grant.name), None)
        self._drop_retiring(e)
        delay = self._settings.grant_propagation_seconds
        if delay <= 0:
            self._forget(e)
        else:
            # Still allowing (eventual consistency) until the window passes; then forgotten,
            # tokens included, so a fleet's retired grants leave no memory behind.
            self._ending.setdefault(grant.key_arn, {})[grant.grant_id] = e
            self._clock.schedule_background(delay, f"kms:forget grant {grant.grant_id}",
                                            lambda: self._forget(e))

    def _forget(self, e: _Entry) -> None:
        """Drop an ended grant from the index and its tokens (later uses: unknown token)."""
        ending = self._ending.get(e.grant.key_arn)
        if ending is not None:
            ending.pop(e.grant.grant_id, None)
            if not ending:
                del self._ending[e.grant.key_arn]
        self._unindex(e)

    def _unindex(self, e: _Entry) -> None:
        g = e.grant
        for op in e.ops:
            k = (g.key_arn, g.grantee_principal, op)
            b = self._index.get(k)
            if b is not None:
                b.remove(e)
                if b.empty():
                    del self._index[k]

    def remove_key(self, key_arn: str) -> None:
        """Forget every grant and token of a deleted key."""
        self._removed.add(key_arn)
        for e in self._by_key.pop(key_arn, {}).values():
            self._drop_retiring(e)
        for e in list(self._ending.get(key_arn, {}).values()):
            self._forget(e)
        for k in [k for k in self._index if k[0] == key_arn]:
            del self._index[k]
        for name_key in [k for k in self._by_name if k[0] == key_arn]:
            del self._by_name[name_key]

    def _drop_retiring(self, e: _Entry) -> None:
        """Take an ended grant out of its retiring principal's index."""
        rp = e.grant.retiring_principal
        if rp is not None and rp in self._by_retiring:
            self._by_retiring[rp].pop((e.grant.key_arn, e.grant.grant_id), None)
            if not self._by_retiring[rp]:
                del self._by_retiring[rp]

    # --- CreateGrant with a grant ------------------------------------------------------------

    @staticmethod
    def is_narrower(operations: Sequence[str], constraints: GrantConstraints | None,
                    parent: Grant) -> bool:
        """Whether a child grant is within its parent: a subset of its operations, and every
        encryption context the child's constraints allow is allowed by the parent's."""
        if not set(operations) <= set(parent.operations):
            return False
        child = _shape(constraints)
        par = _shape(parent.constraints)
        if child[0] == "none":
            return True
        if par[0] == "none":
            return False
        if child[0] == "exact":
            return child[1] == par[1] if par[0] == "exact" else par[1] <= child[1]
        # child allows every superset of its pairs: only a parent "superset of P" with P
        # contained in the child's pairs covers that.
        return par[0] == "upset" and par[1] <= child[1]


def _shape(c: GrantConstraints | None) -> tuple[str, Pairs]:
    """The set of contexts a constraint allows: ("exact", E) = {E}; ("upset", S) = every
    context containing S; ("none", {}) = no context at all (Equals that misses its Subset)."""
    eq, sub = _norm(c)
    sub = sub or _EMPTY
    if eq is not None:
        return ("exact", eq) if sub <= eq else ("none", _EMPTY)
    return ("upset", sub)


def _live_retired(e: _Entry, now: datetime, window: timedelta | None) -> bool:
    """Not retired, or retired less than the propagation delay ago."""
    r = e.retired_at
    return r is None or (window is not None and now - r < window)


def _account_of(key_arn: str) -> str:
    parts = key_arn.split(":")
    return parts[4] if len(parts) > 5 else ""
