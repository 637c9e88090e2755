"""The ``Condition`` element of a policy: operators, set qualifiers, ``IfExists``, ``Null``.

A condition block is parsed once, when its policy is parsed, into :class:`Condition` objects whose
test is a pre-built closure; evaluating one against a request is a dict lookup plus that closure.

IAM rules implemented (IAM User Guide, "Condition operators" and "Multivalued context keys"):

- Condition-key names are case-insensitive (``kms:EncryptionContext:<k>`` included), values are
  compared as the operator says (``StringEquals`` is case-sensitive, ``...IgnoreCase`` is not).
- Several values for one key are ORed; several keys, and several operators, are ANDed (the policy
  does the AND; one :class:`Condition` is one operator + one key).
- A key missing from the request makes the condition false, except that the *negated* operators
  (``StringNotEquals``, ``StringNotLike``, ``ArnNotLike``, ``NotIpAddress`` ...) are then true.
  ``...IfExists`` is true when the key is missing; ``Null`` tests presence itself.
- ``ForAllValues:`` is true when every request value matches (so an empty or missing key passes);
  ``ForAnyValue:`` is true when at least one does (so an empty or missing key fails).
- Without a qualifier a multivalued key (``kms:EncryptionContextKeys``) matches a positive
  operator when any of its values does, and a negated operator when none does.

Policy variables (``${aws:username}``) are not substituted: values are matched literally.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ..errors import MalformedPolicyDocumentException

__all__ = [
    "OPERATORS",
    "Condition",
    "ConditionContext",
    "ConditionLookup",
    "glob_regex",
    "normalize_context",
    "parse_condition_block",
    "request_values",
]

#: A request's condition keys, lower-cased, each with its values as strings.
ConditionContext = Mapping[str, tuple[str, ...]]


class ConditionLookup(Protocol):
    """Anything that answers ``get(lower_case_key)`` with the request's values or None."""

    def get(self, key: str, /) -> tuple[str, ...] | None: ...

_Matcher = Callable[[str], bool]


def glob_regex(patterns: Iterable[str]) -> re.Pattern[str]:
    """One compiled regex matching any of ``patterns`` (IAM wildcards ``*`` and ``?``) in full.

    Built with :func:`fnmatch.translate` (``[`` escaped), whose atomic groups keep matching
    linear in the number of ``*``: a naive ``.*`` per star backtracks exponentially.
    """
    return re.compile("|".join(fnmatch.translate(p.replace("[", "[[]")) for p in patterns))


def _bad(message: str) -> MalformedPolicyDocumentException:
    return MalformedPolicyDocumentException(message)


# --- value matchers: each takes the policy's values, returns "does a request value match any" --


def _string_equals(values: tuple[str, ...]) -> _Matcher:
    s = frozenset(values)
    return s.__contains__


def _string_equals_ic(values: tuple[str, ...]) -> _Matcher:
    s = frozenset(v.casefold() for v in values)
    return lambda v: v.casefold() in s


def glob_matcher(values: Iterable[str]) -> _Matcher:
    """Whether a string matches any of ``values`` (IAM wildcards); exact values by set lookup."""
    values = tuple(values)
    if "*" in values:
        return _always
    exact = frozenset(v for v in values if "*" not in v and "?" not in v)
    wild = [v for v in values if v not in exact]
    if not wild:
        return exact.__contains__
    rx = glob_regex(wild).match
    return lambda v: v in exact or rx(v) is not None


def _always(_: str) -> bool:
    return True



def _bool(values: tuple[str, ...]) -> _Matcher:
    s = frozenset(v.lower() for v in values)
    return lambda v: v.lower() in s


def _number(text: str) -> float | None:
    try:
        n = float(text)
    except ValueError:
        return None
    return None if n != n else n  # NaN never compares


def _epoch(text: str) -> float | None:
    n = _number(text)
    if n is not None:
        return n
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def _ordered(parse: Callable[[str], float | None], what: str, noun: str
             ) -> Callable[[Callable[[float, float], bool]], Callable[[tuple[str, ...]], _Matcher]]:
    def with_cmp(cmp: Callable[[float, float], bool]) -> Callable[[tuple[str, ...]], _Matcher]:
        def build(values: tuple[str, ...]) -> _Matcher:
            bounds = []
            for v in values:
                n = parse(v)
                if n is None:
                    raise _bad(f"Invalid {noun} in {what} condition: {v!r}")
                bounds.append(n)

            def match(v: str) -> bool:
                r = parse(v)
                return r is not None and any(cmp(r, p) for p in bounds)

            return match

        return build

    return with_cmp


