"""IAM: principals, policy documents, the authorisation evaluator and the IAM service."""

from .evaluator import AuthRequest, Decision, Effect, authorize_identity, evaluate
from .policy import PolicyDocument, Statement, default_key_policy, parse_policy
from .principals import Caller, ebs_identity_arn, root_arn, workspaces_identity_arn
from .service import IdentityAndAccessManagement, Role, User

__all__ = [
    "AuthRequest",
    "Caller",
    "Decision",
    "Effect",
    "IdentityAndAccessManagement",
    "PolicyDocument",
    "Role",
    "Statement",
    "User",
    "authorize_identity",
    "default_key_policy",
    "ebs_identity_arn",
    "evaluate",
    "parse_policy",
    "root_arn",
    "workspaces_identity_arn",
]
