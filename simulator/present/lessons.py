"""What narration explains, once each: the nine steps, their order, errors, states and fields.

Each text is said the first time the thing it explains shows up in a run, so a run teaches on
its own without repeating itself. The wording follows the WorkSpaces guide's "Encrypted
WorkSpaces" page and the KMS developer guide.
"""

from __future__ import annotations

__all__ = [
    "ERROR_TEXT",
    "FIELD_TEXT",
    "ORDER_TEXT",
    "SERVICE_PRINCIPALS",
    "STATE_TEXT",
    "STEP_TEXT",
    "as_text",
    "error_lesson",
    "via_text",
]

#: One line per lifecycle step of the encrypted launch (the guide's numbering).
STEP_TEXT: dict[int, str] = {
    1: "WorkSpaces creates a KMS grant that lets it use the key only for this WorkSpace "
       "(this user in this directory).",
    2: "WorkSpaces asks EBS for an encrypted volume; EBS gets its own, narrower grant: "
       "this WorkSpace and this volume only.",
    3: "EBS asks KMS for a new data key (64 bytes: AES-256-XTS needs two 256-bit keys), "
       "bound to an encryption context naming user@directory and the volume.",
    4: "KMS makes the data key, encrypts it under the KMS key with the context as "
       "authenticated data, and returns only the encrypted copy to EBS.",
    5: "At attach, EBS sends the encrypted data key back to KMS with the same context and "
       "asks for the plaintext.",
    6: "KMS checks the key's state, the grant and the context, then returns the plaintext "
       "data key to EBS.",
    7: "EBS encrypts every block with the data key, which it holds in memory only while the "
       "volume is attached.",
    8: "EBS keeps the encrypted data key in the volume's metadata, so reboot and rebuild can "
       "ask KMS for it again.",
    9: "On terminate, WorkSpaces and EBS retire their grants: the key can no longer be used "
       "for this WorkSpace.",
}

#: Said the first time a step shows up out of the guide's order, and why.
ORDER_TEXT: dict[int, str] = {
    2: "(Step 2 again, after step 4: EBS creates its grant for the volume once KMS has made "
       "the volume's data key; the guide counts that grant as part of step 2.)",
    8: "(Step 8 before step 5: EBS stores the encrypted data key with the volume as soon as "
       "KMS returns it; the guide lists storing it eighth, after the attach.)",
}

#: What an AWS error means in this story (see :func:`error_lesson` for the variants).
ERROR_TEXT: dict[str, str] = {
    "AccessDeniedException": "No key-policy statement, IAM policy or grant allows this caller "
                             "to do this (grants and policies only ever allow).",
    "DisabledException": "The KMS key is disabled: KMS will not decrypt data keys under it "
                         "until it is enabled again.",
    "KMSInvalidStateException": "The key is in a state (such as PendingDeletion) that refuses "
                                "this operation.",
    "NotFoundException": "KMS has no such key (or it was deleted): whatever it protected "
                         "cannot be decrypted any more.",
    "InvalidCiphertextException": "The ciphertext, or the encryption context sent with it, "
                                  "is not what the data key was encrypted with.",
    "IncorrectKeyException": "The ciphertext was encrypted under a different KMS key.",
    "KMSInternalException": "A transient KMS failure: the caller retries with backoff.",
    "DependencyTimeoutException": "KMS timed out on a dependency: transient, retried.",
    "InvalidBlockCiphertext": "A stored block failed authentication: it was changed on disk.",
    "OperationNotSupportedException": "WorkSpaces refuses this operation for this WorkSpace.",
    "InvalidResourceStateException": "The WorkSpace is not in a state that allows this.",
}

