"""The committed OpenAPI and AsyncAPI documents are what the code generates (`make docs`)."""

import json

from taskforce.apidocs import OUT, asyncapi_document, rendered


def test_committed_api_documents_are_current() -> None:
    for name, text in rendered().items():
        assert (OUT / name).read_text() == text, f"docs/api/{name} is stale: run `make docs`"


def test_every_event_has_a_publisher_and_a_documented_payload() -> None:
    document = asyncapi_document()
    sent = {
        ref["$ref"].rsplit("/", 1)[1]
        for op in document["operations"].values()
        if op["action"] == "send"
        for ref in op["messages"]
    }
    assert sent == set(document["components"]["messages"])
    text = json.dumps(document)
    assert "#/$defs/" not in text  # every reference resolves inside components
