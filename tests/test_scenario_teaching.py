"""What the scenarios print, read as a newcomer would (``--seed 1``, plain text).

Each test is one thing a learner stumbled on: the output repeated itself, contradicted itself,
or used something it never introduced. The checks read the narration and the trace it tells.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass

import pytest

from simulator import Simulation
from simulator.cli import main
from simulator.present.lessons import FIELD_TEXT, ORDER_TEXT, STEP_TEXT
from simulator.present.narrate import Narrator
from simulator.present.participants import Conversation
from simulator.present.scenario import ScenarioResult, load_scenario
from simulator.trace import TraceEvent

#: The twelve scenarios issue 17 shortened (the line budget below is theirs).
TWELVE = ["launch", "aws-managed-key", "reboot-rebuild", "key-disabled", "key-deletion",
          "rotation", "context-binding", "grants", "seed-policies", "restrictions", "faults",
          "fleet"]
NAMES = [*TWELVE, "cross-account", "multi-region"]

#: ``envelope-sim scenario run <name> --seed 1`` for the twelve scenarios, lines together,
#: measured before issue 17 (104 + 97 + 133 + 95 + 164 + 194 + 150 + 160 + 63 + 141 + 135 + 63).
LINES_BEFORE_ISSUE_17 = 1499

#: A volume id the scenarios make up on purpose ("a volume EBS holds no grant for").
MADE_UP_VOLUME = "vol-0123456789abcdef0"


@dataclass
class Run:
    lines: list[str]
    sim: Simulation
    result: ScenarioResult

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _run(name: str, *, verbose: bool = False) -> Run:
    info = load_scenario(name)
    sim = Simulation(seed=1, **getattr(info.module, "SETTINGS", {}))
    out = Narrator(io.StringIO(), color=False, verbose=verbose)
    out.attach(sim.trace)
    result = info.module.run(sim, out, **({"count": 40} if name == "fleet" else {}))
    out.detach()
    return Run(out.transcript, sim, result)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {name: _run(name) for name in NAMES}


def _event_lines(run: Run) -> list[str]:
    return [ln for ln in run.lines if re.match(r"\d\d:\d\d:\d\d  ", ln)]


def _first(lines: list[str], pattern: str) -> int:
    return next(i for i, ln in enumerate(lines) if re.search(pattern, ln))


# -- the repeated launch log --------------------------------------------------------------------

def test_all_twelve_outputs_together_are_at_most_sixty_percent_of_the_lines_before() -> None:
    total = 0
    for name in TWELVE:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["scenario", "run", name, "--seed", "1", "--no-color"]) == 0
        text = buffer.getvalue()
        assert re.search(rf"^{name}: all \d+ checks held$", text, re.M), text[-300:]
        total += len(text.splitlines())
    assert total <= 0.6 * LINES_BEFORE_ISSUE_17, total


def test_launch_shows_every_step_once_in_full(runs: dict[str, Run]) -> None:
    lines = runs["launch"].lines
    for step, text in STEP_TEXT.items():
        assert lines.count(f"Step {step}: {text}") == 1
        assert any(re.match(rf"\d\d:\d\d:\d\d  Step {step} ", ln) for ln in lines)


# The account and Region scenarios work at the EBS level (no WorkSpace): their EBS calls are
# the lesson, in full.
@pytest.mark.parametrize("name", [n for n in TWELVE if n != "launch"])
def test_later_scenarios_tell_each_launch_in_one_line(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    launched = [e.workspace_id for e in run.sim.trace.events()
                if e.action == "CreateWorkspaces" and e.outcome == "ok"]
    assert not any("CreateWorkspaces" in ln for ln in _event_lines(run))
    if name in ("seed-policies", "fleet"):  # experiments and a fleet: outcomes, progress
        return
    assert launched
    for ws in launched:
        assert sum(f"{ws} for " in ln and " launched " in ln for ln in run.lines) == 1
    if name != "reboot-rebuild":  # whose rebuild is the lesson, in full
        assert not any("StoreEncryptedDataKey" in ln for ln in run.lines)


def test_verbose_restores_the_full_log() -> None:
    run = _run("key-disabled", verbose=True)
    assert any("CreateWorkspaces" in ln for ln in run.lines)
    assert any(re.match(r"\d\d:\d\d:\d\d  Step 3  EBS -> KMS", ln) for ln in run.lines)
    assert not any(" launched under " in ln for ln in run.lines)


@pytest.mark.parametrize("name", NAMES)
def test_a_context_is_printed_in_full_once_and_then_referred_to(
    runs: dict[str, Run], name: str,
) -> None:
    seen: dict[frozenset[str], str] = {}
    for line in runs[name].lines:
        if "reversed" in line:  # context-binding shows one context's pairs in another order
            continue
        for body in re.findall(r"\{([^{}]*aws:[a-z-]+:[a-z-]+=[^{}]*)\}", line):
            pairs = frozenset(body.split(", "))
            assert pairs not in seen, f"printed twice:\n{seen[pairs]}\n{line}"
            seen[pairs] = line


# -- steps, arrows and what "as" and "via" mean -------------------------------------------------

def test_the_first_out_of_order_steps_say_why(runs: dict[str, Run]) -> None:
    lines = runs["launch"].lines
    first_8 = _first(lines, r"^\d\d:\d\d:\d\d  Step 8 ")
    assert "   " + ORDER_TEXT[8] in lines[first_8 - 3:first_8]
    after_4 = _first(lines, r"^\d\d:\d\d:\d\d  Step 4 ")
    again_2 = after_4 + _first(lines[after_4:], r"^\d\d:\d\d:\d\d  Step 2 ")
    assert "   " + ORDER_TEXT[2] in lines[again_2 - 2:again_2]


def test_arrows_match_the_words_of_their_step(runs: dict[str, Run]) -> None:
    for line in _event_lines(runs["launch"]):
        step = re.match(r"\d\d:\d\d:\d\d  Step (\d)", line)
        if step is None:
            continue
        who = line[18:38].strip()
        if step.group(1) in ("4", "6"):  # KMS answers EBS
            assert who == "KMS -> EBS" and "reply:" in line, line
        if step.group(1) in ("7", "8"):  # EBS's own work
            assert who == "EBS", line
        if step.group(1) in ("3", "5") and "KMS" in who:
            assert who == "EBS -> KMS", line


def test_as_and_via_are_explained_once_where_they_first_appear(runs: dict[str, Run]) -> None:
    for run in runs.values():
        lines = run.lines
        explained = [i for i, ln in enumerate(lines) if ln.startswith("   (as ")]
        uses = [i for i, ln in enumerate(lines) if re.match(r"\d\d:\d\d:\d\d .* as [A-Z]", ln)]
        assert len(explained) == (1 if uses else 0)
        if uses:
            assert uses[0] < explained[0] <= uses[0] + 3
        vias = [i for i, ln in enumerate(lines) if " via " in ln and "by " in ln
                and not ln.startswith("   (")]
        via_notes = [i for i, ln in enumerate(lines) if ln.startswith("   (by ")]
        assert len(via_notes) == (1 if vias else 0)
        if vias:
            assert via_notes[0] == vias[0] + 1


# -- narration follows what happened ------------------------------------------------------------

def test_step_9_appears_only_once_a_terminate_ran(runs: dict[str, Run]) -> None:
    assert not any("Step 9" in ln or "step 9" in ln for ln in runs["reboot-rebuild"].lines)
    grants = runs["grants"].lines
    terminate = grants.index("## Terminate: the grants are retired (step 9)")
    assert not any("Step 9" in ln or "step 9" in ln for ln in grants[:terminate])


def test_a_rebuild_retiring_grants_is_not_step_9() -> None:
    run = _run("grants")
    conversation = Conversation()
    rebuilding = False
    for event in run.sim.trace.events():
        if event.action == "StateChange":
            rebuilding = event.detail.get("new_state") == "REBUILDING"
        for line in conversation.read(event):
            if rebuilding:
                assert line.step != 9, event


def test_an_unencrypted_workspace_gets_no_encryption_narration(runs: dict[str, Run]) -> None:
    run = _run("restrictions", verbose=True)
    plain = {e.target for e in run.sim.trace.events()
             if e.action == "CreateVolume" and e.detail.get("encrypted") is False}
    assert plain
    for line in run.lines:
        if any(v in line for v in plain):
            assert not re.match(r"\d\d:\d\d:\d\d  Step", line), line
            assert "volume_cipher" not in line and "key_in_memory" not in line, line
    first_plain = _first(run.lines, "|".join(plain))
    assert not any(ln.startswith("Step ") for ln in run.lines[:first_plain])
    assert "no grants to retire" in runs["restrictions"].text


def test_not_found_is_explained_by_what_was_not_found(runs: dict[str, Run]) -> None:
    grants = runs["grants"].text
    assert "Grant ID" in grants and "no such grant" in grants
    assert "no such key" not in grants
    deletion = runs["key-deletion"].text
    assert "does not exist" in deletion and "no such key" in deletion


def test_every_rebuild_says_the_same_about_which_data_comes_back(runs: dict[str, Run]) -> None:
    for name in ("reboot-rebuild", "grants", "faults"):
        checks = [ln for ln in runs[name].lines if ln.startswith("   [ok]")
                  and ("back" in ln or "gone" in ln) and "rebuil" in (ln + name)]
        assert any("written before the last snapshot" in ln for ln in checks), name
    assert "its data are back" not in runs["grants"].text


# -- nothing from nowhere ----------------------------------------------------------------------

def _first_mentions(lines: list[str], pattern: str) -> dict[str, str]:
    """Each id matching ``pattern`` (its first group, else the match) -> its first line."""
    found: dict[str, str] = {}
    for line in lines:
        for match in re.finditer(pattern, line):
            found.setdefault(match.group(match.lastindex or 0), line)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_snapshot_volume_and_grant_is_shown_being_made_first(
    runs: dict[str, Run], name: str,
) -> None:
    lines = runs[name].lines
    for snap, first in _first_mentions(lines, r"snap-[0-9a-f]{17}").items():
        assert re.search(r"(Create|Copy)Snapshot", first) or "snapshot" in first.split(snap)[0], \
            first
    for vol, first in _first_mentions(lines, r"vol-[0-9a-f]{17}").items():
        if vol != MADE_UP_VOLUME:
            assert re.search(r"CreateVolume| launched | rebuilt |created", first), first
    for grant, first in _first_mentions(lines, r"\b([0-9a-f]{8})\.\.\.").items():
        if not re.search(rf"material[ _a-z=]*{grant}", first):  # key material, not a grant
            assert re.search(r"CreateGrant|^   grant | launched | rebuilt ", first), first


def test_the_alias_update_is_logged(runs: dict[str, Run]) -> None:
    assert any("UpdateAlias" in ln and "by Alice" in ln for ln in runs["rotation"].lines)


def test_counts_printed_equal_the_lines_shown(runs: dict[str, Run]) -> None:
    binding = runs["context-binding"].lines
    logged = int(next(ln for ln in binding if "failed_decrypts_logged" in ln).split(": ")[1])
    assert logged == sum("Decrypt" in ln and "errorCode=InvalidCiphertextException" in ln
                         for ln in binding) == 7
    disabled = runs["key-disabled"].lines
    in_audit = int(next(ln for ln in disabled if "failed_decrypts_in_audit" in ln)
                   .split(": ")[1])
    assert in_audit == sum("FAILED DisabledException" in ln for ln in disabled)
    deletion = runs["key-deletion"].lines
    events = int(next(ln for ln in deletion if "delete_key_events" in ln).split(": ")[1])
    assert events == sum(re.search(r"DeleteKey +by", ln) is not None for ln in deletion) == 1


def test_the_time_a_reboot_takes_is_the_time_said(runs: dict[str, Run]) -> None:
    run = runs["key-deletion"]
    said = int(re.search(r"it took (\d+) virtual minutes", run.text).group(1))  # type: ignore[union-attr]
    changes = [e for e in run.sim.trace.events() if e.action == "StateChange"]
    start = next(e for e in changes if e.detail.get("new_state") == "REBOOTING")
    end = next(e for e in changes if e.detail.get("old_state") == "REBOOTING")
    assert said == (end.time - start.time).total_seconds() // 60
    assert "an hour" not in run.text


# -- every field and mark explained -------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_unusual_fields_are_explained_where_first_printed(
    runs: dict[str, Run], name: str,
) -> None:
    lines = runs[name].lines
    for field, text in FIELD_TEXT.items():
        uses = [i for i, ln in enumerate(lines) if f" {field}=" in ln]
        if uses:
            assert "   " + text in lines[uses[0] + 1:uses[0] + 5], (field, lines[uses[0]])
    assert "data_encryption_key_id=key/" not in "\n".join(lines)


def test_the_seed_line_says_what_replaying_means() -> None:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["scenario", "run", "launch", "--seed", "1", "--no-color", "--quiet"])
    assert "seed 1: run again with --seed 1 and every id, key and time comes out the same" \
        in buffer.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_refusals_the_story_expects_are_marked_expected(runs: dict[str, Run], name: str) -> None:
    assert not any(ln.startswith("   [error]") for ln in runs[name].lines)


def test_ebs_grants_say_that_ebs_retires_them(runs: dict[str, Run]) -> None:
    ebs = [ln for ln in runs["launch"].lines if ln.startswith("   grant ") and ": EBS may" in ln]
    assert len(ebs) == 2
    assert all("retired by WorkSpaces or by EBS itself" in ln for ln in ebs)


def test_resource_and_identity_based_denials_are_told_apart(runs: dict[str, Run]) -> None:
    texts = {name: run.text for name, run in runs.items()}
    resource = [n for n, t in texts.items() if "no resource-based policy allows" in t]
    identity = [n for n, t in texts.items() if "no identity-based policy allows" in t]
    assert resource and identity
    assert all("the key's own, resource-based policy" in texts[n] for n in resource)
    assert all("IAM (identity-based) policy of the caller" in texts[n] for n in identity)


def test_the_64_byte_key_of_a_gcm_volume_is_explained(runs: dict[str, Run]) -> None:
    assert any("64-byte" in ln and "GCM" in ln for ln in runs["faults"].lines)


# -- what the learner wished had been explained -------------------------------------------------

def test_the_two_levels_of_grants_are_explained(runs: dict[str, Run]) -> None:
    assert "Why two levels" in runs["grants"].text


def test_grant_is_for_aws_resource_is_shown_refusing_a_direct_grant(
    runs: dict[str, Run],
) -> None:
    run = runs["seed-policies"]
    assert run.result.errors["direct_grant_refused"] == "AccessDeniedException"
    section = run.lines[run.lines.index("## What kms:GrantIsForAWSResource prevents"):]
    assert any("CreateGrant" in ln and "FAILED AccessDeniedException" in ln for ln in section)


def test_how_long_old_rotated_material_is_kept_is_said(runs: dict[str, Run]) -> None:
    assert "for as long as the key exists" in runs["rotation"].text


@pytest.mark.parametrize("name", ["key-disabled", "grants", "key-deletion", "rotation",
                                  "faults"])
def test_unhealthy_is_explained_for_the_user_where_it_first_appears(
    runs: dict[str, Run], name: str,
) -> None:
    lines = runs[name].lines
    first = _first(lines, "UNHEALTHY")
    notes = [i for i, ln in enumerate(lines) if ln.startswith("   (UNHEALTHY: the user")]
    assert len(notes) == 1 and first < notes[0] <= first + 2


def test_recovering_from_a_damaged_data_key_is_shown(runs: dict[str, Run]) -> None:
    run = runs["faults"]
    assert run.result["state_after_rebuild"] == "AVAILABLE"
    assert "No reboot can fix this" in run.text and "No snapshot, no recovery" in run.text


@pytest.mark.parametrize("name", ["seed-policies", "key-deletion"])
def test_the_key_policy_is_printed_once_with_its_statement_names(
    runs: dict[str, Run], name: str,
) -> None:
    lines = runs[name].lines
    for statement in ("account statement", "key administrators", "key users",
                      "CreateGrant for AWS resources"):
        printed = [i for i, ln in enumerate(lines) if ln.startswith(f"   [{statement}] {{")]
        assert len(printed) == 1, statement
        mentions = [i for i, ln in enumerate(lines) if statement in ln]
        assert mentions[0] == printed[0], (statement, lines[mentions[0]])
    assert "kms:Delete*" in lines[_first(lines, r"^   \[key administrators\]")]


# -- ids ---------------------------------------------------------------------------------------

def _ids_by_kind(events: list[TraceEvent]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {"key": set(), "grant": set(), "volume": set(),
                                  "snapshot": set(), "workspace": set(), "material": set(),
                                  "data key": set()}
    for e in events:
        if e.action == "CreateKey" and e.outcome == "ok":
            kinds["key"].add(e.target.rsplit("/", 1)[-1].replace("-", ""))
        for name, kind in (("grant_id", "grant"), ("key_material_id", "material"),
                           ("data_encryption_key_id", "data key")):
            value = e.detail.get(name)
            if isinstance(value, str):
                kinds[kind].add(value.replace("-", ""))
        if e.action == "CreateVolume":
            kinds["volume"].add(e.target.removeprefix("vol-"))
        if e.action == "CreateSnapshot":
            kinds["snapshot"].add(e.target.removeprefix("snap-"))
        if e.workspace_id:
            kinds["workspace"].add(e.workspace_id.removeprefix("ws-"))
    return kinds


def test_ids_of_different_kinds_never_meet_across_the_scenarios(runs: dict[str, Run]) -> None:
    owner: dict[str, str] = {}
    for name, run in runs.items():
        for kind, ids in _ids_by_kind(run.sim.trace.events()).items():
            for value in ids:
                short = value[:8]  # what narration shows of hex ids
                assert owner.setdefault(short, kind) == kind, (name, value, kind, owner[short])


def test_the_same_id_names_the_same_thing_in_every_scenario(runs: dict[str, Run]) -> None:
    first_grant = {next((e.detail["grant_id"] for e in run.sim.trace.events()
                         if "grant_id" in e.detail), None) for run in runs.values()} - {None}
    assert len(first_grant) == 1  # the first grant of every run is the same grant id
    first_volume = {next((e.target for e in run.sim.trace.events()
                                    if e.action == "CreateVolume"), None)
                              for run in runs.values()} - {None}
    assert len(first_volume) == 1
