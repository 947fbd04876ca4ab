"""The one target resolver: what is checked is where requests go, loopback is literal, no proxy, no real token.

Where traffic would go is observed with listeners on loopback (real sockets): a host that must not be reached, or
a proxy that must see nothing.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from pytest_runcommand.cli import main
from pytest_runcommand.contract import get_contract
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.live import GuardRefusal, LiveScope
from pytest_runcommand.fuzz.targets import (
    CLI_ROUTE,
    LIVE_MAX_REQUESTS,
    LIVE_RATE,
    PYTEST_ROUTE,
    TargetRequest,
    is_loopback,
    parse_target_url,
    resolve_target,
    url_target,
)

SUB = "11111111-2222-3333-4444-555555555555"
SCOPE_ENV = {"AZURE_SUBSCRIPTION_ID": SUB, "AZURE_RESOURCE_GROUP": "rg1", "AZURE_VM_NAME": "vm1"}
SCOPE_ARGS = {"subscription": SUB, "resource_group": "rg1", "vm": "vm1"}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://127.0.0.1:8443", True),
        ("http://127.9.8.7", True),
        ("http://localhost", True),
        ("http://LocalHost:1/base/", True),
        ("https://[::1]:1", True),
        ("http://testserver", False),
        ("http://localhost.localdomain", False),
        ("https://management.azure.com", False),
        ("https://10.0.0.1", False),
        ("http://[::ffff:127.0.0.1]", False),
    ],
)
def test_only_literal_loopback_counts(url: str, loopback: bool) -> None:
    assert parse_target_url(url).loopback is loopback
    assert is_loopback(url) is loopback


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("http://evil.example\\@127.0.0.1", "'\\\\'"),
        ("http://evil.example@127.0.0.1", "user info"),
        ("http://127.0.0.1:1@evil.example", "user info"),
        ("http://127.1", "IPv4"),
        ("http://0x7f.1", "IPv4"),
        ("http://2130706433", "IPv4"),
        ("http://127.0.0.1/x?y=1", "no query"),
        ("http://127.0.0.1#f", "no query"),
        ("http://[::1%25lo]", "no zone"),
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1 ", "' '"),
        ("http://caf\u00e9.example", "'\u00e9'"),
        ("ftp://127.0.0.1", "http(s)"),
        ("http://", "no host"),
    ],
)
def test_ambiguous_targets_are_refused_naming_the_flag(url: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_target_url(url, flag="--target")
    assert str(caught.value).startswith("--target ")
    assert named in str(caught.value)


HOSTS = st.sampled_from(
    ["127.0.0.1", "127.5.6.7", "localhost", "LOCALHOST", "testserver", "evil.example", "[::1]", "[::ffff:127.0.0.1]",
     "127.1", "0x7f.1", "0177.0.0.1", "localhost.", "127.0.0.1.nip.io", "[::1]x", "1.2.3.4.5", "xn--caf-dma.example"]
)  # fmt: skip
PIECES = st.sampled_from(
    ["", "@", "u@", "u:p@", "evil.example\\@", "\\", "%40", "/", ":", "#", "?", " ", "\t", "\u200b"]
)


@st.composite
def target_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=40))
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp"]))
    port = draw(st.sampled_from(["", ":1", ":8443", ":65535", ":0", ":x"]))
    path = draw(st.sampled_from(["", "/", "/base", "/a/b/", "/%2e%2e/", "/a?b", "#x"]))
    return f"{scheme}://{draw(PIECES)}{draw(HOSTS)}{draw(PIECES)}{port}{path}"


@settings(max_examples=400, deadline=None)
@given(text=target_texts())
def test_the_parsed_host_is_where_requests_go(text: str) -> None:
    """Any text is refused, or the URL sent (as requests/urllib3 read it) names exactly the host that was checked."""
    try:
        parsed = parse_target_url(text)
    except UsageError:
        return
    assert "@" not in text
    assert "\\" not in text
    prepared = requests.Request("GET", parsed.base_url + "/subscriptions/x?api-version=1").prepare()
    sent = parse_url(prepared.url)
    assert (sent.host or "").strip("[]") == parsed.host
    assert sent.port == parsed.port
    assert sent.scheme == parsed.scheme
    literal = parsed.host == "localhost" or _loopback_address(parsed.host)
    assert parsed.loopback is literal


def _loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_a_backslash_host_reaches_nothing(listener: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """``http://evil.example\\@127.0.0.1``: not sent anywhere (once it was called loopback and sent to evil.example)."""
    for url in (f"http://evil.example\\@127.0.0.1:{listener.port}", f"http://evil.example@127.0.0.1:{listener.port}"):
        assert main(["fuzz", "--target", url, "--max-examples", "1", "--no-stateful"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("pytest-runcommand fuzz: error: --target"), err
        assert "'\\\\'" in err or "user info" in err, err
    assert listener.seen == []


def test_testserver_is_not_loopback_for_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--target", "http://testserver", "--max-examples", "1"]) == 2
    assert "is not on loopback: add --live" in capsys.readouterr().err
    assert main(["fuzz", "--target", "http://testserver", "--live", "--max-examples", "1"]) == 2
    assert "must use https" in capsys.readouterr().err


class HeaderTap:
    """ASGI middleware remembering the Authorization header of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or ())
        self.tokens.append(headers.get(b"authorization", b"").decode("latin-1"))
        await self.app(scope, receive, send)


def _claims(token: str) -> dict[str, Any]:
    payload = token.removeprefix("Bearer ").split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_loopback_never_gets_a_real_token_nor_a_proxy(
    listener: Any,
    make_broken: Any,
    serve_app: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A loopback target gets the emulator's test token (not AZURE_ACCESS_TOKEN) and ignores every proxy variable."""
    real = "REAL-TOKEN-SENTINEL-7f3a9c"
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", real)
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, listener.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    tap = HeaderTap(make_broken())
    url = serve_app(tap)
    code = main(["fuzz", "--target", url, "--max-examples", "4", "--no-stateful", "--mode", "positive"])
    captured = capsys.readouterr()
    assert code == 1, captured.out + captured.err  # the broken service's echoed password is found
    assert listener.seen == []
    operations = len(get_contract().by_id)
    assert f"{4 * operations} cases over {operations} operations" in captured.out  # 4 positive cases each
    assert len(tap.tokens) == 4 * operations
    assert all(_claims(token)["iss"] == "https://pytest-runcommand.invalid/emulator/" for token in tap.tokens)
    assert real not in json.dumps(tap.tokens) + captured.out + captured.err
    assert "Credential" not in captured.out + captured.err


def test_loopback_needs_no_token_and_never_asks_azure_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_ACCESS_TOKEN", raising=False)
    monkeypatch.setattr("azure.identity.DefaultAzureCredential", None)  # calling it would raise TypeError
    target = resolve_target(TargetRequest(target="http://127.0.0.1:9"), CLI_ROUTE, environ={})
    assert _claims(target.headers["Authorization"])["sub"] == "pytest-runcommand-emulator"
    assert target.proxies == {}
    assert target.guard.max_requests == 0


def test_the_emulator_target_has_the_credentials_token_without_loading_azure_core() -> None:
    """The in-process target's token is what EmulatorCredential hands out, minted without azure.core's AccessToken
    (imported by nothing else a fuzz test needs: a worker's first fuzz test no longer pays for it)."""
    code = (
        "import sys, time\n"
        "time.time = lambda: 1_700_000_000.5  # both mint in the same second\n"
        "from pytest_runcommand.fuzz.targets import emulator_target\n"
        "token = emulator_target(app=object.__new__(type('App', (), {'backend': type('B', (), {'reset': None})()})))"
        ".headers['Authorization']\n"
        "assert 'azure.core' not in sys.modules, 'azure.core imported'\n"
        "from pytest_runcommand.emulator.credential import EmulatorCredential\n"
        "print(token == 'Bearer ' + EmulatorCredential().get_token().token)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_a_live_target_reads_its_token_proxies_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    env = {**SCOPE_ENV, "AZURE_ACCESS_TOKEN": "live-token"}
    target = resolve_target(TargetRequest(target="https://management.azure.com/", live=True), CLI_ROUTE, env)
    assert target.base_url == "https://management.azure.com"
    assert target.headers["Authorization"] == "Bearer live-token"
    assert target.proxies.get("https") == "http://proxy.example:3128"
    assert (target.guard.max_requests, target.guard.rate) == (LIVE_MAX_REQUESTS, LIVE_RATE)
    assert target.scope is not None
    assert target.scope.vm == "vm1"
    assert target.transport_kwargs()["allow_redirects"] is False


def test_a_ca_bundle_that_is_not_pem_is_named(tmp_path: Path) -> None:
    text = tmp_path / "hostname"
    text.write_text("myhost\n")
    with pytest.raises(UsageError) as caught:
        resolve_target(TargetRequest(target="https://127.0.0.1:1", ca_cert=str(text)), CLI_ROUTE, {})
    assert str(caught.value).startswith(f"--ca-cert {text}: not a PEM CA bundle (")
    with pytest.raises(UsageError, match=r"REQUESTS_CA_BUNDLE .*: not a PEM CA bundle"):
        resolve_target(TargetRequest(target="https://127.0.0.1:1"), CLI_ROUTE, {"REQUESTS_CA_BUNDLE": str(text)})


@pytest.mark.parametrize(
    ("request_", "env", "message"),
    [
        (TargetRequest(target="https://management.azure.com"), {}, "set RUNCOMMAND_FUZZ_LIVE=1"),
        (TargetRequest(target="http://example.com"), {"RUNCOMMAND_FUZZ_LIVE": "1"}, "must use https"),
        (TargetRequest(target="https://example.com"), {"RUNCOMMAND_FUZZ_LIVE": "1"}, "AZURE_SUBSCRIPTION_ID"),
        (TargetRequest(target="http://evil.example\\@127.0.0.1"), {}, "--runcommand-target"),
    ],
)
def test_the_pytest_route_has_the_same_guard(request_: TargetRequest, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(".", r"\.")):
        resolve_target(request_, PYTEST_ROUTE, env)


def test_the_pytest_route_refuses_plain_http_live(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMMAND_FUZZ_LIVE", "1")
    for name, value in {**SCOPE_ENV, "AZURE_ACCESS_TOKEN": "t"}.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(
        test_live="""
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--runcommand-target=http://example.com")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--runcommand-target http://example.com: a live target must use https*"])
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_the_session_sends_nothing_off_the_target(listener: Any) -> None:
    """Requests a check or the clean-up builds pass the same guard: another origin, user info, or out of scope."""
    scope = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1")
    target = url_target("http://127.0.0.1:1", token="t", scope=scope)
    inside = f"http://127.0.0.1:1{scope.parent_path}/runCommands"
    with target.open_session() as session:
        for url in (f"{listener.url}/subscriptions", f"http://u@127.0.0.1:1{scope.parent_path}", inside + "/other"):
            with pytest.raises(GuardRefusal):
                session.get(url)
    assert listener.seen == []
    assert target.guard.refused == 3


def test_a_live_target_without_credentials_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class NoCredential:
        def get_token(self, *scopes: str) -> Any:
            raise RuntimeError(
                "DefaultAzureCredential failed to retrieve a token.\n" + "Attempted: a credential\n" * 15
            )

    monkeypatch.setattr("azure.identity.DefaultAzureCredential", NoCredential)
    for name, value in SCOPE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AZURE_ACCESS_TOKEN", raising=False)
    assert main(["fuzz", "--target", "https://management.azure.com", "--live"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "no Azure credential: set AZURE_ACCESS_TOKEN or sign in (az login)" in err


@pytest.mark.parametrize(
    ("request_", "env", "message"),
    [
        (TargetRequest(target="http://127.0.0.1:1", ca_cert="/nonexistent.pem"), {}, "--ca-cert /nonexistent.pem"),
        (TargetRequest(target="http://127.0.0.1:1"), {"REQUESTS_CA_BUNDLE": "/no.pem"}, "REQUESTS_CA_BUNDLE /no.pem"),
        (TargetRequest(target="http://127.0.0.1:1", rate=-1.0), {}, "rate: expected a positive number"),
        (TargetRequest(target="http://127.0.0.1:1", subscription="s"), {}, "a scoped target needs --resource-group"),
        (TargetRequest(target="http://127.0.0.1:1", name_prefix="x", **SCOPE_ARGS), {}, "--name-prefix"),
    ],
)
def test_bad_settings_are_named(request_: TargetRequest, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_target(request_, CLI_ROUTE, env)
    assert message in str(caught.value)


def test_a_ca_bundle_is_refused_where_no_tls_is_verified(tmp_path: Path) -> None:
    """Review 13, finding 10 (b, c): a CA bundle with an http target, or with the emulator target from pytest, was
    accepted and ignored (a missing file too); the command line already refused it with the emulator target."""
    missing = str(tmp_path / "nonexistent.pem")
    for route in (CLI_ROUTE, PYTEST_ROUTE):
        with pytest.raises(UsageError, match="is http \\(no TLS to trust\\); give https:// or no CA bundle"):
            resolve_target(TargetRequest(target="http://127.0.0.1:9", ca_cert=missing), route, {})
        with pytest.raises(UsageError, match="the emulator target takes none"):
            resolve_target(TargetRequest(target="emulator", ca_cert=missing), route, {})
    with pytest.raises(UsageError, match=r"^--runcommand-ca-cert \(runcommand_ca_cert\): for an https"):
        resolve_target(TargetRequest(target="emulator", ca_cert=missing), PYTEST_ROUTE, {})
