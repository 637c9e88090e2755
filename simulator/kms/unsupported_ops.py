"""KMS operations outside envelope-sim's scope: each answers UnsupportedOperationException
naming the operation (and is audited like any failed call), never an AttributeError."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedOperationException
from .base import KmsBase

__all__ = ["OUT_OF_SCOPE_OPERATIONS", "OutOfScopeOperations"]

#: Operation -> why envelope-sim does not implement it.
OUT_OF_SCOPE_OPERATIONS = {
    "CreateCustomKeyStore": "custom key stores (AWS CloudHSM and external key stores)",
    "ConnectCustomKeyStore": "custom key stores (AWS CloudHSM and external key stores)",
    "DeleteCustomKeyStore": "custom key stores (AWS CloudHSM and external key stores)",
    "DescribeCustomKeyStores": "custom key stores (AWS CloudHSM and external key stores)",
    "DisconnectCustomKeyStore": "custom key stores (AWS CloudHSM and external key stores)",
    "UpdateCustomKeyStore": "custom key stores (AWS CloudHSM and external key stores)",
}


class OutOfScopeOperations(KmsBase):
    """The out-of-scope operations, as a mixin of :class:`~.service.KeyManagementService`."""

    def _out_of_scope(self, operation: str) -> None:
        with self._api(operation, None):
            raise UnsupportedOperationException(
                f"{operation} is not supported by envelope-sim: "
                f"{OUT_OF_SCOPE_OPERATIONS[operation]} are out of its scope.")

    def create_custom_key_store(self, **params: Any) -> None:
        self._out_of_scope("CreateCustomKeyStore")

    def connect_custom_key_store(self, **params: Any) -> None:
        self._out_of_scope("ConnectCustomKeyStore")

    def delete_custom_key_store(self, **params: Any) -> None:
        self._out_of_scope("DeleteCustomKeyStore")

    def describe_custom_key_stores(self, **params: Any) -> None:
        self._out_of_scope("DescribeCustomKeyStores")

    def disconnect_custom_key_store(self, **params: Any) -> None:
        self._out_of_scope("DisconnectCustomKeyStore")

    def update_custom_key_store(self, **params: Any) -> None:
        self._out_of_scope("UpdateCustomKeyStore")
