"""The ``envelope-sim`` command: list and run the scenarios that teach the flow.

    envelope-sim scenario list
    envelope-sim scenario run launch --seed 7 --mermaid launch.mmd --describe

Scenario files (``scenarios/<name>.py``) run the same way on their own
(``python scenarios/launch.py --seed 7``): both go through :func:`run_scenario_cli`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import AwsError
from .present.describe import describe_simulation
from .present.mermaid import sequence_diagram
from .present.narrate import Narrator
from .present.scenario import (
    ScenarioInfo,
    ScenarioResult,
    UnknownScenario,
    discover,
    info_for_module,
    load_scenario,
)
from .present.style import Style, want_color

__all__ = ["build_parser", "main", "run_scenario_cli", "run_script"]

PROG = "envelope-sim"

_DESCRIPTION = """\
Simulate AWS envelope encryption as Amazon WorkSpaces uses it: a KMS that really encrypts
data keys, an EBS that really encrypts blocks, and the WorkSpaces lifecycle between them.
Each scenario tells one part of the story, narrating every KMS call as it happens."""

_EPILOG = """\
examples:
  envelope-sim scenario list
  envelope-sim scenario run launch --seed 7
  envelope-sim scenario run key-disabled --seed 7 --describe --audit audit.jsonl
  envelope-sim scenario run launch --seed 7 --mermaid launch.mmd"""

_RUN_EPILOG = """\
examples:
  envelope-sim scenario run {name} --seed 7
  envelope-sim scenario run {name} --seed 7 --describe --mermaid {name}.mmd
  python scenarios/{name}.py --seed 7

The same seed replays the run byte for byte (ids, data keys, nonces). Seeded randomness is
for teaching and tests only; without --seed the run draws from the operating system."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _add_run_options(parser: argparse.ArgumentParser, info: ScenarioInfo) -> None:
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed the simulation so the run replays exactly (default: random)")
    parser.add_argument("--mermaid", type=Path, metavar="FILE",
                        help="write the run as a Mermaid sequence diagram to FILE")
    parser.add_argument("--audit", type=Path, metavar="FILE",
                        help="write the CloudTrail-shaped KMS audit log to FILE (JSON lines)")
    parser.add_argument("--trace", type=Path, metavar="FILE",
                        help="write the step-by-step trace to FILE (JSON)")
    parser.add_argument("--describe", action="store_true",
                        help="at the end, show the WorkSpaces table with the console's "
                             "Volume Encryption column")
    parser.add_argument("--no-color", action="store_true",
                        help="plain output without colours (also: NO_COLOR=1 or not a terminal)")
    parser.add_argument("--quiet", action="store_true",
                        help="only the story, not every traced call")
    add = getattr(info.module, "add_arguments", None)
    if callable(add):
        group = parser.add_argument_group(f"options of the {info.name} scenario")
        add(group)


def _run_help(info: ScenarioInfo) -> dict[str, Any]:
    """What ``scenario run NAME --help`` says: the same in the full parser and a script's own."""
    return {"description": f"{info.summary}\n\n{info.description}".strip(),
            "epilog": _RUN_EPILOG.format(name=info.name), "formatter_class": _Formatter}


def _scenario_parser(info: ScenarioInfo, prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, **_run_help(info))
    _add_run_options(parser, info)
    return parser


