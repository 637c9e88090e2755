"""Grant tokens that describe themselves: payload + nonce + HMAC-SHA256 tag, base64url.

Like AWS's, a token is opaque to users but verifiable by KMS alone, so KMS keeps no per-token
state: a fleet's thousands of retired grants leave no tokens behind in memory, and any number of
tokens can be issued for one grant (CreateGrant with the same Name issues a new one each time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["TokenError", "open_token", "seal_token"]

_TAG = 16


class TokenError(Exception):
    """Malformed or forged token (KMS maps it to InvalidGrantTokenException)."""


def seal_token(mac_key: bytes, payload: bytes, nonce: bytes) -> str:
    """A token carrying ``payload``, authenticated under ``mac_key``; ``nonce`` makes it unique."""
    body = payload + nonce
    tag = hmac.new(mac_key, body, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode("ascii")


def open_token(mac_key: bytes, token: str, payload_size: int, nonce_size: int) -> bytes:
    """The payload of a token sealed under ``mac_key``; TokenError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
    if len(raw) != payload_size + nonce_size + _TAG:
        raise TokenError("malformed")
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, hmac.new(mac_key, body, hashlib.sha256).digest()[:_TAG]):
        raise TokenError("not issued here")
    return body[:payload_size]
