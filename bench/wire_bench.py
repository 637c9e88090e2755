"""The wire layer's cost: GenerateDataKey + Decrypt pairs through boto3, in process and over HTTP.

In process (CPU time per pair, best of 7 rounds, measured round by round interleaved):
  (a) boto3 with a ``before-send`` handler returning canned responses: botocore's own floor
      (serialize, sign, parse; no simulator at all);
  (b) boto3 through ``mock_aws`` (the codec, SigV4 caller mapping and the simulation itself);
  (c) boto3 through moto's ``mock_aws``, when moto is importable.
Over HTTP (wall-clock pairs per second, client processes each running boto3 for a fixed time):
  envelope-sim serve vs moto's threaded server (``python -m moto.server``), at 1 and 8 clients.
The query protocols over HTTP (issue 13): EC2 CreateVolume + DescribeVolumes and IAM
CreateUser + GetUser pairs per second through one boto3 client, envelope-sim vs moto's server.
Routing (issue 15): the same pair as an issued user's key, in a simulation of one account vs of
10 accounts x 5 Regions with keys and users (the request's account and Region found by lookup).
Memory: signed GenerateDataKey and Decrypt requests (built once by botocore) replayed through
the server; its resident set after the first 10,000 calls vs after the last.

Minimums (issue 12): (b) <= 1.25x (a); HTTP pairs/s >= 2x moto's at 1 and at 8 clients; the
server's RSS within 50 MiB after all calls of where it was after 10,000; routing among many cells
within 10% of one account's. Exit status 1 if one is
missed. The machine is shared: figures are noisy, ratios measured in the same run are what count.

    python bench/wire_bench.py [--seconds S] [--memory-calls N]   (the issue's check: 200000)
    python bench/wire_bench.py --only-query                     (just the query-protocol lines)
    python bench/wire_bench.py --only-routing                   (just the routing lines)
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from simulator import Simulation
from simulator.wire import mock_aws

CREDS = {"region_name": "us-west-2", "aws_access_key_id": "test", "aws_secret_access_key": "test"}
CONTEXT = {"purpose": "bench"}


def _cpu_per_call(fns: dict[str, tuple[Callable[[], Callable[[], object]], int]],
                  rounds: int = 7) -> dict[str, float]:
    """Best-of-``rounds`` CPU seconds per call of each contender, interleaved round by round.
    Each round sets its contender up again (outside the timing): routes open only while used."""
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, (setup, n) in fns.items():
            with_setup = setup()
            for _ in range(20):
                with_setup()
            start = time.process_time()
            for _ in range(n):
                with_setup()
            best[name] = min(best[name], (time.process_time() - start) / n)
            close = getattr(with_setup, "close", None)
            if close is not None:
                close()
    return best


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body


def floor_pair() -> Callable[[], object]:
    """boto3 with canned responses returned from before-send: what botocore alone costs."""
    arn = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    blob = base64.b64encode(os.urandom(150)).decode()
    plain = base64.b64encode(os.urandom(32)).decode()
    bodies = {
        b"TrentService.GenerateDataKey": json.dumps({"CiphertextBlob": blob, "Plaintext": plain,
                                                     "KeyId": arn}).encode(),
        b"TrentService.Decrypt": json.dumps({"Plaintext": plain, "KeyId": arn,
                                             "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}).encode(),
    }
    headers = {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "r"}

    def canned(request: Any, **kwargs: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, headers, _Raw(bodies[request.headers["X-Amz-Target"]]))

    kms = boto3.client("kms", **CREDS)
    kms.meta.events.register_first("before-send", canned)

    def pair() -> object:
        dk = kms.generate_data_key(KeyId=arn, KeySpec="AES_256", EncryptionContext=CONTEXT)
        return kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=CONTEXT)

    return pair


class _Routed:
    """A pair through mock_aws (or moto's mock), with the route open until ``close``."""

    def __init__(self, route: Any, prepare: Callable[[], str] | None = None,
                 creds: dict[str, str] | None = None) -> None:
        self._route = route
        self._route.__enter__()
        self.kms = boto3.client("kms", **(creds or CREDS))
        self.key = self.kms.create_key()["KeyMetadata"]["Arn"]
        self.sim: Simulation | None = None

    def __call__(self) -> object:
        dk = self.kms.generate_data_key(KeyId=self.key, KeySpec="AES_256", EncryptionContext=CONTEXT)
        return self.kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=CONTEXT)

    def close(self) -> None:
        self._route.__exit__(None, None, None)


