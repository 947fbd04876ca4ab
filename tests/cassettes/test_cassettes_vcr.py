"""vcrpy glue, driven from plain Python: real vcrpy, real httpx, real cassettes on disk.

The "server" is an ``httpx.MockTransport`` handler; vcrpy records and replays it like any transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr as vcrpy

from pytest_runcommand.cassettes.hooks import MessageRefusedError
from pytest_runcommand.cassettes.persister import SafePersister, SecretFoundError
from pytest_runcommand.cassettes.playback import (
    CassetteMismatchError,
    closest_match_errors,
    live_sanitized_view,
    no_wait_playback,
)
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.vcr import cassette_interactions, configure_vcr
from pytest_runcommand.errors import InputError

SUB = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"
BASE = "https://management.azure.com"
RC = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1"
URL = f"{BASE}{RC}?api-version=2024-07-01"
SAS = "https://acct.blob.core.windows.net/s/run.ps1?sv=2022-11-02&sp=r&sig=SasSigValue123"
PATCH_BODY = {
    "properties": {
        "source": {"scriptUri": SAS},
        "runAsPassword": "P4ssw0rd-value",
        "protectedParameters": [{"name": "key", "value": "protected-value"}],
    }
}
TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJhcm0ifQ.signature-value"


def _arm(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content or b"{}")
    properties = {
        k: v for k, v in body.get("properties", {}).items() if k not in ("runAsPassword", "protectedParameters")
    }
    payload = {
        "id": RC,
        "name": "rc1",
        "type": "Microsoft.Compute/virtualMachines/runCommands",
        "location": "westus",
        "properties": {**properties, "provisioningState": "Succeeded"},
    }
    return httpx.Response(
        200,
        json=payload,
        headers={"Set-Cookie": "session=cookie-value; path=/", "Retry-After": "30"},
    )


@contextlib.contextmanager
def cassette(
    directory: Path, mode: str, handler: Callable[[httpx.Request], httpx.Response] = _arm, **config: Any
) -> Iterator[tuple[Any, httpx.Client]]:
    recorder = vcrpy.VCR(cassette_library_dir=str(directory), record_mode=mode)
    configure_vcr(recorder)
    with (
        recorder.use_cassette("case.yaml", **config) as cas,
        live_sanitized_view(cas),
        closest_match_errors(cas),
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
    ):
        yield cas, client


def _patch(client: httpx.Client, **headers: str) -> httpx.Response:
    return client.patch(URL, json=PATCH_BODY, headers={"Authorization": f"Bearer {TOKEN}", **headers})


def test_recording_writes_no_secret_and_the_test_sees_the_sanitized_response(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        live = _patch(client)
    text = (tmp_path / "case.yaml").read_text()
    for secret in ("P4ssw0rd-value", "protected-value", "SasSigValue123", TOKEN, SUB, "cookie-value"):
        assert secret not in text
    assert "sig=REDACTED" in live.json()["properties"]["source"]["scriptUri"]
    assert SUB not in live.text
    assert live.headers["content-length"] == str(len(live.content))
    with cassette(tmp_path, "none") as (_, client):
        replayed = _patch(client)
    assert replayed.json() == live.json()
    assert replayed.status_code == live.status_code == 200


def test_matching_ignores_volatile_headers_key_order_and_query_order(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        client.patch(URL + "&b=2&a=1", content=json.dumps(PATCH_BODY), headers={"x-ms-client-request-id": "1"})
    reordered = json.dumps({"properties": dict(reversed(list(PATCH_BODY["properties"].items())))}, indent=4)
    url = f"{BASE}{RC.lower()}?a=1&api-version=2024-07-01&b=2"
    with cassette(tmp_path, "none") as (cas, client):
        response = client.patch(
            url,
            content=reordered,
            headers={"x-ms-client-request-id": "2", "User-Agent": "other/1.0", "traceparent": "00-abc-def-01"},
        )
        assert response.status_code == 200
        assert cas.play_count == 1


def test_an_unmatched_request_names_the_closest_and_the_matcher(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
    with cassette(tmp_path, "none") as (_, client), pytest.raises(CassetteMismatchError) as caught:
        client.patch(
            URL.replace("2024-07-01", "2023-03-01") + "&sig=LeakedInQuery",
            json=PATCH_BODY,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    message = str(caught.value)
    assert "Closest recorded requests:" in message
    assert "api_version differs: api-version 2023-03-01 != 2024-07-01" in message
    assert "arm_query differs" in message
    for secret in ("LeakedInQuery", TOKEN, SUB, "P4ssw0rd-value"):
        assert secret not in message


def test_a_different_json_body_is_named(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
    other = {"properties": {**PATCH_BODY["properties"], "timeoutInSeconds": 60}}
    with cassette(tmp_path, "none") as (_, client), pytest.raises(CassetteMismatchError, match="json_body differs"):
        client.patch(URL, json=other)


def test_retry_after_replays_as_zero(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        assert _patch(client).headers["retry-after"] == "30"
    with cassette(tmp_path, "none") as (_, client):
        assert _patch(client).headers["retry-after"] == "0"
    assert "retry-after:\n      - '30'" in (tmp_path / "case.yaml").read_text()


def test_azure_polling_delay_is_skipped_only_in_playback(tmp_path: Path) -> None:
    from azure.core.polling.async_base_polling import AsyncLROBasePolling
    from azure.core.polling.base_polling import LROBasePolling

    original = LROBasePolling._delay
    with cassette(tmp_path, "once") as (cas, client):
        _patch(client)
        with no_wait_playback(cas) as skipped:
            assert skipped is False
            assert LROBasePolling._delay is original
    with cassette(tmp_path, "none") as (cas, _):
        with no_wait_playback(cas) as skipped:
            assert skipped is True
            assert LROBasePolling._delay is not original
            assert LROBasePolling.__dict__["_delay"](object()) is None
            assert AsyncLROBasePolling.__dict__["_delay"].__name__ == "no_delay_async"
        assert LROBasePolling._delay is original


def test_a_secret_left_by_a_removed_rule_blocks_the_write(tmp_path: Path) -> None:
    sanitizer = default_sanitizer().without("run-as-password")
    with (
        pytest.raises(SecretFoundError) as caught,
        cassette(tmp_path, "once", runcommand_sanitizer=sanitizer) as (_, client),
    ):
        _patch(client)
    message = str(caught.value)
    assert "case.yaml not written" in message
    assert "(interaction #0) request.body /properties/runAsPassword" in message
    assert "P4ssw0rd-value" not in message
    assert list(tmp_path.iterdir()) == []  # nothing on disk, not even a temporary file


def test_a_failed_scan_keeps_the_previous_cassette(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
    before = (tmp_path / "case.yaml").read_bytes()
    sanitizer = default_sanitizer().without("run-as-password")
    with pytest.raises(SecretFoundError), cassette(tmp_path, "all", runcommand_sanitizer=sanitizer) as (_, client):
        _patch(client)
    assert (tmp_path / "case.yaml").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["case.yaml"]


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all", "none"])
def test_a_corrupt_cassette_is_reported_and_never_overwritten(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("version: 1\ninteractions:\n- request: {method: GET, uri: 'x'\n")
    before = path.read_bytes()
    with pytest.raises(InputError) as caught, cassette(tmp_path, mode) as (_, client):
        _patch(client)
    assert f"{path}:" in str(caught.value)
    assert path.read_bytes() == before


def test_a_bad_sanitizer_setting_is_named(tmp_path: Path) -> None:
    with (
        pytest.raises(InputError, match=r"runcommand_sanitizer.*must be a Sanitizer"),
        cassette(tmp_path, "once", runcommand_sanitizer="nope"),
    ):
        pass


def test_user_hooks_run_before_the_sanitizer(tmp_path: Path) -> None:
    seen: list[str] = []

    def mine(request: Any) -> Any:
        seen.append(request.headers.get("Authorization", ""))
        request.headers["X-Mine"] = "1"
        return request

    with cassette(tmp_path, "once", before_record_request=mine) as (_, client):
        _patch(client)
    assert f"Bearer {TOKEN}" in seen
    text = (tmp_path / "case.yaml").read_text()
    assert "X-Mine" in text
    assert TOKEN not in text


def test_cassette_interactions_are_the_used_ones(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
        client.get(URL)
    with cassette(tmp_path, "none") as (cas, client):
        client.get(URL)
        used = list(cassette_interactions(cas))
        everything = list(cassette_interactions(cas, used_only=False))
    assert [i.method for i in used] == ["GET"]
    assert [i.method for i in everything] == ["PATCH", "GET"]
    assert used[0].source == "case.yaml#1"
    assert used[0].response_json["name"] == "rc1"
    assert "00000000-0000-0000-0000-000000000000" in used[0].url


def test_a_kept_cassette_is_never_rewritten(tmp_path: Path) -> None:
    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
    path = tmp_path / "case.yaml"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    for mode in ("once", "none"):
        with cassette(tmp_path, mode) as (_, client):
            assert _patch(client).headers["retry-after"] == "0"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_pytest_recording_extra_cassettes_still_load(tmp_path: Path) -> None:
    from pytest_recording._vcr import CombinedPersister

    with cassette(tmp_path, "once") as (_, client):
        _patch(client)
    from vcr.serializers import yamlserializer

    persister = SafePersister(CombinedPersister([str(tmp_path / "case.yaml")]), default_sanitizer())
    requests, responses = persister.load_cassette(str(tmp_path / "absent.yaml"), serializer=yamlserializer)
    assert [r.method for r in requests] == ["PATCH"]
    assert len(responses) == 1


def test_after_a_refused_cassette_vcrpy_patches_are_gone(tmp_path: Path) -> None:
    unpatched = httpx.MockTransport.handle_request
    sanitizer = default_sanitizer().without("run-as-password")
    routed: list[bool] = []

    def record() -> None:
        with cassette(tmp_path / "a", "once", runcommand_sanitizer=sanitizer) as (_, client):
            routed.append(httpx.MockTransport.handle_request is not unpatched)
            _patch(client)

    with pytest.raises(SecretFoundError):
        record()
    assert routed == [True]  # vcrpy routed the transport to the cassette...
    assert httpx.MockTransport.handle_request is unpatched  # ...and let go of it although the save was refused
    assert not (tmp_path / "a").exists()


def _uncertain(request: httpx.Request) -> httpx.Response:
    """An answer the sanitizer cannot read with certainty (a charset nobody knows), holding a sentinel."""
    return httpx.Response(
        200, content=b'{"runAsPassword": "Snt-decorated"}', headers={"Content-Type": "application/json; charset=x-no"}
    )


@pytest.mark.parametrize("form", ["path", "bare", "coroutine"])
def test_a_decorated_function_raises_a_refusal_and_writes_nothing(tmp_path: Path, form: str) -> None:
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="once")
    configure_vcr(recorder)

    def call() -> int:
        with httpx.Client(transport=httpx.MockTransport(_uncertain)) as client:
            return client.get(URL).status_code

    async def call_async() -> int:
        return call()

    if form == "path":
        decorated: Callable[[], Any] = recorder.use_cassette("case.yaml")(call)
    elif form == "bare":
        decorated = recorder.use_cassette(call)
    else:
        decorated_async = recorder.use_cassette("case.yaml")(call_async)
        decorated = lambda: asyncio.run(decorated_async())  # noqa: E731
    for _ in range(2):  # every call of the decorated function is guarded, not only the first
        with pytest.raises(MessageRefusedError) as refused:
            decorated()
        assert "not written" in str(refused.value)
        assert "Snt-decorated" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_decorated_function_records_and_replays_what_it_sent(tmp_path: Path) -> None:
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="once")
    configure_vcr(recorder)
    served: list[httpx.Request] = []

    @recorder.use_cassette("case.yaml")
    def patch() -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(lambda r: served.append(r) or _arm(r))) as client:
            return _patch(client)

    assert patch().status_code == 200
    assert "P4ssw0rd-value" not in (tmp_path / "case.yaml").read_text()
    replayed = patch()
    assert len(served) == 1  # the second call was played back from the cassette
    assert replayed.json()["properties"]["source"]["scriptUri"].endswith("sig=REDACTED")
