"""The parts every request goes through, made the cheap way: each gives exactly what the plain way gives."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.emulator.asgi import (
    GUID_BATCH,
    Guids,
    Request,
    check_declared_length,
    guid,
    guids,
    new_request,
    parse_headers,
)
from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.errors import ArmError
from pytest_runcommand.emulator.state import ParentRef

PARENT = ParentRef("00000000-0000-0000-0000-000000000000", "rg", "vm1")


@pytest.mark.parametrize("seed", [0, 1, 7, 2**63])
def test_guids_come_in_the_order_and_form_drawn_one_at_a_time(seed: int) -> None:
    one_by_one, batched = random.Random(seed), Guids(random.Random(seed))
    for _ in range(2 * GUID_BATCH + 3):  # across batches
        made = batched.next()
        assert made == guid(one_by_one.getrandbits(128))
        assert str(uuid.UUID(made)) == made
        assert uuid.UUID(made).version == 4


@given(st.integers(0, 2**384 - 1))
def test_a_batch_of_guids_is_each_drawn_alone_the_last_first(bits: int) -> None:
    assert guids(bits, 3) == [guid(bits >> (128 * at) & (2**128 - 1)) for at in (2, 1, 0)]


def test_a_seeded_emulator_draws_the_operation_ids_it_drew_before() -> None:
    """The ids of a seed are those it gave before the ids came in batches: ``guid(getrandbits(128))`` in turn."""
    backend = Backend(seed=11)
    draws = random.Random(11)
    for index in range(GUID_BATCH + 2):
        _, _, operation = backend.create_or_update(PARENT, f"rc{index % 3}", {"properties": {}})
        assert operation.id == guid(draws.getrandbits(128))
    backend.reset()
    _, _, operation = backend.create_or_update(PARENT, "rc", {"properties": {}})
    assert operation.id == guid(random.Random(11).getrandbits(128)), "a reset starts the sequence again"


def test_a_request_made_field_by_field_is_the_dataclass() -> None:
    made = new_request("PATCH", "/p", {"a": "1"}, "a=1", {"h": "v"}, "http://x", {"k": "v"}, {"c": 1})
    plain = Request("PATCH", "/p", {"a": "1"}, "a=1", {"h": "v"}, "http://x", {"k": "v"}, claims={"c": 1})
    assert type(made) is Request
    assert made == plain


@given(st.lists(st.tuples(st.binary(min_size=1, max_size=6), st.binary(max_size=6)), max_size=6))
def test_headers_are_parsed_as_latin_1_first_value_by_lower_cased_name(raw: list[tuple[bytes, bytes]]) -> None:
    expected: dict[str, str] = {}
    for name, value in raw:
        expected.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    assert parse_headers(raw) == expected
    assert parse_headers(raw) == expected, "names remembered are the names worked out"


def test_headers_sent_again_or_in_unhashable_pairs_are_parsed_the_same() -> None:
    raw = [(b"Host", b"h"), (b"x-a", b"1"), (b"X-A", b"2")]
    first = parse_headers(raw)
    assert first == {"host": "h", "x-a": "1"}
    assert parse_headers(list(raw)) == first, "the same pairs again: the same headers"
    unhashable = [[b"Host", b"h"], [b"x-a", bytearray(b"1")]]
    assert parse_headers(unhashable) == {"host": "h", "x-a": "1"}  # type: ignore[arg-type]


def test_guids_seeded_again_start_again() -> None:
    made = Guids(random.Random(3))
    first = [made.next() for _ in range(5)]
    made.seed(3)
    assert [made.next() for _ in range(5)] == first


@given(st.text("0123456789 \t٣x", max_size=22), st.integers(0, 10**7))
def test_a_declared_length_is_refused_as_read_in_full(declared: str, limit: int) -> None:
    """Only a declared length of at least the limit's digits is read: the answer is reading it in full's."""
    stripped = declared.strip()
    expected = stripped.isascii() and stripped.isdigit() and (len(stripped) > 18 or int(stripped) > limit)
    if expected:
        with pytest.raises(ArmError) as error:
            check_declared_length({"content-length": declared}, limit)
        assert error.value.status == 413
    else:
        check_declared_length({"content-length": declared}, limit)
