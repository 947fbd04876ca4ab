"""A refused cassette's secret stays out of the failure report, even with ``pytest -vv -l`` and ``--junitxml``.

``-l`` prints the locals of every frame pytest shows, in full under ``-vv``; JUnit XML stores the same text. The
secret scan refused the serialized cassette in a frame that still held it, and a refused message raised through
vcrpy's and httpx's frames, which hold the body. Each case here records a message that carries one sentinel and
fails.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SENTINEL = "Q9xS3ntinelK7vW2pLm4Zr8T"
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "test_recorded.py"]

MODULE = textwrap.dedent(
    """
    import httpx
    import pytest

    SENTINEL = {sentinel!r}
    URL = (
        "https://management.azure.com/subscriptions/6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f/resourceGroups/rg/"
        "providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
    )


    def printed_token(request):  # a JWT in the script's output: the secret scan refuses the cassette
        token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0." + SENTINEL
        return httpx.Response(200, json={{"name": "rc1", "properties": {{"instanceView": {{"output": token}}}}}})


    def unparsable(request):  # JSON that does not parse but names a secret: the response hook refuses it
        body = b'{{"properties": {{"runAsPassword": "' + SENTINEL.encode() + b'", '
        return httpx.Response(200, content=body, headers={{"Content-Type": "application/json"}})


    def get(handler):
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            return client.get(URL)


    @pytest.mark.vcr
    def test_scan_refuses():
        get(printed_token)


    @pytest.mark.vcr
    def test_hook_refuses():
        get(unparsable)


    @pytest.mark.vcr
    def test_request_hook_refuses():
        body = b'{{"properties": {{"runAsPassword": "' + SENTINEL.encode() + b'", '
        with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client:
            client.patch(URL, content=body, headers={{"Content-Type": "application/json"}})


    @pytest.mark.vcr
    def test_hook_refuses_after_a_clean_one():
        get(lambda request: httpx.Response(200, json={{"name": "rc1"}}))
        get(unparsable)
    """
).format(sentinel=SENTINEL)


def _fragments(secret: str, size: int = 6) -> set[str]:
    """Every ``size``-character piece: pretty-printed locals split long strings across lines."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


@pytest.mark.parametrize("tb", ["auto", "long"])
def test_a_refused_secret_is_in_neither_the_output_nor_the_junit_xml(tmp_path: Path, tb: str) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    result = subprocess.run(
        [*PYTEST, "--record-mode=once", "-vv", "-l", f"--tb={tb}", "--junitxml=junit.xml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout + result.stderr
    xml = (tmp_path / "junit.xml").read_text()
    assert result.returncode == 1, out
    assert "ERROR test_recorded.py::test_scan_refuses - pytest_runcommand.cassettes.persister.SecretFoundError" in out
    for name in ("test_hook_refuses", "test_request_hook_refuses", "test_hook_refuses_after_a_clean_one"):
        assert f"ERROR test_recorded.py::{name} - pytest_runcommand.cassettes.hooks.MessageRefusedError" in out
    assert "the response cannot be sanitized with certainty" in out
    assert "the request cannot be sanitized with certainty" in out
    assert "record_mode = 'once'" in out  # a frame's locals, as -l prints them
    leaked = sorted(f for f in _fragments(SENTINEL) if f in out or f in xml)
    assert leaked == [], leaked
    assert not (tmp_path / "cassettes").exists() or not any((tmp_path / "cassettes").rglob("*.yaml"))
