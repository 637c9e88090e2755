"""What KMS needs from IAM, as a typing Protocol (``simulator.iam.service`` provides it).

KMS asks IAM two things: a caller's identity policies (for every decision a key policy delegates
to IAM) and whether a principal named in a key policy exists (PutKeyPolicy and CreateKey refuse
a policy naming one that does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..iam.policy import PolicyDocument
from ..iam.principals import Caller

__all__ = ["IamForKms"]


class IamForKms(Protocol):
    """The IAM questions KMS asks."""

    def identity_policies(self, caller: Caller) -> Sequence[PolicyDocument]: ...

    def principal_exists(self, arn: str) -> bool: ...
