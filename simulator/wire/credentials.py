"""Who signed a request, and where it goes: SigV4 ``Authorization`` headers -> a caller of one
of the simulation's accounts, and the Region the request is for.

Routing (AWS General Reference, "Signature Version 4"): the credential scope's Region is the
Region the request is for, and the access key says whose it is. An access key a simulation's IAM
issued (``iam.create_access_key``, in any account) acts as its user, in that user's account; the
signature is recomputed with the issued secret by botocore's own signer. Temporary credentials
from an account's STS (``ASIA...`` with a session token) act as their assumed-role session, in
that account, until they expire on the virtual clock. Which account issued a key is one lookup
in the simulation's :class:`~simulator.access_keys.AccessKeyIndex`. Any other access key id acts
as the default account's root (so ``test``/``test`` credentials work as with other local
emulators) unless credentials are strict.

Every Region of the ``aws`` partition is served (and the simulation's own Region, whatever its
name); another name is refused. IAM and STS are global per account: a request signed for any
Region (``us-east-1``, their global endpoint's, or the client's) reaches the account's one IAM
and STS. The signature's date is not compared with the clock: virtual time and the client's
wall clock differ by design.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

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
from ..regions import known_regions
from ..sts import SecurityTokenService
from .protocols import WireRequest

if TYPE_CHECKING:
    from ..cells import Cells

__all__ = ["Authenticator", "Signature", "parse_authorization", "signature_matches"]

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]{1,128})/(?P<date>\d{8})/(?P<region>[a-z0-9-]{1,64})/"
    r"(?P<service>[a-z0-9-]{1,64})/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]{1,1024}),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\Z")

_TEMPORARY = re.compile(r"ASIA[A-Z2-7]{16}\Z")
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
    """Maps signed requests to callers of a simulation's accounts, and the Region they are for.

    Callers of access keys no account issued (the default account's root) are remembered by
    key id, since they need no signature check; issued keys are looked up on every request, so
    deactivating or deleting one takes effect at once.
    """

    def __init__(self, cells: Cells, account_id: str, region: str, strict: bool) -> None:
        self.cells = cells
        #: The default account (whose root unknown keys act as) and the simulation's Region.
        self.account_id = account_id
        self.region = region
        self.strict = strict
        self._regions = known_regions() | {region}
        self._anonymous: dict[str, Caller] = {}

    def __call__(self, request: WireRequest, signing_name: str,
                 protocol: str = "json") -> tuple[Caller, str]:
        """The caller behind a signed request and the Region it was signed for, or the AWS
        error refusing it (named as the request's ``protocol`` names it)."""
        signature = parse_authorization(request)
        region = signature.region
        if region not in self._regions:
            raise InvalidSignatureException(
                f"Credential should be scoped to a valid region, not '{region}': envelope-sim "
                f"serves the Regions of the aws partition, such as {self.region}.")
        if signature.service != signing_name:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{signing_name}'.")
        return self._caller(request, signature, protocol), region

    def _caller(self, request: WireRequest, signature: Signature, protocol: str) -> Caller:
        key_id = signature.access_key_id
        account = self.cells.account_of_access_key(key_id)
        home = self.cells.home(account) if account is not None else None
        if home is not None:
            if _TEMPORARY.match(key_id):
                session = home.sts.credentials_for(key_id)
                if session is not None:
                    return _session_caller(request, signature, home.sts,
                                           session.secret_access_key, protocol)
            issued = home.iam.credentials_for(key_id)
            if issued is not None:
                if issued.status != "Active":
                    raise UnrecognizedClientException(_INVALID_TOKEN)
                if not signature_matches(request, signature, issued.secret_access_key):
                    raise InvalidSignatureException(_BAD_SIGNATURE)
                return replace(home.iam.caller_for(issued.user_arn), access_key_id=key_id)
        if self.strict:
            raise UnrecognizedClientException(_INVALID_TOKEN)
        root = self._anonymous.get(key_id)
        if root is None:
            root = replace(Caller.root(self.account_id), access_key_id=key_id)
            if len(self._anonymous) < 1024:
                self._anonymous[key_id] = root
        return root


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
