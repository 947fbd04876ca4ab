"""No secret reaches a cassette in any encoding: recording tests against a real loopback server.

Hypothesis draws the classes of issue 11 - charsets and byte-order marks, content codings (gzip, x-gzip, zlib and raw
deflate) on the request and its echo, credential headers as ``bytes`` or ``str``, secret fields of unexpected shape
(and any case of their name), tokens in a query string and in a ``Location`` header - and records them with the real
``requests`` (the Azure SDK's transport) or ``httpx`` through vcrpy into a real cassette. A sentinel secret must then appear nowhere under the cassette
directory: not in the raw bytes, not in any value of the parsed YAML (``!!binary`` values decompressed and decoded in
every charset), and the cassette replays. What cannot be sanitized with certainty is refused: the call fails naming
the interaction and nothing is written.
"""

from __future__ import annotations

import base64
import codecs
import gzip
import json
import string
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import vcr as vcrpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes.hooks import MessageRefusedError
from pytest_runcommand.cassettes.playback import closest_match_errors, live_sanitized_view
from pytest_runcommand.cassettes.vcr import configure_vcr
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID, secret_properties

PATH = (
    f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/"
    "runCommands/rc"
)
CHARSETS: dict[str, tuple[str, bytes, str | None]] = {
    # name -> (python codec, prefix, charset parameter)
    "utf-8": ("utf-8", b"", None),
    "utf-8 charset": ("utf-8", b"", "utf-8"),
    "utf-8 BOM": ("utf-8", codecs.BOM_UTF8, None),
    "utf-16 BOM": ("utf-16-le", codecs.BOM_UTF16_LE, None),
    "utf-16be BOM": ("utf-16-be", codecs.BOM_UTF16_BE, None),
    "utf-16le charset": ("utf-16-le", b"", "utf-16le"),
    "utf-32 BOM": ("utf-32-le", codecs.BOM_UTF32_LE, None),
    "latin-1 charset": ("latin-1", b"", "ISO-8859-1"),
    "windows-1252 charset": ("cp1252", b"", "windows-1252"),
}
CODINGS: dict[str, tuple[str | None, Callable[[bytes], bytes]]] = {
    "identity": (None, lambda b: b),
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate zlib": ("deflate", zlib.compress),
    "deflate raw": ("deflate", lambda b: zlib.compress(b)[2:-4]),
    "gzip then deflate": ("gzip, deflate", lambda b: zlib.compress(gzip.compress(b))),
}


def _sentinel(prefix: str) -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits, min_size=16, max_size=24).map(lambda s: f"{prefix}{s}")


def _any_case(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper(), name[0].upper() + name[1:]])


def _shape(value: str) -> st.SearchStrategy[Any]:
    """``value`` in a shape a secret field should not have, or the documented one."""
    return st.sampled_from(
        [
            value,
            [value],
            {"secureValue": value},
            [{"name": "n", "value": value}],
            [{"name": "n", "value": {"inner": value}}],
            [{"name": "n", "value": [value, 1]}],
            {"n": value},
            {"a": {"b": [{"c": value}]}},
        ]
    )


@dataclass(frozen=True)
class Case:
    secrets: tuple[str, ...]
    body: Any
    media: str
    charset: str
    coding: str
    bytes_header: bool
    query_token: str
    location: str

    def request(self, base_url: str) -> tuple[str, bytes, dict[str, Any]]:
        codec, prefix, charset = CHARSETS[self.charset]
        header, compress = CODINGS[self.coding]
        text = json.dumps(self.body, ensure_ascii=False) if self.media == "application/json" else self.body
        raw = compress(prefix + text.encode(codec))
        token = f"Bearer {self.secrets[0]}"
        headers: dict[str, Any] = {
            "Content-Type": self.media + (f"; charset={charset}" if charset else ""),
            "Authorization": token.encode() if self.bytes_header else token,
            "X-Reply-H-Location": self.location,
        }
        if header:
            headers["Content-Encoding"] = header
        url = f"{base_url}{PATH}?api-version=2024-07-01&{self.query_token}"
        return url, raw, headers


@st.composite
def cases(draw: st.DrawFn) -> Case:
    bearer, field, query, location = (draw(_sentinel(p)) for p in ("Bt", "Sf", "Qt", "Lc"))
    names = sorted(secret_properties())
    media = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
    body: Any = {
        "properties": {
            "source": {"script": "echo hi"},
            **{draw(_any_case(name)): draw(_shape(field)) for name in names},
        }
    }
    if media != "application/json":  # an OAuth token request, or a script that names a SAS URL
        form_field = draw(st.sampled_from(["client_secret", "client_assertion", "refresh_token", "password", "code"]))
        body = (
            f"grant_type=client_credentials&client_id=app&{form_field}={field}"
            if media.endswith("urlencoded")
            else f"Invoke-WebRequest https://acct.blob.core.windows.net/c/run.ps1?sv=2022-11-02&sig={field} -OutFile x"
        )
    query_field = draw(st.sampled_from(["access_token", "client_secret", "code", "password", "refresh_token"]))
    location_field = draw(st.sampled_from(["code", "access_token", "id_token", "client_secret", "password"]))
    location_url = draw(
        st.sampled_from(
            [
                f"https://login.example/cb?state=s&{location_field}={location}",
                f"https://login.example/cb#{location_field}={location}&state=s",
                f"https://login.example/cb?{location_field}={location}",
            ]
        )
    )
    return Case(
        secrets=(bearer, field, query, location),
        body=body,
        media=media,
        charset=draw(st.sampled_from(sorted(CHARSETS))),
        coding=draw(st.sampled_from(sorted(CODINGS))),
        bytes_header=draw(st.booleans()),
        query_token=f"{query_field}={query}",
        location=location_url,
    )


