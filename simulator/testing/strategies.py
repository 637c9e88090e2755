"""Hypothesis strategies for envelope-sim (in the spirit of ``hypothesis.extra``).

```python
from hypothesis import given
from simulator.testing.strategies import encryption_contexts, simulations

@given(simulations(), encryption_contexts(), encryption_contexts())
def test_context_binding(sim, a, b): ...
```

Every strategy shrinks toward a small, readable example: an empty context (or one short pair),
the default key spec, the account root, the default key policy, no grant constraint, a plan of
one fault.
Nothing here draws from ``random``: simulations get their seed from hypothesis
(:func:`simulations`), so a failure replays exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ..clock import DEFAULT_EPOCH
from ..faults import (
    EC2_OPERATIONS,
    RETRYABLE_ERRORS,
    AtStep,
    AtTime,
    Chance,
    DisableKey,
    DropAttachment,
    Effect,
    Fault,
    FaultPlan,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
    Trigger,
)
from ..iam.policy import default_key_policy
from ..kms.key_material import UNSUPPORTED_KEY_SPECS
from ..kms.keys import KEY_SPECS

__all__ = [
    "KMS_CRYPTO_OPERATIONS",
    "POLICY_USERS",
    "Operation",
    "OperationResult",
    "data_key_specs",
    "effects",
    "encryption_contexts",
    "fault_plans",
    "faults",
    "grant_constraints",
    "key_policies",
    "key_specs",
    "kms_operation_sequences",
    "principals",
    "run_operations",
    "seeds",
    "simulations",
    "triggers",
]

ACCOUNT = "123456789012"
#: KMS operations that use a key for cryptography (what faults and policies most often aim at).
KMS_CRYPTO_OPERATIONS = ("Decrypt", "Encrypt", "GenerateDataKey",
                         "GenerateDataKeyWithoutPlaintext", "ReEncrypt", "CreateGrant")
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
#: The users :func:`key_policies` names by default (create them in the simulation).
POLICY_USERS = ("Alice", "Bob")
_POLICY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                   "kms:DescribeKey", "kms:CreateGrant", "kms:*")


def seeds() -> st.SearchStrategy[int]:
    """Simulation seeds (shrink toward 0)."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def simulations(**settings: Any) -> st.SearchStrategy[Any]:
    """Fresh ``Simulation`` objects seeded by hypothesis, so every example replays exactly.

    ``settings`` are passed on: ``simulations(volume_cipher="gcm")``.
    """
    from ..simulation import Simulation

    return st.builds(lambda seed: Simulation(seed=seed, **settings), seeds())


def _names(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=_NAME_CHARS, min_size=min_size, max_size=max_size)


