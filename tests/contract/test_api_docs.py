"""The committed OpenAPI and AsyncAPI documents are what the code generates (`make docs`)."""

import json

from taskforce.apidocs import OUT, asyncapi_document, rendered


def test_committed_api_documents_are_current() -> None:
    for name, text in rendered().items():
        assert (OUT / name).read_text() == text, f"docs/api/{name} is stale: run `make docs`"


def test_every_event_is_sent_or_received_by_a_service_and_documented() -> None:
    document = asyncapi_document()
    used = {
        ref["$ref"].rsplit("/", 1)[1]
        for op in document["operations"].values()
        for ref in op["messages"]
    }
    assert used == set(document["components"]["messages"])
    text = json.dumps(document)
    assert "#/$defs/" not in text  # every reference resolves inside components
