"""The faces real clients reach: boto3 in process (:func:`mock_aws`) and an HTTP endpoint
(``envelope-sim serve``, :mod:`simulator.wire.server`).

Adapters only: a codec driven by botocore's service models maps names and shapes; the
services decide everything. Needs the ``server`` extra (botocore, uvicorn); the names below are
imported on first use, so ``import simulator.wire`` alone costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gateway import Gateway
    from .mock import MockClosedError, mock_aws
    from .protocols import WireRequest, WireResponse

__all__ = ["Gateway", "MockClosedError", "WireRequest", "WireResponse", "mock_aws"]

_WHERE = {"Gateway": "gateway", "MockClosedError": "mock", "mock_aws": "mock",
          "WireRequest": "protocols", "WireResponse": "protocols"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator.wire' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
