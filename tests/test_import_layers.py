"""Importing models never loads views: each blueprint lives in ``<domain>/routes.py``,
which only ``create_app`` imports."""

from __future__ import annotations

import os
import subprocess
import sys

MODEL_MODULES = [
    "partnerships.accounts.models",
    "partnerships.organisations.models",
    "partnerships.partnership.models",
    "partnerships.forums.models",
    "partnerships.meetings.models",
    "partnerships.mous.models",
    "partnerships.opportunities.models",
    "partnerships.models",
]

# Runs in a fresh interpreter. Each import is checked as it happens, and a module
# imported later loads a subset of what ``partnerships.models`` loads, so one
# interpreter answers for every domain's models.
SCRIPT = """
import importlib, sys

def web_layer():
    return sorted(
        name for name in sys.modules
        if name.startswith("partnerships.")
        and (name.endswith((".views", ".routes")) or name.rsplit(".", 1)[-1].endswith("_views"))
    )

for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded = web_layer()
    if loaded:
        print(f"{name} loads {loaded}")
        sys.exit(1)
print("ok")
"""


def test_importing_models_loads_no_views_or_routes():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *MODEL_MODULES],
        capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"


def test_create_app_registers_every_blueprint_from_its_routes_module(app):
    for name, blueprint in app.blueprints.items():
        assert blueprint.import_name == f"partnerships.{name}.routes"


def test_no_view_module_imports_another():
    """A view module may be imported first (a test, a script): if it imported a sibling
    view module, that would import ``routes``, which imports this one half-built.
    What view modules share lives in ``view_helpers``."""
    import ast
    from pathlib import Path

    import partnerships

    def is_views(name: str) -> bool:
        return name == "views" or name.endswith("_views")

    offenders = []
    for path in Path(partnerships.__file__).parent.glob("*/*views.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and is_views(
                node.module.rsplit(".", 1)[-1]
            ):
                offenders.append(f"{path.parent.name}/{path.name}: from {node.module}")
            if isinstance(node, ast.ImportFrom) and node.level and not node.module:
                offenders += [f"{path.parent.name}/{path.name}: from . import {a.name}"
                              for a in node.names if is_views(a.name)]
    assert offenders == []