def encryption_contexts(
    *, min_size: int = 0, max_size: int = 4,
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    """Encryption contexts (string -> string), shrinking toward ``{}`` and short ASCII names.

    By default keys and values also include awkward characters (``=``, ``,``, ``"``, ``:``,
    non-ASCII) that break encodings which concatenate pairs.
    """
    awkward = st.sampled_from(["=", ",", ":", '"', "\\", "é", "\u2603", " ", ""])
    text = st.one_of(_names(1, 6), st.text(min_size=1, max_size=6),
                     st.lists(st.one_of(_names(1, 2), awkward), min_size=1, max_size=4).map("".join)
                     .filter(bool))
    return st.dictionaries(keys if keys is not None else text,
                           values if values is not None else st.one_of(_names(0, 6), text),
                           min_size=min_size, max_size=max_size)


def key_specs(*, envelope_only: bool = False) -> st.SearchStrategy[str]:
    """CreateKey ``key_spec`` values envelope-sim creates, shrinking toward ``"SYMMETRIC_DEFAULT"``.

    ``envelope_only=True`` keeps the specs that can encrypt data keys (symmetric only).
    """
    specs = ["SYMMETRIC_DEFAULT"] if envelope_only else [
        spec for spec in KEY_SPECS if spec not in UNSUPPORTED_KEY_SPECS]
    return st.sampled_from(specs)


def data_key_specs() -> st.SearchStrategy[str]:
    """GenerateDataKey ``key_spec`` values (``"AES_256"`` first)."""
    return st.sampled_from(["AES_256", "AES_128"])


def principals(*, account_id: str = ACCOUNT, users: Sequence[str] | None = None,
               roles: Sequence[str] | None = None) -> st.SearchStrategy[str]:
    """Principal ARNs of one account: the root, users and roles, shrinking toward the root.

    With ``users``/``roles`` given, only those names are drawn (so that they can exist in the
    simulation: ``sim.iam.create_user(user_name=...)``).
    """
    user_names = st.sampled_from(list(users)) if users else _names(1, 8)
    role_names = st.sampled_from(list(roles)) if roles else _names(1, 8)
    options = [st.just(f"arn:aws:iam::{account_id}:root"),
               user_names.map(lambda n: f"arn:aws:iam::{account_id}:user/{n}")]
    if roles is None or roles:
        options.append(role_names.map(lambda n: f"arn:aws:iam::{account_id}:role/{n}"))
    return st.one_of(options)


def _statement(principal: str, effect: str, actions: list[str],
               context: dict[str, str]) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": effect, "Principal": {"AWS": principal},
                            "Action": actions[0] if len(actions) == 1 else actions,
                            "Resource": "*"}
    if context:
        stmt["Condition"] = {"StringEquals": {
            f"kms:EncryptionContext:{k}": v for k, v in context.items()}}
    return stmt


def key_policies(*, account_id: str = ACCOUNT,
                 principal: st.SearchStrategy[str] | None = None,
                 max_statements: int = 3) -> st.SearchStrategy[str]:
    """Key policy documents (JSON text) that keep the root as administrator, so KMS accepts
    them, plus up to ``max_statements`` Allow/Deny statements for other principals, some
    conditioned on encryption-context pairs. Shrinks toward the default key policy.

    KMS refuses policies naming principals that do not exist: by default the statements name
    the root and the users in :data:`POLICY_USERS` (``Alice``, ``Bob``), so create those
    (``sim.iam.create_user(user_name="Alice")``) or pass ``principal=``.
    """
    who = principal if principal is not None else principals(
        account_id=account_id, users=POLICY_USERS, roles=())
    simple_context = st.dictionaries(_names(1, 4), _names(1, 4), max_size=2)
    statement = st.builds(
        _statement, who, st.sampled_from(["Allow", "Deny"]),
        st.lists(st.sampled_from(_POLICY_ACTIONS), min_size=1, max_size=3, unique=True),
        simple_context)

    def document(extra: list[dict[str, Any]]) -> str:
        if not extra:
            return default_key_policy(account_id)
        root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*",
                "Resource": "*"}
        # A Deny never names the root here: the root must stay able to administer the key.
        kept = [s for s in extra if not (s["Effect"] == "Deny"
                                         and s["Principal"]["AWS"].endswith(":root"))]
        return json.dumps({"Version": "2012-10-17", "Statement": [root, *kept]})

    return st.lists(statement, max_size=max_statements).map(document)


def grant_constraints(
    contexts: st.SearchStrategy[dict[str, str]] | None = None,
) -> st.SearchStrategy[dict[str, dict[str, str]] | None]:
    """CreateGrant ``constraints``: None, ``encryption_context_subset`` or
    ``encryption_context_equals`` (non-empty), shrinking toward None."""
    ctx = contexts if contexts is not None else encryption_contexts(min_size=1, max_size=3)
    return st.one_of(
        st.none(),
        ctx.map(lambda c: {"encryption_context_subset": c}),
        ctx.map(lambda c: {"encryption_context_equals": c}),
    )


# ================================================================================== faults


