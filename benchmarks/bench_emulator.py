"""Emulator speed: sequential keep-alive requests over loopback, side by side with a canned app on the same stack.

Targets, each served by its own process on 127.0.0.1:

- emulator: ``pytest-runcommand emulator`` (routes, validates every request with the contract, keeps state,
  starts an async operation and a simulated script run per PATCH);
- canned:   a uvicorn + Starlette app answering every PATCH with a fixed JSON body (the floor for uvicorn);
- prism:    the Prism mock server (npm ``@stoplight/prism-cli``) on the same contract document, when node/npm is
  present and ``--prism`` is given, twice: static answers (its default: the documented example) and dynamic ones
  (``-d``: generated from the schema per request); installed into a temporary directory for this run only.

Each ratio compares the emulator and the canned app on the same server stack: uvicorn's h11 parser on asyncio
(always) and httptools on uvloop (when both are importable: ``pip install httptools uvloop``), each over plain
http and over TLS (both servers with a certificate from the same throw-away local CA set-up,
``emulator.server.make_certificates``). One client (``http.client``, one keep-alive connection per target) sends
the same request in rounds that alternate between the targets (each first in every other round); a ratio is the
median of the rounds' ratios (each over targets measured moments apart, so a busy moment slows both sides of its
round), the times in microseconds each target's median; with each ratio the rounds' quartiles (how much one
round strays: the machine's noise, against which a ratio near the target is read).
Printed per stack and transport: the emulator's time per PATCH as a multiple of the canned app's (target: <= 1.2x)
at 2024-07-01 (the same body each time, and a new body each time, which nothing the emulator keeps of a body sent
before can shorten) and at the newest version (whose answers carry more), then the action run command (POST
``.../runCommand``: validated, a simulated run and an async operation started, 202 with ``Azure-AsyncOperation``
and ``Location``) against the canned app's 202, and the catalogue's RunShellScript document (GET) against the
canned app's fixed document.

Run:  python benchmarks/bench_emulator.py [--requests 400] [--rounds 15] [--stacks h11,httptools] [--prism]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
port, http, loop, *tls = sys.argv[1:]
files = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False, http=http, loop=loop, **files)
"""
REPLAY_APP = """
import json
import sys
import uvicorn

answers = json.loads(open(sys.argv[2], encoding="utf-8").read())
prepared = {
    key: ([(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer["headers"]],
          answer["body"].encode("latin-1"))
    for key, answer in answers.items()
}

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers, body = prepared["latest" if b"%s" in scope["query_string"] else "base"]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

port, http, loop, *tls = sys.argv[3:]
files = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False, http=http, loop=loop, **files)
""".replace("%s", LATEST)
"""The floor: the emulator's own PATCH answer (headers and body, captured in-process) sent by a bare ASGI app that does
no work. What the emulator's answer costs on the wire (its ARM headers) before any of its work."""
STACKS = {"h11": ("h11", "asyncio"), "httptools": ("httptools", "uvloop")}
"""Server stacks by name: uvicorn's HTTP parser and event loop (the same on both sides of a ratio)."""
TARGET = 1.2
"""Issue 16: the emulator's time per sequential keep-alive PATCH at most this multiple of the canned app's."""
OWN_WORK_TARGET = 0.2
"""The issue's other wording: the emulator's own work at most 0.2x the canned app's time."""


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


Target = tuple[int, "ssl.SSLContext | None"]
"""Where a server listens: its port and, over TLS, the client context trusting its CA."""


def connect(target: Target) -> http.client.HTTPConnection:
    port, context = target
    if context is None:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)


def varied_bodies(count: int) -> list[bytes]:
    """``count`` PATCH bodies, each one different (its timeout and a tag), made before the clock starts."""
    bodies = []
    for index in range(count):
        body = json.loads(PATCH_BODY)
        body["properties"]["timeoutInSeconds"] = 1 + index % 3600
        body["tags"] = {"team": f"bench-{index}"}
        bodies.append(json.dumps(body).encode())
    return bodies


