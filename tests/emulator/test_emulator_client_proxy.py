"""The served emulator's own client reaches it behind a proxy setting (corporate CI runners set HTTPS_PROXY)."""

from __future__ import annotations

import pytest

TEST = """
def test_served_client_under_proxy(runcommand_emulator_server):
    with runcommand_emulator_server.client() as client:
        answer = client.get(
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute/locations/westus"
            "/runCommands?api-version=2024-07-01"
        )
    assert answer.status_code == 200
"""


def test_the_served_client_ignores_proxy_variables(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there: a client using it fails
    pytester.makepyfile(test_proxy=TEST)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
