"""Replaying 1,000 run-command interactions: this plugin (sanitizers, Azure matchers, contract checks)
against plain pytest-recording replay of the same cassette.

Run: ``python benchmarks/bench_replay.py [--interactions 1000] [--rounds 3]``

One cassette is recorded with plain vcrpy (PUT 201, PATCH 200, GET 200, DELETE 204 for each of
``interactions / 4`` run commands, all valid). Then two pytest processes replay it with
``--record-mode=none --block-network``, alternating, ``--rounds`` times each:

* plain: ``-p no:runcommand`` (pytest-recording and vcrpy only, their default matchers);
* runcommand: this plugin loaded and the test marked ``runcommand_contract``, so every replayed
  interaction is sanitized, matched with the Azure matchers and validated against the contract.

The figure is the test's setup + call + teardown time as pytest reports it (``--durations``), so
interpreter and plugin start-up are left out; the median of the rounds is compared. Target: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SUB = "00000000-0000-0000-0000-000000000000"
BASE = "https://management.azure.com"

TEST_MODULE = textwrap.dedent(
    """
    import json
    from pathlib import Path

    import httpx
    import pytest

    from bench_traffic import requests_in_order


    def refuse(request):
        raise AssertionError(f"the network was used: {request.url}")


    @pytest.fixture(scope="module")
    def vcr_cassette_dir():
        return str(Path(__file__).parent / "cassettes")


    MARKS


    def test_replay():
        with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
            for method, url, body in requests_in_order():
                response = client.request(method, url, content=body, headers={"Content-Type": "application/json"})
                assert response.status_code < 300
    """
)

TRAFFIC_MODULE = textwrap.dedent(
    f'''
    import json

    SUB = "{SUB}"
    BASE = "{BASE}"
    COUNT = COUNT_VALUE


    def path(i):
        return (
            f"/subscriptions/{{SUB}}/resourceGroups/rg{{i % 7}}/providers/Microsoft.Compute/virtualMachines/vm{{i % 13}}"
            f"/runCommands/rc{{i}}"
        )


    def resource(i, timeout):
        return {{
            "id": path(i),
            "name": f"rc{{i}}",
            "type": "Microsoft.Compute/virtualMachines/runCommands",
            "location": "westus",
            "properties": {{
                "source": {{"script": f"echo {{i}}"}},
                "timeoutInSeconds": timeout,
                "asyncExecution": False,
                "treatFailureAsDeploymentFailure": False,
                "provisioningState": "Succeeded",
            }},
        }}


    def requests_in_order():
        for i in range(COUNT // 4):
            url = f"{{BASE}}{{path(i)}}?api-version=2024-07-01"
            yield "PUT", url, json.dumps({{"location": "westus", "properties": {{"source": {{"script": f"echo {{i}}"}}}}}})
            yield "PATCH", url, json.dumps({{"properties": {{"timeoutInSeconds": 120}}}})
            yield "GET", url + "&$expand=instanceView", None
            yield "DELETE", url, None


    def respond(method, url, i):
        if method == "PUT":
            return 201, resource(i, 0)
        if method == "PATCH":
            return 200, resource(i, 120)
        if method == "GET":
            return 200, resource(i, 120)
        return 204, None
    '''
)


def _record(directory: Path, count: int) -> Path:
    import httpx
    import vcr

    sys.path.insert(0, str(directory))
    try:
        import bench_traffic
    finally:
        sys.path.remove(str(directory))

    def handler(request: httpx.Request) -> httpx.Response:
        index = int(re.search(r"/runCommands/rc(\d+)", request.url.path).group(1))  # type: ignore[union-attr]
        status, body = bench_traffic.respond(request.method, str(request.url), index)
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    recorder = vcr.VCR(cassette_library_dir=str(directory / "cassettes"), record_mode="once")
    with recorder.use_cassette("test_replay.yaml"), httpx.Client(transport=httpx.MockTransport(handler)) as client:
        for method, url, body in bench_traffic.requests_in_order():
            client.request(method, url, content=body, headers={"Content-Type": "application/json"})
    return directory / "cassettes" / "test_replay.yaml"


_DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)::test_replay$", re.MULTILINE)


def _replay(directory: Path, module: str, plain: bool) -> float:
    command = [
        sys.executable,
        "-m",
        "pytest",
        module,
        "-q",
        "-p",
        "no:cacheprovider",
        "--record-mode=none",
        "--block-network",
        "--durations=0",
        "--durations-min=0",
    ]
    if plain:
        command += ["-p", "no:runcommand"]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"replay failed ({'plain' if plain else 'runcommand'}):\n{result.stdout}\n{result.stderr}")
    phases = _DURATION.findall(result.stdout)
    if len(phases) != 3:
        raise SystemExit(f"could not read the durations:\n{result.stdout}")
    return sum(float(seconds) for seconds, _phase, _node in phases)


def _validation_only(cassette: Path) -> float:
    import time

    from pytest_runcommand.cassettes.readers import read_cassette
    from pytest_runcommand.contract import check_interactions

    check_interactions(read_cassette(cassette).interactions[:1])  # warm the compiled validators
    start = time.perf_counter()
    interactions = read_cassette(cassette).interactions
    problems = sum(len(verdict.violations) for verdict in check_interactions(interactions))
    elapsed = time.perf_counter() - start
    if problems:
        raise SystemExit(f"the generated traffic has {problems} contract violations")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build the cassette and test modules in DIR and keep them")
    args = parser.parse_args()
    count = args.interactions - args.interactions % 4
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as name:
        directory = Path(args.keep or name)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "bench_traffic.py").write_text(TRAFFIC_MODULE.replace("COUNT_VALUE", str(count)))
        (directory / "test_plain.py").write_text(TEST_MODULE.replace("MARKS", "@pytest.mark.vcr"))
        (directory / "test_runcommand.py").write_text(
            TEST_MODULE.replace("MARKS", "@pytest.mark.vcr\n@pytest.mark.runcommand_contract")
        )
        cassette = _record(directory, count)
        # both test modules read the same cassette: cassettes/test_replay.yaml
        plain_times: list[float] = []
        ours_times: list[float] = []
        for _ in range(args.rounds):
            plain_times.append(_replay(directory, "test_plain.py", plain=True))
            ours_times.append(_replay(directory, "test_runcommand.py", plain=False))
        plain = statistics.median(plain_times)
        ours = statistics.median(ours_times)
        size = cassette.stat().st_size
        validation = _validation_only(cassette)
    print(
        f"cassette: {count} interactions ({size / 1024:.0f} KiB), {args.rounds} rounds, median of setup+call+teardown"
    )
    print(
        f"plain pytest-recording replay:            {plain:8.3f} s  (rounds: {', '.join(f'{t:.3f}' for t in plain_times)})"
    )
    print(
        f"pytest-runcommand replay + contract check: {ours:8.3f} s  (rounds: {', '.join(f'{t:.3f}' for t in ours_times)})"
    )
    print(f"ratio: {ours / plain:.2f}x (target <= 1.20x)")
    print(
        f"of which contract validation alone (read + check_interactions over {count}, in-process): {validation:.3f} s; "
        "the rest is vcrpy matching, which compares each request with every recorded one"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
