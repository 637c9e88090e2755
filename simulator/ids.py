"""Resource identifiers in AWS's shapes, drawn from the simulation's entropy.

Each kind of id (KMS key, grant, volume, WorkSpace...) has its own named stream of the
entropy, so with a seed the n-th id of a kind is the same in every run, whatever else the run
drew, and ids of different kinds never come from the same draws: the first grant of any run
seeded with 1 is the same grant id, and never also a key id or a volume id.
"""

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
        """A random (version 4) UUID string: EBS data key ids."""
        return _format_uuid(self._e.stream("id:uuid").token_bytes(16))

    def request_id(self) -> str:
        """An audit record's ``requestID`` (a UUID), from its own stream."""
        return _format_uuid(self._e.stream("id:request").token_bytes(16))

    def event_id(self) -> str:
        """An audit record's ``eventID`` (a UUID), from its own stream."""
        return _format_uuid(self._e.stream("id:event").token_bytes(16))

    def shared_event_id(self) -> str:
        """The ``sharedEventID`` tying the copies of one cross-account event (a UUID)."""
        return _format_uuid(self._e.stream("id:shared-event").token_bytes(16))

    def key_id(self) -> str:
        """A KMS key id (a UUID), from the keys' own stream."""
        return _format_uuid(self._e.stream("id:key").token_bytes(16))

    def key_material_id(self) -> str:
        """64 hex characters, as KeyMetadata.CurrentKeyMaterialId."""
        return self._e.stream("id:key-material").token_hex(32)

    def grant_id(self) -> str:
        """64 hex characters, as in the KMS API examples."""
        return self._e.stream("id:grant").token_hex(32)

    def volume_id(self) -> str:
        return "vol-" + self._e.stream("id:volume").token_hex(9)[:17]

    def snapshot_id(self) -> str:
        return "snap-" + self._e.stream("id:snapshot").token_hex(9)[:17]

    def instance_id(self) -> str:
        return "i-" + self._e.stream("id:instance").token_hex(9)[:17]

    def subnet_id(self) -> str:
        return "subnet-" + self._e.stream("id:subnet").token_hex(9)[:17]

    def workspace_id(self) -> str:
        return "ws-" + self._e.stream("id:workspace").choice_string(_LOWER_ALNUM, 9)

    def bundle_id(self) -> str:
        return "wsb-" + self._e.stream("id:bundle").choice_string(_LOWER_ALNUM, 9)

    def image_id(self) -> str:
        return "wsi-" + self._e.stream("id:image").choice_string(_LOWER_ALNUM, 9)

    def directory_id(self) -> str:
        return "d-" + self._e.stream("id:directory").token_hex(5)

    def domain_sid(self) -> str:
        """``S-1-5-21-<a>-<b>-<c>``: a domain SID; user SIDs append a RID."""
        stream = self._e.stream("id:domain-sid")
        parts = [stream.randint(100_000_000, 4_294_967_295) for _ in range(3)]
        return "S-1-5-21-" + "-".join(str(p) for p in parts)

    def private_ip(self) -> str:
        stream = self._e.stream("id:private-ip")
        return f"10.0.{stream.randint(0, 255)}.{stream.randint(4, 254)}"
