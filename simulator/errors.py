"""Every error a user can cause, named as AWS names it.

One table, mapped once: each exception class carries the AWS error ``code`` (what goes into an
audit record's ``errorCode`` or a WorkSpaces ``FailedRequests`` entry) and the HTTP status AWS
answers with. Message texts that AWS is known to use live in :data:`MESSAGES` so that services
format them in one place and tests can refer to them.

Messages never contain secrets: services build them from ARNs, ids and parameter names only.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "MESSAGES",
    "AccessDenied",
    "AccessDeniedException",
    "AlreadyExistsException",
    "AwsError",
    "ConflictException",
    "DeleteConflictException",
    "DependencyTimeoutException",
    "DisabledException",
    "DryRunOperationException",
    "DsEntityAlreadyExistsException",
    "Ec2Error",
    "EntityAlreadyExistsException",
    "EntityDoesNotExistException",
    "ExpiredImportTokenException",
    "ExpiredTokenException",
    "ExpiredTokenJsonException",
    "IamError",
    "IamInvalidInputException",
    "IamLimitExceededException",
    "IamMalformedPolicyDocumentException",
    "IamValidationError",
    "IdempotentParameterMismatch",
    "IncompleteSignatureException",
    "IncorrectKeyException",
    "IncorrectKeyMaterialException",
    "IncorrectState",
    "InternalFailure",
    "InvalidAction",
    "InvalidAliasNameException",
    "InvalidArnException",
    "InvalidAttachmentNotFound",
    "InvalidBlockCiphertext",
    "InvalidCiphertextException",
    "InvalidClientTokenId",
    "InvalidGrantIdException",
    "InvalidGrantTokenException",
    "InvalidID",
    "InvalidImportTokenException",
    "InvalidKeyUsageException",
    "InvalidMarkerException",
    "InvalidPaginationToken",
    "InvalidParameterCombination",
    "InvalidParameterDependency",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterValuesException",
    "InvalidResourceStateException",
    "InvalidSignatureException",
    "InvalidSnapshotNotFound",
    "InvalidTagKeyMalformed",
    "InvalidVolumeNotFound",
    "KMSInternalException",
    "KMSInvalidMacException",
    "KMSInvalidSignatureException",
    "KMSInvalidStateException",
    "KeyUnavailableException",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
    "MalformedQueryString",
    "MissingAction",
    "MissingAuthenticationTokenException",
    "MissingParameter",
    "NoSuchEntityException",
    "NotFoundException",
    "OperationInProgressException",
    "OperationNotSupportedException",
    "PolicyNotAttachableException",
    "ResourceAlreadyExistsException",
    "ResourceLimitExceededException",
    "ResourceNotFoundException",
    "ResourceUnavailableException",
    "SerializationException",
    "TagException",
    "TagLimitExceeded",
    "ThrottlingException",
    "UnauthorizedOperation",
    "UnknownOperationException",
    "UnknownParameter",
    "UnrecognizedClientException",
    "UnsupportedOperationException",
    "ValidationException",
    "VolumeInUse",
    "error_for_code",
]


class AwsError(Exception):
    """Base of every simulated AWS error.

    ``code`` is the AWS error code, ``message`` the AWS-style text, ``retryable`` whether AWS
    SDKs retry it. ``str(err)`` is ``"<code>: <message>"`` so tracebacks read like AWS CLI output.
    """

    code: ClassVar[str] = "InternalFailure"
    http_status: ClassVar[int] = 400
    retryable: ClassVar[bool] = False
    service: ClassVar[str] = "aws"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --- shared by several services -------------------------------------------------------------


class AccessDeniedException(AwsError):
    code = "AccessDeniedException"


class ValidationException(AwsError):
    code = "ValidationException"


class ThrottlingException(AwsError):
    code = "ThrottlingException"
    retryable = True


# --- KMS --------------------------------------------------------------------------------------


class _Kms(AwsError):
    service = "kms"


class AlreadyExistsException(_Kms):
    code = "AlreadyExistsException"


class ConflictException(_Kms):
    code = "ConflictException"


class DependencyTimeoutException(_Kms):
    code = "DependencyTimeoutException"
    http_status = 503
    retryable = True


class DisabledException(_Kms):
    code = "DisabledException"


class DryRunOperationException(_Kms):
    code = "DryRunOperationException"


class IncorrectKeyException(_Kms):
    code = "IncorrectKeyException"


class InvalidAliasNameException(_Kms):
    code = "InvalidAliasNameException"


class InvalidArnException(_Kms):
    code = "InvalidArnException"


class InvalidCiphertextException(_Kms):
    code = "InvalidCiphertextException"


class InvalidGrantIdException(_Kms):
    code = "InvalidGrantIdException"


class InvalidGrantTokenException(_Kms):
    code = "InvalidGrantTokenException"


class InvalidKeyUsageException(_Kms):
    code = "InvalidKeyUsageException"


class InvalidMarkerException(_Kms):
    code = "InvalidMarkerException"


class KeyUnavailableException(_Kms):
    code = "KeyUnavailableException"
    http_status = 500
    retryable = True


class KMSInternalException(_Kms):
    code = "KMSInternalException"
    http_status = 500
    retryable = True


class KMSInvalidStateException(_Kms):
    code = "KMSInvalidStateException"


class KMSInvalidMacException(_Kms):
    code = "KMSInvalidMacException"


class KMSInvalidSignatureException(_Kms):
    code = "KMSInvalidSignatureException"


class ExpiredImportTokenException(_Kms):
    code = "ExpiredImportTokenException"


class IncorrectKeyMaterialException(_Kms):
    code = "IncorrectKeyMaterialException"


class InvalidImportTokenException(_Kms):
    code = "InvalidImportTokenException"


class LimitExceededException(_Kms):
    code = "LimitExceededException"


class MalformedPolicyDocumentException(_Kms):
    code = "MalformedPolicyDocumentException"


class NotFoundException(_Kms):
    code = "NotFoundException"


class TagException(_Kms):
    code = "TagException"


class UnsupportedOperationException(_Kms):
    code = "UnsupportedOperationException"


# --- EC2 / EBS (codes contain dots, so the class name drops them) -----------------------------


class Ec2Error(AwsError):
    service = "ec2"


class InvalidVolumeNotFound(Ec2Error):
    code = "InvalidVolume.NotFound"


class InvalidSnapshotNotFound(Ec2Error):
    code = "InvalidSnapshot.NotFound"


class IncorrectState(Ec2Error):
    code = "IncorrectState"


class VolumeInUse(Ec2Error):
    code = "VolumeInUse"


class InvalidParameterDependency(Ec2Error):
    code = "InvalidParameterDependency"


class InvalidParameterValue(Ec2Error):
    code = "InvalidParameterValue"


class InvalidParameterCombination(Ec2Error):
    code = "InvalidParameterCombination"


class InvalidAttachmentNotFound(Ec2Error):
    code = "InvalidAttachment.NotFound"


class MissingParameter(Ec2Error):
    code = "MissingParameter"


class IdempotentParameterMismatch(Ec2Error):
    """A ClientToken reused with different parameters (EC2 API Reference, "Ensuring
    idempotency")."""

    code = "IdempotentParameterMismatch"


class InvalidPaginationToken(Ec2Error):
    """A ``NextToken`` this simulation did not issue for the same request."""

    code = "InvalidPaginationToken"


class InvalidID(Ec2Error):
    """CreateTags/DeleteTags: a resource id that names no taggable EBS resource."""

    code = "InvalidID"


class InvalidTagKeyMalformed(Ec2Error):
    """A tag key that is empty, too long, or starts with the reserved ``aws:`` prefix."""

    code = "InvalidTagKey.Malformed"


class TagLimitExceeded(Ec2Error):
    """More than 50 tags on one resource (EC2 User Guide, "Tag restrictions")."""

    code = "TagLimitExceeded"


class UnauthorizedOperation(Ec2Error):
    """The caller's IAM policies do not allow the EC2 action on the resource (HTTP 403)."""

    code = "UnauthorizedOperation"
    http_status = 403


class InvalidBlockCiphertext(Ec2Error):
    """A stored block failed authentication on read (``gcm`` volumes only).

    Not an AWS error: real EBS uses unauthenticated XTS and would return the altered bytes.
    """

    code = "InvalidBlockCiphertext"


# --- IAM ------------------------------------------------------------------------------------


class IamError(AwsError):
    service = "iam"


class NoSuchEntityException(IamError):
    """IAM: the user, role or policy named does not exist."""

    code = "NoSuchEntity"
    http_status = 404


class EntityAlreadyExistsException(IamError):
    code = "EntityAlreadyExists"
    http_status = 409


class DeleteConflictException(IamError):
    """IAM: the entity still has subordinate entities (inline policies) attached."""

    code = "DeleteConflict"
    http_status = 409


class IamMalformedPolicyDocumentException(IamError):
    """IAM's policy-document error (KMS's own is :class:`MalformedPolicyDocumentException`)."""

    code = "MalformedPolicyDocument"


class IamLimitExceededException(IamError):
    code = "LimitExceeded"
    http_status = 409


class IamInvalidInputException(IamError):
    """IAM's InvalidInput: a parameter is well-typed but not acceptable (a malformed policy ARN)."""

    code = "InvalidInput"


class PolicyNotAttachableException(IamError):
    """IAM: the managed policy cannot be attached (a service-role policy, say)."""

    code = "PolicyNotAttachable"


class AccessDenied(AccessDeniedException):
    """IAM's and STS's AccessDenied (HTTP 403); KMS's is :class:`AccessDeniedException`."""

    code = "AccessDenied"
    http_status = 403
    service = "sts"


class ExpiredTokenException(AwsError):
    """Temporary credentials (an STS session token) used after they expired."""

    code = "ExpiredToken"
    service = "sts"


class ExpiredTokenJsonException(AwsError):
    """Expired temporary credentials, as the JSON-protocol services (KMS) name it."""

    code = "ExpiredTokenException"


class InvalidClientTokenId(AwsError):
    """An access key id or session token that no principal of this simulation holds."""

    code = "InvalidClientTokenId"
    http_status = 403
    service = "sts"


class IamValidationError(ValidationException):
    """IAM's parameter-validation error; a :class:`ValidationException` with IAM's code."""

    code = "ValidationError"
    service = "iam"


# --- WorkSpaces -------------------------------------------------------------------------------


class _WorkSpaces(AwsError):
    service = "workspaces"


class InvalidParameterValuesException(_WorkSpaces):
    code = "InvalidParameterValuesException"


class InvalidResourceStateException(_WorkSpaces):
    code = "InvalidResourceStateException"


class OperationInProgressException(_WorkSpaces):
    code = "OperationInProgressException"


class OperationNotSupportedException(_WorkSpaces):
    code = "OperationNotSupportedException"


class ResourceAlreadyExistsException(_WorkSpaces):
    code = "ResourceAlreadyExistsException"


class ResourceLimitExceededException(_WorkSpaces):
    code = "ResourceLimitExceededException"


class ResourceNotFoundException(_WorkSpaces):
    code = "ResourceNotFoundException"


class ResourceUnavailableException(_WorkSpaces):
    code = "ResourceUnavailableException"


# --- Directory Service (ds, ds-data) -----------------------------------------------------------


class _DirectoryService(AwsError):
    service = "ds"


class EntityDoesNotExistException(_DirectoryService):
    """Directory Service: the directory or user named does not exist."""

    code = "EntityDoesNotExistException"


class DsEntityAlreadyExistsException(_DirectoryService):
    """Directory Service's EntityAlreadyExistsException.

    IAM's error of (almost) the same name is :class:`EntityAlreadyExistsException`.
    """

    code = "EntityAlreadyExistsException"


class InvalidParameterException(_DirectoryService):
    """Directory Service: a parameter is malformed or out of range."""

    code = "InvalidParameterException"


# --- the wire (any service reached through simulator.wire) ------------------------------------


class InternalFailure(AwsError):
    """The simulator failed in a way no AWS rule explains (a bug); never a user's mistake."""

    code = "InternalFailure"
    http_status = 500


class SerializationException(AwsError):
    """The request body is not what the protocol expects (malformed JSON, a wrong type)."""

    code = "SerializationException"


class InvalidAction(AwsError):
    """Query protocols: the ``Action`` is not an operation of the service at this ``Version``."""

    code = "InvalidAction"


class MissingAction(AwsError):
    """Query protocols: the request has no ``Action``."""

    code = "MissingAction"


class MalformedQueryString(AwsError):
    """Query protocols: the form is malformed (encoding, names, a value of the wrong type)."""

    code = "MalformedQueryString"


class UnknownParameter(AwsError):
    """EC2: the request has a parameter the action does not take."""

    code = "UnknownParameter"


class UnknownOperationException(AwsError):
    """The request names no operation of the service (``X-Amz-Target``), or one the simulator
    does not implement."""

    code = "UnknownOperationException"


class MissingAuthenticationTokenException(AwsError):
    """The request carries no SigV4 ``Authorization`` header."""

    code = "MissingAuthenticationTokenException"


class IncompleteSignatureException(AwsError):
    """The ``Authorization`` header is not a well-formed SigV4 header."""

    code = "IncompleteSignatureException"


class InvalidSignatureException(AwsError):
    """The SigV4 signature does not match the issued secret, or the scope is wrong."""

    code = "InvalidSignatureException"


class UnrecognizedClientException(AwsError):
    """The access key id is not (or no longer) an active key of this simulation."""

    code = "UnrecognizedClientException"


def _all_errors() -> dict[str, type[AwsError]]:
    found: dict[str, type[AwsError]] = {}
    stack: list[type[AwsError]] = [AwsError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_") and cls not in (AwsError, Ec2Error, IamError):
            found[cls.code] = cls
    return found


_BY_CODE = _all_errors()


def error_for_code(code: str) -> type[AwsError]:
    """The exception class for an AWS error code (``"DisabledException"``, ``"IncorrectState"``)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValidationException(f"Unknown AWS error code '{code}'.") from None


#: Message templates AWS is known (or, where the spec says so, assumed) to use. Format with
#: ``MESSAGES[name].format(...)``.
MESSAGES: dict[str, str] = {
    "key_disabled": "{arn} is disabled.",
    "key_pending_deletion": "{arn} is pending deletion.",
    "key_pending_import": "{arn} is pending import.",
    "origin_not_valid": "{arn} origin is {origin} which is not valid for this operation.",
    "key_state_invalid": "{arn} is {state}.",
    "key_not_pending_deletion": "{arn} is not pending deletion.",
    "key_not_found": "Key '{arn}' does not exist",
    "invalid_key_id": "Invalid keyId '{value}'",
    "invalid_arn_region": "Invalid arn {region}",
    "alias_not_found": "Alias {arn} is not found.",
    "incorrect_key": (
        "The key ID in the request does not identify a CMK that can perform this operation."
    ),
    "key_usage": "{arn} key usage is {usage} which is not valid for {operation}.",
    "too_long": (
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        "Member must have length less than or equal to {limit}"
    ),
    "too_short": (
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        "Member must have length greater than or equal to {limit}"
    ),
    "value_too_large": (
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        "constraint: Member must have value less than or equal to {limit}"
    ),
    "value_too_small": (
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        "constraint: Member must have value greater than or equal to {limit}"
    ),
    "enum": (
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        "constraint: Member must satisfy enum value set: [{allowed}]"
    ),
    "access_denied": (
        "User: {principal} is not authorized to perform: {action} on resource: {resource} "
        "because no {policy_kind} policy allows the {action} action"
    ),
    "access_denied_explicit": (
        "User: {principal} is not authorized to perform: {action} on resource: {resource} "
        "with an explicit deny in {article} {policy_kind} policy"
    ),
    "on_demand_rotation_limit": (
        "The on-demand rotations limit has been reached for the given keyId. No more on-demand "
        "rotations can be performed for this key: {arn}"
    ),
}