def build_parser(scenarios: dict[str, ScenarioInfo] | None = None) -> argparse.ArgumentParser:
    """The full ``envelope-sim`` argument parser (scenario options included)."""
    found = discover() if scenarios is None else scenarios
    parser = argparse.ArgumentParser(prog=PROG, description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version",
                        version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scen = commands.add_parser(
        "scenario", help="list or run the teaching scenarios",
        description="List or run the teaching scenarios.", formatter_class=_Formatter,
        epilog="examples:\n  envelope-sim scenario list\n"
               "  envelope-sim scenario run launch --seed 7",
    )
    scen_commands = scen.add_subparsers(dest="scenario_command", metavar="ACTION")
    scen_commands.add_parser(
        "list", help="list the scenarios with a one-line description each",
        description="List the scenarios, one line each, in teaching order.",
        epilog="example:\n  envelope-sim scenario list", formatter_class=_Formatter,
    )
    run = scen_commands.add_parser(
        "run", help="run one scenario, narrating every step",
        description="Run one scenario and narrate it: virtual time, lifecycle step, who calls "
                    "whom, with which key and encryption context, and the outcome.",
        epilog="examples:\n  envelope-sim scenario run launch --seed 7\n"
               "  envelope-sim scenario run fleet --count 50\n"
               "  envelope-sim scenario run launch --help    (options of one scenario)",
        formatter_class=_Formatter,
    )
    names = run.add_subparsers(dest="name", metavar="NAME")
    for info in found.values():
        sub = names.add_parser(info.name, help=info.summary, **_run_help(info))
        _add_run_options(sub, info)
    return parser


def _list(scenarios: dict[str, ScenarioInfo], stdout: TextIO) -> int:
    if not scenarios:
        stdout.write("no scenarios found\n")
        return 1
    width = max(len(n) for n in scenarios)
    for info in scenarios.values():
        stdout.write(f"{info.name:<{width}}  {info.summary}\n")
    return 0


def _scenario_options(info: ScenarioInfo, args: argparse.Namespace) -> dict[str, Any]:
    probe = argparse.ArgumentParser(add_help=False)
    add = getattr(info.module, "add_arguments", None)
    if not callable(add):
        return {}
    add(probe)
    return {a.dest: getattr(args, a.dest) for a in probe._actions if hasattr(args, a.dest)}


def _check_output_paths(args: argparse.Namespace) -> str | None:
    for flag in ("mermaid", "audit", "trace"):
        path: Path | None = getattr(args, flag)
        if path is None:
            continue
        if path.is_dir():
            return f"--{flag} {path}: is a directory"
        if not path.parent.is_dir():
            return f"--{flag} {path}: directory {path.parent} does not exist"
    return None


def _cannot_write(stderr: TextIO, prog: str, path: Path, exc: OSError) -> int:
    stderr.write(f"{prog}: error: cannot write {path}: {exc.strerror or exc}\n")
    return 2


def run_scenario_cli(
    info: ScenarioInfo, args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
    prog: str = PROG,
) -> int:
    """Run a scenario for parsed ``args``; writes the requested files; returns the exit code."""
    problem = _check_output_paths(args)
    if problem:
        stderr.write(f"{prog}: error: {problem}\n")
        return 2
    from . import Simulation  # imported late: listing and --help need no services

    settings = dict(getattr(info.module, "SETTINGS", {}))
    sim = Simulation(seed=args.seed, **settings)
    color = want_color(stdout, no_color=args.no_color)
    out = Narrator(stdout, color=color)
    if not args.quiet:
        out.attach(sim.trace)
    if args.audit is not None:
        try:
            args.audit.write_text("", encoding="utf-8")  # write_jsonl appends; start afresh
        except OSError as exc:
            return _cannot_write(stderr, prog, args.audit, exc)
        sim.audit.write_jsonl(args.audit)
    out.title(f"{info.name}: {info.summary}")
    seed_text = (f"seed {args.seed} (replays exactly)" if args.seed is not None
                 else "unseeded (pass --seed N to replay a run exactly)")
    out.note(seed_text)
    result: ScenarioResult | None = None
    status = 0
    try:
        result = info.module.run(sim, out, **_scenario_options(info, args))
    except AwsError as exc:
        stderr.write(f"{prog}: scenario {info.name} stopped on an unexpected AWS error: "
                     f"{exc}\n")
        status = 1
    finally:
        out.detach()
        if args.audit is not None:
            sim.audit.close()
    if args.describe:
        out.section("WorkSpaces (as the console lists them)")
        out.table(describe_simulation(sim))
    if args.trace is not None:
        try:
            args.trace.write_text(sim.trace.to_json(), encoding="utf-8")
            out.note(f"trace written to {args.trace}")
        except OSError as exc:
            status = _cannot_write(stderr, prog, args.trace, exc)
    if args.mermaid is not None:
        events = sim.trace.events()
        title = f"envelope-sim: {info.name}"
        aliases: dict[str, str] = {}
        if result is not None:
            keep = result.diagram_filter
            events = [e for e in events if keep is None or keep(e)]
            title = result.diagram_title or title
            aliases = result.diagram_aliases
        try:
            args.mermaid.write_text(sequence_diagram(events, title=title, aliases=aliases),
                                    encoding="utf-8")
            out.note(f"Mermaid diagram written to {args.mermaid}")
        except OSError as exc:
            status = _cannot_write(stderr, prog, args.mermaid, exc)
    if args.audit is not None:
        out.note(f"audit log written to {args.audit}")
    if result is not None:
        style = Style(color)
        if result.ok:
            line = f"{info.name}: all {len(result.checks)} checks held"
            stdout.write("\n" + style.good(line) + "\n")
        else:
            status = 1
            line = f"{info.name}: {len(result.failed_checks)} check(s) failed: " + \
                "; ".join(result.failed_checks)
            stdout.write("\n" + style.bad(line) + "\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``envelope-sim`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    scenarios = discover()
    # An unknown scenario name gets a clear message rather than argparse's "invalid choice".
    if len(args_list) >= 3 and args_list[:2] == ["scenario", "run"] \
            and not args_list[2].startswith("-") and args_list[2] not in scenarios:
        err = UnknownScenario(args_list[2], list(scenarios))
        stderr.write(f"{PROG}: error: {err}\n(see '{PROG} scenario list')\n")
        return 2
    parser = build_parser(scenarios)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(stdout)
        return 2
    if args.scenario_command == "list":
        return _list(scenarios, stdout)
    if args.scenario_command == "run":
        if not args.name:
            stderr.write(f"{PROG}: error: name a scenario to run (see '{PROG} scenario list')\n")
            return 2
        return run_scenario_cli(scenarios[args.name], args, stdout, stderr)
    stderr.write(f"{PROG} scenario: error: choose an action, 'list' or 'run' "
                 f"(see '{PROG} scenario --help')\n")
    return 2


def run_script(module_file: str, argv: Sequence[str] | None = None) -> int:
    """``python scenarios/<name>.py [options]``: the same options and output as the command."""
    module = sys.modules.get("__main__")
    if module is None or getattr(module, "__file__", None) != module_file:
        info = load_scenario(Path(module_file).stem, Path(module_file).resolve().parent)
    else:
        info = info_for_module(module)
    prog = f"python {Path(module_file).name}"
    parser = _scenario_parser(info, prog)
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    return run_scenario_cli(info, args, sys.stdout, sys.stderr, prog=prog)


if __name__ == "__main__":  # pragma: no cover - python -m simulator.cli
    raise SystemExit(main())
