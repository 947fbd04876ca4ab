"""Each exchange counted once: a carrier's (sanitized) copy cancels exactly the live copy the recorder saw."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.interactions import Interaction
from pytest_runcommand.traffic import exchange_key, without_carried

SUBSCRIPTIONS = st.sampled_from(["6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f", "00000000-0000-0000-0000-000000000000", "s"])
HOSTS = st.sampled_from(["https://management.azure.com", "http://testserver", "https://127.0.0.1:8443"])
EXCHANGES = st.tuples(
    st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]),
    st.sampled_from(["rc1", "rc2", "Rc1"]),
    st.sampled_from([200, 201, 202, 404, None]),
)


def _live(exchange: tuple[str, str, int | None], subscription: str, host: str, query: str) -> Interaction:
    method, name, status = exchange
    url = (
        f"{host}/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
        f"/runCommands/{name}?{query}"
    )
    return Interaction(method, url, status=status)


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(
    st.lists(EXCHANGES, max_size=12),
    st.data(),
)
def test_a_carried_copy_cancels_its_live_exchange_whatever_was_sanitized(
    exchanges: list[tuple[str, str, int | None]], data: st.DataObject
) -> None:
    live = [_live(e, data.draw(SUBSCRIPTIONS), data.draw(HOSTS), "api-version=2024-07-01&sig=abc") for e in exchanges]
    carried_indices = data.draw(st.sets(st.sampled_from(range(len(live)))) if live else st.just(set()))
    carried = [
        _live(exchanges[i], "00000000-0000-0000-0000-000000000000", data.draw(HOSTS), "api-version=2024-07-01")
        for i in sorted(carried_indices)
    ]
    kept = without_carried(live, carried)
    assert len(kept) == len(live) - len(carried)
    assert all(any(k is item for item in live) for k in kept)  # the recorder's own objects, in its order
    assert [live.index(k) for k in kept] == sorted(live.index(k) for k in kept)
    remaining = [exchange_key(i) for i in live]
    for copy in carried:
        remaining.remove(exchange_key(copy))
    assert Counter(map(exchange_key, kept)) == Counter(remaining)


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(st.lists(EXCHANGES, max_size=8))
def test_nothing_carried_keeps_everything_and_everything_carried_keeps_nothing(
    exchanges: list[tuple[str, str, int | None]],
) -> None:
    live = [_live(e, "s", "https://management.azure.com", "api-version=2024-07-01") for e in exchanges]
    assert without_carried(live, []) == live
    assert without_carried(live, list(live)) == []


def test_a_different_operation_or_status_is_another_exchange() -> None:
    base = _live(("PUT", "rc1", 201), "s", "http://testserver", "")
    assert exchange_key(base) != exchange_key(_live(("PUT", "rc1", 200), "s", "http://testserver", ""))
    assert exchange_key(base) != exchange_key(_live(("PATCH", "rc1", 201), "s", "http://testserver", ""))
    assert exchange_key(base) != exchange_key(_live(("PUT", "rc2", 201), "s", "http://testserver", ""))
