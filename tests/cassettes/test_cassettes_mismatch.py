"""A replay with no recorded match, under the plugin: the message names the cassette, the sanitized request, the record
mode in force and where it came from, and the ``--record-mode`` that records it (vcrpy's own text calls ``once`` the
default, while pytest-recording's default is ``none``). Each case runs pytest in a subprocess through pytester."""

from __future__ import annotations

import textwrap

import pytest

SUB = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"
MODULE = textwrap.dedent(
    f"""
    import os

    import httpx
    import pytest

    URL = (
        "https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/"
        "virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01&sig=QuerySig-PLANTED"
    )


    def handler(request):
        return httpx.Response(200, json={{"name": "rc1", "properties": {{"provisioningState": "Succeeded"}}}})


    def patch(timeout):
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            body = {{"properties": {{"timeoutInSeconds": timeout, "runAsPassword": "Password-PLANTED"}}}}
            return client.patch(URL, json=body, headers={{"Authorization": "Bearer Token-PLANTED"}})


    @pytest.mark.vcr
    def test_patch():
        assert patch(int(os.environ.get("TIMEOUT", "60"))).status_code == 200


    @pytest.mark.vcr
    def test_requests():
        import requests

        body = {{"properties": {{"runAsPassword": "Password-PLANTED"}}}}
        requests.patch(URL, json=body, headers={{"Authorization": "Bearer Token-PLANTED"}}, timeout=5)


    @pytest.mark.vcr
    def test_twice():
        assert patch(60).status_code == 200
        if os.environ.get("TWICE"):
            assert patch(60).status_code == 200
    """
)
CASSETTE = "cassettes/test_mismatch/test_patch.yaml"
SANITIZED_URL = (
    "PATCH https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01&sig=REDACTED"
)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def _message(result: pytest.RunResult) -> str:
    """The failure as pytest shows it: the message alone, no frame (a frame would show the request as sent)."""
    text = result.stdout.str()
    assert "PLANTED" not in text, text
    assert "httpx_stubs.py" not in text, text
    return text


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_mismatch=MODULE)
    result = _run(pytester, "--record-mode=once", "test_mismatch.py::test_patch")
    result.assert_outcomes(passed=1)
    assert (pytester.path / CASSETTE).is_file()
    return pytester


def test_a_changed_request_names_the_cassette_the_request_the_mode_and_the_command(
    recorded: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMEOUT", "120")
    result = _run(recorded, "--block-network", "test_mismatch.py::test_patch")
    result.assert_outcomes(failed=1)
    message = _message(result)
    assert f"CassetteMismatchError: Cannot play back {SANITIZED_URL}: no recorded interaction matches it" in message
    assert f"cassette: {recorded.path / CASSETTE} (1 interactions recorded, 0 played)" in message
    assert "record mode: none (pytest-recording's default); it plays back and records nothing new" in message
    assert "json_body differs: at /properties/timeoutInSeconds: recorded 60, sent 120" in message
    assert "pytest test_mismatch.py::test_patch --record-mode=rewrite" in message
    assert "(the default)" not in message  # vcrpy's words for 'once'
    # the command it names records the cassette again, and the changed request then replays
    _run(recorded, "test_mismatch.py::test_patch", "--record-mode=rewrite").assert_outcomes(passed=1)
    _run(recorded, "--block-network", "test_mismatch.py::test_patch").assert_outcomes(passed=1)


@pytest.mark.parametrize("test", ["test_patch", "test_requests"])  # httpx's and urllib3's vcrpy stubs
def test_a_missing_cassette_names_once(pytester: pytest.Pytester, test: str) -> None:
    pytester.makepyfile(test_mismatch=MODULE)
    result = _run(pytester, "--block-network", f"test_mismatch.py::{test}")
    result.assert_outcomes(failed=1)
    message = _message(result)
    assert f"Cannot play back {SANITIZED_URL}: the cassette does not exist." in message
    cassette = pytester.path / CASSETTE.replace("test_patch", test)
    assert f"cassette: {cassette} (0 interactions recorded, 0 played)" in message
    assert f"record it: pytest test_mismatch.py::{test} --record-mode=once" in message


def test_the_mode_given_on_the_command_line_is_named(
    recorded: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMEOUT", "120")
    result = _run(recorded, "--record-mode=once", "test_mismatch.py::test_patch")
    result.assert_outcomes(failed=1)
    message = _message(result)
    assert "record mode: once (--record-mode); it plays back and records nothing new" in message
    assert "--record-mode=rewrite" in message


def test_a_mode_from_vcr_config_says_it_wins_over_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef vcr_config():\n    return {'record_mode': 'none'}\n")
    pytester.makepyfile(test_mismatch=MODULE)
    result = _run(pytester, "--record-mode=once", "test_mismatch.py::test_patch")
    result.assert_outcomes(failed=1)
    message = _message(result)
    assert "record mode: none (set by vcr_config or the vcr marker)" in message
    assert "(record_mode 'none' is set by vcr_config or the vcr marker, which win over --record-mode:" in message


def test_a_request_played_already_names_playback_repeats(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_mismatch=MODULE)
    _run(pytester, "--record-mode=once", "test_mismatch.py::test_twice").assert_outcomes(passed=1)
    monkeypatch.setenv("TWICE", "1")
    result = _run(pytester, "--block-network", "test_mismatch.py::test_twice")
    result.assert_outcomes(failed=1)
    message = _message(result)
    assert "every recorded interaction it matches has already been played back" in message
    assert "(1 interactions recorded, 1 played)" in message
    assert "allow_playback_repeats=True" in message
    assert "Closest recorded requests:" not in message
