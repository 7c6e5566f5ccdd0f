"""Tables that stack on a phone: ``appTable`` (templates/macros/table.html) gives each
cell its column's heading as ``data-label``, which the stylesheet shows above the
value when the table is stacked. The browser test tests/browser/test_reflow.py checks
the pages themselves at 320 px."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, render_template_string

TEMPLATES = Path(__file__).parent.parent / "templates"
TABLE = '{% from "macros/table.html" import appTable %}{{ appTable(params) }}'


def _cells(html: str) -> list[str]:
    return re.findall(r"<t[dh] scope=\"row\"[^>]*>|<td [^>]*>", html)


def test_each_cell_is_labelled_with_its_column_heading(app: Flask) -> None:
    with app.test_request_context():
        html = render_template_string(TABLE, params={
            "caption": "Everyone who answered",
            "head": [{"text": "Name"}, {"html": "Access <em>needs</em>"},
                     {"html": '<span class="govuk-visually-hidden">Actions</span>'}],
            "rows": [[{"text": "Ada"}, {"text": "Step-free"}, {"html": "<button>Remove</button>"}],
                     [{"text": "Bea"}, {"text": "", "attributes": {"data-label": "Own"}},
                      {"text": ""}]],
        })

    cells = _cells(html)
    assert 'data-label="Name"' in cells[0]
    assert 'data-label="Access needs"' in cells[1]  # the heading's text, without markup
    assert "data-label" not in cells[2]  # a hidden heading: the button says what it does
    assert 'data-label="Own"' in cells[4]  # a label given by the page is kept
    assert "data-label" not in cells[5]
    assert "<caption" in html and "Everyone who answered" in html


def test_a_row_heading_needs_no_label(app: Flask) -> None:
    with app.test_request_context():
        html = render_template_string(TABLE, params={
            "firstCellIsHeader": True,
            "head": [{"text": "Organisation"}, {"text": "Role"}],
            "rows": [[{"text": "Northbridge CVS"}, {"text": "Lead"}]],
        })

    row_heading, cell = _cells(html)
    assert row_heading.startswith('<th scope="row"') and "data-label" not in row_heading
    assert 'data-label="Role"' in cell


def test_pages_build_their_tables_with_app_table() -> None:
    """``govukTable`` itself would leave the cells unlabelled on a phone."""
    direct = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
              if path.name != "table.html" and "govukTable(" in path.read_text()]
    assert not direct, f"use appTable from macros/table.html instead of govukTable in {direct}"
