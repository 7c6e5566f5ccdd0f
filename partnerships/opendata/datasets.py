"""The registry of open datasets: everything the routes, the OpenAPI document and the
human page need to know about each list.

A dataset is one list of public things (partnerships, public meetings, ...): a JSON
list at ``/api/v1/<name>`` (paged), the same list as CSV at ``/api/v1/<name>.csv``
(every matching row), and, if it has one, a detail endpoint
``/api/v1/<name>/<key>``. Each dataset module builds its ``Dataset`` and calls
``register``; ``routes`` imports those modules before the blueprint is registered.

A document that is not a list (one partnership's engagement record for a year) is an
``Endpoint``: its path with parameters, a JSON view and a CSV view, and its schema;
``register_endpoint`` adds it, and the routes and the OpenAPI document include it.

The extension point for later datasets:
write a module with a ``Dataset`` whose ``fetch`` filters with the permissions layer's
anonymous SQL conditions, add it to ``routes.DATASET_MODULES``, and its JSON, CSV,
OpenAPI description, conformance tests and line on the human page all follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .params import Param

Json = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """A CSV column: its header and how to read its cell from the JSON item."""

    header: str
    read: Callable[[Json], Any]


def field_column(name: str, *path: str) -> Column:
    """A column holding the JSON item's field ``name`` (or the field at ``path``)."""
    keys = path or (name,)

    def read(item: Json) -> Any:
        value: Any = item
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return Column(name, read)


@dataclass(frozen=True)
class Detail:
    """The detail endpoint: its path parameter and how to load one public row."""

    key: str  # the path parameter's name, e.g. "meeting_id" or "slug"
    kind: str  # "id" or "slug"
    load: Callable[[Any], Any | None]  # None when there is no such public row
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str  # the path: /api/v1/<name>
    title: str  # "Public meetings"
    description: str  # one or two sentences for the human page and the OpenAPI document
    schema_name: str  # the item's schema in the OpenAPI document, e.g. "Meeting"
    schema: Json  # the item's JSON Schema (2020-12; may $ref other components)
    filters: tuple[Param, ...]
    # The page of public rows for these filter values, and how many match in all
    # (raises ``problems.Problem`` for a filter naming nothing public).
    fetch: Callable[[dict[str, Any], int, int], tuple[list[Any], int]]
    serialise: Callable[[Any], Json]
    columns: tuple[Column, ...]
    detail: Detail | None = None
    # Other schemas the item's schema refers to, by name.
    components: dict[str, Json] = field(default_factory=dict)


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add a dataset (once, by name)."""
    if dataset.name in DATASETS and DATASETS[dataset.name] is not dataset:
        raise ValueError(f"Dataset {dataset.name!r} is registered twice")
    DATASETS[dataset.name] = dataset
    return dataset


@dataclass(frozen=True)
class Endpoint:
    """A JSON document at ``path`` (an OpenAPI path template, e.g.
    ``/api/v1/partnerships/{slug}/record/{year}``) and its figures as CSV at
    ``path + "/figures.csv"``. The views read the path parameters as strings and check
    them with ``path_params`` (400 problem if bad, 404 if nothing public matches)."""

    name: str  # the Flask endpoint: opendata.<name>, opendata.<name>_csv
    title: str
    description: str
    schema_name: str
    schema: Json
    path: str
    path_params: tuple[Param, ...]
    view: Callable[..., Any]
    csv_view: Callable[..., Any]


ENDPOINTS: dict[str, Endpoint] = {}


def register_endpoint(endpoint: Endpoint) -> Endpoint:
    """Add a document endpoint (once, by name)."""
    if endpoint.name in ENDPOINTS and ENDPOINTS[endpoint.name] is not endpoint:
        raise ValueError(f"Endpoint {endpoint.name!r} is registered twice")
    ENDPOINTS[endpoint.name] = endpoint
    return endpoint
