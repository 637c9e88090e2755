"""Any sequence of writes and reads matches a plain bytearray, across reattach and snapshot/restore."""

from __future__ import annotations

from ebs_support import attach, detach
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from simulator import Simulation
from simulator.ebs import BLOCK_SIZE, BlockDevice

INSTANCE = "i-0123456789abcdef0"
#: The model covers the first few blocks (enough for partial, straddling and whole-block I/O);
#: the volume itself is 1 GiB, with a region near its end exercised too.
SPAN = 5 * BLOCK_SIZE
TAIL = (1 << 30) - 2 * BLOCK_SIZE


class VolumeModel(RuleBasedStateMachine):
    """One volume against a bytearray, in one cipher mode."""

    cipher = "xts"

    @initialize()
    def setup(self) -> None:
        self.sim = Simulation(seed=11, volume_cipher=self.cipher)
        key = self.sim.kms.create_key()
        self.key_arn = key.arn
        vol = self.sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
        self.sim.run_until_idle()
        self.volume_id = vol.volume_id
        self.model = bytearray(SPAN)
        self.tail = bytearray(2 * BLOCK_SIZE)
        self.device: BlockDevice | None = None
        self._attach()

    def _attach(self) -> None:
        attach(self.sim, self.volume_id, INSTANCE, '/dev/sdf')
        self.device = self.sim.ebs.block_device(self.volume_id)

    @precondition(lambda self: self.device is not None)
    @rule(offset=st.integers(0, SPAN - 1), data=st.data())
    def write(self, offset: int, data: st.DataObject) -> None:
        length = data.draw(st.integers(0, min(SPAN - offset, 2 * BLOCK_SIZE + 17)))
        fill = data.draw(st.binary(min_size=1, max_size=8))
        payload = (fill * (length // len(fill) + 1))[:length]
        assert self.device is not None
        self.device.write(offset, payload)
        self.model[offset:offset + length] = payload

    @precondition(lambda self: self.device is not None)
    @rule(offset=st.integers(0, 2 * BLOCK_SIZE - 1), value=st.binary(min_size=1, max_size=300))
    def write_near_the_end(self, offset: int, value: bytes) -> None:
        value = value[:2 * BLOCK_SIZE - offset]
        assert self.device is not None
        self.device.write(TAIL + offset, value)
        self.tail[offset:offset + len(value)] = value

    @precondition(lambda self: self.device is not None)
    @rule(offset=st.integers(0, SPAN), data=st.data())
    def read(self, offset: int, data: st.DataObject) -> None:
        length = data.draw(st.integers(0, SPAN - offset))
        assert self.device is not None
        assert self.device.read(offset, length) == bytes(self.model[offset:offset + length])

    @precondition(lambda self: self.device is not None)
    @rule()
    def reattach(self) -> None:
        detach(self.sim, self.volume_id)
        self.device = None
        self._attach()

    @precondition(lambda self: self.device is not None)
    @rule(same_key=st.booleans(), other_cipher=st.booleans())
    def snapshot_and_restore(self, same_key: bool, other_cipher: bool) -> None:
        snap = self.sim.ebs.create_snapshot(volume_id=self.volume_id)
        self.sim.run_until_idle()
        kms_key = self.key_arn if same_key else self.sim.kms.create_key().arn
        cipher = ("gcm" if self.cipher == "xts" else "xts") if other_cipher else self.cipher
        restored = self.sim.ebs.create_volume(snapshot_id=snap.snapshot_id, encrypted=True,
                                              kms_key_id=kms_key, volume_cipher=cipher)
        self.sim.run_until_idle()
        shown = self.sim.ebs.describe_volumes(volume_ids=[restored.volume_id]).volumes[0]
        assert shown.state == "available", shown.state_reason
        old = self.volume_id
        detach(self.sim, old)
        self.sim.ebs.delete_volume(volume_id=old)
        self.sim.ebs.delete_snapshot(snapshot_id=snap.snapshot_id)
        self.volume_id = restored.volume_id
        self.key_arn = kms_key
        self._attach()

    @invariant()
    def tail_matches(self) -> None:
        if self.device is not None:
            assert self.device.read(TAIL, 2 * BLOCK_SIZE) == bytes(self.tail)


class XtsVolumeModel(VolumeModel):
    cipher = "xts"


class GcmVolumeModel(VolumeModel):
    cipher = "gcm"


TestXtsRoundTrip = XtsVolumeModel.TestCase
TestXtsRoundTrip.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)
TestGcmRoundTrip = GcmVolumeModel.TestCase
TestGcmRoundTrip.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)
