"""``sim.ebs.tamper``: the public seam for fault injection and tests to do harm to EBS.

What an attacker holding the disk or a failing host does, and nothing an EC2 caller can do:
flip a stored bit, put arbitrary bytes in a block slot, corrupt a volume's encrypted data key,
lose a host. :mod:`simulator.faults` and :mod:`simulator.testing` use only this seam (never
EBS's internals), and so can a user's own tests. Each act is a trace event (actor ``EBS``,
action ``Fault...``), so a reader sees the corruption before the failure it causes.

It is not an AWS API: no IAM check applies and no audit record is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..boundary import operation_boundary
from ..errors import IncorrectState, InvalidParameterValue
from .store import BLOCK_SIZE, GcmCodec

if TYPE_CHECKING:
    from .service import ElasticBlockStore

__all__ = ["VolumeTamper"]


@operation_boundary(lambda tamper: tamper._ebs._state.runtime.lock)
class VolumeTamper:
    """Harm done to one simulation's EBS volumes from outside the API (faults, attack tests)."""

    def __init__(self, ebs: ElasticBlockStore) -> None:
        self._ebs = ebs

    def flip_block_bit(self, volume_id: str, index: int, bit: int = 0) -> None:
        """Flip bit ``bit`` of stored block ``index`` (disk corruption or an attacker)."""
        _check_number(index, "index")
        _check_number(bit, "bit")
        rec = self._ebs._volume(volume_id)
        if rec.store is None or index not in rec.store.blocks:
            raise InvalidParameterValue(f"Block {index} of {volume_id} was never written.")
        rec.store.flip_bit(index, bit)
        self._ebs._trace("FaultFlipBlockBit", volume_id, block_index=index, bit=bit)

    def put_raw_block(self, volume_id: str, index: int, stored: bytes) -> None:
        """Put ``stored`` bytes at block ``index`` as an attacker with the disk would (swaps,
        replays); the volume metadata (gcm write counters) is left as it is."""
        _check_number(index, "index")
        if not isinstance(stored, bytes | bytearray | memoryview):
            raise InvalidParameterValue(f"stored must be bytes, not {type(stored).__name__}.")
        rec = self._ebs._volume(volume_id)
        if rec.store is None:
            raise InvalidParameterValue(f"Volume {volume_id} has no blocks.")
        try:
            # The cipher fixes the stored block size, written or not (gcm adds nonce and tag).
            rec.store.layout(GcmCodec.slot_size if rec.cipher == "gcm" else BLOCK_SIZE)
            rec.store.put_raw(index, bytes(stored))
        except ValueError as err:
            raise InvalidParameterValue(f"Block {index} of {volume_id}: {err}.") from None
        self._ebs._trace("FaultPutRawBlock", volume_id, block_index=index)

    def flip_data_key_bit(self, volume_id: str, bit: int = 0) -> None:
        """Flip a bit of the volume's stored encrypted data key: the next attach fails."""
        _check_number(bit, "bit")
        rec = self._ebs._volume(volume_id)
        if rec.encrypted_data_key is None:
            raise InvalidParameterValue(f"Volume {volume_id} has no encrypted data key.")
        blob = bytearray(rec.encrypted_data_key)
        blob[(bit // 8) % len(blob)] ^= 1 << (bit % 8)
        rec.encrypted_data_key = bytes(blob)
        self._ebs._trace("FaultFlipDataKeyBit", volume_id, bit=bit)

    def fail_host(self, volume_id: str) -> None:
        """The host holding the attachment fails: the in-memory data key is lost (wiped) and
        the volume is detached; whoever reattaches it needs KMS Decrypt again."""
        rec = self._ebs._volume(volume_id)
        if rec.attachment is None or rec.attachment.state == "detaching":
            raise IncorrectState(f"The volume '{rec.volume_id}' is not attached.")
        self._ebs._drop_attachment(rec, "HostFailure")

    def held_data_keys(self) -> Mapping[str, bytearray]:
        """Volume id -> the live buffer holding its plaintext data key, for every attached
        encrypted volume: for checks that a key is wiped on detach and never leaks. The
        buffers are the real ones; read them, never keep copies in anything printed."""
        return {rec.volume_id: rec.attachment.plaintext_data_key
                for rec in self._ebs._state.volumes.values()
                if rec.attachment is not None and rec.attachment.plaintext_data_key is not None
                and rec.attachment.state != "detaching"}  # a detaching one's key is wiped


def _check_number(value: object, name: str) -> None:
    if type(value) is not int or value < 0:
        raise InvalidParameterValue(f"{name} must be a whole number, 0 or more, not {value!r}.")