# (code, words in the message, variant, text): the explanation depends on what was refused.
_VARIANTS: tuple[tuple[str, str, str, str], ...] = (
    ("NotFoundException", "Grant ID", "grant",
     "KMS has no such grant: it was revoked or retired already. The key and the data are "
     "unaffected."),
    ("NotFoundException", "Alias", "alias",
     "No such alias: the name points at no key. The keys themselves are unaffected."),
    ("NotFoundException", "Invalid arn", "region",
     "The ARN names a key of another Region: a KMS key lives in one Region, and a call in "
     "this Region cannot use it. The key itself is unaffected."),
    ("AccessDeniedException", "explicit deny", "explicit",
     "A Deny statement matched the call; a Deny beats every Allow."),
    ("AccessDeniedException", "no resource-based policy", "resource",
     "Nothing on the key allows this call: no statement of the key policy (the key's own, "
     "resource-based policy) allows it for this caller -- a statement whose condition does not "
     "hold counts as none -- and no grant covers it. IAM policies would count only if the key "
     "policy's account statement let them."),
    ("AccessDeniedException", "no identity-based policy", "identity",
     "No IAM (identity-based) policy of the caller allows the action. On a KMS key that is "
     "the question when the key policy lets IAM decide (its account statement) and no grant "
     "covers the call."),
)

#: What a WorkSpace state means for its user, said the first time a WorkSpace enters it.
STATE_TEXT: dict[str, str] = {
    "UNHEALTHY": "(UNHEALTHY: the user cannot connect -- the client shows the WorkSpace as "
                 "unavailable. The volumes and their encrypted data keys are still there: if "
                 "the cause can be fixed (a key enabled again, a grant restored), a reboot "
                 "brings the WorkSpace back with its data.)",
    "ERROR": "(ERROR: the launch failed; the WorkSpace never ran. Terminate it and launch "
             "again once the cause is fixed.)",
}

#: Trace fields worth a word, said the first time one is printed.
FIELD_TEXT: dict[str, str] = {
    "key_material_id": "(key_material_id: which version of the KMS key's backing material "
                       "did the work. Automatic rotation adds a new one; the key id stays "
                       "the same, and KMS keeps every old version as long as the key exists.)",
    "retiring": "(retiring: the grant's retiring principal, who may "
                          "retire it. A grantee may also retire a grant that lists "
                          "RetireGrant among its operations: that is how EBS retires its "
                          "own grants at terminate.)",
    "data_key_id": "(data_key_id: EBS's own name for the volume's data key, not a "
                              "KMS key. A volume restored from a snapshot keeps the "
                              "snapshot's data key, so it shows the same id.)",
    "encrypted_data_key_bytes": "(encrypted_data_key_bytes: the size of what EBS stores: the "
                                "64-byte data key encrypted under the KMS key, plus KMS's "
                                "header naming the key and key material, a nonce and an "
                                "authentication tag. The plaintext data key is never stored.)",
}


def error_lesson(code: str, message: str = "") -> tuple[str, str] | None:
    """``(topic, text)`` explaining ``code`` given its message; None when there is nothing
    to say. The topic tells variants apart (a missing grant is not a missing key)."""
    for known, words, variant, text in _VARIANTS:
        if code == known and words in message:
            return f"{code}/{variant}", text
    general = ERROR_TEXT.get(code)
    return (code, general) if general is not None else None


#: The service principal CloudTrail names in ``invokedBy`` for each service.
SERVICE_PRINCIPALS = {"WorkSpaces": "workspaces.amazonaws.com", "EBS": "ec2.amazonaws.com"}


def as_text(principal: str, service: str) -> str:
    """The first ``as <principal>`` of a run, explained."""
    invoked_by = SERVICE_PRINCIPALS.get(service, service)
    return (f"(as {principal}: KMS checks {principal}'s permissions for this call; {service}, "
            f"where the arrow starts, is the service that made it. CloudTrail records such a "
            f"call as by {principal} via {invoked_by}.)")


def via_text(principal: str, service: str) -> str:
    """The first ``by X via Y`` of a run's audit excerpt, explained."""
    which = " (EBS, which is part of EC2)" if service.startswith("ec2.") else ""
    return (f"(by {principal} via {service}: {principal} is the identity whose permissions "
            f"the call used, {service}{which} the AWS service that made the call for it.)")
