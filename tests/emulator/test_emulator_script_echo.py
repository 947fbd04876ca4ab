"""A script's echo lines are read in time linear in the line: a long run of blanks stalled the whole emulator."""

from __future__ import annotations

import re
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.emulator.executor import _echoed_text
from pytest_runcommand.emulator.handles import InProcessEmulator, ServedEmulator

WHOLE_LINE = re.compile(r"^\s*(?:echo|Write-Host|Write-Output)\s+(.*?)\s*;?\s*$", re.IGNORECASE)
"""How an echo line was read before: one pattern for the whole line (its lazy argument backtracked over blanks)."""


def whole_line_text(line: str) -> str | None:
    match = WHOLE_LINE.match(line)
    if match is None:
        return None
    text = match.group(1)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["echo", "ECHO", "Write-Host", "write-output", "echoes", "  echo", "ls"]),
    st.text(alphabet=" \t;'\"ax\u00a0", max_size=20),
)
def test_an_echo_line_prints_what_the_whole_line_pattern_read(command: str, rest: str) -> None:
    line = command + rest
    assert _echoed_text(line) == whole_line_text(line)


SCRIPT = "echo a" + " \t" * 1_500 + "b"
"""About a minute of the whole-line pattern's backtracking: an emulator serving no one meanwhile."""


def test_a_script_with_a_long_run_of_blanks_is_answered_promptly(runcommand_emulator: InProcessEmulator) -> None:
    url = runcommand_emulator.run_command_path("blanks")
    started = time.perf_counter()
    answer = runcommand_emulator.client.put(
        url, json={"location": "westus", "properties": {"source": {"script": SCRIPT}}}
    )
    assert answer.status_code == 201
    assert time.perf_counter() - started < 5  # ~10 ms; a minute before
    shown = runcommand_emulator.client.get(url + "&$expand=instanceView").json()
    assert shown["properties"]["instanceView"]["output"] == "a" + " \t" * 1_500 + "b\n"


def test_other_clients_are_answered_while_a_long_script_line_runs(runcommand_emulator_server: ServedEmulator) -> None:
    server = runcommand_emulator_server
    url = server.run_command_path("blanks")
    body = {"location": "westus", "properties": {"source": {"script": SCRIPT}}}
    created = threading.Event()

    def write_then_read() -> None:
        with server.client(timeout=120) as writer:
            writer.put(url, json=body)
            created.set()
            writer.get(url + "&$expand=instanceView")  # the script's output: its echo lines read

    reader = threading.Thread(target=write_then_read)
    reader.start()
    try:
        assert created.wait(60)
        time.sleep(0.2)
        with server.client(timeout=5) as other:
            assert other.get(server.run_command_path()).status_code == 200  # ReadTimeout while the loop was stuck
    finally:
        reader.join(120)
