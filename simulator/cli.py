"""The ``envelope-sim`` command: list and run the scenarios that teach the flow.

    envelope-sim scenario list
    envelope-sim scenario run launch --seed 7 --mermaid launch.mmd --describe

Scenario files (``scenarios/<name>.py``) run the same way on their own
(``python scenarios/launch.py --seed 7``): both go through :func:`run_scenario_cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import AwsError
from .present.describe import describe_simulation, workspaces_table
from .present.mermaid import sequence_diagram
from .present.narrate import Narrator
from .present.scenario import (
    ScenarioInfo,
    ScenarioResult,
    UnknownScenario,
    discover,
    info_for_module,
    load_scenario,
    not_found_message,
)
from .present.style import Style, want_color
from .wire.options import add_serve_parser, seed_number

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


def _output_file(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expects a file name, not an empty string")
    return Path(text)


def _add_run_options(parser: argparse.ArgumentParser, info: ScenarioInfo,
                     with_scenario_options: bool = True) -> None:
    parser.add_argument("--seed", type=seed_number, default=None, metavar="N",
                        help="seed the simulation so the run replays exactly (0 or more; "
                             "default: random)")
    parser.add_argument("--mermaid", type=_output_file, metavar="FILE",
                        help="write the run as a Mermaid sequence diagram to FILE")
    parser.add_argument("--audit", type=_output_file, metavar="FILE",
                        help="write the CloudTrail-shaped KMS audit log to FILE (JSON lines)")
    parser.add_argument("--trace", type=_output_file, metavar="FILE",
                        help="write the step-by-step trace to FILE (JSON)")
    parser.add_argument("--describe", action="store_true",
                        help="at the end, show the WorkSpaces table with the console's "
                             "Volume Encryption column")
    parser.add_argument("--no-color", action="store_true",
                        help="plain output without colours (also: NO_COLOR=1 or not a terminal)")
    parser.add_argument("--quiet", action="store_true",
                        help="only the story, not every traced call")
    parser.add_argument("--verbose", action="store_true",
                        help="every traced call, also of the launches, reboots and rebuilds "
                             "that later scenarios sum up in one line")
    # Only the scenario being run (or asked for --help) is imported, for its own options.
    add = getattr(info.module, "add_arguments", None) if with_scenario_options else None
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


def _add_scenario_command(
    commands: Any, scenarios: dict[str, ScenarioInfo], selected: str | None,
) -> dict[str, argparse.ArgumentParser]:
    """``envelope-sim scenario list|run``; returns the parser of each ``run NAME``."""
    scen = commands.add_parser(
        "scenario", help="list or run the teaching scenarios",
        description="List or run the teaching scenarios.", formatter_class=_Formatter,
        epilog="examples:\n  envelope-sim scenario list\n"
               "  envelope-sim scenario run launch --seed 7",
    )
    scen.set_defaults(handler=_scenario_without_action)
    scen_commands = scen.add_subparsers(dest="scenario_command", metavar="ACTION")
    listing = scen_commands.add_parser(
        "list", help="list the scenarios with a one-line description each",
        description="List the scenarios, one line each, in teaching order.",
        epilog="example:\n  envelope-sim scenario list", formatter_class=_Formatter,
    )
    listing.set_defaults(handler=lambda args, out, err: _list(scenarios, out, err))
    run = scen_commands.add_parser(
        "run", help="run one scenario, narrating every step",
        description="Run one scenario and narrate it: virtual time, lifecycle step, who calls "
                    "whom, with which key and encryption context, and the outcome.",
        epilog="examples:\n  envelope-sim scenario run launch --seed 7\n"
               "  envelope-sim scenario run fleet --count 50\n"
               "  envelope-sim scenario run launch --help    (options of one scenario)",
        formatter_class=_Formatter,
    )
    run.set_defaults(handler=_run_without_name)
    names = run.add_subparsers(dest="name", metavar="NAME")
    parsers: dict[str, argparse.ArgumentParser] = {}
    for info in scenarios.values():
        sub = names.add_parser(info.name, help=info.summary, **_run_help(info))
        _add_run_options(sub, info, with_scenario_options=info.name == selected)
        sub.set_defaults(handler=lambda args, out, err, info=info:
                         run_scenario_cli(info, args, out, err))
        parsers[info.name] = sub
    return parsers


def build_parser(
    scenarios: dict[str, ScenarioInfo] | None = None, selected: str | None = None,
) -> argparse.ArgumentParser:
    """The full ``envelope-sim`` argument parser; ``selected`` is the scenario whose own
    options are added (the one being run; the others are not imported)."""
    parser, _ = _build(discover() if scenarios is None else scenarios, selected)
    return parser


def _build(
    scenarios: dict[str, ScenarioInfo], selected: str | None,
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(prog=PROG, description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version",
                        version=f"{PROG} {__version__}")
    parser.set_defaults(handler=None)
    # One subparser per command, each added by its own function; a command sets
    # handler(args, stdout, stderr) -> exit status, which main() calls.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run_parsers = _add_scenario_command(commands, scenarios, selected)
    add_serve_parser(commands, _Formatter)
    return parser, run_parsers


def _list(scenarios: dict[str, ScenarioInfo], stdout: TextIO, stderr: TextIO) -> int:
    if not scenarios:
        stderr.write(f"{PROG}: {not_found_message()}\n")
        return 1
    width = max(len(n) for n in scenarios)
    for info in scenarios.values():
        stdout.write(f"{info.name:<{width}}  {info.summary}\n")
    return 0


def _scenario_without_action(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    stderr.write(f"{PROG} scenario: error: choose an action, 'list' or 'run' "
                 f"(see '{PROG} scenario --help')\n")
    return 2


def _run_without_name(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    stderr.write(f"{PROG}: error: name a scenario to run (see '{PROG} scenario list')\n")
    return 2


def _scenario_options(info: ScenarioInfo, args: argparse.Namespace) -> dict[str, Any]:
    probe = argparse.ArgumentParser(add_help=False)
    add = getattr(info.module, "add_arguments", None)
    if not callable(add):
        return {}
    add(probe)
    return {a.dest: getattr(args, a.dest) for a in probe._actions if hasattr(args, a.dest)}


_OUTPUTS = ("mermaid", "audit", "trace")


def _check_output_paths(args: argparse.Namespace) -> str | None:
    seen: dict[Path, str] = {}
    for flag in _OUTPUTS:
        path: Path | None = getattr(args, flag)
        if path is None:
            continue
        if path.is_dir():
            return f"--{flag} {path}: is a directory"
        if not path.parent.is_dir():
            return f"--{flag} {path}: directory {path.parent} does not exist"
        same = seen.setdefault(path.resolve(), flag)
        if same != flag:
            return f"--{same} and --{flag} name the same file ({path}); give each its own"
    return None


def _cannot_write(stderr: TextIO, prog: str, path: Path, exc: OSError) -> int:
    stderr.write(f"{prog}: error: cannot write {path}: {exc.strerror or exc}\n")
    return 2


def _why_empty(sim: Any) -> str:
    """Why the WorkSpaces table is empty: none launched, or all terminated (and unlisted)."""
    gone = sorted({e.workspace_id for e in sim.trace.events() if e.workspace_id})
    if not gone:
        return "(no WorkSpaces: this scenario launches none)\n"
    shown = ", ".join(gone[:3]) + (", ..." if len(gone) > 3 else "")
    return (f"(no WorkSpaces listed: the scenario terminated its {len(gone)} WorkSpace(s) "
            f"({shown}), and DescribeWorkspaces stops listing a terminated WorkSpace; "
            "--trace FILE keeps their whole lifecycle)\n")


def run_scenario_cli(
    info: ScenarioInfo, args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
    prog: str = PROG,
) -> int:
    """Run a scenario for parsed ``args``; writes the requested files; returns the exit code.

    The files are written at the end, after ``--describe`` (whose own calls are audited too),
    so a file that cannot be written is one error line, never a half-run scenario.
    """
    problem = _check_output_paths(args)
    if problem:
        stderr.write(f"{prog}: error: {problem}\n")
        return 2
    from . import Simulation  # imported late: listing and --help need no services

    settings = dict(getattr(info.module, "SETTINGS", {}))
    sim = Simulation(seed=args.seed, **settings)
    color = want_color(stdout, no_color=args.no_color)
    out = Narrator(stdout, color=color, verbose=args.verbose)
    if not args.quiet:
        out.attach(sim.trace)
    out.title(f"{info.name}: {info.summary}")
    seed_text = (f"seed {args.seed}: run again with --seed {args.seed} and every id, key and "
                 "time comes out the same" if args.seed is not None
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
    if args.describe:
        out.section("WorkSpaces (as the console lists them)")
        table = describe_simulation(sim)
        out.table(_why_empty(sim) if table == workspaces_table([]) else table)
    outputs: list[tuple[str, str, Callable[[], str]]] = [
        ("trace", "trace", sim.trace.to_json),
        ("mermaid", "Mermaid diagram", lambda: _diagram(info, sim, result)),
        ("audit", "audit log", sim.audit.to_jsonl),
    ]
    for flag, label, render in outputs:
        path: Path | None = getattr(args, flag)
        if path is None:
            continue
        try:
            path.write_text(render(), encoding="utf-8")
            out.note(f"{label} written to {path}")
        except OSError as exc:
            status = _cannot_write(stderr, prog, path, exc)
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


def _diagram(info: ScenarioInfo, sim: Any, result: ScenarioResult | None) -> str:
    events = sim.trace.events()
    title = f"envelope-sim: {info.name}"
    aliases: dict[str, str] = {}
    if result is not None:
        keep = result.diagram_filter
        events = [e for e in events if keep is None or keep(e)]
        title = result.diagram_title or title
        aliases = result.diagram_aliases
    return sequence_diagram(events, title=title, aliases=aliases)


def _silence(stream: TextIO) -> None:
    """Point ``stream``'s descriptor at /dev/null, so that the interpreter's own flush at exit
    does not print a second traceback for output that can no longer be written."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both; a test's capture has none
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _guarded(run: Callable[[], int], stdout: TextIO, stderr: TextIO, prog: str) -> int:
    """Run a command; standard output that cannot be written ends it with one line (or, for a
    reader that has gone, quietly), never a traceback."""
    try:
        status = run()
        stdout.flush()
    except BrokenPipeError:  # `envelope-sim ... | head`: the reader has gone; so do we, quietly
        _silence(stdout)
        return 1
    except OSError as exc:  # every file output handles its own errors: this is standard output
        stderr.write(f"{prog}: error: cannot write to standard output: {exc.strerror or exc}\n")
        _silence(stdout)
        return 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``envelope-sim`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    return _guarded(lambda: _main(args_list, stdout, stderr), stdout, stderr, PROG)


def _main(args_list: list[str], stdout: TextIO, stderr: TextIO) -> int:
    scenarios = discover()
    selected: str | None = None
    if len(args_list) >= 3 and args_list[:2] == ["scenario", "run"] \
            and not args_list[2].startswith("-"):
        selected = args_list[2]
        # An unknown name gets a clear message rather than argparse's "invalid choice".
        if selected not in scenarios:
            err = UnknownScenario(selected, list(scenarios))
            hint = f"(see '{PROG} scenario list')" if scenarios else not_found_message()
            stderr.write(f"{PROG}: error: {err}\n{hint}\n")
            return 2
    parser, run_parsers = _build(scenarios, selected)
    try:
        args, extra = parser.parse_known_args(args_list)
        if extra:
            # Report it with the usage of the parser the user was talking to.
            owner = run_parsers.get(selected or "", parser)
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else 2
    if args.handler is None:  # plain `envelope-sim`: the help, as asked for
        parser.print_help(stdout)
        return 0
    status: int = args.handler(args, stdout, stderr)
    return status


def run_script(module_file: str, argv: Sequence[str] | None = None) -> int:
    """``python scenarios/<name>.py [options]``: the same options and output as the command."""
    module = sys.modules.get("__main__")
    if module is None or getattr(module, "__file__", None) != module_file:
        info = load_scenario(Path(module_file).stem, Path(module_file).resolve().parent)
    else:
        info = info_for_module(module)
    prog = f"python {Path(module_file).name}"
    parser = _scenario_parser(info, prog)
    args_list = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr

    def run() -> int:
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:
            return int(exc.code) if isinstance(exc.code, int) else 2
        return run_scenario_cli(info, args, stdout, stderr, prog=prog)

    return _guarded(run, stdout, stderr, prog)


if __name__ == "__main__":  # pragma: no cover - python -m simulator.cli
    raise SystemExit(main())