def patch_loop(target: Target, count: int, path: str = PATH, *, vary: bool = False) -> float:
    """Seconds for ``count`` sequential PATCH requests on one keep-alive connection (``vary``: a new body each
    time, so nothing the emulator remembers of a body sent before applies)."""
    port = target[0]
    connection = connect(target)
    bodies = varied_bodies(count) if vary else [PATCH_BODY] * count
    try:
        connection.request("PUT", path, body=PUT_BODY, headers=HEADERS)
        connection.getresponse().read()
        start = time.perf_counter()
        for body in bodies:
            connection.request("PATCH", path, body=body, headers=HEADERS)
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


def request_loop(target: Target, count: int, method: str, path: str, body: bytes | None, status: int) -> float:
    """Seconds for ``count`` sequential ``method`` requests on one keep-alive connection."""
    port = target[0]
    connection = connect(target)
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


def side_by_side(
    targets: dict[str, Target], requests: int, rounds: int, method: str, path: str, body: bytes | None, status: int
) -> dict[str, float]:
    """Median seconds per request of each target, measured in rounds that alternate between them."""
    timings: dict[str, list[float]] = {name: [] for name in targets}

    def once(target: Target, count: int) -> float:
        if method == "PATCH":  # PUTs the run command to patch first; no body given: a new one each time
            return patch_loop(target, count, path, vary=body is None)
        return request_loop(target, count, method, path, body, status)

    for target in targets.values():
        once(target, min(200, requests))  # warm-up
    names = list(targets)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:  # each target first in every other round
            timings[name].append(once(targets[name], requests) / requests)
    found = {name: statistics.median(values) for name, values in timings.items()}
    # paired: each round's ratio, taken over targets measured moments apart, then their median (a busy moment
    # slows both sides of its round, not one target's median)
    canned = timings["canned"]
    ratios = [e / c for e, c in zip(timings["emulator"], canned, strict=True)]
    found["ratio"] = statistics.median(ratios)
    found["ratio q1"], found["ratio q3"] = quartiles(ratios)
    if "floor" in timings:
        found["floor ratio"] = statistics.median(f / c for f, c in zip(timings["floor"], canned, strict=True))
        own = [(e - f) / c for e, f, c in zip(timings["emulator"], timings["floor"], canned, strict=True)]
        found["own work"] = statistics.median(own)
        found["own q1"], found["own q3"] = quartiles(own)
        found["over floor"] = statistics.median(
            e / f for e, f in zip(timings["emulator"], timings["floor"], strict=True)
        )
    return found