def sim_pair() -> _Routed:
    sim = Simulation(seed=1)
    # A long-running user bounds the in-memory audit and trace (serve does too).
    sim.audit.keep_last(10_000)
    sim.trace.keep_last(10_000)
    return _Routed(mock_aws(sim))


#: The populated simulation of the routing lines: accounts x Regions, each with keys and a user.
ACCOUNTS, REGIONS = 10, ("us-west-2", "us-east-1", "eu-west-1", "eu-central-1", "ap-south-1")
_ALL_KMS = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'


def routed_pair(populated: bool) -> _Routed:
    """A pair as an issued user's key (the routing path: index lookup, signature check, the
    cell of the key's account and the signed Region), in a simulation of one account, or of
    ``ACCOUNTS`` x ``REGIONS`` cells with keys and users (the pair runs in one of them)."""
    sim = Simulation(seed=1)
    sim.audit.keep_last(10_000)
    sim.trace.keep_last(10_000)
    accounts = [str(100000000000 + i) for i in range(ACCOUNTS)] if populated else [sim.account_id]
    regions = REGIONS if populated else (sim.region,)
    issued = {}
    for account in accounts:
        for region in regions:
            cell = sim.view(account_id=account, region=region)
            cell.kms.create_key()
        iam = sim.view(account_id=account).iam
        iam.create_user(user_name="app")
        iam.put_user_policy(user_name="app", policy_name="kms", policy_document=_ALL_KMS)
        issued[account] = iam.create_access_key(user_name="app")
    key = issued[accounts[len(accounts) // 2]]
    creds = {"region_name": regions[len(regions) // 2], "aws_access_key_id": key.access_key_id,
             "aws_secret_access_key": key.secret_access_key}
    return _Routed(mock_aws(sim), creds=creds)


def routing_lines(pairs: int) -> list[str]:
    """The routing cost: a pair in one account vs among ``ACCOUNTS`` x ``REGIONS`` cells
    (failures listed; the bar: within 10%, as issue 15's for the Python API)."""
    many = f"issued key, {ACCOUNTS} accounts x {len(REGIONS)} Regions"
    cost = _cpu_per_call({"issued key, one account": (lambda: routed_pair(False), pairs),
                          many: (lambda: routed_pair(True), pairs)})
    print("Routing: GenerateDataKey + Decrypt through mock_aws as an issued user's key "
          "(CPU us per pair, best of 7)")
    for name, seconds in cost.items():
        print(f"  {name:38s} {seconds * 1e6:8.0f} us")
    ratio = cost[many] / cost["issued key, one account"]
    print(f"  populated / one account: {ratio:.2f}x")
    return [] if ratio <= 1.10 else [
        f"a pair among {ACCOUNTS}x{len(REGIONS)} cells costs {ratio:.2f}x one account's "
        "(maximum: 1.10x)"]


def moto_pair() -> _Routed:
    import moto

    return _Routed(moto.mock_aws())


# --- over HTTP --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError as exc:
            if isinstance(exc, urllib.error.HTTPError):
                return  # the server answered
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {url}") from None
            time.sleep(0.1)


def start_server(kind: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    if kind == "envelope-sim":
        command = [sys.executable, "-m", "simulator.cli", "serve", "--port", str(port),
                   "--clock", "manual", "--seed", "1"]
        probe = f"http://127.0.0.1:{port}/_envelope-sim/health"
    else:
        command = [sys.executable, "-m", "moto.server", "-p", str(port)]
        probe = f"http://127.0.0.1:{port}/moto-api/"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(probe, proc)
    return f"http://127.0.0.1:{port}", proc


def _client_worker(endpoint: str, key: str, seconds: float) -> int:
    # Clients run at a lower priority than the server (either server): on a 2-core machine
    # eight busy client processes would otherwise take the server's CPU.
    os.nice(10)
    kms = boto3.client("kms", endpoint_url=endpoint, **CREDS)
    for _ in range(5):  # warm the connection pool and the client
        kms.decrypt(CiphertextBlob=kms.generate_data_key(
            KeyId=key, KeySpec="AES_256", EncryptionContext=CONTEXT)["CiphertextBlob"],
            EncryptionContext=CONTEXT)
    pairs = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=CONTEXT)
        kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=CONTEXT)
        pairs += 1
    return pairs


def _replay_worker(endpoint: str, requests: list[tuple[bytes, dict[str, str]]],
                   seconds: float) -> int:
    """Replays botocore's signed GenerateDataKey and Decrypt over one keep-alive connection:
    the server's own capacity, without boto3's client-side cost."""
    os.nice(10)
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    pairs = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for body, headers in requests:
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"replayed call failed: {response.status}")
        pairs += 1
    return pairs


def _query_worker(endpoint: str, service: str, seconds: float) -> int:
    """Pairs of EC2 CreateVolume + DescribeVolumes, or IAM CreateUser + GetUser."""
    os.nice(10)
    client = boto3.client(service, endpoint_url=endpoint, **CREDS)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"

    def pair(n: int) -> None:
        if service == "ec2":
            vol = client.create_volume(Size=1, AvailabilityZone="us-west-2a")["VolumeId"]
            client.describe_volumes(VolumeIds=[vol])
        else:
            name = f"u{tag}-{n}"
            client.create_user(UserName=name)
            client.get_user(UserName=name)

    for n in range(5):  # warm the connection pool and the client
        pair(-n - 1)
    pairs = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pair(pairs)
        pairs += 1
    return pairs


def query_rates(servers: list[str], seconds: float) -> dict[tuple[str, str], float]:
    """Pairs per second of the query-protocol lines, one client per measurement."""
    rates: dict[tuple[str, str], float] = {}
    for kind in servers:
        endpoint, proc = start_server(kind)
        try:
            for service in ("ec2", "iam"):
                with ProcessPoolExecutor(1) as pool:
                    count = pool.submit(_query_worker, endpoint, service, seconds).result()
                rates[kind, service] = count / seconds
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return rates


def print_query_rates(rates: dict[tuple[str, str], float], have_moto: bool) -> None:
    names = {"ec2": "EC2 CreateVolume+DescribeVolumes", "iam": "IAM CreateUser+GetUser"}
    print("\nQuery protocols over HTTP: pairs per second, one boto3 client (niced)")
    for (kind, service), rate in rates.items():
        print(f"  {kind:14s} {names[service]:34s} {rate:8.0f} pairs/s")
    if have_moto:
        for service, name in names.items():
            ratio = rates["envelope-sim", service] / rates["moto", service]
            print(f"  envelope-sim / moto, {name}: {ratio:.2f}x")


def http_rate(endpoint: str, clients: int, seconds: float, replay: bool) -> float:
    with ProcessPoolExecutor(clients) as pool:
        if replay:
            requests = _signed_requests(endpoint)
            counts = list(pool.map(_replay_worker, [endpoint] * clients, [requests] * clients,
                                   [seconds] * clients))
        else:
            key = boto3.client("kms", endpoint_url=endpoint, **CREDS).create_key()["KeyMetadata"]["Arn"]
            counts = list(pool.map(_client_worker, [endpoint] * clients, [key] * clients,
                                   [seconds] * clients))
    return sum(counts) / seconds


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS")


def _signed_requests(endpoint: str) -> list[tuple[bytes, dict[str, str]]]:
    """A GenerateDataKey and a Decrypt request as botocore signs them (replayed as they are:
    the test key acts as the root, whose signature is not checked)."""
    kms = boto3.client("kms", endpoint_url=endpoint, **CREDS)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=CONTEXT)["CiphertextBlob"]
    captured: list[tuple[bytes, dict[str, str]]] = []

    def capture(request: Any, **kwargs: Any) -> None:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        captured.append((request.body, headers))

    kms.meta.events.register("before-send", capture)
    kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=CONTEXT)
    kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT)
    return captured