_numeric = _ordered(_number, "Numeric", "number")
_date = _ordered(_epoch, "Date", "date")


def _ip(values: tuple[str, ...]) -> _Matcher:
    try:
        nets = [ipaddress.ip_network(v, strict=False) for v in values]
    except ValueError as exc:
        raise _bad(f"Invalid IP address in IpAddress condition: {exc}") from None

    def match(v: str) -> bool:
        try:
            addr = ipaddress.ip_address(v.split("/")[0])
        except ValueError:
            return False
        return any(addr in n for n in nets)

    return match


def _arn_like(values: tuple[str, ...]) -> _Matcher:
    # ARNs are compared component by component (six colon-separated parts); a wildcard never
    # spans a colon between components. Case-sensitive.
    compiled: list[list[re.Pattern[str]]] = []
    for v in values:
        parts = v.split(":", 5)
        if len(parts) == 6:
            compiled.append([glob_regex([p]) for p in parts])
        elif v == "*":
            compiled.append([])

    def match(v: str) -> bool:
        got = v.split(":", 5)
        for pats in compiled:
            if not pats:
                return True
            if len(got) == 6 and all(p.match(g) for p, g in zip(pats, got, strict=True)):
                return True
        return False

    return match


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


def _eq(a: float, b: float) -> bool:
    return a == b


#: Base operator name -> (negated, builder of the positive matcher).
OPERATORS: dict[str, tuple[bool, Callable[[tuple[str, ...]], _Matcher]]] = {
    "StringEquals": (False, _string_equals),
    "StringNotEquals": (True, _string_equals),
    "StringEqualsIgnoreCase": (False, _string_equals_ic),
    "StringNotEqualsIgnoreCase": (True, _string_equals_ic),
    "StringLike": (False, glob_matcher),
    "StringNotLike": (True, glob_matcher),
    "NumericEquals": (False, _numeric(_eq)),
    "NumericNotEquals": (True, _numeric(_eq)),
    "NumericLessThan": (False, _numeric(_lt)),
    "NumericLessThanEquals": (False, _numeric(_le)),
    "NumericGreaterThan": (False, _numeric(_gt)),
    "NumericGreaterThanEquals": (False, _numeric(_ge)),
    "DateEquals": (False, _date(_eq)),
    "DateNotEquals": (True, _date(_eq)),
    "DateLessThan": (False, _date(_lt)),
    "DateLessThanEquals": (False, _date(_le)),
    "DateGreaterThan": (False, _date(_gt)),
    "DateGreaterThanEquals": (False, _date(_ge)),
    "Bool": (False, _bool),
    "BinaryEquals": (False, _string_equals),
    "IpAddress": (False, _ip),
    "NotIpAddress": (True, _ip),
    "ArnEquals": (False, _arn_like),
    "ArnLike": (False, _arn_like),
    "ArnNotEquals": (True, _arn_like),
    "ArnNotLike": (True, _arn_like),
}
_OPERATORS_LOWER = {name.lower(): name for name in OPERATORS}
_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}
_KEY_RE = re.compile(r"^[A-Za-z0-9-]+:\S.*\Z", re.DOTALL)


