"""Policy documents: parsing, validation and pre-compiled matching.

:func:`parse_policy` turns a JSON policy (a KMS key policy or an IAM identity policy) into a
:class:`PolicyDocument` whose statements carry pre-compiled matchers: actions are lower-cased and
split into an exact set plus one regex for the wildcard patterns, resources likewise, principals
into sets, conditions into closures (:mod:`.conditions`), so that evaluating a request
(:mod:`.evaluator`) is a principal and condition check on the statements that apply.

Validation follows what KMS (PutKeyPolicy/CreateKey) and IAM (PutUserPolicy) reject:

- not a string -> ``ValidationException``; empty -> ``ValidationException``;
- a key policy over 32,768 bytes -> ``LimitExceededException``;
- characters outside ``\\u0009 \\u000A \\u000D \\u0020-\\u00FF``, bad JSON, a wrong shape, an
  unknown ``Effect``, unknown fields, bad principals, bad condition operators ->
  ``MalformedPolicyDocumentException`` (KMS's class; the IAM service re-raises IAM's own);
- key policies: every statement needs ``Principal`` or ``NotPrincipal``; principals must be
  well-formed and exist (``principal_exists``); a statement without ``Action`` or ``Resource`` is
  accepted but never matches; ``ForAllValues``/``ForAnyValue`` with ``kms:EncryptionContext:<k>``
  is refused (``OverlyPermissiveCondition``);
- identity policies: no ``Principal``; ``Action`` and ``Resource`` are required; ``Resource`` must
  be ``"*"`` or an ARN; ``Sid`` is alphanumeric and unique.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import LimitExceededException, MalformedPolicyDocumentException, ValidationException
from .conditions import Condition, ConditionLookup, glob_matcher, parse_condition_block
from .principals import Caller

__all__ = [
    "KEY_POLICY_MAX_BYTES",
    "PolicyDocument",
    "PolicyKind",
    "PrincipalSpec",
    "Statement",
    "default_key_policy",
    "parse_policy",
    "role_arn_of",
]

PolicyKind = Literal["key", "identity"]

#: Key policies are limited to 32 KB (KMS resource quotas); the quota cannot be raised.
KEY_POLICY_MAX_BYTES = 32_768
_VERSIONS = ("2012-10-17", "2008-10-17")
_BAD_CHARS = re.compile(r"[^\t\n\r\u0020-\u00ff]")
_ACTION_RE = re.compile(r"^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)\Z")
_ACCOUNT_RE = re.compile(r"^\d{12}\Z")
_PRINCIPAL_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):"
    r"(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+|assumed-role/[\w+=,.@:-]+/[\w+=,.@-]+"
    r"|federated-user/[\w+=,.@-]+)\Z", re.ASCII)
_SERVICE_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?\Z")
_SID_IAM_RE = re.compile(r"^[A-Za-z0-9]*\Z")
_STATEMENT_FIELDS = frozenset({
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
    "NotResource", "Condition"})
_INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."


def _bad(message: str) -> MalformedPolicyDocumentException:
    return MalformedPolicyDocumentException(message)


def role_arn_of(caller: Caller) -> str | None:
    """The IAM role ARN behind an assumed-role session caller, else ``None``.

    Uses ``caller.role_arn`` when set; otherwise derives ``arn:aws:iam::<acct>:role/<name>`` from
    an ``arn:aws:sts::<acct>:assumed-role/<name>/<session>`` ARN (path unknown, so none).
    """
    if caller.role_arn is not None:
        return caller.role_arn
    parts = caller.arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        name = parts[5][len("assumed-role/"):].rsplit("/", 1)[0]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"
    return None


# --- principals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrincipalSpec:
    """A ``Principal`` / ``NotPrincipal`` element, compiled.

    ``aws`` keeps the values as written; ``arns`` holds them normalised (a bare account id becomes
    ``arn:aws:iam::<acct>:root``); ``accounts`` the account ids whose root is named; ``bound``
    pairs a user or role ARN with the unique id it named when the policy was put (IAM User
    Guide, "Unique identifiers": a policy names *that* user or role, not a later one of the
    same name).
    """

    any: bool
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_users: tuple[str, ...] = ()
    arns: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    bound: tuple[tuple[str, str], ...] = ()

    def _same_entity(self, arn: str, unique_id: str) -> bool:
        for named, uid in self.bound:
            if named == arn:
                return uid == unique_id
        return True

    def names(self, caller: Caller) -> bool:
        """Whether it names ``caller``'s own ARN (or ``"*"``, or its service principal): what
        ``NotPrincipal`` exempts. A role's ARN does not name the role's sessions here (IAM
        User Guide, ``NotPrincipal``: list the assumed-role session ARN for the session)."""
        if self.any:
            return True
        if caller.arn in self.arns:
            return self._same_entity(caller.arn, caller.principal_id)
        return bool(self.services) and caller.type == "AWSService" and (
            caller.arn in self.services or caller.principal_id in self.services)

    def match(self, caller: Caller) -> int:
        """2 if it names ``caller`` itself (or ``"*"``), 1 if only its account, else 0.

        A role's ARN names its sessions too (a ``Principal`` naming a role applies to whoever
        assumed it)."""
        if self.names(caller):
            return 2
        if self.arns:
            role = role_arn_of(caller)
            if role is not None and role in self.arns and self._same_entity(
                    role, caller.principal_id.partition(":")[0]):
                return 2
        if caller.account_id in self.accounts:
            return 1
        return 0


def _strings(raw: object, what: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
        return tuple(raw)
    raise _bad(f"{what} must be a string or a non-empty list of strings")


def _parse_principal(raw: object,
                     principal_exists: Callable[[str], bool] | None,
                     unique_id: Callable[[str], str | None] | None = None) -> PrincipalSpec:
    if raw == "*":
        return PrincipalSpec(any=True, aws=("*",))
    if not isinstance(raw, dict) or not raw:
        raise _bad(_INVALID_PRINCIPALS)
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical: tuple[str, ...] = ()
    for kind, values in raw.items():
        if not isinstance(values, str | list) or (isinstance(values, list) and (
                not values or not all(isinstance(v, str) for v in values))):
            raise _bad(_INVALID_PRINCIPALS)
        vals = (values,) if isinstance(values, str) else tuple(values)
        if kind == "AWS":
            aws = vals
        elif kind == "Service":
            services = vals
        elif kind == "Federated":
            federated = vals
        elif kind == "CanonicalUser":
            canonical = vals
        else:
            raise _bad(_INVALID_PRINCIPALS)
    arns: set[str] = set()
    accounts: set[str] = set()
    bound: dict[str, str] = {}
    any_ = False
    for v in aws:
        if v == "*":
            any_ = True
            continue
        if _ACCOUNT_RE.match(v):
            acct = v
            arn = f"arn:aws:iam::{v}:root"
        else:
            m = _PRINCIPAL_ARN_RE.match(v)
            if m is None:
                raise _bad(_INVALID_PRINCIPALS)
            acct, arn = m.group(2), v
            if m.group(3) == "root" and m.group(1) != "iam":
                raise _bad(_INVALID_PRINCIPALS)
        if principal_exists is not None and not principal_exists(v):
            raise _bad(_INVALID_PRINCIPALS)
        arns.add(arn)
        if arn.endswith(":root"):
            accounts.add(acct)
        elif unique_id is not None:
            uid = unique_id(arn)
            if uid is not None:
                bound[arn] = uid
    for s in services:
        if not _SERVICE_RE.match(s):
            raise _bad(_INVALID_PRINCIPALS)
    for f in federated:
        if not f or any(c.isspace() for c in f):
            raise _bad(_INVALID_PRINCIPALS)
    for c in canonical:
        if not re.match(r"^[0-9a-f]{64}\Z", c):
            raise _bad(_INVALID_PRINCIPALS)
    return PrincipalSpec(any=any_, aws=aws, services=services, federated=federated,
                         canonical_users=canonical, arns=frozenset(arns),
                         accounts=frozenset(accounts), bound=tuple(sorted(bound.items())))


# --- statements ------------------------------------------------------------------------------


def _never(_: str) -> bool:
    return False


def _always(_: str) -> bool:
    return True


def _element_matcher(pos: tuple[str, ...] | None, neg: tuple[str, ...] | None, *,
                     ignore_case: bool) -> Callable[[str], bool]:
    """The matcher of an Action/NotAction (``ignore_case``) or Resource/NotResource pair."""
    pats = pos or neg
    if not pats:
        return _never
    m = glob_matcher(p.lower() for p in pats) if ignore_case else glob_matcher(pats)
    return m if pos else lambda s: not m(s)


@dataclass(frozen=True)
class Statement:
    """One policy statement, as written plus its compiled matchers.

    ``inert`` marks a key-policy statement with no Action/NotAction or no Resource/NotResource:
    accepted by KMS, but it never matches anything.
    """

    sid: str | None
    effect: Literal["Allow", "Deny"]
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    inert: bool = False
    _action: Callable[[str], bool] = field(default=_never, compare=False, repr=False)
    _resource: Callable[[str], bool] = field(default=_never, compare=False, repr=False)

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action: str) -> bool:
        """Whether the statement covers ``action`` (any case)."""
        return not self.inert and self._action(action.lower())

    def matches_resource(self, resource: str) -> bool:
        return not self.inert and self._resource(resource)

    def principal_match(self, caller: Caller) -> int:
        """2: names the caller (or everyone); 1: names only the caller's account; 0: no.

        Identity-policy statements (no principal element) apply to their owner: 2.
        ``NotPrincipal`` applies to everyone it does not name itself (:meth:`PrincipalSpec.names`).
        """
        if self.principal is not None:
            return self.principal.match(caller)
        if self.not_principal is not None:
            return 0 if self.not_principal.names(caller) else 2
        return 2

    def conditions_hold(self, context: ConditionLookup) -> bool:
        """Whether every condition holds; ``context.get(lower_case_key)`` gives request values."""
        for c in self.conditions:  # noqa: SIM110 - a plain loop beats all() on the hot path
            if not c._test(context.get(c._key)):
                return False
        return True


def _compile_statement(raw: object, kind: PolicyKind,
                       principal_exists: Callable[[str], bool] | None,
                       unique_id: Callable[[str], str | None] | None) -> Statement:
    if not isinstance(raw, dict):
        raise _bad("Each statement must be a JSON object")
    unknown = set(raw) - _STATEMENT_FIELDS
    if unknown:
        raise _bad(f"Statement contains unknown field(s): {', '.join(sorted(unknown))}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _bad("Sid must be a string")
    if kind == "identity" and sid is not None and not _SID_IAM_RE.match(sid):
        raise _bad(f"Statement IDs (SID) must be alpha-numeric: {sid!r}")
    if "Effect" not in raw:
        raise _bad("Missing required field Effect")
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        raise _bad(f"Invalid effect: {effect}")
    for a, b in (("Principal", "NotPrincipal"), ("Action", "NotAction"),
                 ("Resource", "NotResource")):
        if a in raw and b in raw:
            raise _bad(f"A statement cannot contain both {a} and {b}")

    principal = not_principal = None
    if kind == "identity":
        if "Principal" in raw or "NotPrincipal" in raw:
            raise _bad("Policy document should not specify a principal.")
    else:
        if "Principal" in raw:
            principal = _parse_principal(raw["Principal"], principal_exists, unique_id)
        elif "NotPrincipal" in raw:
            not_principal = _parse_principal(raw["NotPrincipal"], principal_exists, unique_id)
        else:
            raise _bad(_INVALID_PRINCIPALS + " A key policy statement must name a Principal.")

    def actions_of(name: str) -> tuple[str, ...] | None:
        if name not in raw:
            return None
        vals = raw[name]
        if isinstance(vals, list) and not vals:
            return ()
        out = _strings(vals, name)
        for a in out:
            if not _ACTION_RE.match(a):
                raise _bad("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                           f"ec2, etc. Action: {a!r}")
        return out

    def resources_of(name: str) -> tuple[str, ...] | None:
        if name not in raw:
            return None
        vals = raw[name]
        if isinstance(vals, list) and not vals:
            return ()
        out = _strings(vals, name)
        for r in out:
            if r != "*" and not r.startswith("arn:"):
                raise _bad(f'Resource {r} must be in ARN format or "*".')
        return out

    actions, not_actions = actions_of("Action"), actions_of("NotAction")
    resources, not_resources = resources_of("Resource"), resources_of("NotResource")
    conditions: tuple[Condition, ...] = ()
    if "Condition" in raw:
        conditions = parse_condition_block(raw["Condition"],
                                           reject_set_on_context_keys=(kind == "key"))

    has_action = bool(actions) or bool(not_actions)
    has_resource = bool(resources) or bool(not_resources)
    if kind == "identity":
        if not has_action:
            raise _bad("Policy statement must contain actions.")
        if not has_resource:
            raise _bad("Policy statement must contain resources.")
    inert = not (has_action and has_resource)

    action_m = _element_matcher(actions, not_actions, ignore_case=True)
    resource_m = _element_matcher(resources, not_resources, ignore_case=False)  # ARNs: case-sensitive

    return Statement(
        sid=sid, effect=effect, principal=principal, not_principal=not_principal,
        actions=actions, not_actions=not_actions, resources=resources,
        not_resources=not_resources, conditions=conditions, inert=inert,
        _action=action_m, _resource=resource_m)


# --- documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed, validated policy. ``text`` is exactly what the caller gave.

    A document's value is its kind, text and ``bindings`` (the statements are compiled from
    them), so equal documents compare and hash equal whatever object holds them; the same
    text naming a user deleted and re-created since is another document.
    ``bindings``: each user or role ARN the policy names, with the unique id it named.
    """

    text: str
    statements: tuple[Statement, ...] = field(compare=False)
    kind: PolicyKind = "key"
    version: str | None = field(default=None, compare=False)
    id: str | None = field(default=None, compare=False)
    bindings: tuple[tuple[str, str], ...] = ()

    def applicable(self, action: str, resource: str) -> tuple[Statement, ...]:
        """The statements whose action and resource elements cover this request."""
        low = action.lower()
        return tuple(s for s in self.statements
                     if not s.inert and s._action(low) and s._resource(resource))

    @property
    def size_bytes(self) -> int:
        return len(self.text.encode("utf-8"))


