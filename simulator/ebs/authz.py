"""Who may call EBS: the caller's IAM identity policies, per EC2 action and resource.

EC2 has no resource policies, so an EC2 request is decided by the caller's identity policies
alone (:func:`simulator.iam.evaluator.authorize_identity`: the account root is always allowed,
otherwise an identity-policy Allow is needed and an explicit Deny wins). A denial is EC2's
``UnauthorizedOperation``.

Actions, resource ARNs and condition keys follow the Service Authorization Reference,
"Actions, resources, and condition keys for Amazon EC2":

- volumes ``arn:aws:ec2:<region>:<account>:volume/<id>`` (``volume/*`` for one being created),
  snapshots ``arn:aws:ec2:<region>::snapshot/<id>`` (snapshot ARNs carry no account),
  instances ``arn:aws:ec2:<region>:<account>:instance/<id>``;
- an action naming several resources (AttachVolume: the volume and the instance) is checked on
  each, and every one must be allowed;
- Describe* and the encryption-by-default actions take no resource-level permissions: ``*``;
- condition keys: ``ec2:Encrypted``, ``ec2:VolumeID``, ``ec2:VolumeSize``,
  ``ec2:AvailabilityZone``, ``ec2:ParentSnapshot``, ``ec2:ParentVolume``, ``ec2:SnapshotID``,
  ``ec2:InstanceID``, ``ec2:Region``, plus the global keys the evaluator derives from the caller.

The block device is the instance's view of an attached volume: a principal reaches an
instance's operating system with a Session Manager session, so :data:`DEVICE_ACTION` on the
attachment's instance (and the volume) is what opening the device needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from ..errors import UnauthorizedOperation
from ..iam.evaluator import AuthRequest, authorize_identity
from ..iam.policy import PolicyDocument
from ..iam.principals import Caller

__all__ = [
    "DEVICE_ACTION",
    "Ec2Authorizer",
    "IamForEbs",
    "instance_arn",
    "snapshot_arn",
    "volume_arn",
]

#: Opening an attached volume's block device: a shell on the instance (Session Manager).
DEVICE_ACTION = "ssm:StartSession"


class IamForEbs(Protocol):
    """What EBS needs from IAM: the caller's identity policies and tags."""

    def identity_policies(self, caller: Caller) -> Sequence[PolicyDocument]: ...

    def principal_tags(self, caller: Caller) -> Mapping[str, str]: ...


def volume_arn(region: str, account_id: str, volume_id: str = "*") -> str:
    return f"arn:aws:ec2:{region}:{account_id}:volume/{volume_id}"


def snapshot_arn(region: str, snapshot_id: str = "*") -> str:
    return f"arn:aws:ec2:{region}::snapshot/{snapshot_id}"


def instance_arn(region: str, account_id: str, instance_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account_id}:instance/{instance_id}"


class Ec2Authorizer:
    """Decides EC2 requests for one simulation (shared by every caller's EBS view)."""

    __slots__ = ("_iam", "_now", "_region", "_region_only")

    def __init__(self, iam: IamForEbs, region: str, now: Callable[[], datetime]) -> None:
        self._iam = iam
        self._region = region
        self._region_only: Mapping[str, object] = {"ec2:Region": region}
        self._now = now

    def check(self, caller: Caller, action: str, resources: Sequence[str],
              conditions: dict[str, object] | None = None) -> None:
        """Raise ``UnauthorizedOperation`` unless ``caller`` may do ``action`` on every one of
        ``resources``; ``conditions`` are the request's EC2 condition keys (a dict made for
        this request: ``ec2:Region`` is added to it; a None value is an absent key)."""
        if caller.is_root:  # the root has every IAM permission
            return
        policies = self._iam.identity_policies(caller)
        conds: Mapping[str, object]
        if conditions is None:
            conds = self._region_only
        else:
            conditions["ec2:Region"] = self._region
            conds = conditions
        now = self._now()
        tags = self._iam.principal_tags
        for resource in resources:
            decision = authorize_identity(
                AuthRequest(caller=caller, action=action, resource=resource, conditions=conds,
                            now=now, principal_tags=tags),
                identity_policies=policies)
            if not decision.allowed:
                raise UnauthorizedOperation(
                    f"You are not authorized to perform this operation. {decision.message}",
                    action=action, resource=resource)
