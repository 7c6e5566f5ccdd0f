"""CSV downloads: UTF-8, a header row, one row per item, and cells that are safe to
open in a spreadsheet. A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return, which some strip first) as a formula, so any
text cell that starts so gets an apostrophe in front ("CSV injection"); numbers and
dates never start so and are written as they are."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask import Response

from .datasets import Column, Json

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write(columns: Iterable[Column], items: Iterable[Json]) -> str:
    columns = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for item in items:
        writer.writerow([cell(column.read(item)) for column in columns])
    return out.getvalue()


def download(columns: Iterable[Column], items: Iterable[Json], filename: str) -> Response:
    """``write``'s CSV as a download named ``filename``."""
    response = Response(write(columns, items).encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