def memory_check(calls: int, baseline_at: int) -> tuple[float, float]:
    endpoint, proc = start_server("envelope-sim")
    try:
        requests = _signed_requests(endpoint)
        host, port = endpoint.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        baseline = 0.0
        for i in range(calls):
            body, headers = requests[i % 2]
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"call {i} failed: {response.status}")
            if i + 1 == baseline_at:
                baseline = _rss_mib(proc.pid)
        return baseline, _rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300, help="pairs per in-process round")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per HTTP measurement")
    parser.add_argument("--memory-calls", type=int, default=40_000,
                        help="calls through the server for the memory check (the issue: 200000)")
    parser.add_argument("--only-query", action="store_true",
                        help="measure only the query-protocol lines (EC2, IAM)")
    parser.add_argument("--only-routing", action="store_true",
                        help="measure only the routing lines (one account vs many cells)")
    args = parser.parse_args()
    failed = []
    if args.only_routing:
        failed = routing_lines(args.pairs)
        for line in failed:
            print("MISSED: " + line)
        return 1 if failed else 0

    try:
        import moto  # noqa: F401 - imported first so every contender carries its handler
        have_moto = True
    except ImportError:
        have_moto = False
    servers = ["envelope-sim"] + (["moto"] if have_moto else [])
    if args.only_query:
        print_query_rates(query_rates(servers, args.seconds), have_moto)
        return 0
    contenders: dict[str, tuple[Callable[[], Callable[[], object]], int]] = {
        "botocore floor (canned before-send)": (floor_pair, args.pairs),
        "envelope-sim mock_aws": (sim_pair, args.pairs),
    }
    if have_moto:
        contenders["moto mock_aws"] = (moto_pair, max(1, args.pairs // 3))
    cost = _cpu_per_call(contenders)
    floor = cost["botocore floor (canned before-send)"]
    print("In process: GenerateDataKey + Decrypt through boto3 (CPU us per pair, best of 7)")
    for name, seconds in cost.items():
        print(f"  {name:38s} {seconds * 1e6:8.0f} us   {seconds / floor:5.2f}x the floor")
    ours = cost["envelope-sim mock_aws"] / floor
    if ours > 1.25:
        failed.append(f"mock_aws pair is {ours:.2f}x botocore's floor (minimum: at most 1.25x)")
    print()
    failed += routing_lines(args.pairs)

    print(f"\nOver HTTP: pairs per second (wall clock, {args.seconds:g} s per figure; clients "
          "niced)\n  boto3 clients: what an application sees; replayed signed requests: the "
          "server's capacity")
    rates: dict[tuple[str, str, int], float] = {}
    for kind in servers:
        endpoint, proc = start_server(kind)
        try:
            for client_kind in ("boto3", "replay"):
                for clients in (1, 8):
                    rate = http_rate(endpoint, clients, args.seconds, client_kind == "replay")
                    rates[kind, client_kind, clients] = rate
                    print(f"  {kind:14s} {client_kind:7s} {clients} client(s): {rate:8.0f} pairs/s")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    if have_moto:
        for client_kind in ("boto3", "replay"):
            for clients in (1, 8):
                ratio = rates["envelope-sim", client_kind, clients] / rates["moto", client_kind, clients]
                print(f"  envelope-sim / moto, {client_kind}, {clients} client(s): {ratio:.2f}x")
                if ratio < 2:
                    failed.append(f"HTTP ({client_kind}) at {clients} client(s) is {ratio:.2f}x "
                                  "moto's server (minimum: 2x)")

    print_query_rates(query_rates(servers, args.seconds), have_moto)

    baseline_at = min(10_000, max(1, args.memory_calls // 2))
    before, after = memory_check(args.memory_calls, baseline_at)
    print(f"\nMemory: server RSS {before:.1f} MiB after {baseline_at} calls, {after:.1f} MiB after "
          f"{args.memory_calls} ({after - before:+.1f} MiB)")
    if after - before > 50:
        failed.append(f"RSS grew {after - before:.1f} MiB (maximum: 50)")

    for line in failed:
        print("MISSED: " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
