"""Fault injection: faults as data (a trigger and an effect) and ``sim.faults`` to inject them.

```python
from simulator.faults import AtStep, DisableKey, Fault
sim.faults.inject(Fault(AtStep(5), DisableKey(key.arn)))   # a real DisableKey before step 5
```

Faults never appear as branches in the services: they hook in through ``runtime.hooks`` or
schedule real actions on the virtual clock (see :mod:`simulator.faults.injector`).
"""

from .injector import ActiveFault, FaultInjector, FaultRecord, FaultSkippedWarning
from .model import (
    EC2_OPERATIONS,
    KEYLESS_OPERATIONS,
    KMS_OPERATIONS,
    RETRYABLE_ERRORS,
    AtStep,
    AtTime,
    Chance,
    DisableKey,
    DropAttachment,
    Effect,
    Fault,
    FaultPlan,
    FlipBlockBit,
    FlipDataKeyBit,
    OnCall,
    PutKeyPolicy,
    RaiseError,
    RetireGrant,
    RevokeGrant,
    ScheduleKeyDeletion,
    SetGrantPropagation,
    Trigger,
)

__all__ = [
    "EC2_OPERATIONS",
    "KEYLESS_OPERATIONS",
    "KMS_OPERATIONS",
    "RETRYABLE_ERRORS",
    "ActiveFault",
    "AtStep",
    "AtTime",
    "Chance",
    "DisableKey",
    "DropAttachment",
    "Effect",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "FaultRecord",
    "FaultSkippedWarning",
    "FlipBlockBit",
    "FlipDataKeyBit",
    "OnCall",
    "PutKeyPolicy",
    "RaiseError",
    "RetireGrant",
    "RevokeGrant",
    "ScheduleKeyDeletion",
    "SetGrantPropagation",
    "Trigger",
]
