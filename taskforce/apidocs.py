"""Generate the published API documents from the code: the gateway's merged OpenAPI and an
AsyncAPI 3.0 document of every event contract, with who sends and who receives it.

`python -m taskforce.apidocs` writes them under docs/api/; `--check` fails when they are stale.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.openapi.utils import get_openapi

from services.catalog.main import SPEC as CATALOG
from services.catalog.main import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.gateway.main import TITLE, VERSION, merge_openapi
from services.gateway.main import create_app as gateway_app
from services.gateway.settings import GatewaySettings
from services.kernel.contracts import EVENT_TYPES
from services.kernel.runtime import ServiceSpec
from services.matching.main import SPEC as MATCHING
from services.matching.main import create_app as matching_app
from services.matching.settings import MatchingSettings
from services.profiles.main import SPEC as PROFILES
from services.profiles.main import create_app as profiles_app
from services.profiles.settings import ProfilesSettings

OUT = Path(__file__).resolve().parent.parent / "docs" / "api"
SPECS: list[ServiceSpec] = [CATALOG, PROFILES, MATCHING]
SCHEMA_REF = "#/components/schemas/{model}"

CLOUDEVENT_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka protocol binding, binary content mode.",
    "required": [
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "content-type",
    ],
    "properties": {
        "ce_id": {"type": "string", "description": "Unique event id; consumers deduplicate on it."},
        "ce_source": {"type": "string", "examples": ["/taskforce/catalog"]},
        "ce_type": {
            "type": "string",
            "description": "The message name, e.g. taskforce.catalog.task.published.v1",
        },
        "ce_specversion": {"const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "The aggregate id (also the Kafka key)."},
        "content-type": {"const": "application/json"},
    },
}


def openapi_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key"
        gateway = gateway_app(GatewaySettings(auth_local_key_file=key))
        own = get_openapi(title=TITLE, version=VERSION, routes=gateway.routes)
        upstream = {
            "catalog": catalog_app(CatalogSettings(auth_local_key_file=key)).openapi(),
            "profiles": profiles_app(ProfilesSettings(auth_local_key_file=key)).openapi(),
            "matching": matching_app(MatchingSettings(auth_local_key_file=key)).openapi(),
        }
    return merge_openapi(own, upstream)


def asyncapi_document() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventHeaders": CLOUDEVENT_HEADERS}
    channels: dict[str, Any] = {}
    for event_type, contract in sorted(EVENT_TYPES.items()):
        name = contract.__name__
        schema = contract.model_json_schema(ref_template=SCHEMA_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": (contract.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": f"the {contract.aggregate} field"}
                }
            },
        }
        channel = channels.setdefault(
            contract.topic,
            {
                "address": contract.topic,
                "messages": {},
                "description": f"Dead letters go to `{contract.topic}.dlq`.",
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    operations: dict[str, Any] = {}
    for spec in SPECS:
        for topic in spec.publishes:
            operations[f"{spec.name}.send.{topic}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{topic}"},
                "summary": f"{spec.name} publishes through its outbox",
                "messages": [
                    {"$ref": f"#/channels/{topic}/messages/{m}"}
                    for m in channels[topic]["messages"]
                ],
            }
        for consumer in spec.consumers:
            for topic in consumer.topics:
                handled = [
                    EVENT_TYPES[t].__name__
                    for t in consumer.handlers
                    if EVENT_TYPES[t].topic == topic
                ]
                operations[f"{spec.name}.receive.{topic}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{topic}"},
                    "summary": f"consumer group `{consumer.name}`",
                    "messages": [{"$ref": f"#/channels/{topic}/messages/{m}"} for m in handled],
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Taskforce events",
            "version": VERSION,
            "description": "Event-carried state transfer: every event holds the entity's "
            "full current state and its version. At-least-once delivery; "
            "consumers deduplicate on ce_id and apply only newer versions.",
        },
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def rendered() -> dict[str, str]:
    return {
        name: json.dumps(document, indent=2, sort_keys=False) + "\n"
        for name, document in (
            ("openapi.json", openapi_document()),
            ("asyncapi.json", asyncapi_document()),
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/api is stale")
    args = parser.parse_args()
    stale = []
    for name, text in rendered().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `make docs`", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
