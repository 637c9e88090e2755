"""The simulation's one source of randomness.

``Entropy(seed)`` is a deterministic generator, so ``Simulation(seed=N)`` replays ids, data keys
and nonces byte for byte. That is for teaching and tests only: seeded key material is predictable
by design. ``Entropy(None)`` draws from the operating system's CSPRNG.
"""

from __future__ import annotations

import os
import random

__all__ = ["Entropy"]


class Entropy:
    """Random bytes, numbers and choices; seeded (replayable) or from the OS."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        # random.Random is also what hypothesis.register_random() controls; the testing kit
        # registers it so that hypothesis replays failures.
        self.random = random.Random(seed) if seed is not None else random.SystemRandom()
        self._os = seed is None
        self._streams: dict[str, Entropy] = {}

    @property
    def seeded(self) -> bool:
        """True when the stream is replayable."""
        return not self._os

    def stream(self, name: str) -> Entropy:
        """The named sub-stream ``name`` (the same object on every call).

        Seeded, it is seeded from this stream's seed and ``name`` (not from this stream's
        position), so what is drawn from it does not depend on how much was drawn elsewhere:
        the n-th id of a kind is the same whatever else a run did. Unseeded, it is the OS
        CSPRNG like this one.
        """
        found = self._streams.get(name)
        if found is None:
            found = self
            if not self._os:
                found = Entropy(self.seed)
                # A str seed is hashed with SHA-512 by random.Random: the same on every
                # platform and in every process, unlike hash().
                found.random = random.Random(f"{self.seed}/{name}")
            self._streams[name] = found
        return found

    def token_bytes(self, n: int) -> bytes:
        """``n`` random bytes (key material, nonces)."""
        if self._os:
            return os.urandom(n)
        return self.random.randbytes(n)

    def token_hex(self, n: int) -> str:
        """``2 * n`` random lowercase hex characters."""
        return self.token_bytes(n).hex()

    def uniform(self) -> float:
        """A float in [0, 1) (fault probabilities, jitter)."""
        return self.random.random()

    def randint(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return self.random.randint(low, high)

    def choice_string(self, alphabet: str, n: int) -> str:
        """``n`` characters drawn from ``alphabet``."""
        return "".join(self.random.choice(alphabet) for _ in range(n))
