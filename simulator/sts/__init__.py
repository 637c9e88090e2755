"""AWS STS: who is calling (GetCallerIdentity) and temporary role credentials (AssumeRole)."""

from .service import (
    AssumedRoleUser,
    AssumeRoleResult,
    Credentials,
    GetCallerIdentityResult,
    SecurityTokenService,
    SessionCredentials,
    StsState,
)

__all__ = [
    "AssumeRoleResult",
    "AssumedRoleUser",
    "Credentials",
    "GetCallerIdentityResult",
    "SecurityTokenService",
    "SessionCredentials",
    "StsState",
]