@dataclass(frozen=True)
class Condition:
    """One operator applied to one condition key, with the policy's values (ORed)."""

    operator: str  #: as written: ``"ForAnyValue:StringLike"``
    base: str  #: canonical base operator: ``"StringLike"``, ``"Null"``
    qualifier: str | None  #: ``"ForAllValues"``, ``"ForAnyValue"`` or ``None``
    if_exists: bool
    key: str  #: as written
    values: tuple[str, ...]
    _test: Callable[[tuple[str, ...] | None], bool] = field(
        compare=False, repr=False, hash=False)
    _key: str = field(default="", compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", self.key.lower())

    @property
    def key_lower(self) -> str:
        return self._key

    def holds(self, context: ConditionLookup) -> bool:
        """Whether this condition is true for a request with these (lower-cased) keys."""
        return self._test(context.get(self._key))


def _scalar(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    raise _bad(f"Invalid value in Condition for {where}: values must be strings, numbers or "
               f"booleans")


def _policy_values(raw: object, where: str) -> tuple[str, ...]:
    if isinstance(raw, list):
        return tuple(_scalar(v, where) for v in raw)
    return (_scalar(raw, where),)


def _build_test(base: str, qualifier: str | None, if_exists: bool,
                values: tuple[str, ...]) -> Callable[[tuple[str, ...] | None], bool]:
    if base == "Null":
        wants = {v.lower() for v in values}
        want_absent, want_present = "true" in wants, "false" in wants
        return lambda got: (want_absent if not got else want_present)

    negated, builder = OPERATORS[base]
    pos = builder(values)
    if not negated:
        test: _Matcher = pos
    else:
        def test(v: str) -> bool:
            return not pos(v)

    if qualifier == "ForAllValues":
        missing = True
    elif qualifier == "ForAnyValue":
        missing = False
    else:
        missing = negated
    if if_exists:
        missing = True

    if qualifier == "ForAllValues" or (qualifier is None and negated):
        def run(got: tuple[str, ...] | None) -> bool:
            if not got:
                return missing
            return all(test(v) for v in got)
    else:
        def run(got: tuple[str, ...] | None) -> bool:
            if not got:
                return missing
            return any(test(v) for v in got)

    return run


def _split_operator(operator: str) -> tuple[str, str | None, bool]:
    """``"ForAnyValue:StringLikeIfExists"`` -> (``"StringLike"``, ``"ForAnyValue"``, True)."""
    qualifier = None
    rest = operator
    if ":" in operator:
        head, _, rest = operator.partition(":")
        qualifier = _QUALIFIERS.get(head.lower())
        if qualifier is None:
            raise _bad(f"Invalid Condition type : {operator}")
    low = rest.lower()
    if low == "null":
        if qualifier is not None:
            raise _bad(f"Invalid Condition type : {operator}")
        return "Null", None, False
    if_exists = False
    if low.endswith("ifexists"):
        if_exists, low = True, low[: -len("ifexists")]
    base = _OPERATORS_LOWER.get(low)
    if base is None:
        raise _bad(f"Invalid Condition type : {operator}")
    return base, qualifier, if_exists


def parse_condition_block(block: object, *, reject_set_on_context_keys: bool = False
                          ) -> tuple[Condition, ...]:
    """Parse a statement's ``Condition`` object; :class:`MalformedPolicyDocumentException` if bad.

    ``reject_set_on_context_keys`` (key policies) refuses ``ForAllValues``/``ForAnyValue`` with the
    single-valued ``kms:EncryptionContext:<k>`` keys, as PutKeyPolicy does
    (``OverlyPermissiveCondition``).
    """
    if not isinstance(block, dict):
        raise _bad("Condition must be a JSON object mapping condition operators to keys")
    out: list[Condition] = []
    for operator, keys in block.items():
        base, qualifier, if_exists = _split_operator(operator)
        if not isinstance(keys, dict) or not keys:
            raise _bad(f"Condition operator {operator} must map condition keys to values")
        for key, raw in keys.items():
            if not _KEY_RE.match(key):
                raise _bad("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                           f"ec2, etc. Condition key: {key!r}")
            if (reject_set_on_context_keys and qualifier is not None
                    and key.lower().startswith("kms:encryptioncontext:")):
                raise _bad(
                    "OverlyPermissiveCondition: the condition key "
                    f"{key} is single-valued; using it with {qualifier} makes the statement "
                    "match requests without an encryption context. Use it without a set "
                    "operator, or use kms:EncryptionContextKeys.")
            values = _policy_values(raw, key)
            test = _build_test(base, qualifier, if_exists, values)
            out.append(Condition(operator, base, qualifier, if_exists, key, values, test))
    return tuple(out)


def request_values(value: object) -> tuple[str, ...] | None:
    """One request condition value as a tuple of strings (None: the key is absent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, datetime):
        return (value.isoformat(),)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return tuple(v for item in items for v in (request_values(item) or ()))
    return (str(value),)


def normalize_context(conditions: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """A request's condition keys lower-cased, each value as a tuple of strings (None dropped)."""
    out: dict[str, tuple[str, ...]] = {}
    for k, v in conditions.items():
        vals = request_values(v)
        if vals is not None:
            low = k.lower()
            out[low] = out[low] + vals if low in out else vals
    return out
