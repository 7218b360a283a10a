"""Opaque cursors: what is encoded decodes, and anything else is a 422."""

import uuid
from datetime import UTC, datetime

import pytest

from services.kernel.errors import InvalidInput
from services.kernel.pagination import decode_cursor, encode_cursor, parse_datetime


def test_a_cursor_round_trips_its_position() -> None:
    when, ident = datetime(2026, 11, 23, 12, 0, tzinfo=UTC), uuid.uuid4()
    cursor = encode_cursor([when, ident])
    assert decode_cursor(cursor, [parse_datetime, uuid.UUID]) == [when, ident]


@pytest.mark.parametrize(
    "cursor",
    ["%%%", "bm90IGpzb24", encode_cursor(["x"]), encode_cursor(["not a date", "not a uuid"])],
)
def test_a_forged_cursor_is_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, [parse_datetime, uuid.UUID])
