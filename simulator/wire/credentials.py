"""Who signed a request: SigV4 ``Authorization`` headers -> a caller of the simulation.

An access key the simulation issued (``sim.iam.create_access_key``) acts as its user, and the
signature is recomputed with the issued secret by botocore's own SigV4 signer. Any other access
key id acts as the account root (so ``test``/``test`` credentials work as with other local
emulators) unless credentials are strict. Temporary credentials from the simulation's STS
(``ASIA...`` with a session token) act as their assumed-role session until they expire on the
virtual clock. IAM is a global service and STS has a global endpoint: their requests may be
signed for ``us-east-1`` (AWS General Reference, "AWS Identity and Access Management endpoints",
"AWS Security Token Service endpoints"), which is accepted beside the simulation's Region. The
signature's date is not compared with the clock: virtual time and the client's wall clock
differ by design.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from typing import NamedTuple

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ..errors import (
    AwsError,
    ExpiredTokenException,
    ExpiredTokenJsonException,
    IncompleteSignatureException,
    InvalidClientTokenId,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from ..iam.principals import Caller
from ..iam.service import IdentityAndAccessManagement
from ..sts import SecurityTokenService
from .protocols import WireRequest

__all__ = ["Authenticator", "Signature", "authenticate", "parse_authorization", "signature_matches"]

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]{1,128})/(?P<date>\d{8})/(?P<region>[a-z0-9-]{1,64})/"
    r"(?P<service>[a-z0-9-]{1,64})/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]{1,1024}),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\Z")

_ISSUABLE = re.compile(r"AKIA[A-Z2-7]{16}\Z")
_TEMPORARY = re.compile(r"ASIA[A-Z2-7]{16}\Z")
#: Signing names of global services, signed for us-east-1 whatever the client's Region.
_GLOBAL = frozenset({"iam", "sts"})
_INVALID_TOKEN = "The security token included in the request is invalid."
_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method. Consult the service "
                  "documentation for details.")


class Signature(NamedTuple):
    """The parts of a SigV4 ``Authorization`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(request: WireRequest) -> Signature:
    """The request's SigV4 signature (``MissingAuthenticationTokenException`` without one,
    ``IncompleteSignatureException`` for a malformed one)."""
    header = request.headers.get("authorization")
    if not header:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        raise IncompleteSignatureException(
            "The Authorization header is not a well-formed AWS Signature Version 4 header "
            "(AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...).")
    if not request.headers.get("x-amz-date"):
        raise IncompleteSignatureException("The request has no X-Amz-Date header.")
    return Signature(match["key"], match["date"], match["region"], match["service"],
                     tuple(match["headers"].split(";")), match["signature"])


def signature_matches(request: WireRequest, signature: Signature, secret: str) -> bool:
    """Whether ``signature`` is what botocore's SigV4 signer computes for this request with
    ``secret`` (over the headers the client said it signed)."""
    headers = {}
    for name in signature.signed_headers:
        value = request.headers.get(name)
        if value is None and name != "host":
            return False
        if value is not None:
            headers[name] = value
    aws_request = AWSRequest(method=request.method, url=request.url, headers=headers,
                             data=request.body)
    amz_date = request.headers.get("x-amz-date", "")
    aws_request.context["timestamp"] = amz_date
    if amz_date[:8] != signature.date:
        return False
    signer = SigV4Auth(Credentials(signature.access_key_id, secret), signature.service,
                       signature.region)
    canonical = signer.canonical_request(aws_request)
    expected: str = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    return hmac.compare_digest(expected, signature.signature)


class Authenticator:
    """Maps signed requests to callers for one simulation's IAM (see :func:`authenticate`).

    Callers of access keys the simulation did not issue (the account root) are remembered by
    key id, since they need no signature check; issued keys are looked up on every request, so
    deactivating or deleting one takes effect at once.
    """

    def __init__(self, iam: IdentityAndAccessManagement, region: str, strict: bool,
                 sts: SecurityTokenService | None = None) -> None:
        self.iam = iam
        self.region = region
        self.strict = strict
        self.sts = sts
        self._anonymous: dict[str, Caller] = {}

    def __call__(self, request: WireRequest, signing_name: str, protocol: str = "json") -> Caller:
        return authenticate(request, iam=self.iam, region=self.region, signing_name=signing_name,
                            strict=self.strict, anonymous=self._anonymous, sts=self.sts,
                            protocol=protocol)


def authenticate(request: WireRequest, *, iam: IdentityAndAccessManagement, region: str,
                 signing_name: str, strict: bool, anonymous: dict[str, Caller] | None = None,
                 sts: SecurityTokenService | None = None, protocol: str = "json") -> Caller:
    """The caller behind a signed request, or the AWS error refusing it (named as the
    request's ``protocol`` names it)."""
    signature = parse_authorization(request)
    if signature.region != region and not (
            signing_name in _GLOBAL and signature.region == "us-east-1"):
        raise InvalidSignatureException(
            f"Credential should be scoped to a valid region: this envelope-sim endpoint "
            f"simulates {region}, the request was signed for {signature.region}.")
    if signature.service != signing_name:
        raise InvalidSignatureException(
            f"Credential should be scoped to correct service: '{signing_name}'.")
    # Only AKIA-shaped ids can be issued; any other id is unknown without asking IAM.
    key_id = signature.access_key_id
    if sts is not None and _TEMPORARY.match(key_id):
        session = sts.credentials_for(key_id)
        if session is not None:
            return _session_caller(request, signature, sts, session.secret_access_key, protocol)
    issued = iam.credentials_for(key_id) if _ISSUABLE.match(key_id) else None
    if issued is None:
        if strict:
            raise UnrecognizedClientException(_INVALID_TOKEN)
        root = anonymous.get(signature.access_key_id) if anonymous is not None else None
        if root is None:
            root = replace(Caller.root(iam.account_id), access_key_id=signature.access_key_id)
            if anonymous is not None and len(anonymous) < 1024:
                anonymous[signature.access_key_id] = root
        return root
    if issued.status != "Active":
        raise UnrecognizedClientException(_INVALID_TOKEN)
    if not signature_matches(request, signature, issued.secret_access_key):
        raise InvalidSignatureException(_BAD_SIGNATURE)
    return replace(iam.caller_for(issued.user_arn), access_key_id=signature.access_key_id)


def _session_caller(request: WireRequest, signature: Signature, sts: SecurityTokenService,
                    secret: str, protocol: str) -> Caller:
    """The assumed-role session behind temporary credentials STS issued."""
    try:
        caller = sts.caller_for_session(access_key_id=signature.access_key_id,
                                        session_token=request.headers.get("x-amz-security-token"))
    except (InvalidClientTokenId, ExpiredTokenException) as err:
        raise _auth_error(err, protocol) from None
    if not signature_matches(request, signature, secret):
        raise InvalidSignatureException(_BAD_SIGNATURE)
    return replace(caller, access_key_id=signature.access_key_id)


def _auth_error(err: AwsError, protocol: str) -> AwsError:
    """STS's errors as the JSON-protocol services name them (``UnrecognizedClientException``,
    ``ExpiredTokenException``); the query protocols use STS's own codes."""
    if protocol != "json":
        return err
    if isinstance(err, ExpiredTokenException):
        return ExpiredTokenJsonException(err.message)
    return UnrecognizedClientException(err.message)