def _decodings(value: bytes) -> Iterator[str]:
    """Every text a byte string could hold: decompressed or not, in every charset the cases use."""
    layers = [value]
    for inflate in (gzip.decompress, zlib.decompress, lambda b: zlib.decompress(b, -15)):
        try:
            layers.append(inflate(value))
        except (OSError, zlib.error, EOFError):
            continue
    for layer in layers:
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "latin-1"):
            yield layer.decode(codec, "ignore")


def _texts(document: Any) -> Iterator[str]:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, bytes):
            yield from _decodings(value)
        elif value is not None:
            yield str(value)


def assert_nowhere(directory: Path, secrets: tuple[str, ...]) -> None:
    """No secret under ``directory``: in raw bytes (any charset) or in any parsed value, decoded."""
    for path in (p for p in directory.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        texts = [*_decodings(raw), *_texts(yaml.safe_load(raw) if path.suffix == ".yaml" else None)]
        for secret in secrets:
            assert not any(secret in text for text in texts), f"{secret} found in {path.name}"


def record(directory: Path, base_url: str, case: Case, mode: str = "once", client: str = "requests") -> Any:
    """Send ``case`` with the real ``requests`` (as the Azure SDK does) or ``httpx`` through a vcrpy cassette."""
    recorder = vcrpy.VCR(cassette_library_dir=str(directory), record_mode=mode)
    configure_vcr(recorder)
    url, body, headers = case.request(base_url)
    with recorder.use_cassette("case.yaml") as cassette, live_sanitized_view(cassette), closest_match_errors(cassette):
        if client == "httpx":
            with httpx.Client() as session:
                return session.patch(url, content=body, headers=headers)
        with requests.Session() as session:
            return session.patch(url, data=body, headers=headers, allow_redirects=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), client=st.sampled_from(["requests", "httpx"]))
def test_no_secret_reaches_the_cassette_in_any_encoding(echo_server: str, case: Case, client: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        live = record(directory, echo_server, case, client=client)
        assert live.status_code == 200
        assert [p.name for p in directory.iterdir()] == ["case.yaml"]
        assert_nowhere(directory, case.secrets)
        assert case.secrets[1] not in live.text  # the test sees the sanitized echo, as it will on replay
        replayed = record(directory, echo_server, case, mode="none", client=client)
        assert replayed.content == live.content
        recorded = yaml.safe_load((directory / "case.yaml").read_text())["interactions"][0]
        assert all(isinstance(v, str) for values in recorded["request"]["headers"].values() for v in values)


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({"Content-Encoding": "gzip"}, b"\x1f\x8b not really gzip Snt-refused-1", "Content-Encoding gzip"),
        ({"Content-Encoding": "compress"}, b"\x1f\x9d\x90Snt-refused-2", "'compress' cannot be decoded"),
        ({"Content-Type": "application/json; charset=x-no-such"}, b'{"a": "Snt-refused-3"}', "unknown charset"),
        ({"Content-Type": "application/json"}, b'{"a": "Snt-refused-4 \xe9"}', "not UTF-8"),
        ({"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),
        ({"Content-Type": "application/json"}, b'{"runAsPassword": "Snt-refused-5"', "does not parse names"),
    ],
)
def test_what_cannot_be_sanitized_is_refused_and_nothing_is_written(
    echo_server: str, tmp_path: Path, headers: dict[str, str], body: bytes, reason: str
) -> None:
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="once")
    configure_vcr(recorder)
    url = f"{echo_server}{PATH}?api-version=2024-07-01"
    with (  # noqa: PT012 - the refusal surfaces when the cassette closes (not at the call: see hooks)
        pytest.raises(MessageRefusedError) as at_exit,
        recorder.use_cassette("case.yaml") as cassette,
        live_sanitized_view(cassette),
    ):
        assert requests.get(f"{echo_server}/clean").status_code == 200  # a clean interaction first
        requests.patch(url, data=body, headers=headers)
    message = str(at_exit.value)
    assert f"PATCH {url}" in message
    assert reason in message
    assert "Snt-refused" not in message
    assert "not written" in message
    assert list(tmp_path.iterdir()) == []