def _kms_operations() -> st.SearchStrategy[str]:
    return st.sampled_from([f"kms:{op}" for op in KMS_CRYPTO_OPERATIONS])


def triggers(*, workspace_ids: Sequence[str] = (), start: datetime = DEFAULT_EPOCH,
             horizon_seconds: float = 6 * 3600) -> st.SearchStrategy[Trigger]:
    """Triggers of every kind (steps of any or the given WorkSpaces, calls, times within
    ``horizon_seconds`` of ``start``, probabilities)."""
    ws = st.one_of(st.none(), st.sampled_from(list(workspace_ids))) if workspace_ids else st.none()
    operation = st.one_of(_kms_operations(), st.sampled_from([f"ec2:{o}" for o in EC2_OPERATIONS]))
    return st.one_of(
        st.builds(AtStep, st.integers(1, 9), st.sampled_from(["before", "after"]), ws,
                  st.integers(1, 3)),
        st.builds(OnCall, operation, st.integers(1, 5)),
        st.builds(AtTime, st.integers(0, int(horizon_seconds)).map(
            lambda s: start + timedelta(seconds=s))),
        st.builds(Chance, st.sampled_from([0.5, 0.1, 0.25, 1.0]), operation,
                  st.one_of(st.none(), st.integers(1, 3))),
    )


def effects(*, key_ids: Sequence[str] = (), volume_ids: Sequence[str] = (),
            include_admin: bool = True, include_corruption: bool = True
            ) -> st.SearchStrategy[Effect]:
    """Effects of every kind.

    ``key_ids`` and ``volume_ids`` name real targets; without them admin actions act on the
    triggering WorkSpace's key (``key_id=None``) and corruption on its ``"user"``/``"root"``
    volume.
    """
    keys = st.one_of(st.none(), st.sampled_from(list(key_ids))) if key_ids else st.none()
    volumes = st.sampled_from(["user", "root", *volume_ids])
    out: list[st.SearchStrategy[Effect]] = [
        st.builds(RaiseError, st.sampled_from(list(RETRYABLE_ERRORS)), st.integers(1, 6),
                  st.one_of(st.none(), _kms_operations())),
        st.builds(SetGrantPropagation, st.sampled_from([0.0, 30.0, 300.0])),
    ]
    if include_admin:
        out += [
            st.builds(DisableKey, keys),
            st.builds(ScheduleKeyDeletion, keys, st.integers(7, 30)),
            st.builds(RevokeGrant, keys),
            st.builds(RetireGrant, keys),
            st.builds(PutKeyPolicy, key_policies(max_statements=1), keys),
        ]
    if include_corruption:
        out += [
            st.builds(FlipBlockBit, volumes, st.integers(0, 3), st.integers(0, 255)),
            st.builds(FlipDataKeyBit, volumes, st.integers(0, 255)),
            st.builds(DropAttachment, volumes),
        ]
    return st.one_of(out)


def faults(*, key_ids: Sequence[str] = (), volume_ids: Sequence[str] = (),
           workspace_ids: Sequence[str] = (), **options: Any) -> st.SearchStrategy[Fault]:
    """One :class:`~simulator.faults.Fault` (see :func:`triggers` and :func:`effects`) that
    can act: ``sim.faults.inject`` refuses the others (``Fault.missing_target()``)."""
    trigger_options = {k: options.pop(k) for k in ("start", "horizon_seconds") if k in options}
    return st.builds(Fault, triggers(workspace_ids=workspace_ids, **trigger_options),
                     effects(key_ids=key_ids, volume_ids=volume_ids, **options),
                     st.none()).filter(lambda f: f.missing_target() is None)


def fault_plans(*, min_size: int = 1, max_size: int = 3, **options: Any
                ) -> st.SearchStrategy[FaultPlan]:
    """Fault plans of ``min_size`` to ``max_size`` faults (options as for :func:`faults`)."""
    return st.lists(faults(**options), min_size=min_size, max_size=max_size).map(
        FaultPlan)


