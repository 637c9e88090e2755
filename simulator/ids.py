"""Resource identifiers in AWS's shapes, drawn from the simulation's entropy."""

from __future__ import annotations

from .entropy import Entropy

__all__ = ["Ids"]

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _format_uuid(raw: bytes) -> str:
    h = bytearray(raw)
    h[6] = (h[6] & 0x0F) | 0x40  # version 4
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


class Ids:
    """Makes ids for one simulation; replayable when its entropy is seeded."""

    def __init__(self, entropy: Entropy) -> None:
        self._e = entropy

    def uuid(self) -> str:
        """A random (version 4) UUID string: KMS key ids, request and event ids."""
        return _format_uuid(self._e.token_bytes(16))

    def key_id(self) -> str:
        return self.uuid()

    def key_material_id(self) -> str:
        """64 hex characters, as KeyMetadata.CurrentKeyMaterialId."""
        return self._e.token_hex(32)

    def grant_id(self) -> str:
        """64 hex characters, as in the KMS API examples."""
        return self._e.token_hex(32)

    def volume_id(self) -> str:
        return "vol-" + self._e.token_hex(9)[:17]

    def snapshot_id(self) -> str:
        return "snap-" + self._e.token_hex(9)[:17]

    def instance_id(self) -> str:
        return "i-" + self._e.token_hex(9)[:17]

    def subnet_id(self) -> str:
        return "subnet-" + self._e.token_hex(9)[:17]

    def workspace_id(self) -> str:
        return "ws-" + self._e.choice_string(_LOWER_ALNUM, 9)

    def bundle_id(self) -> str:
        return "wsb-" + self._e.choice_string(_LOWER_ALNUM, 9)

    def image_id(self) -> str:
        return "wsi-" + self._e.choice_string(_LOWER_ALNUM, 9)

    def directory_id(self) -> str:
        return "d-" + self._e.token_hex(5)

    def domain_sid(self) -> str:
        """``S-1-5-21-<a>-<b>-<c>``: a domain SID; user SIDs append a RID."""
        parts = [self._e.randint(100_000_000, 4_294_967_295) for _ in range(3)]
        return "S-1-5-21-" + "-".join(str(p) for p in parts)

    def private_ip(self) -> str:
        return f"10.0.{self._e.randint(0, 255)}.{self._e.randint(4, 254)}"
