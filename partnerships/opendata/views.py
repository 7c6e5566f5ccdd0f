"""Thin views of the open data API: read the parameters, fetch public rows through the
dataset, answer JSON, CSV or a problem. One list, CSV and detail view serve every
dataset (``routes`` adds a URL rule for each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from .. import pagecache
from ..extensions import limiter
from . import csvout, openapi, paging, params, problems
from .datasets import DATASETS, ENDPOINTS, Dataset
from .routes import bp

CSV_BATCH = 500  # rows fetched at a time for a download: a few queries per 500 rows


def api_rate_limit() -> str:
    """Per address (Flask-Limiter syntax); ``API_RATE_LIMIT`` in the environment."""
    limit: str = current_app.config.get("API_RATE_LIMIT") or "300 per minute"
    return limit


# One allowance per address across the whole API, whichever endpoints it is spent on.
_allowance = limiter.shared_limit(api_rate_limit, scope="open-data-api")


def limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """The API's allowance on ``view``, and no page cache: Flask-Limiter counts a view's
    own limits as the view runs, so an answer kept by the page cache would be served
    without spending any."""
    return pagecache.never(_allowance(view))


@bp.errorhandler(problems.Problem)
def _problem(problem: problems.Problem) -> Response:
    return problems.response(problem)


@bp.after_app_request
def _open_to_every_origin(response: BaseResponse) -> BaseResponse:
    """Open data is for anyone's page to fetch: no cookies are read, nothing changes."""
    if request.path.startswith(problems.API_PREFIX):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def list_view(dataset: Dataset) -> Response:
    values = params.read(request.args, (*dataset.filters, *params.PAGING))
    per_page = values["per_page"]
    rows, total = dataset.fetch(values, (values["page"] - 1) * per_page, per_page)
    items = [dataset.serialise(row) for row in rows]
    return jsonify(paging.envelope(dataset, values, items, total))


def csv_view(dataset: Dataset) -> Response:
    values = params.read(request.args, dataset.filters)
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        rows, total = dataset.fetch(values, offset, CSV_BATCH)
        items += [dataset.serialise(row) for row in rows]
        offset += CSV_BATCH
        if len(rows) < CSV_BATCH or offset >= total:
            break
    return csvout.download(dataset.columns, items, f"{dataset.name}.csv")


def detail_view(dataset: Dataset, **key: Any) -> Response:
    params.read(request.args, ())
    assert dataset.detail is not None
    row = dataset.detail.load(next(iter(key.values())))
    if row is None:
        raise problems.not_found(dataset.schema_name.lower())
    return jsonify(dataset.serialise(row))


@bp.get("/api/v1/openapi.json")
@limited
def openapi_document() -> Response:
    params.read(request.args, ())
    return jsonify(openapi.document())


@bp.get("/open-data")
def page() -> str:
    """The human page: what each dataset holds, its JSON and CSV, the API's document,
    and the licence."""
    return render_template("opendata/index.html", datasets=list(DATASETS.values()),
                           endpoints=list(ENDPOINTS.values()),
                           ogl_name=openapi.OGL_NAME, ogl_url=openapi.OGL_URL,
                           per_page_max=params.PER_PAGE_MAX)


def _add_dataset_routes() -> None:
    for dataset in DATASETS.values():
        name = dataset.name

        def listing(dataset: Dataset = dataset) -> Response:
            return list_view(dataset)

        def download(dataset: Dataset = dataset) -> Response:
            return csv_view(dataset)

        bp.add_url_rule(f"/api/v1/{name}", f"{name}_list", limited(listing),
                        methods=["GET"])
        bp.add_url_rule(f"/api/v1/{name}.csv", f"{name}_csv", limited(download),
                        methods=["GET"])
        if dataset.detail is not None:
            converter = "int:" if dataset.detail.kind == "id" else ""

            def detail(dataset: Dataset = dataset, **key: Any) -> Response:
                return detail_view(dataset, **key)

            bp.add_url_rule(f"/api/v1/{name}/<{converter}{dataset.detail.key}>",
                            f"{name}_detail", limited(detail), methods=["GET"])


def _add_endpoint_routes() -> None:
    for endpoint in ENDPOINTS.values():
        rule = endpoint.path.replace("{", "<").replace("}", ">")
        bp.add_url_rule(rule, endpoint.name, limited(endpoint.view), methods=["GET"])
        bp.add_url_rule(f"{rule}/figures.csv", f"{endpoint.name}_csv",
                        limited(endpoint.csv_view), methods=["GET"])


_add_dataset_routes()
_add_endpoint_routes()
