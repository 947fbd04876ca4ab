"""Draws depend on the contract, the options and the seed only: schemathesis's constants pool is off.

schemathesis 4.32 harvests literals from the in-process app's loaded modules into a pool for positive bodies; after an
in-process pytester run that pool crashed drawing CreateOrUpdate bodies (``TypeError: unhashable type:
'GeneratedValue'``) and, in any case, made the cases depend on which modules happened to be loaded.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

CREATE = "VirtualMachineRunCommands_CreateOrUpdate"


async def _always_500(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b'{"error": {"code": "Boom", "message": "boom"}}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_the_schema_asks_for_no_constants_pool() -> None:
    runner = FuzzRunner(emulator_target(), FuzzSettings(max_examples=1, stateful=False, operations=(CREATE,)))
    assert runner.schema.config.analysis.constants.enabled is False


def test_positive_bodies_draw_after_an_in_process_pytest_run(pytester: pytest.Pytester, serve_app: Any) -> None:
    """The crash scenario: a pytester fuzz run in this process, then positive CreateOrUpdate bodies drawn."""
    url = serve_app(_always_500)
    pytester.makepyfile(
        test_broken="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=3, operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    pytester.runpytest("-q", "-p", "no:cacheprovider", f"--runcommand-target={url}").assert_outcomes(failed=1)
    settings = FuzzSettings(max_examples=15, modes=("positive",), stateful=False)
    report = FuzzRunner(emulator_target(), settings).run([f"{CREATE} positive"])
    assert report.cases >= 1
    assert not report.errors, report.errors
