"""KMS grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import (
    MESSAGES,
    AccessDeniedException,
    AwsError,
    InvalidGrantIdException,
    NotFoundException,
    ValidationException,
)
from ..iam.evaluator import AuthRequest
from . import validation as v
from .authz import authorize_kms_identity
from .base import KmsBase, _page, check_marker
from .grants import Grant, GrantConstraints, GrantStore
from .keys import ENCRYPT_DECRYPT
from .models import (
    CreateGrantResult,
    GrantListEntry,
    ListGrantsResult,
)

__all__ = ["GRANT_OPERATIONS", "GrantOperations"]

#: Every value of the GrantOperation enum.
GRANT_OPERATIONS = (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret",
)
_COMMON_GRANT_OPS = frozenset({"CreateGrant", "RetireGrant", "DescribeKey"})
_GRANT_OPS_BY_USAGE = {
    ("SYMMETRIC", ENCRYPT_DECRYPT): frozenset({
        "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom", "ReEncryptTo", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext"}),
    ("ASYMMETRIC", ENCRYPT_DECRYPT): frozenset({
        "Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"}),
    ("ASYMMETRIC", "SIGN_VERIFY"): frozenset({"Sign", "Verify", "GetPublicKey"}),
    ("ASYMMETRIC", "KEY_AGREEMENT"): frozenset({"DeriveSharedSecret", "GetPublicKey"}),
    ("HMAC", "GENERATE_VERIFY_MAC"): frozenset({"GenerateMac", "VerifyMac"}),
}
_PRINCIPAL = re.compile(r"[\w+=,.@:/-]+")
# ServicePrincipalType and GrantConstraintSourceArnType in the KMS API model.
_SERVICE_PRINCIPAL = re.compile(r"([A-Za-z0-9\-]+)\.([A-Za-z0-9\-]+)(\.[A-Za-z0-9\-]+)+")
_SOURCE_ARN = re.compile(r"arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+")
_GRANT_NAME = re.compile(r"[a-zA-Z0-9:/_-]+")


class GrantOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def _check_constraints(self, constraints: object) -> GrantConstraints | None:
        if constraints is None:
            return None
        if not isinstance(constraints, Mapping):
            raise ValidationException("constraints must be a mapping with the keys "
                                      "'encryption_context_subset' and/or "
                                      "'encryption_context_equals'.")
        unknown = set(constraints) - {"encryption_context_subset", "encryption_context_equals",
                                      "source_arn"}
        if unknown:
            raise ValidationException(
                f"Unknown grant constraint(s) {sorted(map(str, unknown))}; use "
                "'encryption_context_subset', 'encryption_context_equals' or 'source_arn'.")
        source_arn = constraints.get("source_arn")
        if source_arn is not None:
            source_arn = v.check_str(source_arn, "constraints.sourceArn", max_len=512,
                                     pattern=_SOURCE_ARN)
        parsed: dict[str, dict[str, str] | None] = {}
        for name in ("encryption_context_subset", "encryption_context_equals"):
            ctx = v.check_context(constraints.get(name), "constraints." + name)
            raw = constraints.get(name)
            if raw is not None and ctx is None:
                ctx = {}
            if ctx is not None:
                if len(ctx) > 8:
                    raise ValidationException(
                        f"1 validation error detected: Value at 'constraints.{name}' failed to "
                        "satisfy constraint: Member must have at most 8 entries")
                for val in ctx.values():
                    if len(val) > 384:
                        raise ValidationException(MESSAGES["too_long"].format(
                            field=f"constraints.{name}.value", limit=384))
            parsed[name] = ctx
        return GrantConstraints(encryption_context_equals=parsed["encryption_context_equals"],
                                encryption_context_subset=parsed["encryption_context_subset"],
                                source_arn=source_arn)

    def create_grant(
        self, *, key_id: str, operations: Sequence[str], grantee_principal: str | None = None,
        retiring_principal: str | None = None, constraints: Mapping[str, Any] | None = None,
        grant_tokens: Sequence[str] | None = None, name: str | None = None,
        dry_run: bool = False, grantee_service_principal: str | None = None,
        retiring_service_principal: str | None = None,
    ) -> CreateGrantResult:
        """CreateGrant: let the grantee (a principal, or an AWS service principal for one
        resource) perform ``operations`` with this key."""
        params: dict[str, Any] = {"keyId": key_id, "granteePrincipal": grantee_principal,
                                  "operations": operations, "retiringPrincipal": retiring_principal,
                                  "name": name}
        if grantee_service_principal is not None:
            params["granteeServicePrincipal"] = grantee_service_principal
        if retiring_service_principal is not None:
            params["retiringServicePrincipal"] = retiring_service_principal
        if constraints is not None:
            params["constraints"] = (
                {(_camel(k) if type(k) is str else k): val for k, val in constraints.items()}
                if isinstance(constraints, Mapping) else constraints)
        with self._api("CreateGrant", params) as call:
            grantee = _principal_or_service(grantee_principal, grantee_service_principal,
                                            "grantee", required=True)
            retiring = _principal_or_service(retiring_principal, retiring_service_principal,
                                             "retiring", required=False)
            assert grantee is not None
            ops = v.as_list(operations, "operations")
            if not ops:
                raise ValidationException(MESSAGES["too_short"].format(field="operations", limit=1))
            for op in ops:
                v.check_enum(op, "operations.member", GRANT_OPERATIONS)
            ops_t = tuple(dict.fromkeys(ops))
            cons = self._check_constraints(constraints)
            if grantee_service_principal is not None:
                if cons is None or cons.source_arn is None:
                    raise ValidationException("When you specify a GranteeServicePrincipal, you "
                                              "must also specify a SourceArn grant constraint.")
                if retiring is None:
                    raise ValidationException(
                        "When you specify a GranteeServicePrincipal, you must specify either a "
                        "RetiringPrincipal or a RetiringServicePrincipal.")
            grant_name = (None if name is None else
                          v.check_str(name, "name", max_len=256, pattern=_GRANT_NAME))
            tokens = v.check_tokens(grant_tokens)
            key = self._resolve(key_id, aliases=False, cross_account=True)
            call.resources.append(key.arn)
            family = "SYMMETRIC" if key.is_symmetric else (
                "HMAC" if key.key_spec.startswith("HMAC") else "ASYMMETRIC")
            allowed = _GRANT_OPS_BY_USAGE.get((family, key.key_usage), frozenset()) | _COMMON_GRANT_OPS
            bad = [op for op in ops_t if op not in allowed]
            if bad:
                raise ValidationException(
                    f"Grant operations {bad} are not valid for a {key.key_spec} key with key usage "
                    f"{key.key_usage}.")
            if cons is not None and not key.is_symmetric and (
                    cons.encryption_context_equals is not None
                    or cons.encryption_context_subset is not None):
                # SourceArn is supported on grants for all types of KMS keys.
                raise ValidationException(
                    "Encryption context grant constraints are only valid for symmetric "
                    "encryption KMS keys.")
            extra: dict[str, object] = {"kms:GrantOperations": list(ops_t),
                                        "kms:GranteePrincipal": grantee}
            if retiring is not None:
                extra["kms:RetiringPrincipal"] = retiring
            ctx_for_conditions: dict[str, str] | None = None
            if cons is not None and cons.constraint_types:
                ctype = ("EncryptionContextEquals" if cons.encryption_context_equals is not None
                         else "EncryptionContextSubset")
                extra["kms:GrantConstraintType"] = ctype
                ctx_for_conditions = dict(cons.encryption_context_equals
                                          or cons.encryption_context_subset or {})
            self._authorize(
                key, "kms:CreateGrant", grant_operation="CreateGrant", tokens=tokens, extra=extra,
                context=ctx_for_conditions,
                grant_check=lambda parent: GrantStore.is_narrower(ops_t, cons, parent),
            )
            self._require_usable(key)
            self._dry_run(dry_run)
            grant, token = self._home(key).grants.create(
                key_arn=key.arn, grantee_principal=grantee, operations=ops_t, constraints=cons,
                retiring_principal=retiring, name=grant_name, created_by=self._caller.arn,
                grantee_is_service=grantee_service_principal is not None,
                retiring_is_service=retiring_service_principal is not None)
            call.response = {"grantId": grant.grant_id}
            call.trace_detail = {"grant_id": grant.grant_id, "grantee": grantee,
                                 "operations": list(ops_t), "constraints": _constraints_dict(cons),
                                 "retiring_principal": retiring}
            return CreateGrantResult(grant.grant_id, token)

    def _grant_entry(self, g: Grant) -> GrantListEntry:
        return GrantListEntry(
            key_id=g.key_arn, grant_id=g.grant_id, name=g.name, creation_date=g.creation_date,
            grantee_principal=None if g.grantee_service_principal else g.grantee_principal,
            retiring_principal=None if g.retiring_service_principal else g.retiring_principal,
            issuing_account=g.issuing_account, operations=g.operations,
            constraints=_constraints_dict(g.constraints),
            grantee_service_principal=g.grantee_service_principal,
            retiring_service_principal=g.retiring_service_principal)

    def list_grants(self, *, key_id: str, limit: int | None = None, marker: str | None = None,
                    grant_id: str | None = None, grantee_principal: str | None = None,
                    grantee_service_principal: str | None = None) -> ListGrantsResult:
        """ListGrants on a key (ids, never tokens), filtered by grant id or grantee."""
        with self._api("ListGrants", {"keyId": key_id, "limit": limit, "marker": marker,
                                      "grantId": grant_id, "granteePrincipal": grantee_principal,
                                      "granteeServicePrincipal": grantee_service_principal},
                       read_only=True) as call:
            lim = v.check_limit(limit, high=100) or 50
            start = check_marker(marker)
            if grant_id is not None:
                v.check_str(grant_id, "grantId", max_len=128)
            if grantee_principal is not None:
                v.check_str(grantee_principal, "granteePrincipal", max_len=256, pattern=_PRINCIPAL)
            if grantee_service_principal is not None:
                v.check_str(grantee_service_principal, "granteeServicePrincipal", max_len=128,
                            pattern=_SERVICE_PRINCIPAL)
            key = self._resolve(key_id, aliases=False, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListGrants")
            grants = self._home(key).grants.list(key.arn, grant_id=grant_id,
                                         grantee_principal=grantee_principal)
            if grantee_principal is not None:  # a principal, not a service principal
                grants = [g for g in grants if g.grantee_service_principal is None]
            if grantee_service_principal is not None:
                grants = [g for g in grants
                          if g.grantee_service_principal == grantee_service_principal]
            page, more, marker = _page(grants, start, lim)
            return ListGrantsResult(tuple(map(self._grant_entry, page)), more, marker)

    def list_retirable_grants(self, *, retiring_principal: str | None = None,
                              limit: int | None = None, marker: str | None = None,
                              retiring_service_principal: str | None = None) -> ListGrantsResult:
        """ListRetirableGrants (by retiring principal or retiring service principal):
        authorised by the caller's IAM policy only."""
        with self._api("ListRetirableGrants", {
                "retiringPrincipal": retiring_principal, "limit": limit, "marker": marker,
                "retiringServicePrincipal": retiring_service_principal}, read_only=True):
            lim = v.check_limit(limit, high=100) or 50
            start = check_marker(marker)
            principal = _principal_or_service(retiring_principal, retiring_service_principal,
                                              "retiring", required=True)
            assert principal is not None
            self._authorize_identity("kms:ListRetirableGrants")
            grants = [g for g in self._s.grants.list_retirable(principal)
                      if (g.retiring_service_principal is None) == (retiring_principal is not None)]
            page, more, marker = _page(grants, start, lim)
            return ListGrantsResult(tuple(map(self._grant_entry, page)), more, marker)

    def retire_grant(self, *, grant_token: str | None = None, key_id: str | None = None,
                     grant_id: str | None = None, dry_run: bool = False) -> None:
        """RetireGrant by token, or by key ARN + grant id, by one of the allowed retirers."""
        by_token = grant_token is not None
        params = None if by_token else {"keyId": key_id, "grantId": grant_id}
        with self._api("RetireGrant", params) as call:
            if by_token:
                if key_id is not None or grant_id is not None:
                    raise ValidationException(
                        "Specify either a grant token, or a key ARN and a grant ID, not both.")
                tok = v.check_str(grant_token, "grantToken", max_len=8192)
                known = self._s.grants.resolve_tokens([tok])
                if not known or self._s.grants.get(known[0].key_arn, known[0].grant_id) is None:
                    raise NotFoundException("The grant of this token is already retired or revoked.")
                grant = known[0]
                store = self._s.grants
            else:
                if key_id is None or grant_id is None:
                    raise ValidationException(
                        "RetireGrant needs a grant token, or both a key ARN and a grant ID.")
                gid = v.check_str(grant_id, "grantId", max_len=128)
                key = self._resolve(key_id, aliases=False, cross_account=True)
                store = self._home(key).grants
                found = store.get(key.arn, gid)
                if found is None:
                    raise _grant_not_found(gid)
                grant = found
            call.resources.append(grant.key_arn)
            call.additional = {"grantId": grant.grant_id}
            self._check_retirer(grant)
            self._dry_run(dry_run)
            store.retire(grant)
            call.trace_detail = {"grant_id": grant.grant_id, "grantee": grant.grantee_principal}

    def _check_retirer(self, grant: Grant) -> None:
        caller = self._caller
        arn = caller.arn
        # The KMS guide (Retiring and revoking grants): an IAM policy Deny of kms:RetireGrant
        # stops even the retiring principal and the grantee, so it is consulted first.
        decision = None
        if not caller.is_root:
            decision = authorize_kms_identity(
                AuthRequest(caller=caller, action="kms:RetireGrant", resource=grant.key_arn),
                identity_policies=self._s.iam.identity_policies(caller))
            if decision.reason == "explicit-deny":
                raise AccessDeniedException(decision.message)
        if grant.retiring_principal == arn:
            return
        if grant.grantee_principal == arn and "RetireGrant" in grant.operations:
            return
        if caller.is_root and caller.account_id == grant.issuing_account.split(":")[4]:
            return
        # (4) delegation: a principal of the issuing account whose IAM policy allows RetireGrant.
        if (caller.account_id == grant.issuing_account.split(":")[4] and decision is not None
                and decision.allowed):
            return
        raise AccessDeniedException(MESSAGES["access_denied"].format(
            principal=arn, action="kms:RetireGrant", resource=grant.key_arn,
            policy_kind="resource-based"))

    def revoke_grant(self, *, key_id: str, grant_id: str, dry_run: bool = False) -> None:
        """RevokeGrant: key administrators remove a grant (no token accepted)."""
        with self._api("RevokeGrant", {"keyId": key_id, "grantId": grant_id}) as call:
            gid = v.check_str(grant_id, "grantId", max_len=128)
            key = self._resolve(key_id, aliases=False, cross_account=True)
            call.resources.append(key.arn)
            self._authorize(key, "kms:RevokeGrant")
            store = self._home(key).grants
            grant = store.get(key.arn, gid)
            if grant is None:
                raise _grant_not_found(gid)
            self._dry_run(dry_run)
            store.revoke(grant)
            call.trace_detail = {"grant_id": gid, "grantee": grant.grantee_principal}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _principal_or_service(principal: object, service_principal: object, role: str, *,
                          required: bool) -> str | None:
    """The ``<role>Principal`` or ``<role>ServicePrincipal`` given: the KMS API model allows
    either, not both (and one of them when ``required``)."""
    name = role.capitalize()
    if (principal is not None and service_principal is not None) or (
            required and principal is None and service_principal is None):
        raise ValidationException(f"You must specify either {name}Principal or "
                                  f"{name}ServicePrincipal, but not both.")
    if principal is not None:
        return v.check_str(principal, f"{role}Principal", max_len=256, pattern=_PRINCIPAL)
    if service_principal is not None:
        return v.check_str(service_principal, f"{role}ServicePrincipal", max_len=128,
                           pattern=_SERVICE_PRINCIPAL)
    return None


def _constraints_dict(cons: GrantConstraints | None) -> dict[str, Any] | None:
    return None if cons is None else dict(cons.to_dict())


def _grant_not_found(grant_id: str) -> AwsError:
    if not re.fullmatch(r"[0-9a-f]{64}", grant_id):
        return InvalidGrantIdException(f"Invalid grant ID '{grant_id}'")
    return NotFoundException(f"Grant ID {grant_id} not found")
