"""The pytest route's example database: the marker's ``database`` or ``--runcommand-fuzz-database``, as the CLI's."""

from __future__ import annotations

import json
from typing import Any

import pytest

SUITE = """
import pytest

@pytest.mark.runcommand_fuzz(max_examples=3, operations=["VirtualMachineRunCommands_Update"], stateful=False{marker})
def test_contract(runcommand_schema):
    runcommand_schema.fuzz()
"""


async def _always_500(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    body = json.dumps({"error": {"code": "InternalServerError", "message": "broken"}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("marker", "options", "saved_in"),
    [
        ("", ["--runcommand-fuzz-database=examples"], "examples"),
        ("", ["--runcommand-fuzz-database"], ".hypothesis"),
        (", database=True", [], ".hypothesis"),
        (", database='mine'", ["--runcommand-fuzz-database=examples"], "mine"),
        ("", [], None),
    ],
)
def test_failures_are_saved_where_asked(
    pytester: pytest.Pytester, serve_app: Any, marker: str, options: list[str], saved_in: str | None
) -> None:
    url = serve_app(_always_500)
    pytester.makepyfile(test_broken=SUITE.format(marker=marker))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", f"--runcommand-target={url}", *options)
    result.assert_outcomes(failed=1)
    saved = sorted(path.name for path in pytester.path.iterdir() if path.is_dir() and not path.name.startswith("_"))
    assert saved == ([saved_in] if saved_in else [])
    if saved_in:
        assert any((pytester.path / saved_in).rglob("*")), "nothing saved"


def test_the_ini_value_names_the_database(pytester: pytest.Pytester, serve_app: Any) -> None:
    url = serve_app(_always_500)
    pytester.makeini("[pytest]\nruncommand_fuzz_database = from-ini\n")
    pytester.makepyfile(test_broken=SUITE.format(marker=""))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", f"--runcommand-target={url}")
    result.assert_outcomes(failed=1)
    assert any((pytester.path / "from-ini").rglob("*"))
