"""An interaction's label (contract failures, cassettes check) shows no secret of its URL."""

from __future__ import annotations

import pytest

from pytest_runcommand.contract import interaction_label
from pytest_runcommand.interactions import Interaction

SENTINEL = "Sentinel-L4bel-Val"
SUBSCRIPTION = "12345678-aaaa-bbbb-cccc-1234567890ab"
RC = (
    f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)


@pytest.mark.parametrize(
    "tail",
    [
        f"&runAsPassword={SENTINEL}",
        f"&client_secret={SENTINEL}",
        f"&access_token={SENTINEL}",
        f"&sig={SENTINEL}",
        f"&c={SENTINEL}&h={SENTINEL}",
    ],
)
def test_the_label_shows_no_secret_of_the_url(tail: str) -> None:
    url = RC + tail
    if tail.startswith("&c="):  # an operation-status URL's signed fields
        url = url.replace("/runCommands/rc1", "/operations/op1")
    label = interaction_label(Interaction("PATCH", url, {}, None, 200, {}, None))
    assert SENTINEL not in label
    assert SUBSCRIPTION not in label
    assert label.startswith("PATCH https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/")
    assert label.endswith(" -> 200")
