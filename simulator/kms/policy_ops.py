"""KMS key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies."""

from __future__ import annotations

import json

from ..errors import (
    NotFoundException,
)
from ..iam.policy import PolicyDocument
from . import validation as v
from .base import KmsBase, check_marker
from .models import (
    KeyPolicyResult,
    ListKeyPoliciesResult,
)

__all__ = ["PolicyOperations"]



class PolicyOperations(KmsBase):
    """The operations of this family, as a mixin of :class:`~.service.KeyManagementService`."""

    def get_key_policy(self, *, key_id: str, policy_name: str = "default") -> KeyPolicyResult:
        with self._api("GetKeyPolicy", {"keyId": key_id, "policyName": policy_name},
                       read_only=True) as call:
            self._check_policy_name(policy_name)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:GetKeyPolicy")
            return KeyPolicyResult(self._shown_policy(key.policy), "default")

    def _shown_policy(self, doc: PolicyDocument) -> str:
        """The policy text as given, except that a user or role it names that has since been
        deleted (or replaced by a new one of the same name) shows as the unique id the policy
        is bound to, as GetKeyPolicy does in AWS."""
        text = doc.text
        for arn, uid in doc.bindings:
            if self._s.iam.unique_id(arn) != uid:
                text = text.replace(json.dumps(arn), json.dumps(uid))
        return text

    def put_key_policy(self, *, key_id: str, policy: str, policy_name: str = "default",
                       bypass_policy_lockout_safety_check: bool = False) -> None:
        """PutKeyPolicy: validated, size-limited, with the lockout safety check."""
        with self._api("PutKeyPolicy", {"keyId": key_id, "policyName": policy_name,
                                        "bypassPolicyLockoutSafetyCheck":
                                            bypass_policy_lockout_safety_check}) as call:
            self._check_policy_name(policy_name)
            bypass = v.check_bool(bypass_policy_lockout_safety_check, "bypassPolicyLockoutSafetyCheck")
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:PutKeyPolicy",
                            extra={"kms:BypassPolicyLockoutSafetyCheck": bypass})
            self._require_customer_managed(key, "kms:PutKeyPolicy")
            key.policy = self._check_policy(policy, key.arn, bypass)
            call.trace_detail = {"policy_statements": len(key.policy.statements)}

    def list_key_policies(self, *, key_id: str, limit: int | None = None,
                          marker: str | None = None) -> ListKeyPoliciesResult:
        with self._api("ListKeyPolicies", {"keyId": key_id}, read_only=True) as call:
            v.check_limit(limit)
            check_marker(marker, ours=False)
            key = self._resolve(key_id, aliases=False)
            call.resources.append(key.arn)
            self._authorize(key, "kms:ListKeyPolicies")
            return ListKeyPoliciesResult(("default",), False)

    @staticmethod
    def _check_policy_name(name: object) -> None:
        if v.check_str(name, "policyName", max_len=128) != "default":
            raise NotFoundException("No such policy exists")
