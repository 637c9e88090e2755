"""Grant tokens that describe themselves: payload + nonce + HMAC-SHA256 tag, base64url.

Like AWS's, a token is opaque to users but verifiable by KMS alone, so KMS keeps no per-token
state: a fleet's thousands of retired grants leave no tokens behind in memory, and any number of
tokens can be issued for one grant (CreateGrant with the same Name issues a new one each time).

A token is as long as AWS's (491 characters, the CreateGrant example in the KMS API reference),
because applications size their storage from what they see: the body is padded with zeros up to
368 bytes, the padding covered by the tag like the rest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["TOKEN_LENGTH", "TokenError", "open_token", "seal_token"]

_TAG = 16
#: 368 bytes are 491 base64url characters without padding: AWS's token length.
_TOKEN_BYTES = 368
TOKEN_LENGTH = 491


class TokenError(Exception):
    """Malformed or forged token (KMS maps it to InvalidGrantTokenException)."""


def seal_token(mac_key: bytes, payload: bytes, nonce: bytes) -> str:
    """A token carrying ``payload``, authenticated under ``mac_key``; ``nonce`` makes it unique."""
    padding = _TOKEN_BYTES - _TAG - len(payload) - len(nonce)
    if padding < 0:
        raise ValueError("payload and nonce too long for a grant token")
    body = payload + nonce + bytes(padding)
    tag = hmac.new(mac_key, body, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode("ascii")


def open_token(mac_key: bytes, token: str, payload_size: int, nonce_size: int) -> bytes:
    """The payload of a token sealed under ``mac_key``; TokenError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
    if len(raw) != _TOKEN_BYTES or payload_size + nonce_size + _TAG > _TOKEN_BYTES:
        raise TokenError("malformed")
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        # The last character carries unused bits: one token, one spelling.
        raise TokenError("malformed")
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, hmac.new(mac_key, body, hashlib.sha256).digest()[:_TAG]):
        raise TokenError("not issued here")
    return body[:payload_size]
