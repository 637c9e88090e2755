"""Testing kit for users of envelope-sim: pytest fixtures, hypothesis strategies, state machines.

The pytest plugin (:mod:`simulator.testing.plugin`) is registered through the ``pytest11`` entry
point, so installing envelope-sim gives a test suite the ``sim``, ``seeded_sim`` and
``audit_capture`` fixtures.
"""

__all__: list[str] = []
