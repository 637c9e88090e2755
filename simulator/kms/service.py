"""The KMS service: keys, aliases, key states, envelope operations, rotation, grants.

``KeyManagementService`` is a *view*: the account's :class:`KmsState` plus the caller it acts as.
``sim.kms`` is the account root's view; ``sim.as_principal(arn).kms`` another; EBS and
WorkSpaces call through views whose caller carries the service (``kms:ViaService``).

Every call, successful or failed, is written to the audit trail; every rule (validation, key
resolution, authorization, key state) is checked before any state changes.

How the class is built: each operation family lives in its own module as a mixin over
:class:`~.base.KmsBase` (the shared state, the API-call context ``_Api``, key resolution,
authorization and key-state rules):

- :mod:`.key_ops` - keys and aliases;
- :mod:`.crypto_ops` - Encrypt, GenerateDataKey*, Decrypt, ReEncrypt, GenerateRandom;
- :mod:`.grant_ops` - grants;
- :mod:`.policy_ops` - key policies;
- :mod:`.rotation_ops` - rotation;
- :mod:`.tag_ops` - tags.

``KeyManagementService`` is the one class composing them; a new family is one more module and
one more base here. Mixins (not delegation) keep every operation a method of the one service
object, so the operation boundary (``simulator.boundary``: the simulation's lock, binding errors
as ValidationException), applied here once, covers every family.
"""

from __future__ import annotations

from ..boundary import operation_boundary
from .crypto_ops import CryptoOperations
from .grant_ops import GRANT_OPERATIONS, GrantOperations
from .key_ops import KeyOperations
from .policy_ops import PolicyOperations
from .rotation_ops import RotationOperations
from .tag_ops import TagOperations

__all__ = ["GRANT_OPERATIONS", "KeyManagementService"]


@operation_boundary(lambda kms: kms._s.runtime.lock)
class KeyManagementService(KeyOperations, CryptoOperations, GrantOperations, PolicyOperations,
                           RotationOperations, TagOperations):
    """AWS KMS for one account and Region, as seen by one caller."""
