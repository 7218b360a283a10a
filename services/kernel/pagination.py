"""Opaque keyset cursors for list endpoints (`?limit=&cursor=`): one function pages any query.
A forged or stale cursor is a 422, never a server error."""

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.kernel.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _bad_cursor(reason: str) -> InvalidInput:
    return InvalidInput(
        "The cursor is not valid; start again without one.",
        errors=[{"loc": ["query", "cursor"], "msg": reason, "type": "cursor"}],
    )


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parsers: Sequence[Callable[[str], Any]]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor("malformed cursor") from exc
    if not isinstance(values, list) or len(values) != len(parsers):
        raise _bad_cursor("cursor of another list")
    try:
        return [parse(str(value)) for parse, value in zip(parsers, values, strict=True)]
    except (ValueError, TypeError) as exc:
        raise _bad_cursor("cursor of another list") from exc


async def paginate(
    session: AsyncSession,
    query: sa.Select,
    order: Sequence[InstrumentedAttribute],
    parsers: Sequence[Callable[[str], Any]],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One page of `query` in `order` (unique together), after the cursor's position."""
    query = query.order_by(*order).limit(limit + 1)
    if cursor:
        query = query.where(sa.tuple_(*order) > tuple(decode_cursor(cursor, parsers)))
    items = list((await session.scalars(query)).all())
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_cursor([getattr(items[-1], column.key) for column in order])


def parse_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value)
