"""Filter forms (``forms.FilterForm``: the organisation directory's, the opportunities'
and the MoU register's) render each field once per process for what it shows, and
always show what was asked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from govuk_frontend_wtf.gov_form_base import GovFormBase

from partnerships.forms import RENDERED_FIELDS
from tests.conftest import AppClient

PAGES = ["/organisations/?type=charity&sector=vcse",
         "/opportunities/?type=shadowing&sector=public",
         "/partnerships/northbridge-together/mous/?status=ended"]


def _form(html: str) -> str:
    """The filter form of a list page."""
    return html[html.index('<form method="get"'):html.index("</form>")]


@pytest.fixture
def partnership(make_partnership: Any) -> Any:
    return make_partnership()


@pytest.mark.parametrize("path", PAGES)
def test_a_filter_form_is_rendered_once_for_what_it_shows(
        client: AppClient, partnership: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    RENDERED_FIELDS.clear()
    calls = []
    render = GovFormBase.render

    def counted(self: Any, params: Any) -> Any:
        calls.append(self)
        return render(self, params)

    monkeypatch.setattr(GovFormBase, "render", counted)
    first = client.get(path)
    assert first.status_code == 200 and calls
    count = len(calls)
    second = client.get(path)
    assert _form(second.get_data(as_text=True)) == _form(first.get_data(as_text=True))
    assert len(calls) == count  # every field came from the cache


def test_the_filters_show_what_was_asked_each_time(client: AppClient, partnership: Any) -> None:
    for status in ("ended", "active", "review", ""):
        html = client.get(f"/partnerships/northbridge-together/mous/?status={status}"
                          ).get_data(as_text=True)
        selected = html.split('id="status"')[1].split("</select>")[0]
        assert f'value="{status}" selected' in selected, status
        assert selected.count("selected") == 1
    for query in ("food", "council", ""):
        html = client.get(f"/organisations/?q={query}").get_data(as_text=True)
        box = re.search(r'<input[^>]*name="q"[^>]*>', html)
        assert box is not None
        assert f'value="{query}"' in box.group(0) or (not query and "value=" not in box.group(0))


def test_a_field_shows_back_what_was_sent_not_what_an_earlier_request_sent(
        client: AppClient, partnership: Any) -> None:
    """Two requests whose field has the same value but was sent differently (a checkbox
    sent as "Y", then as "y") each get their own HTML back: the kept HTML is keyed by
    what was sent, not only by the value it gave."""
    RENDERED_FIELDS.clear()
    first = client.get("/organisations/?small=Y").get_data(as_text=True)
    assert 'name="small" type="checkbox" value="Y" checked' in first
    second = client.get("/organisations/?small=y").get_data(as_text=True)
    assert 'name="small" type="checkbox" value="y" checked' in second
