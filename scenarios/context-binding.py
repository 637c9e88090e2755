"""Encryption context binding: an encrypted data key moved to another volume or user fails.

EBS asks KMS for each volume's data key with an encryption context naming the user@directory
and the volume. KMS binds that context to the ciphertext as authenticated data: decrypting
needs the very same pairs (in any order, but exactly, case included). So an encrypted data key
copied into another volume's metadata, or another user's, is useless there -- KMS answers
InvalidCiphertextException. On top of that, each EBS grant only covers its own volume, so EBS
may not even ask for a context it holds no grant for. The context is not secret: CloudTrail logs it with every call, which is how
an auditor sees whose data each call was for.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import AwsError
from simulator.iam.principals import ebs_identity_arn
from simulator.present import Narrator, ScenarioResult
from simulator.present.explain import show_audit
from simulator.present.narrate import format_context
from simulator.present.world import build_world

ORDER = 7


def _code(value: object) -> str:
    return value.code if isinstance(value, AwsError) else "ok"


def run(sim: Any, out: Narrator) -> ScenarioResult:
    result = ScenarioResult("context-binding")
    out.brief("cast", "launch", "reboot", "rebuild", "terminate")
    world = build_world(sim, out, users=("jdoe", "asmith"))
    ws_jdoe = world.launch(out, "jdoe")
    ws_asmith = world.launch(out, "asmith")
    result.workspace_ids.extend([ws_jdoe, ws_asmith])
    vol_jdoe, vol_jdoe_root = world.user_volume(ws_jdoe), world.root_volume(ws_jdoe)
    vol_asmith = world.user_volume(ws_asmith)
    own = world.context_of("jdoe", vol_jdoe)

    out.section("A data key made exactly as EBS makes jdoe's")
    out.say("EBS keeps each volume's encrypted data key to itself. To hold one in our hands, "
            "Alice (a user of the key) asks KMS for a 64-byte data key with the context of "
            "jdoe's user volume, just as EBS did at step 3:")
    out.note(out.context(own))
    alice = world.admin.kms
    made = alice.generate_data_key_without_plaintext(
        key_id=world.key_arn, number_of_bytes=64, encryption_context=own)
    blob = made.ciphertext_blob

    def decrypt(context: dict[str, str]) -> object:
        return alice.decrypt(ciphertext_blob=blob, encryption_context=context)

    out.section("Decrypt it under other contexts")
    trials = {
        "same context": own,
        "same pairs, other order": dict(reversed(list(own.items()))),
        "moved to jdoe's root volume": world.context_of("jdoe", vol_jdoe_root),
        "moved to asmith's user volume": world.context_of("asmith", vol_asmith),
        "right volume, asmith's SID": {**world.context_of("asmith", vol_jdoe)},
        "a key's case changed": {k.replace("ebs", "EBS"): v for k, v in own.items()},
        "one pair missing": {"aws:ebs:id": vol_jdoe},
        "no context at all": {},
    }
    codes: dict[str, str] = {}
    for label, context in trials.items():
        shown = out.context(context) if context else "no context"
        if context == own and list(context) != list(own):
            shown = f"{{{format_context(context)}}} (context #1, its pairs reversed)"
        codes[label] = _code(out.attempt(f"{label}: {shown}", lambda c=context: decrypt(c),
                                          expect="InvalidCiphertextException"))
    result.record("decrypt_results", codes)
    result.expect(out, "only the exact same pairs decrypt (order does not matter)",
                  codes["same context"] == "ok" and codes["same pairs, other order"] == "ok")
    result.expect(out, "every other context is InvalidCiphertextException",
                  all(c == "InvalidCiphertextException" for label, c in codes.items()
                      if label not in ("same context", "same pairs, other order")))

    out.section("Two locks: EBS's grants, then the context")
    out.say("EBS decrypts at attach through the grant it got for each volume (step 2), which "
            "covers only that volume's context. Playing EBS's identity:")
    ebs = sim.as_principal(ebs_identity_arn(sim.account_id)).kms
    nowhere = world.context_of("jdoe", "vol-0123456789abcdef0")
    err = out.attempt(f"EBS: Decrypt with the context of a volume it holds no grant for: "
                      f"{out.context(nowhere)}",
                      lambda: ebs.decrypt(ciphertext_blob=blob, encryption_context=nowhere),
                      expect="AccessDeniedException")
    result.error("ebs_no_grant", err)
    err = out.attempt("EBS: Decrypt with asmith's volume context (a grant covers that context): "
                      + out.context(world.context_of("asmith", vol_asmith)),
                      lambda: ebs.decrypt(ciphertext_blob=blob,
                                          encryption_context=world.context_of("asmith",
                                                                              vol_asmith)),
                      expect="InvalidCiphertextException")
    result.error("ebs_other_volume", err)
    err = out.attempt("EBS: Decrypt with jdoe's own volume context",
                      lambda: ebs.decrypt(ciphertext_blob=blob, encryption_context=own))
    result.record("ebs_own_volume", _code(err), out)
    result.expect(out, "no grant for the context: AccessDeniedException, before any crypto",
                  result.errors.get("ebs_no_grant") == "AccessDeniedException")
    result.expect(out, "a grant that allows the call still cannot beat the context binding",
                  result.errors.get("ebs_other_volume") == "InvalidCiphertextException")
    result.expect(out, "the grant for jdoe's volume and its exact context decrypt",
                  result.outcomes["ebs_own_volume"] == "ok")

    out.section("What the audit trail shows")
    out.say("Failed calls are logged too, with the context the caller sent: an auditor sees "
            "who tried to decrypt whose volume's key.")
    failed = sim.audit.events(event_name="Decrypt", error_code="InvalidCiphertextException")
    shown = show_audit(out, failed)
    result.record("failed_decrypts_logged", len(shown), out)
    logged = failed[0]["requestParameters"].get("encryptionContext") if failed else None
    result.expect(out, "the logged context is the one the caller sent, in the clear",
                  logged == trials["moved to jdoe's root volume"])
    result.diagram_filter = lambda e: e.workspace_id is None and e.action == "Decrypt"
    result.diagram_aliases = {"Alice": "Admin"}
    return result


if __name__ == "__main__":
    from simulator.cli import run_script

    raise SystemExit(run_script(__file__))
