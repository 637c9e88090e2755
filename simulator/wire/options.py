"""The ``envelope-sim serve`` command line (imports nothing heavy until the server starts)."""

from __future__ import annotations

import argparse
import math
from typing import Any, TextIO

__all__ = ["ADMIN_HELP", "add_serve_parser", "run_serve", "seed_number"]

ADMIN_HELP = """\
admin API (JSON; under /_envelope-sim/):
  GET    health                  status, default Region and account, seed, clock mode,
                                 virtual time, the accounts and Regions in use (cells)
  POST   reset    {"seed": N}    a fresh simulation with the same settings (seed optional);
                                 refused (UnsupportedOperationException) with --state
  POST   advance  {"seconds": S} run scheduled work due in the next S virtual seconds
                 {"until_idle": true}   run all scheduled work (as sim.run_until_idle())
  GET    audit?event_name=NAME&account_id=ID&region=R
                                 the CloudTrail-shaped audit records, as JSON lines (of one
                                 account's and/or Region's trail if given)
  GET    trace?workspace_id=ID   the step-by-step trace, as a JSON array
  POST   faults   {...}          inject a fault or a fault plan (the fault model's JSON; a
                                 fault's "account_id" and "region" say where it acts);
                                 refused with --state
  DELETE faults?account_id=ID&region=R
                                 remove the injected faults (of every account and Region, or
                                 of those given)
  POST   directory-users?account_id=ID&region=R {"DirectoryId": "d-...", "UserName": "jdoe"}
                                 create a directory user (no JSON-protocol AWS call does)
  POST   iam/<Operation>?account_id=ID {...}
                                 an IAM call as the account's root (default: the default
                                 account), shaped by botocore's IAM model (CreateUser,
                                 CreateAccessKey, PutUserPolicy, ...): how another account's
                                 first user and keys are made
"""

_EPILOG = """\
accounts and Regions: a request goes to the account of its access key and the Region its
  SigV4 signature is scoped to (boto3's region_name, the aws-cli's --region); every Region of
  the aws partition is served. Keys issued by IAM CreateAccessKey (in any account) act as
  their user in their account, and their signature is checked with the issued secret; STS
  session keys act as their role session. Any other access key id acts as the default
  account's root (test/test works) unless --strict-credentials. IAM and STS are one per
  account, whatever Region signs.
clock: realtime (default) moves virtual time with the wall clock times --speed, so polling
  clients see PENDING turn AVAILABLE; manual moves it only through POST /_envelope-sim/advance.
state: --state FILE saves every call in an SQLite file (created readable by its owner only)
  and reopens it on the next start, so keys, grants, volumes and WorkSpaces survive a restart
  (Ctrl-C or SIGTERM closes it cleanly; a SIGKILL loses no call that was answered). The file
  keeps its seed and settings (--seed must match it or be left out); virtual time does not move
  while the server is stopped. The seed that recreates every key is sealed under a file key
  kept in FILE-key (0600): keep it, the state file cannot be opened without it. POST reset is
  refused: stop the server and delete FILE, FILE-wal, FILE-blocks and FILE-key to start
  fresh. POST faults is refused too (a state file does not keep injected faults). One server
  per file (a second one is refused).
calls are served one at a time, on one event loop; request and response bodies are never
  logged (they carry plaintext data keys).

{admin}
examples:
  envelope-sim serve --seed 7
  envelope-sim serve --port 4600 --clock realtime --speed 60
  envelope-sim serve --state team.db
  aws --endpoint-url http://127.0.0.1:4599 --region us-west-2 kms create-key
  aws --endpoint-url http://127.0.0.1:4599 --region eu-west-1 kms list-keys   (another Region)
"""


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def seed_number(text: str) -> int:
    """A ``--seed`` value: a whole number, 0 or more (what ``Simulation(seed=...)`` accepts)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _port(text: str) -> int:
    value = _whole(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, not {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _records(text: str) -> int | None:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (keep all) or more")
    return value or None


def add_serve_parser(commands: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    """Add ``serve`` to the ``envelope-sim`` subcommands."""
    serve = commands.add_parser(
        "serve", help="serve KMS, WorkSpaces and Directory Service over HTTP for real clients",
        description="Serve one simulation, every account and Region of it, at one HTTP "
                    "endpoint for boto3, the aws-cli, the AWS "
                    "Encryption SDK or any SDK (KMS, WorkSpaces, Directory Service; JSON "
                    "protocol). Stops cleanly on Ctrl-C or SIGTERM.",
        epilog=_EPILOG.format(admin=ADMIN_HELP), formatter_class=formatter_class)
    serve.set_defaults(handler=run_serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=_port, default=4599, help="port (default %(default)s)")
    serve.add_argument("--seed", type=seed_number, default=None,
                       help="seed the simulation: the same calls give the same ids and blobs")
    serve.add_argument("--clock", choices=("realtime", "manual"), default="realtime",
                       help="how virtual time moves (default %(default)s)")
    serve.add_argument("--speed", type=_positive, default=1.0,
                       help="realtime clock: virtual seconds per wall-clock second (default 1)")
    serve.add_argument("--strict-credentials", action="store_true",
                       help="refuse access keys the simulation did not issue")
    serve.add_argument("--audit-log", metavar="FILE", default=None,
                       help="append every CloudTrail-shaped audit record to FILE (JSON lines)")
    serve.add_argument("--state", metavar="FILE", default=None,
                       help="keep the simulation in FILE (SQLite), reopened on the next start "
                            "(see state: below)")
    serve.add_argument("--max-records", type=_records, default=10_000, metavar="N",
                       help="audit records and trace events kept in memory, newest first "
                            "(0: all; default %(default)s)")


def run_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``envelope-sim serve`` until stopped; the exit status."""
    try:
        from .server import ServeConfig, serve
    except ImportError as exc:  # botocore or uvicorn missing
        stderr.write(f"envelope-sim serve needs the server extra "
                     f"(pip install 'envelope-sim[server]'): {exc}\n")
        return 2
    config = ServeConfig(host=args.host, port=args.port, seed=args.seed, clock=args.clock,
                         speed=args.speed, strict_credentials=args.strict_credentials,
                         audit_log=args.audit_log, max_records=args.max_records,
                         state=args.state)

    def announce(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    from ..errors import AwsError

    try:
        serve(config, announce)
    except AwsError as err:  # the simulation refused to start: a state file it cannot use
        stderr.write(f"envelope-sim serve: error: {err.message}\n")
        return 2
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has finished in-flight requests and closed
        return 130
    except OSError as exc:
        if exc.filename is None:  # not a file of ours (standard output): the caller reports it
            raise
        stderr.write(f"envelope-sim serve: error: cannot write {exc.filename}: "
                     f"{exc.strerror or exc}\n")
        return 2
    return 0
