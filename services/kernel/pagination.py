"""Opaque keyset cursors for list endpoints (`?limit=&cursor=`). Pure."""

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from services.kernel.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not valid.",
                           errors=[{"loc": ["query", "cursor"], "msg": "malformed cursor",
                                    "type": "cursor"}]) from exc
    if not isinstance(value, dict):
        raise InvalidInput("The cursor is not valid.")
    return value
