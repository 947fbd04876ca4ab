"""The proxy trap records and refuses each request that tries to leave loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pytest_runcommand.azcli import LOOPBACK, ProxyTrap


@pytest.fixture
def trap() -> Iterator[ProxyTrap]:
    proxy = ProxyTrap()
    try:
        yield proxy
    finally:
        proxy.close()


def test_proxy_trap_records_and_refuses(trap: ProxyTrap) -> None:
    for host in ("login.microsoftonline.com", "management.azure.com"):
        with socket.create_connection(("127.0.0.1", trap.port), timeout=5) as conn:
            conn.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert conn.recv(100).startswith(b"HTTP/1.1 403")
    assert trap.attempts == [
        "CONNECT login.microsoftonline.com:443 HTTP/1.1",
        "CONNECT management.azure.com:443 HTTP/1.1",
    ]


def test_a_silent_connection_is_recorded_too(trap: ProxyTrap) -> None:
    with socket.create_connection(("127.0.0.1", trap.port), timeout=5) as conn:
        conn.shutdown(socket.SHUT_WR)
        conn.recv(100)
    assert trap.attempts == ["(nothing sent)"]


def test_every_proxy_variable_points_at_the_trap(trap: ProxyTrap) -> None:
    env = trap.environment()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        assert env[name] == env[name.lower()] == f"http://127.0.0.1:{trap.port}"
    assert env["NO_PROXY"] == env["no_proxy"] == LOOPBACK


def test_close_stops_listening() -> None:
    trap = ProxyTrap()
    trap.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", trap.port), timeout=2).close()
