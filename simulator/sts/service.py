"""AWS STS: GetCallerIdentity and AssumeRole, with sessions that expire on the virtual clock.

AssumeRole (STS API Reference, "AssumeRole"; IAM User Guide, "Using IAM roles"):

- the role is named by ARN and must exist in this account with a trust policy; a role that does
  not exist, or whose trust policy (with the caller's identity policies, see
  :mod:`simulator.iam.trust`) does not let the caller in, is ``AccessDenied`` naming the caller,
  ``sts:AssumeRole`` and the role - STS does not say which;
- ``DurationSeconds`` is 900 up to the role's ``MaxSessionDuration`` (default 3,600); a session
  assuming another role ("role chaining") gets at most one hour;
- the answer is temporary credentials - an ``ASIA`` access key id, a secret and a session token,
  drawn from the simulation's entropy so seeded runs replay - and the session principal
  ``arn:aws:sts::<account>:assumed-role/<role>/<session>``, whose policies are the role's.

:meth:`SecurityTokenService.caller_for_session` turns presented temporary credentials back into
that session's caller: an unknown key id or a token that does not belong to it is
``InvalidClientTokenId``, an expired one ``ExpiredToken``. Secrets and tokens never appear in a
repr, an audit record or an error message.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hmac import compare_digest
from typing import Any

from ..boundary import operation_boundary
from ..errors import (
    AccessDenied,
    ExpiredTokenException,
    IamValidationError,
    InvalidClientTokenId,
    NoSuchEntityException,
)
from ..iam.principals import Caller
from ..iam.service import IdentityAndAccessManagement
from ..runtime import Runtime

__all__ = [
    "AssumeRoleResult",
    "AssumedRoleUser",
    "Credentials",
    "GetCallerIdentityResult",
    "SecurityTokenService",
    "SessionCredentials",
    "StsState",
]

_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}\Z", re.ASCII)
_ROLE_ARN_RE = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})\Z",
                          re.ASCII)
MIN_DURATION = 900
DEFAULT_DURATION = 3600
#: Role chaining: a session assuming a role gets at most an hour (IAM User Guide, "Role chaining").
CHAINED_MAX_DURATION = 3600
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials; the secret and the token never show in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime


@dataclass(frozen=True)
class AssumedRoleUser:
    #: ``<role id>:<session name>`` (``AROA...:ci-run``).
    assumed_role_id: str
    arn: str


@dataclass(frozen=True)
class AssumeRoleResult:
    credentials: Credentials
    assumed_role_user: AssumedRoleUser
    packed_policy_size: int | None = None


@dataclass(frozen=True)
class GetCallerIdentityResult:
    user_id: str
    account: str
    arn: str


@dataclass(frozen=True)
class SessionCredentials:
    """What a request verifier needs about a temporary access key id (not an AWS API result):
    the secret to check a signature with, the token it must come with, and whose it is."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    session_arn: str