def quartiles(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles of the rounds' values: how far one round's reading strays (machine noise)."""
    if len(values) < 2:
        return values[0], values[0]
    first, _, third = statistics.quantiles(values, n=4)
    return first, third


def captured_answers(directory: Path) -> Path:
    """The emulator's PATCH answers at 2024-07-01 and at the newest version, captured in-process (for the floor)."""
    import asyncio

    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.asgi import Message

    app = EmulatorApp()

    async def exchange(method: str, url: str, body: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
        path, _, query = url.partition("?")
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "headers": [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()],
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["headers"], sent[1]["body"]

    answers = {}
    for key, url in (("base", PATH), ("latest", LATEST_PATH)):
        asyncio.run(exchange("PUT", url, PUT_BODY))
        headers, body = asyncio.run(exchange("PATCH", url, PATCH_BODY))
        answers[key] = {
            "headers": [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
            "body": body.decode("latin-1"),
        }
    file = directory / "answers.json"
    file.write_text(json.dumps(answers), encoding="utf-8")
    return file


CASES = {
    "PATCH 2024-07-01": ("PATCH", PATH, PATCH_BODY, 200),
    "PATCH new bodies": ("PATCH", PATH, None, 200),
    f"PATCH {LATEST}": ("PATCH", LATEST_PATH, PATCH_BODY, 200),
    "action POST": ("POST", ACTION_PATH, ACTION_BODY, 202),
    "catalogue GET": ("GET", CATALOGUE_PATH, None, 200),
}
"""What is measured on each stack and transport; the PATCH lines carry the target. "PATCH new bodies" sends a
different body each time (2024-07-01): what the emulator keeps of a body it has seen (the contract's answer, the
merge, the answer's text) never applies, so it measures the PATCH of a client that changes what it sends."""


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


def available_stacks(wanted: list[str]) -> list[str]:
    """The stacks asked for whose modules are importable (h11 always is: uvicorn needs it)."""
    found = []
    for name in wanted:
        if name not in STACKS:
            raise SystemExit(f"unknown stack {name!r} (known: {', '.join(STACKS)})")
        missing = [
            module for module in STACKS[name] if module != "asyncio" and importlib.util.find_spec(module) is None
        ]
        if missing:
            print(f"stack {name}: {', '.join(missing)} not installed, skipped (pip install {' '.join(missing)})")
            continue
        found.append(name)
    return found


@contextmanager
def servers(stack: str, tls: bool, directory: Path, answers: Path) -> Iterator[dict[str, Target]]:
    """The emulator, the canned app and the floor on ``stack``, over TLS or plain http."""
    from pytest_runcommand.emulator.server import make_certificates

    parser, loop = STACKS[stack]
    ports = {name: free_port() for name in ("emulator", "canned", "floor")}
    emulator_port = str(ports["emulator"])
    commands = {
        "emulator": [
            sys.executable,
            "-m",
            "pytest_runcommand",
            "emulator",
            "--port",
            emulator_port,
            *("--http", parser),
            "--loop",
            loop,
        ],
        "canned": [sys.executable, "-c", CANNED_APP, str(ports["canned"]), parser, loop],
        "floor": [sys.executable, "-c", REPLAY_APP, "replay", str(answers), str(ports["floor"]), parser, loop],
    }
    contexts: dict[str, ssl.SSLContext | None] = dict.fromkeys(commands)
    emulator_ca = directory / f"emulator-{stack}-ca.pem"
    if tls:
        commands["emulator"] += ["--tls", "--ca-out", str(emulator_ca)]
        for name in ("canned", "floor"):
            certificates = directory / f"{name}-{stack}"
            certificates.mkdir(exist_ok=True)
            files = make_certificates(certificates)  # the emulator's own set-up (server.make_certificates)
            commands[name] += [files["certfile"], files["keyfile"]]
            contexts[name] = ssl.create_default_context(cafile=files["ca"])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with ExitStack() as stack_of_servers:
        for name, command in commands.items():
            stack_of_servers.enter_context(serve(command, ports[name], env=env))
        if tls:
            contexts["emulator"] = ssl.create_default_context(cafile=str(emulator_ca))
        yield {name: (ports[name], contexts[name]) for name in commands}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per round and target")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (alternating between targets)")
    parser.add_argument("--stacks", default="h11,httptools", help="server stacks to measure (default: both)")
    parser.add_argument("--no-tls", action="store_true", help="plain http only")
    parser.add_argument("--prism", action="store_true", help="also Prism (plain http, h11 stack), when node is present")
    parser.add_argument("--no-prism", action="store_true", help=argparse.SUPPRESS)  # the default now
    args = parser.parse_args()

    stacks = available_stacks([name.strip() for name in args.stacks.split(",") if name.strip()])
    load_before = os.getloadavg()[0]
    results: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as temporary:
        directory = Path(temporary)
        answers = captured_answers(directory)
        for stack in stacks:
            for tls in (False,) if args.no_tls else (False, True):
                transport = "TLS" if tls else "http"
                found = results[(stack, transport)] = {}
                with servers(stack, tls, directory, answers) as targets:
                    for label, (method, path, body, status) in CASES.items():
                        chosen = targets if method == "PATCH" else {n: targets[n] for n in ("emulator", "canned")}
                        found[label] = side_by_side(chosen, args.requests, args.rounds, method, path, body, status)
                        seconds = found[label]
                        floor = f", floor {seconds['floor'] * 1e6:5.0f} us" if "floor" in seconds else ""
                        print(
                            f"{stack:9s} {transport:4s} {label:18s} emulator {seconds['emulator'] * 1e6:5.0f} us, "
                            f"canned {seconds['canned'] * 1e6:5.0f} us{floor}: {seconds['ratio']:.2f}x "
                            f"(rounds' quartiles {seconds['ratio q1']:.2f}x-{seconds['ratio q3']:.2f}x)",
                            flush=True,
                        )
                    if args.prism and stack == "h11" and not tls:
                        prism_ratios(targets["emulator"], args.requests, args.rounds)
    load_after = os.getloadavg()[0]
    print(
        f"\nemulator time per request / canned app's, same stack, sequential keep-alive, the median of {args.rounds} "
        f"rounds' ratios, {args.requests} requests a target a round (load average {load_before:.2f} -> "
        f"{load_after:.2f}); in brackets the floor's: the emulator's PATCH answer sent by a bare app doing no work "
        "(what its headers cost on the wire):"
    )
    print(f"  {'stack':20s} {'':5s}" + "".join(f"{label:>20s}" for label in CASES))
    met = True
    for (stack, transport), found in results.items():
        cells = []
        for label, seconds in found.items():
            ratio = seconds["ratio"]
            met = met and (ratio <= TARGET or not label.startswith("PATCH"))
            floor = f"({seconds['floor ratio']:.2f}x) " if "floor" in seconds else ""
            cells.append(f"{floor}{ratio:.2f}x")
        name = " + ".join(STACKS[stack])
        print(f"  {name:20s} {transport:5s}" + "".join(f"{cell:>20s}" for cell in cells))
    verdict = "met" if met else "NOT met"
    print(f"target: each PATCH ratio <= {TARGET}x (issue 16), on every stack and transport measured: {verdict}")
    own_met = own_work_table(results)
    verdict = "met" if own_met else "NOT met"
    print(
        f"target: each PATCH's own work <= {OWN_WORK_TARGET}x the canned app's time (issue 16, in other words): {verdict}"
    )
    return 0


def own_work_table(results: dict[tuple[str, str], dict[str, dict[str, float]]]) -> bool:
    """Print the emulator's own work per PATCH against the floor (its answer sent without work); True when each
    ``(emulator - floor) / canned`` is within the issue's 0.2x."""
    print(
        "\nown work per PATCH: emulator / floor, and (emulator - floor) / canned, the issue's \"emulator's own work "
        f"at most {OWN_WORK_TARGET}x the canned app's time\" with the answer's headers counted as the wire's:"
    )
    met = True
    for (stack, transport), found in results.items():
        cells = []
        for label, seconds in found.items():
            if "floor" not in seconds:
                continue
            own = seconds["own work"]
            met = met and own <= OWN_WORK_TARGET
            cells.append(
                f"{label}: {seconds['over floor']:.2f}x floor, own work {own:.2f}x "
                f"({seconds['own q1']:.2f}-{seconds['own q3']:.2f})"
            )
        print(f"  {' + '.join(STACKS[stack]):20s} {transport:5s}" + "; ".join(cells))
    return met


def prism_ratios(emulator: Target, requests: int, rounds: int) -> None:
    """The emulator's PATCH throughput as a multiple of Prism's (static and dynamic answers)."""
    with prism_servers((free_port(), free_port())) as prisms:
        if not prisms:
            return
        timings: dict[str, list[float]] = {"emulator": [], **{name: [] for name in prisms}}
        targets: dict[str, Target] = {"emulator": emulator, **{name: (port, None) for name, port in prisms.items()}}
        for target in targets.values():
            patch_loop(target, min(200, requests))
        for _ in range(rounds):
            for name, target in targets.items():
                timings[name].append(patch_loop(target, requests) / requests)
        mine = statistics.median(timings["emulator"])
        for name in prisms:
            ratio = statistics.median(timings[name]) / mine
            print(f"emulator throughput / {name + chr(39) + 's':10s} {ratio:.2f}x (target >= 3x)")


if __name__ == "__main__":
    raise SystemExit(main())