MODULE = """
import base64

import httpx
import pytest
import requests

CASES = {cases!r}


@pytest.mark.vcr
@pytest.mark.parametrize("index", range(len(CASES)))
def test_case(echo_server, index):
    url, body, headers = CASES[index]
    headers = {{k: base64.b64decode(v[4:]) if isinstance(v, str) and v.startswith("b64:") else v
               for k, v in headers.items()}}
    response = requests.patch(echo_server + url, data=base64.b64decode(body), headers=headers)
    assert response.status_code == 200
"""

CONFTEST = """
import pytest

from echo_server import EchoServer


@pytest.fixture(scope="session")
def echo_server():
    with EchoServer() as base_url:
        yield base_url
"""


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(cases(), min_size=12, max_size=12))
def test_recording_through_pytest_writes_no_secret(pytester: pytest.Pytester, drawn: list[Case]) -> None:
    encoded = []
    for case in drawn:
        url, body, headers = case.request("")
        wire = {k: f"b64:{base64.b64encode(v).decode()}" if isinstance(v, bytes) else v for k, v in headers.items()}
        encoded.append((url, base64.b64encode(body).decode(), wire))
    pytester.makepyfile(test_recorded=MODULE.format(cases=encoded))
    pytester.makeconftest(CONFTEST)
    (pytester.path / "echo_server.py").write_text(Path(__file__).with_name("echo_server.py").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once", "-q")
    result.assert_outcomes(passed=len(drawn))
    directory = pytester.path / "cassettes"
    assert len(list(directory.rglob("*.yaml"))) == len(drawn)
    assert_nowhere(directory, tuple(s for case in drawn for s in case.secrets))
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none", "--block-network", "-q")
    replayed.assert_outcomes(passed=len(drawn))


def _raw_cassette(path: Path, case: Case) -> None:
    """``case`` recorded by a careless recorder: nothing sanitized, bodies and bytes headers as ``!!binary``."""
    url, body, headers = case.request("https://management.azure.com")
    wire = {k: [v] for k, v in headers.items() if not k.startswith("X-Reply")}
    response_headers = {k: v for k, v in wire.items() if k != "Authorization"}
    document = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "PATCH", "uri": url, "body": body, "headers": wire},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {**response_headers, "Location": [case.location]},
                    "body": {"string": body},
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump(document))


@settings(max_examples=60, deadline=None)
@given(case=cases())
def test_check_flags_every_class_in_any_encoding(case: Case) -> None:
    from pytest_runcommand.cassettes.check import check_file

    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "careless.yaml"
        _raw_cassette(path, case)
        report = check_file(path, contract=False)
    assert report.error is None
    found = {finding.value_hash for finding in report.findings}
    for secret in case.secrets:
        assert hash(secret) in found, f"{secret} not flagged ({case.charset}, {case.coding})"
    assert not any(secret in str(finding) for finding in report.findings for secret in case.secrets)


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_the_hooks_are_idempotent_in_every_encoding(case: Case) -> None:
    """vcrpy runs the hooks again on replay and on every match: a second pass must change nothing."""
    from vcr.request import Request

    from pytest_runcommand.cassettes.hooks import request_sanitizer, response_sanitizer
    from pytest_runcommand.cassettes.sanitize import default_sanitizer

    url, body, headers = case.request("https://management.azure.com")
    on_request = request_sanitizer(default_sanitizer())
    once = on_request(Request("PATCH", url, body, headers))
    twice = on_request(Request("PATCH", once.uri, once.body, dict(once.headers)))
    assert (twice.uri, twice.body, dict(twice.headers)) == (once.uri, once.body, dict(once.headers))
    on_response = response_sanitizer(default_sanitizer())
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {k: [v] for k, v in headers.items()},
        "body": {"string": body},
    }
    first = on_response(response)
    assert on_response(first) == first
    assert not any(secret in repr(first) for secret in case.secrets[:2])


REFUSED_MODULE = """
import pytest
import requests


@pytest.mark.vcr
def test_refused(echo_server):
    assert requests.get(echo_server + "/clean").status_code == 200
    try:
        requests.patch(
            echo_server + "/subscriptions/x/runCommands/rc?api-version=2024-07-01",
            data=b"\\x1f\\x8b\\x08 not gzip Snt-through-pytest",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    except Exception:
        pass  # the echo server answers the broken gzip back, which the client cannot decode
"""


def test_a_refused_message_fails_the_test_and_writes_nothing_through_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_refused=REFUSED_MODULE)
    pytester.makeconftest(CONFTEST)
    (pytester.path / "echo_server.py").write_text(Path(__file__).with_name("echo_server.py").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once", "-q")
    result.assert_outcomes(passed=1, errors=1)  # the body passed; the save at teardown is refused
    out = result.stdout.str()
    assert "MessageRefusedError" in out
    assert "test_refused.yaml not written" in out
    assert "PATCH http://127.0.0.1:" in out
    assert "Content-Encoding gzip" in out
    assert "Snt-through-pytest" not in out
    assert not list(pytester.path.rglob("*.yaml"))
