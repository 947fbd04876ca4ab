"""The emulator fixtures as a user meets them: documented in ``pytest --fixtures``, fresh or reset per test."""

from __future__ import annotations

import pytest


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:randomly")
    output = result.stdout.str()
    assert "runcommand_emulator -- " in output
    assert "A fresh in-process Azure run-command emulator for this test" in output
    assert "runcommand_emulator_server -- " in output
    assert "A real emulator server over TLS on 127.0.0.1" in output


def test_in_process_state_is_fresh_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_runcommand.emulator.executor import Outcome

        @pytest.mark.parametrize("round", [1, 2])
        def test_create(runcommand_emulator, round):
            client = runcommand_emulator.client
            url = runcommand_emulator.run_command_path("rc1")
            assert client.get(url).status_code == 404
            runcommand_emulator.executor.register(Outcome.failure(7), script="boom")
            body = {"location": "westus", "properties": {"source": {"script": "boom"}}}
            assert client.put(url, json=body).status_code == 201
            view = client.get(url + "&$expand=instanceView").json()["properties"]["instanceView"]
            assert view["exitCode"] == 7
            assert len(runcommand_emulator.executor.runs) == 1
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_served_state_is_reset_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("round", [1, 2])
        def test_create(runcommand_emulator_server, round):
            assert runcommand_emulator_server.base_url.startswith("https://127.0.0.1:")
            url = runcommand_emulator_server.run_command_path("rc1")
            with runcommand_emulator_server.client() as client:
                assert client.get(url).status_code == 404
                body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
                assert client.put(url, json=body).status_code == 201
            runcommand_emulator_server.backend.settings.auto_create_vms = False
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
