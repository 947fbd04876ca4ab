"""ARM's rate-limit headers: on every answer a service gives, its errors included; not on the gateway's refusals."""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator.asgi import RATE_LIMITS
from pytest_runcommand.emulator.handles import InProcessEmulator
from pytest_runcommand.models import put_body

Q = "?api-version=2024-07-01"
VM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"


def limits(headers: object) -> dict[str, str]:
    return {
        name: value
        for name, value in dict(headers).items()  # type: ignore[call-overload]
        if name.startswith("x-ms-ratelimit-remaining-subscription-")
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", f"{VM}/vm1/runCommands/missing{Q}", None, 404, "reads"),
        (
            "PUT",
            f"{VM}/vm1/runCommands/rc1{Q}",
            {"location": "westus", "properties": {"timeoutInSeconds": "x"}},
            400,
            "writes",
        ),
        ("PATCH", f"{VM}/vm1/runCommands/missing{Q}", {"properties": {}}, 404, "writes"),
        ("POST", f"{VM}/vm1/runCommand{Q}", {"commandId": "NoSuchCommand"}, 400, "writes"),
        (
            "GET",
            f"/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute/locations/westus/runCommands/Nope{Q}",
            None,
            404,
            "reads",
        ),
    ],
)
def test_a_service_error_carries_the_rate_limit_of_its_method(
    runcommand_emulator: InProcessEmulator, method: str, path: str, body: object, status: int, kind: str
) -> None:
    answer = runcommand_emulator.client.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert limits(answer.headers) == {f"x-ms-ratelimit-remaining-subscription-{kind}": RATE_LIMITS[kind]}


def test_a_write_conflict_carries_the_writes_budget(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    runcommand_emulator.backend.settings.lro_polls = 5
    client.put(f"{VM}/vm1/runCommands/rc1{Q}", json=put_body(script="echo"))
    assert client.delete(f"{VM}/vm1/runCommands/rc1{Q}").status_code == 202
    conflict = client.patch(f"{VM}/vm1/runCommands/rc1{Q}", json={"properties": {"timeoutInSeconds": 1}})
    assert conflict.status_code == 409, conflict.text
    assert limits(conflict.headers) == {"x-ms-ratelimit-remaining-subscription-writes": RATE_LIMITS["writes"]}


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (f"{VM}/vm1/runCommands/rc1{Q}", {"Authorization": ""}, 401),  # no token: the gateway refuses
        (f"{VM}/vm1/noSuchThing/rc1{Q}", {}, 404),  # nothing routes there
        (f"{VM}/vm1/runCommands/rc1?api-version=1999-01-01", {}, 400),  # a version not served
    ],
)
def test_what_the_gateway_refuses_carries_none(
    runcommand_emulator: InProcessEmulator, path: str, headers: dict[str, str], status: int
) -> None:
    answer = runcommand_emulator.client.get(path, headers=headers)
    assert answer.status_code == status, answer.text
    assert limits(answer.headers) == {}
