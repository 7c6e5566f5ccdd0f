"""The open data API answers as its OpenAPI 3.1 document says: the document is valid
(openapi-spec-validator); every response of a crawl of the demo through the API's own
links (every page of every list, every item's detail, each partnership's filtered
lists, the CSVs) and a set of bad requests validates against the document's schema
for that operation and status (jsonschema, 2020-12, with formats checked); and
schemathesis, generating requests from the document (valid ones and invalid ones),
finds no server error and no response out of line with the document, in a bounded
number of examples (well under 30 seconds)."""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from partnerships.extensions import limiter
from tests.demo import demo_loaded

BASE = "http://localhost"
OFFSET = re.compile(r"T\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api(app: Flask, client: Any) -> dict[str, Any]:
    """The demo, a generous allowance for this test's many requests, and the document."""
    demo_loaded()
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    limiter.reset()
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return document


def test_the_document_is_valid_openapi_3_1(api: dict[str, Any]) -> None:
    validate(api)
    assert api["openapi"] == "3.1.0"
    assert api["servers"] == [{"url": BASE}]
    assert api["info"]["license"]["name"] == "Open Government Licence v3.0"


def test_the_document_describes_every_api_route(app: Flask, api: dict[str, Any]) -> None:
    """Every GET route under /api/ is in the document, and nothing else is."""
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert routes == set(api["paths"])
    for path, item in api["paths"].items():
        assert set(item) == {"get"}, path
        assert {"200", "429"} <= set(item["get"]["responses"]), path


class Conformance:
    """Validates responses against the document's schema for their operation and status."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource("urn:api", resource)
        self.templates = [(re.compile("^" + re.sub(r"\\{\w+\\}", r"[^/]+", re.escape(path))
                                      + "$"), path) for path in document["paths"]]
        self.seen: dict[tuple[str, str], int] = {}

    def operation(self, path: str) -> dict[str, Any]:
        matches = [template for pattern, template in self.templates if pattern.match(path)]
        assert matches, f"{path} is in no path of the document"
        # A literal path (meetings.csv) before a template that also matches it.
        template = min(matches, key=lambda t: t.count("{"))
        operation: dict[str, Any] = self.document["paths"][template]["get"]
        return operation

    def check(self, path: str, response: Any) -> None:
        operation = self.operation(path.split("?")[0])
        status = str(response.status_code)
        declared = operation["responses"].get(status)
        assert declared is not None, f"{path}: status {status} is not in the document"
        if "$ref" in declared:
            declared = self.document["components"]["responses"][declared["$ref"].split("/")[-1]]
        content = declared["content"]
        assert response.mimetype in content, (path, response.mimetype)
        key = (operation["operationId"], status)
        self.seen[key] = self.seen.get(key, 0) + 1
        if response.mimetype == "text/csv":
            return
        schema = {"$ref": "urn:api#" + _pointer(content[response.mimetype]["schema"])}
        validator = Draft202012Validator(schema, registry=self.registry,
                                         format_checker=FormatChecker())
        body = response.get_json(force=True)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(body)]
        assert not errors, (path, errors[:5])
        _check_values(path, body)


def _pointer(schema: dict[str, Any]) -> str:
    """The JSON pointer of a response's schema: its ``$ref``, or (inline) nothing else."""
    assert "$ref" in schema or schema == {"type": "object"}, schema
    return schema["$ref"][1:] if "$ref" in schema else "/info"


def _check_values(path: str, value: Any, key: str = "") -> None:
    """Links are absolute from BASE_URL; times carry an offset."""
    if isinstance(value, dict):
        for name, inner in value.items():
            _check_values(path, inner, name)
    elif isinstance(value, list):
        for inner in value:
            _check_values(path, inner, key)
    elif isinstance(value, str):
        if key in ("url", "self", "html", "first", "last", "next", "prev", "csv", "forums",
                   "meetings", "mous", "opportunities", "calendar"):
            assert value.startswith(BASE + "/"), (path, key, value)
        if key.endswith("_at"):
            assert OFFSET.search(value), (path, key, value)


def test_every_response_of_a_crawl_of_the_demo_conforms(client: Any,
                                                         api: dict[str, Any]) -> None:
    conformance = Conformance(api)
    queue = deque(f"/api/v1/{name}?per_page=7" for name in
                  ("partnerships", "forums", "meetings", "mous", "opportunities"))
    seen = set(queue)
    details = 0
    while queue:
        path = queue.popleft()
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        conformance.check(path, response)
        body = response.get_json()
        links = []
        if "items" in body:
            links += [body["links"]["next"], body["links"]["csv"]]
            links += [item["links"]["self"] for item in body["items"]]
        elif "links" in body:
            details += 1
            links += [link for name, link in body["links"].items()
                      if name not in ("html", "calendar")]
        for link in links:
            if link and link.removeprefix(BASE) not in seen and link.startswith(BASE + "/api/"):
                seen.add(link.removeprefix(BASE))
                if link.endswith(".csv") or ".csv?" in link:
                    csv_response = client.get(link.removeprefix(BASE))
                    assert csv_response.status_code == 200, link
                    conformance.check(link.removeprefix(BASE), csv_response)
                else:
                    queue.append(link.removeprefix(BASE))
    # The demo has some of everything, so every operation answered 200 at least once.
    operations = {item["get"]["operationId"] for item in api["paths"].values()}
    assert {op for op, status in conformance.seen if status == "200"} >= operations - {
        "openapi"}
    assert details >= 20
    # And the problems: bad parameters, unknown ids, unknown addresses, too many requests.
    for path in ["/api/v1/meetings?page=abc", "/api/v1/mous?status=x&per_page=0",
                 "/api/v1/meetings/2147483647", "/api/v1/partnerships/nowhere",
                 "/api/v1/forums.csv?forum=1", "/api/v1/opportunities/1?x=1"]:
        response = client.get(path)
        assert response.status_code in (400, 404), path
        conformance.check(path, response)
    client.application.config["API_RATE_LIMIT"] = "1 per minute"
    limiter.reset()
    client.get("/api/v1/partnerships")
    response = client.get("/api/v1/forums")
    assert response.status_code == 429
    conformance.check("/api/v1/forums", response)


SCHEMATHESIS = settings(max_examples=50, deadline=None, database=None, derandomize=True,
                        print_blob=False, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_nothing_out_of_line(app: Flask, api: dict[str, Any],
                                                mode: GenerationMode) -> None:
    """Requests generated from the document, valid (``POSITIVE``) and not (``NEGATIVE``:
    every answer must then be a 4xx), each checked against the document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @SCHEMATHESIS
    @given(case=schema.as_strategy(generation_mode=mode))
    def attempt(case: Any) -> None:
        case.call_and_validate(checks=checks)

    attempt()