def parse_policy(text: object, *, kind: PolicyKind,
                 principal_exists: Callable[[str], bool] | None = None,
                 unique_id: Callable[[str], str | None] | None = None) -> PolicyDocument:
    """Validate and compile a policy (see the module docstring for what is rejected, and how).

    ``kind="key"`` for KMS key policies, ``"identity"`` for IAM identity policies.
    ``principal_exists`` (key policies) is asked about every ``AWS`` principal except ``"*"``;
    ``unique_id`` gives the unique id a user or role ARN names now, to bind it to
    (:attr:`PolicyDocument.bindings`).
    """
    if kind not in ("key", "identity"):
        raise ValidationException(f"Unknown policy kind {kind!r}")
    if not isinstance(text, str):
        raise ValidationException(
            f"1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must be a string, not {type(text).__name__}")
    if not text:
        raise ValidationException(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1")
    bad = _BAD_CHARS.search(text)
    if bad is not None:
        raise _bad(f"Policy contains a character outside the allowed set "
                   f"(\\u0009, \\u000A, \\u000D, \\u0020-\\u00FF) at position {bad.start()}: "
                   f"U+{ord(bad.group()):04X}")
    if kind == "key" and len(text.encode("utf-8")) > KEY_POLICY_MAX_BYTES:
        raise LimitExceededException(
            f"The key policy is {len(text.encode('utf-8'))} bytes; the limit is "
            f"{KEY_POLICY_MAX_BYTES} bytes.")
    try:
        doc: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: ints over 4300 digits
        where = (f" ({exc.msg} at line {exc.lineno} column {exc.colno})"
                 if isinstance(exc, json.JSONDecodeError) else "")
        raise _bad(f"Syntax errors in policy.{where}") from None
    if not isinstance(doc, dict):
        raise _bad("Syntax errors in policy. The policy must be a JSON object.")
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        raise _bad(f"Policy contains unknown field(s): {', '.join(sorted(unknown))}")
    version = doc.get("Version")
    if version is not None and version not in _VERSIONS:
        raise _bad("The policy must contain a valid version string")
    pid = doc.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise _bad("Id must be a string")
    if "Statement" not in doc:
        raise _bad("Missing required field Statement")
    raw_statements = doc["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise _bad("Statement must be a JSON object or a non-empty list of objects")
    statements = tuple(_compile_statement(s, kind, principal_exists, unique_id)
                       for s in raw_statements)
    sids = [s.sid for s in statements if s.sid]
    if kind == "identity" and len(sids) != len(set(sids)):
        raise _bad("Statement IDs (SID) in a single policy must be unique.")
    bindings = tuple(sorted({pair for s in statements
                             for spec in (s.principal, s.not_principal) if spec is not None
                             for pair in spec.bound}))
    return PolicyDocument(text=text, statements=statements, kind=kind, version=version, id=pid,
                          bindings=bindings)


def default_key_policy(account_id: str) -> str:
    """The key policy KMS gives a key created without one (AWS-recorded text and layout)."""
    return (
        "{\n"
        '  "Version" : "2012-10-17",\n'
        '  "Id" : "key-default-1",\n'
        '  "Statement" : [ {\n'
        '    "Sid" : "Enable IAM User Permissions",\n'
        '    "Effect" : "Allow",\n'
        '    "Principal" : {\n'
        f'      "AWS" : "arn:aws:iam::{account_id}:root"\n'
        "    },\n"
        '    "Action" : "kms:*",\n'
        '    "Resource" : "*"\n'
        "  } ]\n"
        "}"
    )
