"""Emulator throughput: a sequential keep-alive PATCH loop over loopback, side by side with two baselines.

Targets, each served by its own process on 127.0.0.1 (plain http, so TLS cost is not measured):

- emulator: ``pytest-runcommand emulator`` (routes, validates every request with the contract, keeps state,
  starts an async operation and a simulated script run per PATCH);
- canned:   a uvicorn + Starlette app answering every PATCH with a fixed JSON body (the floor for uvicorn);
- prism:    the Prism mock server (npm ``@stoplight/prism-cli``) on the same contract document, when node/npm is
  present, twice: static answers (its default: the documented example) and dynamic ones (``-d``: generated
  from the schema per request); it is installed into a temporary directory for this run only.

One client (``http.client``, one keep-alive connection per target) sends the same PATCH in rounds that
alternate between targets; the figures are medians over the rounds. Printed: requests/s per target, the
emulator's throughput as a multiple of Prism's (target: >= 3x) and its time per request as a multiple of the
canned app's (target: <= 1.5x), at 2024-07-01 and at the newest version (whose answers carry more). Then the
action run command: POST ``.../runCommand`` (validated, a simulated run and an async operation started, 202 with
``Azure-AsyncOperation`` and ``Location``) against the canned app's 202, and the catalogue's RunShellScript document
(GET) against the canned app's fixed document.

Run:  python benchmarks/bench_emulator.py [--requests 1000] [--rounds 5] [--no-prism]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
LATEST = "2026-04-01"
"""The newest supported api-version (answers with systemData and Location/Retry-After): measured as well."""
LATEST_PATH = PATH.replace("/rc1?api-version=2024-07-01", f"/rc2?api-version={LATEST}")
PATCH_BODY = json.dumps(
    {
        "properties": {
            "source": {"script": "Write-Host Hello World!"},
            "parameters": [{"name": "param1", "value": "value1"}],
            "asyncExecution": False,
            "runAsUser": "user1",
            "timeoutInSeconds": 3600,
        },
        "tags": {"team": "bench"},
    }
).encode()
PUT_BODY = json.dumps({"location": "westus", "properties": {"source": {"script": "echo"}}}).encode()
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer benchmark-token", "Accept": "application/json"}
PRISM_PACKAGE = "@stoplight/prism-cli@5"

CANNED_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BODY = {
    "name": "rc1",
    "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1",
    "type": "Microsoft.Compute/virtualMachines/runCommands",
    "location": "westus",
    "tags": {"team": "bench"},
    "properties": {"source": {"script": "Write-Host Hello World!"}, "parameters": [{"name": "param1", "value": "value1"}],
                   "asyncExecution": False, "treatFailureAsDeploymentFailure": False, "runAsUser": "user1",
                   "timeoutInSeconds": 3600, "provisioningState": "Updating"},
}

DOCUMENT = {"script": ["echo This is a sample script"], "parameters": [{"name": "arg1", "type": "string", "required": False}],
            "$schema": "http://schema.management.azure.com/schemas/2016-11-17/runcommands.json", "id": "RunShellScript",
            "osType": "Linux", "label": "Executes a Linux shell script", "description": "Custom multiline shell script"}

async def patch(request):
    await request.body()
    if request.method == "POST":
        location = "https://127.0.0.1/subscriptions/s/providers/Microsoft.Compute/locations/westus/operations/x"
        return Response(status_code=202, headers={"Azure-AsyncOperation": location, "Location": location})
    if request.method == "GET":
        return JSONResponse(DOCUMENT)
    return JSONResponse(BODY)

app = Starlette(routes=[Route("/subscriptions/{rest:path}", patch, methods=["PATCH", "PUT", "POST", "GET"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start within {seconds:.0f}s")


@contextmanager
def serve(command: list[str], port: int, **kwargs: object) -> Iterator[int]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    try:
        wait_for(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def patch_loop(port: int, count: int, path: str = PATH) -> float:
    """Seconds for ``count`` sequential PATCH requests on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("PUT", path, body=PUT_BODY, headers=HEADERS)
        connection.getresponse().read()
        start = time.perf_counter()
        for _ in range(count):
            connection.request("PATCH", path, body=PATCH_BODY, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"PATCH on port {port} answered {response.status}")
        return time.perf_counter() - start
    finally:
        connection.close()


ACTION_PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommand?api-version=2024-07-01"
)
ACTION_BODY = json.dumps({"commandId": "RunShellScript", "script": ["echo hello"]}).encode()
CATALOGUE_PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute/locations/westus/runCommands"
    "/RunShellScript?api-version=2024-07-01"
)


