"""Cost of validating a run-command body given as bytes, measured side by side in one process.

Bodies: the reference page's sample PATCH request and sample 200 response (api-version 2024-07-01); the same
response with ``systemData`` at 2026-04-01 (another version's contract, chosen from the URL) is timed beside it.
Compared: JSON parsing alone (json.loads), this project's validate_request / validate_response (schema + prose
rules), python-jsonschema's Draft4Validator on the same compiled schema (json.loads + is_valid), and openapi-core
(OpenAPI 3 only, so it gets the same operation converted to OpenAPI 3.0). The rest of the family is timed against
json.loads of its own body: the action run command's result (POST 200 and the Location form's final GET), the
catalogue's document (GET) and a diagnostic run command (GET at 2026-04-01).

Run:  python benchmarks/bench_validate.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import timeit
from collections.abc import Callable
from typing import Any

URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup"
    "/providers/Microsoft.Compute/virtualMachines/myVM/runCommands/myRunCommand?api-version=2024-07-01"
)
SAMPLE_REQUEST: dict[str, Any] = {
    "properties": {
        "source": {"script": "Write-Host Hello World! ; Remove-Item C:\test\testFile.txt"},
        "parameters": [{"name": "param1", "value": "value1"}, {"name": "param2", "value": "value2"}],
        "asyncExecution": False,
        "runAsUser": "user1",
        "runAsPassword": "<runAsPassword>",
        "timeoutInSeconds": 3600,
        "outputBlobUri": "https://mystorageaccount.blob.core.windows.net/myscriptoutputcontainer/outputUri",
        "errorBlobUri": "https://mystorageaccount.blob.core.windows.net/mycontainer/MyScriptError.txt",
        "errorBlobManagedIdentity": {"objectId": "4231e4d2-33e4-4e23-96b2-17888afa6072"},
    }
}
SAMPLE_RESPONSE: dict[str, Any] = {
    "name": "myRunCommand",
    "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers"
    "/Microsoft.Compute/virtualMachines/myVM/runCommands/myRunCommand",
    "type": "Microsoft.Compute/virtualMachines/runCommands",
    "location": "westus",
    "tags": {"tag1": "value1", "tag2": "value2"},
    "properties": {
        "source": {"script": "Write-Host Hello World! ; Remove-Item C:\test\testFile.txt"},
        "parameters": [{"name": "param1", "value": "value1"}, {"name": "param2", "value": "value2"}],
        "asyncExecution": False,
        "treatFailureAsDeploymentFailure": False,
        "runAsUser": "user1",
        "timeoutInSeconds": 3600,
        "provisioningState": "Updating",
        "outputBlobUri": "https://mystorageaccount.blob.core.windows.net/myscriptoutputcontainer/MyScriptoutput.txt",
        "errorBlobUri": "https://mystorageaccount.blob.core.windows.net/mycontainer/MyScriptError.txt",
    },
}


SYSTEM_DATA = {
    "createdBy": "user1@example.com",
    "createdByType": "User",
    "createdAt": "2026-01-01T00:00:00Z",
    "lastModifiedBy": "user1@example.com",
    "lastModifiedByType": "User",
    "lastModifiedAt": "2026-01-01T00:00:00Z",
}


ROOT = "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000"
VM = f"{ROOT}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM"
ACTION_RESULT: dict[str, Any] = {  # the Windows shape of the 2025-04-01 example (StdOut, StdErr)
    "value": [
        {
            "code": "ComponentStatus/StdOut/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": "This is a sample script with parameters value1 value2",
        },
        {
            "code": "ComponentStatus/StdErr/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": "",
        },
    ]
}
CATALOGUE_DOCUMENT: dict[str, Any] = {
    "script": [
        "param(",
        "    [string]$arg1,",
        "    [string]$arg2",
        ")",
        "Write-Host This is a sample script $arg1 $arg2",
    ],
    "parameters": [{"name": "arg1", "type": "string", "defaultValue": "value1"}, {"name": "arg2", "type": "string"}],
    "$schema": "http://schema.management.azure.com/schemas/2016-11-17/runcommands.json",
    "id": "RunPowerShellScript",
    "osType": "Windows",
    "label": "Executes a PowerShell script",
    "description": "Custom multiline PowerShell script should be defined in script property.",
}
FAMILY = (  # (label, method, url, body)
    ("action POST 200", "POST", f"{VM}/runCommand?api-version=2024-07-01", ACTION_RESULT),
    (
        "action result (Location form)",
        "GET",
        f"{ROOT}/providers/Microsoft.Compute/locations/westus/operations/op1?monitor=true&api-version=2024-07-01",
        ACTION_RESULT,
    ),
    (
        "catalogue GET",
        "GET",
        f"{ROOT}/providers/Microsoft.Compute/locations/westus/runCommands/RunPowerShellScript?api-version=2024-07-01",
        CATALOGUE_DOCUMENT,
    ),
    (
        "diagnostic GET (2026-04-01)",
        "GET",
        f"{VM}/diagnosticRunCommands/myRunCommand?api-version=2026-04-01",
        {**SAMPLE_RESPONSE, "systemData": SYSTEM_DATA},
    ),
)


def per_call(function: Callable[[], object], seconds: float) -> float:
    """Median seconds per call over 5 runs of about ``seconds`` / 5 each."""
    timer = timeit.Timer(function)
    number, taken = timer.autorange()
    count = max(1, int(number * (seconds / 5) / max(taken, 1e-9)))
    return statistics.median(run / count for run in timer.repeat(repeat=5, number=count))


def openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """The PATCH operation of the bundled Swagger 2.0 document, as OpenAPI 3.0 (what openapi-core accepts)."""
    text = json.dumps(document).replace("#/definitions/", "#/components/schemas/")
    doc = json.loads(text)
    template = next(p for p in doc["paths"] if p.endswith("/runCommands/{runCommandName}"))
    patch = doc["paths"][template]["patch"]
    parameters = [
        {"name": p["name"], "in": p["in"], "required": p.get("required", False), "schema": {"type": p["type"]}}
        for p in patch["parameters"]
        if p["in"] != "body"
    ]
    body = next(p for p in patch["parameters"] if p["in"] == "body")
    responses = {
        code: {
            "description": r["description"],
            **({"content": {"application/json": {"schema": r["schema"]}}} if "schema" in r else {}),
        }
        for code, r in patch["responses"].items()
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "run commands", "version": "2024-07-01"},
        "servers": [{"url": "https://management.azure.com"}],
        "paths": {
            template: {
                "patch": {
                    "parameters": parameters,
                    "responses": responses,
                    "requestBody": {"content": {"application/json": {"schema": body["schema"]}}},
                }
            }
        },
        "components": {"schemas": doc["definitions"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time budget per measurement (default 1.0)")
    args = parser.parse_args()

    import jsonschema
    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest, MockResponse

    from pytest_runcommand.contract import get_contract, validate_request, validate_response
    from pytest_runcommand.contract.compiled import compiled as compile_contract

    contract = get_contract()
    compiled = compile_contract(contract)
    response_schema = {"$ref": "#/definitions/VirtualMachineRunCommand", "definitions": compiled.definitions}
    request_schema = {"$ref": "#/definitions/VirtualMachineRunCommandUpdate", "definitions": compiled.definitions}
    draft4_response = jsonschema.Draft4Validator(copy.deepcopy(response_schema))
    draft4_request = jsonschema.Draft4Validator(copy.deepcopy(request_schema))
    api = OpenAPI.from_dict(openapi3(dict(contract.document)))
    path = URL.split("management.azure.com", 1)[1].split("?", 1)[0]

    rows: list[tuple[str, str, float]] = []
    for side, body in (("response", SAMPLE_RESPONSE), ("request", SAMPLE_REQUEST)):
        raw = json.dumps(body).encode()
        if side == "response":
            assert validate_response("PATCH", URL, 200, raw) == []
            ours: Callable[[], object] = lambda raw=raw: validate_response("PATCH", URL, 200, raw)  # noqa: E731
            draft4: Callable[[], object] = lambda raw=raw: draft4_response.is_valid(json.loads(raw))  # noqa: E731
            request = MockRequest(
                "https://management.azure.com",
                "patch",
                path,
                args={"api-version": "2024-07-01"},
                data=json.dumps(SAMPLE_REQUEST).encode(),
            )
            response = MockResponse(raw, status_code=200)
            api.validate_response(request, response)
            oac: Callable[[], object] = lambda q=request, r=response: api.validate_response(q, r)  # noqa: E731
        else:
            assert validate_request("PATCH", URL, raw) == []
            ours = lambda raw=raw: validate_request("PATCH", URL, raw)  # noqa: E731
            draft4 = lambda raw=raw: draft4_request.is_valid(json.loads(raw))  # noqa: E731
            request = MockRequest(
                "https://management.azure.com", "patch", path, args={"api-version": "2024-07-01"}, data=raw
            )
            api.validate_request(request)
            oac = lambda q=request: api.validate_request(q)  # noqa: E731
        parse = per_call(lambda raw=raw: json.loads(raw), args.seconds)
        rows.append((side, "json.loads (parse only)", parse))
        rows.append((side, "pytest-runcommand validate_" + side, per_call(ours, args.seconds)))
        rows.append((side, "python-jsonschema Draft4Validator", per_call(draft4, args.seconds)))
        rows.append((side, "openapi-core (OpenAPI 3 copy)", per_call(oac, args.seconds)))
        if side == "response":
            latest_url = URL.replace("2024-07-01", "2026-04-01")
            latest = json.dumps({**body, "systemData": SYSTEM_DATA}).encode()
            assert validate_response("PATCH", latest_url, 200, latest) == []
            at_latest = lambda raw=latest, u=latest_url: validate_response("PATCH", u, 200, raw)  # noqa: E731
            rows.append((side, "validate_response at 2026-04-01", per_call(at_latest, args.seconds)))

    print(f"{'body':<9} {'validator':<40} {'us/call':>9} {'x json.loads':>13} {'x ours':>8}")
    for side in ("response", "request"):
        mine = {name: cost for s, name, cost in rows if s == side}
        parse = mine["json.loads (parse only)"]
        ours_cost = mine["pytest-runcommand validate_" + side]
        for name, cost in mine.items():
            print(f"{side:<9} {name:<40} {cost * 1e6:>9.2f} {cost / parse:>13.2f} {cost / ours_cost:>8.1f}")
    response_costs = {name: cost for s, name, cost in rows if s == "response"}
    ours_cost = response_costs["pytest-runcommand validate_response"]
    print()
    print(f"response: ours / json.loads = {ours_cost / response_costs['json.loads (parse only)']:.2f} (target <= 2)")
    print(
        f"response: python-jsonschema / ours = "
        f"{response_costs['python-jsonschema Draft4Validator'] / ours_cost:.1f} (target >= 50)"
    )
    print(f"response: openapi-core / ours = {response_costs['openapi-core (OpenAPI 3 copy)'] / ours_cost:.1f}")
    latest_cost = response_costs["validate_response at 2026-04-01"]
    print(
        f"response at 2026-04-01 (+systemData): ours / json.loads = {latest_cost / response_costs['json.loads (parse only)']:.2f}"
    )
    print()
    for label, method, url, body in FAMILY:
        raw = json.dumps(body).encode()
        assert validate_response(method, url, 200, raw) == [], label
        mine = per_call(lambda m=method, u=url, r=raw: validate_response(m, u, 200, r), args.seconds)
        parse = per_call(lambda r=raw: json.loads(r), args.seconds)
        print(f"{label}: ours / json.loads = {mine / parse:.2f} ({mine * 1e6:.2f} us vs {parse * 1e6:.2f} us)")


if __name__ == "__main__":
    main()
