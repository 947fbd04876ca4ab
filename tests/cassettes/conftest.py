"""Fixtures of the cassette tests: a real loopback HTTP server that echoes what it is sent."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ECHO_SERVER_FILE = Path(__file__).with_name("echo_server.py")


def load_echo_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runcommand_echo_server", ECHO_SERVER_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def echo_server() -> Iterator[str]:
    """The base URL of a session-wide echo server on 127.0.0.1."""
    with load_echo_server().EchoServer() as base_url:
        yield base_url
