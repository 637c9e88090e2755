"""KMS key records and the rules of key specs, usages and states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import ScheduledCall
from ..crypto import AsymmetricKey, BackingKey, HmacKey
from ..crypto.asymmetric import signing_algorithms_for
from ..iam.policy import PolicyDocument
from .models import KeyMetadata, MultiRegionConfiguration, MultiRegionKey, Tag

__all__ = [
    "AWS_MANAGED_SERVICES",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "KEY_SPECS",
    "SIGN_VERIFY",
    "ImportParameters",
    "ImportedMaterial",
    "KeyRecord",
    "MultiRegion",
    "Rotation",
    "mrk_key_id",
    "usages_for_spec",
]

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
KEY_AGREEMENT = "KEY_AGREEMENT"

#: KeySpec -> the KeyUsage values it allows (first is the default where one exists).
KEY_SPECS: dict[str, tuple[str, ...]] = {
    "SYMMETRIC_DEFAULT": (ENCRYPT_DECRYPT,),
    "RSA_2048": (ENCRYPT_DECRYPT, SIGN_VERIFY),
    "RSA_3072": (ENCRYPT_DECRYPT, SIGN_VERIFY),
    "RSA_4096": (ENCRYPT_DECRYPT, SIGN_VERIFY),
    "ECC_NIST_P256": (SIGN_VERIFY, KEY_AGREEMENT),
    "ECC_NIST_P384": (SIGN_VERIFY, KEY_AGREEMENT),
    "ECC_NIST_P521": (SIGN_VERIFY, KEY_AGREEMENT),
    "ECC_NIST_EDWARDS25519": (SIGN_VERIFY,),
    "ECC_SECG_P256K1": (SIGN_VERIFY,),
    "HMAC_224": (GENERATE_VERIFY_MAC,),
    "HMAC_256": (GENERATE_VERIFY_MAC,),
    "HMAC_384": (GENERATE_VERIFY_MAC,),
    "HMAC_512": (GENERATE_VERIFY_MAC,),
    "ML_DSA_44": (SIGN_VERIFY,),
    "ML_DSA_65": (SIGN_VERIFY,),
    "ML_DSA_87": (SIGN_VERIFY,),
    "SM2": (ENCRYPT_DECRYPT, SIGN_VERIFY, KEY_AGREEMENT),
}

#: Services whose predefined ``alias/aws/<service>`` aliases exist in every account.
AWS_MANAGED_SERVICES: dict[str, str] = {
    "ebs": "ec2",
    "workspaces": "workspaces",
    "s3": "s3",
    "rds": "rds",
    "lambda": "lambda",
    "secretsmanager": "secretsmanager",
    "ssm": "ssm",
    "dynamodb": "dynamodb",
    "elasticfilesystem": "elasticfilesystem",
    "backup": "backup",
}

_ENCRYPTION_ALGORITHMS = {
    "SYMMETRIC_DEFAULT": ("SYMMETRIC_DEFAULT",),
    "RSA": ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"),
    "SM2": ("SM2PKE",),
}


def _blob_key_id(key_id: str) -> str:
    if key_id.startswith("mrk-") and len(key_id) == 36:
        h = key_id[4:]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return key_id


def mrk_key_id(blob_key_id: str) -> str:
    """The multi-Region key id a blob's key id stands for, if it is one (``mrk-`` + hex)."""
    return "mrk-" + blob_key_id.replace("-", "")


def usages_for_spec(key_spec: str) -> tuple[str, ...]:
    return KEY_SPECS[key_spec]


@dataclass
class Rotation:
    """One entry of ListKeyRotations."""

    key_material_id: str
    rotation_date: datetime
    rotation_type: str  # AUTOMATIC | ON_DEMAND


@dataclass
class ImportParameters:
    """One GetParametersForImport answer: the wrapping key and token ImportKeyMaterial expects."""

    import_token: bytes = field(repr=False)
    wrapping_algorithm: str
    wrapping_key_spec: str
    wrapping_key: AsymmetricKey = field(repr=False)
    valid_to: datetime


@dataclass
class ImportedMaterial:
    """An EXTERNAL key's import state. ``fingerprint`` identifies the first material imported
    (a re-import must bring the same bytes); the material itself lives in the key's usual
    fields while the key has it."""

    parameters: ImportParameters | None = None
    fingerprint: bytes | None = field(default=None, repr=False)
    material_id: str | None = None
    expiration_model: str | None = None
    valid_to: datetime | None = None
    description: str | None = None
    expiry_call: ScheduledCall | None = field(default=None, repr=False)


@dataclass
class MultiRegion:
    """What a multi-Region key's primary and replicas share (one object for the set): the
    primary's Region and every member's Region, in the order they were made."""

    primary_region: str
    regions: list[str]


