"""Who is calling: principals and the caller context every service call carries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "Caller",
    "PrincipalType",
    "ebs_identity_arn",
    "root_arn",
    "via_service_name",
    "workspaces_identity_arn",
]

PrincipalType = str  # "Root" | "IAMUser" | "AssumedRole" | "Role" | "AWSService"


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def ebs_identity_arn(account_id: str) -> str:
    """The EC2 infrastructure identity that decrypts EBS data keys at attach."""
    return f"arn:aws:sts::{account_id}:assumed-role/aws:ec2-infrastructure/ebs"


def workspaces_identity_arn(account_id: str) -> str:
    """The identity WorkSpaces uses for its grant (step 1) and its calls to EBS."""
    return f"arn:aws:sts::{account_id}:assumed-role/aws:workspaces-infrastructure/workspaces"


def via_service_name(service: str, region: str) -> str:
    """The ``kms:ViaService`` value for a service: ``ec2.us-west-2.amazonaws.com``."""
    return f"{service}.{region}.amazonaws.com"


@dataclass(frozen=True)
class Caller:
    """The identity behind one API call, and the service it came through (if any).

    ``via_service`` is the ``kms:ViaService`` value (``"ec2.us-west-2.amazonaws.com"``);
    ``invoked_by`` is CloudTrail's ``userIdentity.invokedBy`` (``"ec2.amazonaws.com"``).
    A call with ``via_service`` set is one an AWS service makes on the caller's behalf, which
    is what makes ``kms:GrantIsForAWSResource`` true.
    """

    arn: str
    account_id: str
    type: PrincipalType
    principal_id: str = ""
    user_name: str | None = None
    via_service: str | None = None
    invoked_by: str | None = None
    #: For an assumed-role session: the IAM role's ARN (with its path), which is what a policy's
    #: ``Principal`` and ``aws:PrincipalArn`` name. ``None`` for other callers.
    role_arn: str | None = None
    #: The access key a signed request used (CloudTrail's ``userIdentity.accessKeyId``).
    access_key_id: str | None = None
    #: Transport facts of the request (``aws:SourceIp``, ``aws:SecureTransport``), set by the
    #: wire layer with :meth:`over`; ``None`` for in-process calls.
    source_ip: str | None = None
    secure_transport: bool | None = None

    @property
    def is_root(self) -> bool:
        return self.type == "Root"

    @property
    def grant_is_for_aws_resource(self) -> bool:
        return self.via_service is not None

    def through(self, service: str, region: str) -> Caller:
        """This caller, as seen when ``service`` (``"ec2"``, ``"workspaces"``) acts for it.

        The service's own request carries no caller IP or transport: a policy condition on
        ``aws:SourceIp`` does not hold for it (IAM User Guide, ``aws:SourceIp``).
        """
        return replace(
            self, via_service=via_service_name(service, region),
            invoked_by=f"{service}.amazonaws.com", source_ip=None, secure_transport=None,
        )

    def over(self, *, source_ip: str | None, secure_transport: bool | None) -> Caller:
        """This caller on one request that arrived from ``source_ip`` over TLS or not (what
        the wire layer knows; ``aws:SourceIp``, ``aws:SecureTransport``)."""
        return replace(self, source_ip=source_ip, secure_transport=secure_transport)

    def direct(self) -> Caller:
        """This caller calling directly (no service in between)."""
        return replace(self, via_service=None, invoked_by=None)

    def user_identity(self) -> dict[str, Any]:
        """CloudTrail's ``userIdentity`` for this caller."""
        ident: dict[str, Any] = {
            "type": self.type,
            "principalId": self.principal_id or self.account_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if self.access_key_id is not None:
            ident["accessKeyId"] = self.access_key_id
        if self.user_name is not None:
            ident["userName"] = self.user_name
        if self.invoked_by is not None:
            ident["invokedBy"] = self.invoked_by
        return ident

    @classmethod
    def root(cls, account_id: str) -> Caller:
        return cls(arn=root_arn(account_id), account_id=account_id, type="Root",
                   principal_id=account_id)
