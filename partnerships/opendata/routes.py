"""The ``opendata`` blueprint: ``/api/v1/...`` and ``/open-data``. Importing this module
imports the dataset modules (each registers its ``Dataset``) and then the views, which
add a list, CSV and detail route for every registered dataset; ``create_app`` registers
the blueprint. A new dataset's module goes in ``DATASET_MODULES``."""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint

bp = Blueprint("opendata", __name__)

DATASET_MODULES = ("partnerships", "forums", "meetings", "mous", "opportunities")
# Documents that are not lists (each registers an ``Endpoint``).
ENDPOINT_MODULES = ("records", "reports")
for _module in (*DATASET_MODULES, *ENDPOINT_MODULES):
    import_module(f"{__package__}.{_module}")

from . import views  # noqa: E402,F401
