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
- :mod:`.tag_ops` - tags;
- :mod:`.asymmetric_ops` - Sign, Verify, GetPublicKey, DeriveSharedSecret, GenerateDataKeyPair*;
- :mod:`.mac_ops` - GenerateMac, VerifyMac;
- :mod:`.import_ops` - GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial;
- :mod:`.multi_region_ops` - multi-Region keys (ReplicateKey, UpdatePrimaryRegion);
- :mod:`.unsupported_ops` - the operations out of scope (custom key stores).

``KeyManagementService`` is the one class composing them; a new family is one more module and
one more base here. Mixins (not delegation) keep every operation a method of the one service
object, so the operation boundary (``simulator.boundary``: the simulation's lock, binding errors
as ValidationException), applied here once, covers every family.
"""

from __future__ import annotations

from ..boundary import operation_boundary
from .asymmetric_ops import AsymmetricOperations
from .crypto_ops import CryptoOperations
from .grant_ops import GRANT_OPERATIONS, GrantOperations
from .import_ops import ImportOperations
from .key_ops import KeyOperations
from .mac_ops import MacOperations
from .multi_region_ops import MultiRegionOperations
from .policy_ops import PolicyOperations
from .rotation_ops import RotationOperations
from .tag_ops import TagOperations
from .unsupported_ops import OutOfScopeOperations

__all__ = ["GRANT_OPERATIONS", "KeyManagementService"]


@operation_boundary(lambda kms: kms._s.runtime.lock)
class KeyManagementService(KeyOperations, CryptoOperations, GrantOperations, PolicyOperations,
                           RotationOperations, TagOperations, AsymmetricOperations, MacOperations,
                           ImportOperations, MultiRegionOperations, OutOfScopeOperations):
    """AWS KMS for one account and Region, as seen by one caller."""