@dataclass
class KeyRecord:
    """A KMS key's whole state. Mutable; only the KMS service changes it."""

    key_id: str
    arn: str
    account_id: str
    creation_date: datetime
    key_spec: str
    key_usage: str
    description: str
    key_manager: str  # CUSTOMER | AWS
    origin: str
    policy: PolicyDocument
    key_state: str = "Enabled"
    materials: dict[str, BackingKey] = field(default_factory=dict, repr=False)
    current_material_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    deletion_date: datetime | None = None
    pending_window_in_days: int | None = None
    deletion_call: ScheduledCall | None = field(default=None, repr=False)
    rotation_enabled: bool = False
    rotation_period_in_days: int | None = None
    next_rotation_date: datetime | None = None
    rotation_call: ScheduledCall | None = field(default=None, repr=False)
    rotations: list[Rotation] = field(default_factory=list)
    on_demand_rotations: int = 0
    #: The private key of an asymmetric key, the material of an HMAC key (None until imported).
    asymmetric: AsymmetricKey | None = field(default=None, repr=False)
    hmac: HmacKey | None = field(default=None, repr=False)
    #: Origin EXTERNAL: the import in progress, and what the last import set.
    imported: ImportedMaterial | None = field(default=None, repr=False)

    @property
    def is_hmac(self) -> bool:
        return self.key_spec.startswith("HMAC")

    @property
    def has_material(self) -> bool:
        """Whether the key can be used once enabled (an EXTERNAL key may have none)."""
        return bool(self.materials) or self.asymmetric is not None or self.hmac is not None
    #: The multi-Region set this key belongs to (None: a single-Region key).
    multi_region: MultiRegion | None = field(default=None, repr=False)
    #: The key id as a ciphertext blob carries it (a UUID; an ``mrk-`` id's 32 hex digits are
    #: those of a UUID): see :func:`mrk_key_id`.
    blob_key_id: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.blob_key_id = _blob_key_id(self.key_id)

    @property
    def region(self) -> str:
        return self.arn.split(":", 4)[3]

    @property
    def is_replica(self) -> bool:
        """A multi-Region replica key (not the set's primary)."""
        mrk = self.multi_region
        return mrk is not None and mrk.primary_region != self.region

    def _multi_region_configuration(self) -> MultiRegionConfiguration | None:
        mrk = self.multi_region
        if mrk is None:
            return None
        head = self.arn.split(":", 4)
        def member(region: str) -> MultiRegionKey:
            return MultiRegionKey(":".join([*head[:3], region, head[4]]), region)
        return MultiRegionConfiguration(
            "REPLICA" if self.is_replica else "PRIMARY", member(mrk.primary_region),
            tuple(member(r) for r in mrk.regions if r != mrk.primary_region))

    @property
    def is_aws_managed(self) -> bool:
        return self.key_manager == "AWS"

    @property
    def is_symmetric(self) -> bool:
        return self.key_spec == "SYMMETRIC_DEFAULT"

    @property
    def current_material(self) -> BackingKey:
        assert self.current_material_id is not None
        return self.materials[self.current_material_id]

    def metadata(self) -> KeyMetadata:
        """The DescribeKey view of this key."""
        spec = self.key_spec
        if self.key_usage == ENCRYPT_DECRYPT:
            family = "RSA" if spec.startswith("RSA") else spec if spec == "SM2" else "SYMMETRIC_DEFAULT"
            enc = _ENCRYPTION_ALGORITHMS[family]
        else:
            enc = ()
        mac = (f"HMAC_SHA_{spec.split('_')[1]}",) if self.key_usage == GENERATE_VERIFY_MAC else ()
        sign = signing_algorithms_for(spec) if self.key_usage == SIGN_VERIFY else ()
        agree = ("ECDH",) if self.key_usage == KEY_AGREEMENT else ()
        return KeyMetadata(
            aws_account_id=self.account_id,
            key_id=self.key_id,
            arn=self.arn,
            creation_date=self.creation_date,
            enabled=self.key_state == "Enabled",
            description=self.description,
            key_usage=self.key_usage,
            key_state=self.key_state,
            origin=self.origin,
            key_manager=self.key_manager,
            key_spec=spec,
            customer_master_key_spec=spec,
            encryption_algorithms=enc,
            mac_algorithms=mac,
            signing_algorithms=sign,
            key_agreement_algorithms=agree,
            multi_region=self.multi_region is not None,
            deletion_date=self.deletion_date if self.key_state == "PendingDeletion" else None,
            pending_deletion_window_in_days=(
                self.pending_window_in_days
                if self.key_state in ("PendingDeletion", "PendingReplicaDeletion") else None
            ),
            current_key_material_id=self.current_material_id,
            expiration_model=self.imported.expiration_model if self.imported else None,
            valid_to=self.imported.valid_to if self.imported else None,
            multi_region_configuration=self._multi_region_configuration(),
        )

    def tag_list(self) -> tuple[Tag, ...]:
        return tuple(Tag(k, v) for k, v in sorted(self.tags.items()))
