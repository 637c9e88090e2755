"""A state machine over one key of imported material against a three-field model: imports,
re-imports of other material, deletions and time passing, with encryption and decryption
checked after every step."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulator import Simulation
from simulator.errors import IncorrectKeyMaterialException, KMSInvalidStateException
from simulator.kms.asymmetric_models import ParametersForImport
from tests.test_crypto_wrapping import _client_wrap


class ImportedKeyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sim = Simulation()  # unseeded: the library makes the wrapping keys quickly
        self.key = self.sim.kms.create_key(origin="EXTERNAL").arn
        self.material = os.urandom(32)
        self.imported_once = False
        self.usable = False
        self.expires: datetime | None = None
        self.blobs: list[tuple[bytes, bytes]] = []
        self.params: ParametersForImport | None = None

    def _parameters(self) -> ParametersForImport:
        if self.params is None or self.params.parameters_valid_to <= self.sim.clock.now():
            self.params = self.sim.kms.get_parameters_for_import(
                key_id=self.key, wrapping_algorithm="RSA_AES_KEY_WRAP_SHA_256", wrapping_key_spec="RSA_2048")
        return self.params

    def _import(self, material: bytes, days: int | None) -> None:
        params = self._parameters()
        kwargs: dict[str, object] = ({"expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE"} if days is None
                                     else {"valid_to": self.sim.clock.now() + timedelta(days=days)})
        self.sim.kms.import_key_material(
            key_id=self.key, import_token=params.import_token,
            encrypted_key_material=_client_wrap(params.public_key, "RSA_AES_KEY_WRAP_SHA_256", material),
            **kwargs)  # type: ignore[arg-type]

    @rule(days=st.one_of(st.none(), st.integers(1, 30)))
    def import_the_material(self, days: int | None) -> None:
        self._import(self.material, days)
        self.imported_once = self.usable = True
        self.expires = None if days is None else self.sim.clock.now() + timedelta(days=days)

    @rule()
    def import_other_material(self) -> None:
        if not self.imported_once:
            return  # the first import may bring any material: not what this rule checks
        with pytest.raises(IncorrectKeyMaterialException):
            self._import(os.urandom(32), None)

    @rule()
    def delete_the_material(self) -> None:
        if self.usable:
            self.sim.kms.delete_imported_key_material(key_id=self.key)
            self.usable, self.expires = False, None
        else:
            with pytest.raises(KMSInvalidStateException):
                self.sim.kms.delete_imported_key_material(key_id=self.key)

    @rule(hours=st.integers(1, 24 * 40))
    def time_passes(self, hours: int) -> None:
        self.sim.advance(seconds=hours * 3600)
        if self.expires is not None and self.expires <= self.sim.clock.now():
            self.usable, self.expires = False, None

    @rule(plaintext=st.binary(min_size=1, max_size=64))
    def encrypt(self, plaintext: bytes) -> None:
        if self.usable:
            self.blobs.append((self.sim.kms.encrypt(key_id=self.key, plaintext=plaintext).ciphertext_blob,
                               plaintext))
        else:
            with pytest.raises(KMSInvalidStateException, match="pending import"):
                self.sim.kms.encrypt(key_id=self.key, plaintext=plaintext)

    @invariant()
    def state_and_blobs_follow_the_model(self) -> None:
        md = self.sim.kms.describe_key(key_id=self.key)
        assert md.key_state == ("Enabled" if self.usable else "PendingImport")
        for blob, plaintext in self.blobs[-3:]:
            if self.usable:
                assert self.sim.kms.decrypt(ciphertext_blob=blob).plaintext == plaintext
            else:
                with pytest.raises(KMSInvalidStateException):
                    self.sim.kms.decrypt(ciphertext_blob=blob)


ImportedKeyMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None)
test_imported_key_material_follows_the_model = ImportedKeyMachine.TestCase
