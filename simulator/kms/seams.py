"""What KMS needs from its collaborators, as typing Protocols.

KMS asks IAM (``simulator.iam.service`` provides it): a caller's identity policies (for every
decision a key policy delegates to IAM), a caller's tags (``aws:PrincipalTag/<k>``), whether a
principal named in a key policy exists (PutKeyPolicy and CreateKey refuse a policy naming one
that does not) and which unique id a user or role ARN names now (a key policy binds it, as AWS
does).

KMS asks the simulation's directory of account/Region cells (``simulator.cells`` provides it)
where another account's or Region's KMS is: a key used across accounts by its ARN, a blob whose
key lives in another account, a multi-Region key's replicas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from ..iam.policy import PolicyDocument
from ..iam.principals import Caller

if TYPE_CHECKING:
    from .state import KmsState

__all__ = ["IamForKms", "KmsDirectory"]


class IamForKms(Protocol):
    """The IAM questions KMS asks."""

    def identity_policies(self, caller: Caller) -> Sequence[PolicyDocument]: ...

    def principal_exists(self, arn: str) -> bool: ...

    def principal_tags(self, caller: Caller) -> Mapping[str, str]: ...

    def unique_id(self, arn: str) -> str | None: ...


class KmsDirectory(Protocol):
    """The other KMS cells of the simulation (each a dict lookup, never a scan)."""

    def kms_state(self, account_id: str, region: str, *, create: bool = False
                  ) -> KmsState | None:
        """The KMS of ``account_id`` in ``region``: None if that cell was never used, unless
        ``create`` (then it is made, as AWS accounts and Regions always exist)."""
        ...

    def key_home(self, region: str, key_id: str) -> KmsState | None:
        """The KMS in ``region`` holding (or having held) the key ``key_id``."""
        ...

    def add_key(self, region: str, key_id: str, home: KmsState) -> None:
        """Note that ``home`` holds ``key_id`` in ``region`` (for :meth:`key_home`)."""
        ...
