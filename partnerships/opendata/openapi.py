"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, built from the dataset
registry and the parameters the views read, so it describes exactly what answers.
Tests validate the document (openapi-spec-validator), every response of a crawl of
the demo against it (jsonschema), and the app against it with schemathesis."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..bounds import INT_MAX
from ..links import public_base
from . import paging, refs
from .datasets import DATASETS, ENDPOINTS, Dataset, Endpoint, Json
from .params import PAGING, Param
from .problems import MEDIA_TYPE

API_VERSION = "1.0.0"
PREFIX = "/api/v1"
OGL_NAME = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "reason"],
                      "additionalProperties": False,
                      "properties": {"name": {"type": "string"},
                                     "reason": {"type": "string"}}},
        },
    },
}


def _problem(description: str) -> Json:
    return {"description": description,
            "content": {MEDIA_TYPE: {"schema": refs.ref("Problem")}}}


RESPONSES = {
    "BadRequest": _problem("A query parameter is unknown, repeated or not valid; "
                           "``invalid_params`` lists each."),
    "NotFound": _problem("Nothing public has that identifier."),
    "TooManyRequests": _problem("Too many requests from one address; wait a minute."),
}


def _response(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _query(param: Param) -> Json:
    return {"name": param.name, "in": "query", "required": False,
            "description": param.description, "schema": param.schema()}


def _json(schema: Json, description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _paths(dataset: Dataset) -> dict[str, Json]:
    name, title = dataset.name, dataset.title
    paths: dict[str, Json] = {
        f"{PREFIX}/{name}": {"get": {
            "operationId": f"list_{name}",
            "summary": f"{title}, a page at a time",
            "description": dataset.description,
            "tags": [name],
            "parameters": [_query(p) for p in (*dataset.filters, *PAGING)],
            "responses": {
                "200": _json(refs.ref(f"{dataset.schema_name}List"), f"A page of {name}."),
                "400": _response("BadRequest"),
                "429": _response("TooManyRequests"),
            },
        }},
        f"{PREFIX}/{name}.csv": {"get": {
            "operationId": f"download_{name}_csv",
            "summary": f"{title}, every one that matches, as CSV",
            "description": "UTF-8 with a header row. Text cells that a spreadsheet would "
                           "run as a formula start with an apostrophe.",
            "tags": [name],
            "parameters": [_query(p) for p in dataset.filters],
            "responses": {
                "200": {"description": "CSV with a header row.",
                        "content": {"text/csv": {"schema": {"type": "string"}}}},
                "400": _response("BadRequest"),
                "429": _response("TooManyRequests"),
            },
        }},
    }
    detail = dataset.detail
    if detail is not None:
        key_schema: Json = (
            {"type": "integer", "minimum": 1, "maximum": INT_MAX} if detail.kind == "id"
            else Param("slug", "", "slug").schema())
        paths[f"{PREFIX}/{name}/{{{detail.key}}}"] = {"get": {
            "operationId": f"get_{name}",
            "summary": detail.description,
            "tags": [name],
            "parameters": [{"name": detail.key, "in": "path", "required": True,
                            "schema": key_schema}],
            "responses": {
                "200": _json(refs.ref(dataset.schema_name), detail.description),
                "400": _response("BadRequest"),
                "404": _response("NotFound"),
                "429": _response("TooManyRequests"),
            },
        }}
    return paths


def _endpoint_paths(endpoint: Endpoint) -> dict[str, Json]:
    parameters = [{"name": p.name, "in": "path", "required": True,
                   "description": p.description, "schema": p.schema()}
                  for p in endpoint.path_params]
    errors = {"400": _response("BadRequest"), "404": _response("NotFound"),
              "429": _response("TooManyRequests")}
    return {
        endpoint.path: {"get": {
            "operationId": f"get_{endpoint.name}",
            "summary": endpoint.title,
            "description": endpoint.description,
            "tags": [endpoint.name],
            "parameters": parameters,
            "responses": {"200": _json(refs.ref(endpoint.schema_name), endpoint.title),
                          **errors},
        }},
        f"{endpoint.path}/figures.csv": {"get": {
            "operationId": f"download_{endpoint.name}_csv",
            "summary": f"{endpoint.title}: the figures as CSV",
            "description": "One row per figure (section, figure, value), UTF-8 with a "
                           "header row.",
            "tags": [endpoint.name],
            "parameters": parameters,
            "responses": {"200": {"description": "CSV with a header row.",
                                  "content": {"text/csv": {"schema": {"type": "string"}}}},
                          **errors},
        }},
    }


def document() -> Json:
    """The whole document, with the server at ``BASE_URL``."""
    schemas: dict[str, Any] = {"Problem": PROBLEM, **refs.REF_COMPONENTS}
    paths: dict[str, Json] = {
        f"{PREFIX}/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["about"],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document."),
                          "429": _response("TooManyRequests")},
        }},
    }
    for dataset in DATASETS.values():
        schemas[dataset.schema_name] = dataset.schema
        schemas[f"{dataset.schema_name}List"] = paging.schema(dataset.schema_name)
        schemas.update(dataset.components)
        paths.update(_paths(dataset))
    for endpoint in ENDPOINTS.values():
        schemas[endpoint.schema_name] = endpoint.schema
        paths.update(_endpoint_paths(endpoint))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{current_app.config['SERVICE_NAME']} open data",
            "version": API_VERSION,
            "description": (
                "Read-only open data: partnerships, their public forums, public meetings "
                "with their agendas and papers, MoUs on the public registers and open "
                "opportunities, each partnership's engagement record for a year and its "
                "published annual reports. "
                "Only what anyone may see on the public pages is included. Lists are "
                "paged (``page``, ``per_page``); each list is also "
                "a CSV download (the same path with ``.csv``). Times are ISO 8601 with "
                "their UK offset. Errors are RFC 9457 problem details."),
            "license": {"name": OGL_NAME, "url": OGL_URL},
        },
        "servers": [{"url": public_base(current_app.config["BASE_URL"])}],
        "tags": [{"name": "about"}, *({"name": name, "description": dataset.title}
                                      for name, dataset in DATASETS.items()),
                 *({"name": name, "description": endpoint.title}
                   for name, endpoint in ENDPOINTS.items())],
        "paths": paths,
        "components": {"schemas": schemas, "responses": RESPONSES},
    }