def request_loop(port: int, count: int, method: str, path: str, body: bytes | None, status: int) -> float:
    """Seconds for ``count`` sequential ``method`` requests on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        start = time.perf_counter()
        for _ in range(count):
            connection.request(method, path, body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != status:
                raise RuntimeError(f"{method} on port {port} answered {response.status}")
        return time.perf_counter() - start
    finally:
        connection.close()


def family_ratios(emulator_port: int, canned_port: int, requests: int, rounds: int) -> None:
    """The action's POST and the catalogue's GET, emulator against the canned app, side by side."""
    cases = {
        "action POST": ("POST", ACTION_PATH, ACTION_BODY, 202),
        "catalogue GET": ("GET", CATALOGUE_PATH, None, 200),
    }
    for label, (method, path, body, status) in cases.items():
        timings: dict[int, list[float]] = {emulator_port: [], canned_port: []}
        for port in timings:
            request_loop(port, min(200, requests), method, path, body, status)  # warm-up
        for _ in range(rounds):
            for port in timings:
                timings[port].append(request_loop(port, requests, method, path, body, status) / requests)
        emulator, canned = (statistics.median(timings[port]) for port in (emulator_port, canned_port))
        print(
            f"{label:14s} emulator {emulator * 1e6:6.0f} us/request, canned {canned * 1e6:6.0f} us/request: "
            f"{emulator / canned:.2f}x"
        )


@contextmanager
def prism_servers(ports: tuple[int, int]) -> Iterator[dict[str, int]]:
    """Prism twice on the contract: static answers (its default) and dynamic ones (``-d``, generated per request)."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        print("prism: node/npm not found, skipped")
        yield {}
        return
    from pytest_runcommand.contract.document import BUNDLED_SPEC_PATH

    with tempfile.TemporaryDirectory(prefix="bench-prism-") as directory:
        print(f"prism: installing {PRISM_PACKAGE} into a temporary directory ...", flush=True)
        install = subprocess.run(
            [npm, "install", "--prefix", directory, "--no-audit", "--no-fund", "--loglevel=error", PRISM_PACKAGE],
            capture_output=True,
            text=True,
            check=False,
        )
        prism = Path(directory) / "node_modules" / ".bin" / "prism"
        if install.returncode != 0 or not prism.exists():
            print(f"prism: install failed, skipped ({install.stderr.strip()[:300]})")
            yield {}
            return
        static = [str(prism), "mock", "-h", "127.0.0.1", "-p", str(ports[0]), str(BUNDLED_SPEC_PATH)]
        dynamic = [str(prism), "mock", "-d", "-h", "127.0.0.1", "-p", str(ports[1]), str(BUNDLED_SPEC_PATH)]
        with serve(static, ports[0]), serve(dynamic, ports[1]):
            yield {"prism": ports[0], "prism -d": ports[1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="PATCH requests per round and target")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (alternating between targets)")
    parser.add_argument("--no-prism", action="store_true", help="skip Prism even when node is present")
    args = parser.parse_args()

    emulator_port, canned_port = free_port(), free_port()
    prism_ports = (free_port(), free_port())
    emulator_cmd = [sys.executable, "-m", "pytest_runcommand", "emulator", "--port", str(emulator_port)]
    canned_cmd = [sys.executable, "-c", CANNED_APP, str(canned_port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with serve(emulator_cmd, emulator_port, env=env), serve(canned_cmd, canned_port, env=env):
        prism_context = prism_servers(prism_ports) if not args.no_prism else _nothing()
        with prism_context as prisms:
            targets = {
                "emulator": (emulator_port, PATH),
                "emulator@latest": (emulator_port, LATEST_PATH),
                "canned": (canned_port, PATH),
                **{name: (port, PATH) for name, port in prisms.items()},
            }
            for port, path in targets.values():
                patch_loop(port, min(200, args.requests), path)  # warm-up
            timings: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(args.rounds):
                for name, (port, path) in targets.items():
                    timings[name].append(patch_loop(port, args.requests, path) / args.requests)
        print("\nthe rest of the family, sequential keep-alive, median per target:")
        family_ratios(emulator_port, canned_port, args.requests, args.rounds)
    per_request = {name: statistics.median(values) for name, values in timings.items()}
    print(f"\nsequential keep-alive PATCH, {args.rounds} rounds x {args.requests} requests, median per target:")
    for name, seconds in per_request.items():
        print(f"  {name:15s} {1 / seconds:8.0f} req/s   {seconds * 1e6:8.0f} us/request")
    ratio_canned = per_request["emulator"] / per_request["canned"]
    print(f"emulator time per request / canned app's: {ratio_canned:.2f}x (target <= 1.5x)")
    ratio_latest = per_request["emulator@latest"] / per_request["canned"]
    print(f"emulator at {LATEST} / canned app's:     {ratio_latest:.2f}x (systemData, Location, Retry-After)")
    for name in ("prism", "prism -d"):
        if name in per_request:
            ratio = per_request[name] / per_request["emulator"]
            print(f"emulator throughput / {name + chr(39) + 's':10s}        {ratio:.2f}x (target >= 3x)")
    return 0


@contextmanager
def _nothing() -> Iterator[dict[str, int]]:
    yield {}


if __name__ == "__main__":
    raise SystemExit(main())
