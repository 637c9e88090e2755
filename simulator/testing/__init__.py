"""Testing kit for users of envelope-sim: pytest fixtures, hypothesis strategies, state machines.

- :mod:`simulator.testing.plugin` -- pytest fixtures (``sim``, ``seeded_sim``, ``audit_capture``,
  ``workspaces_world``, ``fault_records``), registered through the ``pytest11`` entry point, so
  installing envelope-sim gives every test suite these fixtures.
- :mod:`simulator.testing.strategies` -- hypothesis strategies (``simulations()``,
  ``encryption_contexts()``, ``key_specs()``, ``principals()``, ``key_policies()``,
  ``grant_constraints()``, ``fault_plans()``, ``kms_operation_sequences()``...).
- :mod:`simulator.testing.machines` -- ``LifecycleMachine``, a rule-based state machine over
  KMS, EBS and WorkSpaces with a model and invariants, to subclass.
- :mod:`simulator.testing.world` -- ``WorkspacesWorld``: a directory, users and a key, ready
  (optionally an administrator with the seed's policies); the one world tests and scenarios use.

The strategies and machines need ``hypothesis`` (``pip install envelope-sim[test]``); importing
this package does not.
"""

__all__: list[str] = []
