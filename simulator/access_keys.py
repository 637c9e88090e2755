"""Which account issued each access key id of one simulation.

IAM records its access keys here when it issues them (and keeps them after deletion: a deleted
key still belongs to its account, which refuses it); STS records the temporary keys of the
sessions it issues, and forgets them when it forgets the sessions. A wire layer routing a
signed request to its account asks :meth:`AccessKeyIndex.account_of`: one dict lookup, however
many accounts the simulation holds. Every cell of a simulation shares one index (through its
:class:`~simulator.runtime.Runtime`).
"""

from __future__ import annotations

__all__ = ["AccessKeyIndex"]


class AccessKeyIndex:
    """Access key id -> the account id that issued it (IAM keys and STS session keys)."""

    __slots__ = ("_accounts",)

    def __init__(self) -> None:
        self._accounts: dict[str, str] = {}

    def issued(self, access_key_id: str, account_id: str) -> None:
        """``account_id`` issued ``access_key_id``."""
        self._accounts[access_key_id] = account_id

    def forget(self, access_key_id: str) -> None:
        """The issuer no longer knows ``access_key_id`` (an STS session it dropped)."""
        self._accounts.pop(access_key_id, None)

    def account_of(self, access_key_id: str) -> str | None:
        """The account that issued ``access_key_id``, or None if no account did."""
        return self._accounts.get(access_key_id)

    def __contains__(self, access_key_id: object) -> bool:
        return access_key_id in self._accounts

    def __len__(self) -> int:
        return len(self._accounts)

    def __repr__(self) -> str:  # key ids are not secrets, but a count is all a repr needs
        return f"AccessKeyIndex({len(self._accounts)} keys)"
