"""Schemathesis hooks for test_schemathesis.py, loaded by its CLI (`SCHEMATHESIS_HOOKS`): how
to put a generated body on the wire for the media types it does not know."""

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(_: schemathesis.SerializationContext, value: Any) -> bytes:
    # The bulk routes document their body as one string of NDJSON lines; an invalid value
    # generated on purpose (a number, an object) goes as the JSON line it would be.
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")