class StsState:
    """The sessions STS has issued for one simulation (shared by every caller's view)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sessions: dict[str, SessionCredentials] = {}  # access key id -> session
        self.prune_at = 64


@operation_boundary(lambda sts: sts._state.runtime.lock)
class SecurityTokenService:
    """STS for the simulation's account (``sim.sts``), as seen by one caller (a view)."""

    def __init__(self, state: StsState, iam: IdentityAndAccessManagement, caller: Caller) -> None:
        self._state = state
        self._iam = iam
        self._caller = caller

    def with_caller(self, caller: Caller) -> SecurityTokenService:
        """The same STS, called by ``caller``."""
        return SecurityTokenService(self._state, self._iam, caller)

    @property
    def caller(self) -> Caller:
        return self._caller

    def get_caller_identity(self) -> GetCallerIdentityResult:
        """GetCallerIdentity: needs no permission (IAM User Guide: it cannot be denied)."""
        c = self._caller
        return GetCallerIdentityResult(user_id=c.principal_id or c.account_id,
                                       account=c.account_id, arn=c.arn)

    def assume_role(self, *, role_arn: str, role_session_name: str,
                    duration_seconds: int | None = None) -> AssumeRoleResult:
        """AssumeRole (see the module docstring for the rules)."""
        rt = self._state.runtime
        caller = self._caller
        if not isinstance(role_arn, str) or not 20 <= len(role_arn) <= 2048:
            raise IamValidationError(
                "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: "
                "Member must have length between 20 and 2048")
        if not isinstance(role_session_name, str) or not _SESSION_NAME_RE.match(role_session_name):
            raise IamValidationError(
                f"1 validation error detected: Value '{str(role_session_name)[:64]}' at "
                "'roleSessionName' failed to satisfy constraint: Member must satisfy regular "
                r"expression pattern: [\w+=,.@-]* and have length between 2 and 64")
        if duration_seconds is not None and (
                isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int)
                or not MIN_DURATION <= duration_seconds <= 43200):
            raise IamValidationError(
                f"1 validation error detected: Value '{duration_seconds}' at 'durationSeconds' "
                "failed to satisfy constraint: Member must have value between 900 and 43200")
        match = _ROLE_ARN_RE.match(role_arn)
        if match is None:
            raise IamValidationError(f"{role_arn} is invalid")
        denied = AccessDenied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
                              f"on resource: {role_arn}")
        role = None
        if match.group(1) == rt.account_id:
            try:
                role = self._iam.get_role(role_name=match.group(2))
            except NoSuchEntityException:
                role = None
        trust = None if role is None or role.arn != role_arn else self._iam.trust_policy(role_arn)
        if trust is None:
            self._audit(caller, role_arn, role_session_name, None, denied)
            raise denied
        try:
            trust.decide(caller, role_arn, self._iam.identity_policies(caller), rt.clock.now())
        except AccessDenied as err:
            self._audit(caller, role_arn, role_session_name, None, err)
            raise
        assert role is not None
        limit = CHAINED_MAX_DURATION if caller.type == "AssumedRole" else role.max_session_duration
        duration = DEFAULT_DURATION if duration_seconds is None else duration_seconds
        if duration > limit:
            too_long = IamValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining." if caller.type == "AssumedRole" else
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
            self._audit(caller, role_arn, role_session_name, None, too_long)
            raise too_long
        session_arn = f"arn:aws:sts::{rt.account_id}:assumed-role/{role.role_name}/{role_session_name}"
        entropy = rt.entropy
        creds = SessionCredentials(
            access_key_id="ASIA" + entropy.choice_string(_KEY_ALPHABET, 16),
            secret_access_key=entropy.choice_string(_SECRET_ALPHABET, 40),
            session_token=base64.b64encode(entropy.token_bytes(192)).decode("ascii"),
            expiration=rt.clock.now() + timedelta(seconds=duration),
            session_arn=session_arn)
        self._store(creds)
        result = AssumeRoleResult(
            credentials=Credentials(creds.access_key_id, creds.secret_access_key,
                                    creds.session_token, creds.expiration),
            assumed_role_user=AssumedRoleUser(f"{role.role_id}:{role_session_name}", session_arn))
        self._audit(caller, role_arn, role_session_name, result, None)
        return result

    # --- presented credentials ---------------------------------------------------------------

    def credentials_for(self, access_key_id: str) -> SessionCredentials | None:
        """The session behind a temporary access key id (None: STS issued no such key)."""
        if not isinstance(access_key_id, str):
            raise InvalidClientTokenId(_INVALID_TOKEN)
        return self._state.sessions.get(access_key_id)

    def caller_for_session(self, *, access_key_id: str, session_token: str | None) -> Caller:
        """The assumed-role session presenting these temporary credentials.

        ``InvalidClientTokenId`` for an unknown key id, a missing token or one that is not the
        key's; ``ExpiredToken`` once the session has expired on the virtual clock.
        """
        creds = self.credentials_for(access_key_id)
        if creds is None or not isinstance(session_token, str) or not compare_digest(
                session_token.encode("utf-8", "surrogatepass"),
                creds.session_token.encode("ascii")):
            raise InvalidClientTokenId(_INVALID_TOKEN)
        if self._state.runtime.clock.now() >= creds.expiration:
            raise ExpiredTokenException(_EXPIRED_TOKEN)
        try:
            return self._iam.caller_for(creds.session_arn)
        except NoSuchEntityException:  # the role was deleted: its sessions name no one now
            raise InvalidClientTokenId(_INVALID_TOKEN) from None

    # --- internals ----------------------------------------------------------------------------

    def _store(self, creds: SessionCredentials) -> None:
        sessions = self._state.sessions
        sessions[creds.access_key_id] = creds
        index = self._state.runtime.access_keys
        index.issued(creds.access_key_id, self._state.runtime.account_id)
        if len(sessions) >= self._state.prune_at:
            # Sessions expired over a day ago are forgotten (then InvalidClientTokenId, not
            # ExpiredToken), so a long-running server does not keep every session it issued.
            horizon = self._state.runtime.clock.now() - timedelta(days=1)
            for key in [k for k, s in sessions.items() if s.expiration < horizon]:
                del sessions[key]
                index.forget(key)
            self._state.prune_at = max(64, 2 * len(sessions))

    def _audit(self, caller: Caller, role_arn: str, session_name: str,
               result: AssumeRoleResult | None, error: Exception | None) -> None:
        response: dict[str, Any] | None = None
        if result is not None:
            response = {
                "credentials": {"accessKeyId": result.credentials.access_key_id,
                                "expiration": result.credentials.expiration.strftime(
                                    "%b %d, %Y, %I:%M:%S %p")},
                "assumedRoleUser": {"assumedRoleId": result.assumed_role_user.assumed_role_id,
                                    "arn": result.assumed_role_user.arn},
            }
        code = getattr(error, "code", None)
        self._state.runtime.audit.record(
            "AssumeRole", user_identity=caller.user_identity(),
            request_parameters={"roleArn": role_arn, "roleSessionName": session_name},
            response_elements=response, event_source="sts.amazonaws.com",
            error_code=code, error_message=getattr(error, "message", None),
            source_ip=caller.source_ip)
