"""Property: whatever secrets a recording carries, in any slot, none of them reaches the cassette directory.

Hypothesis draws the values; a recording covers every slot the sanitizer owns: the Authorization header,
runAsPassword, protectedParameters values, SAS signatures in scriptUri / outputBlobUri / errorBlobUri (request
and response bodies) and in a request URL, subscription ids (URLs, bodies, headers), the OAuth token
exchange with login.microsoftonline.com (form fields and token response), Set-Cookie, and the signed
query fields of the LRO status URL (response header and the poll request). The check reads every file
under the cassette directory as bytes and as parsed YAML (YAML may fold a long value across lines).
"""

from __future__ import annotations

import json
import string
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import vcr as vcrpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes.playback import closest_match_errors, live_sanitized_view
from pytest_runcommand.cassettes.vcr import configure_vcr

_ALPHABET = string.ascii_letters + string.digits


def _secret(prefix: str) -> st.SearchStrategy[str]:
    return st.text(_ALPHABET, min_size=12, max_size=32).map(lambda core: f"{prefix}{core}")


@dataclass(frozen=True)
class Secrets:
    bearer: str
    password: str
    protected: tuple[str, ...]
    script_sig: str
    output_sig: str
    error_sig: str
    url_sig: str
    subscription: str
    client_secret: str
    client_assertion: str
    refresh_token: str
    access_token: str
    id_token: str
    cookie: str
    lro_c: str
    lro_s: str
    lro_h: str

    def values(self) -> list[str]:
        found: list[str] = []
        for value in vars(self).values():
            found.extend(value if isinstance(value, tuple) else [value])
        return found


def _jwt() -> st.SearchStrategy[str]:
    part = st.text(_ALPHABET + "-_", min_size=10, max_size=40)
    return st.tuples(part, part, part).map(lambda p: f"eyJ{p[0]}.eyJ{p[1]}.{p[2]}")


SECRETS = st.builds(
    Secrets,
    bearer=_jwt(),
    password=_secret("Pw"),
    protected=st.lists(_secret("Pp"), min_size=1, max_size=3).map(tuple),
    script_sig=_secret("Ss"),
    output_sig=_secret("So"),
    error_sig=_secret("Se"),
    url_sig=_secret("Su"),
    subscription=st.uuids().filter(lambda u: u.int != 0).map(str),
    client_secret=_secret("Cs"),
    client_assertion=_jwt(),
    refresh_token=_secret("Rt"),
    access_token=_jwt(),
    id_token=_jwt(),
    cookie=_secret("Ck"),
    lro_c=_secret("Lc"),
    lro_s=_secret("Ls"),
    lro_h=_secret("Lh"),
)


def _blob(name: str, sig: str) -> str:
    return f"https://acct.blob.core.windows.net/c/{name}?sv=2022-11-02&sp=rcw&se=2030-01-01&sig={sig}"


def _record(directory: Path, s: Secrets) -> None:
    arm = "https://management.azure.com"
    rc = f"/subscriptions/{s.subscription}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    operation = (
        f"{arm}/subscriptions/{s.subscription}/providers/Microsoft.Compute/locations/westus/operations/"
        f"{uuid.uuid4()}?p=1&api-version=2024-07-01&t=638000000000000000&c={s.lro_c}&s={s.lro_s}&h={s.lro_h}"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "login.microsoftonline.com":
            tokens = {"token_type": "Bearer", "access_token": s.access_token, "id_token": s.id_token}
            return httpx.Response(200, json={**tokens, "refresh_token": s.refresh_token})
        if request.url.host.endswith("blob.core.windows.net"):
            return httpx.Response(200, text="script body")
        if "/operations/" in request.url.path:
            return httpx.Response(200, json={"status": "Succeeded"})
        sent = json.loads(request.content)
        body = {"id": rc, "name": "rc", "properties": {**sent["properties"], "provisioningState": "Updating"}}
        return httpx.Response(
            200,
            json=body,  # a careless server echoing every secret back
            headers={
                "Azure-AsyncOperation": operation,
                "Location": operation,
                "Set-Cookie": f"x-ms-session={s.cookie}; path=/; secure",
                "x-ms-routing-request-id": f"WESTUS:{s.subscription}",
            },
        )

    recorder = vcrpy.VCR(cassette_library_dir=str(directory), record_mode="once")
    configure_vcr(recorder)
    with (
        recorder.use_cassette("slots.yaml") as cassette,
        live_sanitized_view(cassette),
        closest_match_errors(cassette),
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
    ):
        form = {
            "grant_type": "refresh_token",
            "client_id": "app",
            "client_secret": s.client_secret,
            "client_assertion": s.client_assertion,
            "refresh_token": s.refresh_token,
        }
        client.post(
            "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        patch = {
            "properties": {
                "source": {"scriptUri": _blob("run.ps1", s.script_sig)},
                "runAsPassword": s.password,
                "protectedParameters": [{"name": f"p{i}", "value": v} for i, v in enumerate(s.protected)],
                "outputBlobUri": _blob("out.txt", s.output_sig),
                "errorBlobUri": _blob("err.txt", s.error_sig),
            }
        }
        answer = client.patch(
            f"{arm}{rc}?api-version=2024-07-01", json=patch, headers={"Authorization": f"Bearer {s.bearer}"}
        )
        client.get(answer.headers["Azure-AsyncOperation"], headers={"Authorization": f"Bearer {s.bearer}"})
        client.get(_blob("run.ps1", s.url_sig))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secrets=SECRETS)
def test_no_generated_secret_reaches_the_cassette_directory(secrets: Secrets) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        _record(directory, secrets)
        files = [p for p in directory.rglob("*") if p.is_file()]
        assert [p.name for p in files] == ["slots.yaml"]
        for path in files:
            raw = path.read_bytes().lower()
            flat = json.dumps(yaml.safe_load(path.read_text())).lower()
            for value in secrets.values():
                assert value.lower().encode() not in raw, f"{value!r} found in {path.name}"
                assert value.lower() not in flat, f"{value!r} found in parsed {path.name}"
