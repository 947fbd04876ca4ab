"""Serving the emulator leaves the host's logging as it was (review 11, finding 7): uvicorn's own set-up closed every
handler of the process, so pytest's ``--log-file`` took no record after the first test that used the TLS fixture."""

from __future__ import annotations

import pytest

TESTS = """
import logging

log = logging.getLogger("user.code")


def test_a_before():
    log.warning("before served")


def test_b_served(runcommand_emulator_server):
    log.warning("while served at %s", runcommand_emulator_server.base_url)


def test_c_after():
    log.warning("after served")
"""


def test_the_log_file_keeps_every_record_after_a_served_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_logs=TESTS)
    log_file = pytester.path / "pytest.log"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--log-file={log_file}", "--log-file-level=INFO")
    result.assert_outcomes(passed=3)
    written = log_file.read_text(encoding="utf-8")
    for record in ("before served", "while served at https://127.0.0.1:", "after served"):
        assert record in written, written