# ====================================================================== operation sequences


@dataclass(frozen=True)
class Operation:
    """One KMS call of a generated sequence: ``kms.<name>(**args)`` on key number ``key``.

    ``blob`` (for decrypt) is the index of an earlier ciphertext, counted from the oldest.
    """

    name: str
    key: int = 0
    args: dict[str, Any] = field(default_factory=dict, hash=False)
    blob: int | None = None

    def __str__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.args.items())
        ref = f"blob#{self.blob}" if self.blob is not None else f"key#{self.key}"
        return f"{self.name}({ref}{extra})"


def kms_operation_sequences(*, keys: int = 2, min_size: int = 1, max_size: int = 12
                            ) -> st.SearchStrategy[list[Operation]]:
    """Sequences of KMS calls over ``keys`` keys (key states, rotation, envelope calls).

    Run one with :func:`run_operations`; a failing sequence shrinks toward one or two calls.
    """
    key = st.integers(0, keys - 1)
    ctx = encryption_contexts(max_size=2)
    op = st.one_of(
        st.builds(lambda k, c: Operation("generate_data_key", k, {"encryption_context": c,
                                                                 "key_spec": "AES_256"}), key, ctx),
        st.builds(lambda k, c, n: Operation("encrypt", k, {"encryption_context": c,
                                                           "plaintext": b"x" * n}),
                  key, ctx, st.integers(1, 64)),
        st.builds(lambda b: Operation("decrypt", blob=b), st.integers(0, 20)),
        st.builds(lambda k: Operation("disable_key", k), key),
        st.builds(lambda k: Operation("enable_key", k), key),
        st.builds(lambda k: Operation("rotate_key_on_demand", k), key),
        st.builds(lambda k: Operation("schedule_key_deletion", k,
                                      {"pending_window_in_days": 7}), key),
        st.builds(lambda k: Operation("cancel_key_deletion", k), key),
    )
    return st.lists(op, min_size=min_size, max_size=max_size)


@dataclass
class OperationResult:
    """What :func:`run_operations` did: each call's outcome (``"ok"`` or the AWS error code)."""

    outcomes: list[tuple[Operation, str]] = field(default_factory=list)
    #: (ciphertext blob, encryption context, plaintext) of each successful encrypt/GDK.
    blobs: list[tuple[bytes, dict[str, str], bytes]] = field(default_factory=list, repr=False)


def run_operations(sim: Any, key_arns: Sequence[str], operations: Sequence[Operation]
                   ) -> OperationResult:
    """Run ``operations`` against ``sim.kms``; AWS errors are outcomes, not exceptions.

    A decrypt of a blob that does not exist yet (its index is past the blobs made so far)
    is skipped, so any generated sequence runs.
    """
    from ..errors import AwsError

    result = OperationResult()
    kms = sim.kms
    for op in operations:
        try:
            if op.name == "decrypt":
                if op.blob is None or op.blob >= len(result.blobs):
                    continue
                blob, ctx, plain = result.blobs[op.blob]
                out = kms.decrypt(ciphertext_blob=blob, encryption_context=ctx)
                if bytes(out.plaintext) != plain:
                    raise AssertionError(f"{op} returned different plaintext")
            elif op.name in ("generate_data_key", "encrypt"):
                made = getattr(kms, op.name)(key_id=key_arns[op.key], **op.args)
                plain = bytes(made.plaintext) if op.name == "generate_data_key" else op.args[
                    "plaintext"]
                result.blobs.append((made.ciphertext_blob, dict(op.args["encryption_context"]),
                                     plain))
            else:
                getattr(kms, op.name)(key_id=key_arns[op.key], **op.args)
        except AwsError as err:
            result.outcomes.append((op, err.code))
            continue
        result.outcomes.append((op, "ok"))
    return result
