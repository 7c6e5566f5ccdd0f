"""The app's Jinja template class (``partnerships/templating.py``): macro imports reuse
the imported template's module without testing every global name, and templates see
exactly what plain Jinja would show them."""

from __future__ import annotations

import collections
import re
from typing import Any

import jinja2
import pytest
from flask import Flask

from partnerships import templating
from tests.conftest import AppClient

PAGES = ["/", "/accessibility", "/account/sign-in", "/organisations/", "/no-such-page",
         "/partnerships/northbridge-together/", "/partnerships/northbridge-together/forums/"]


def _steady(html: str) -> str:
    """The page without what changes on every request (nonce, CSRF token)."""
    html = re.sub(r'nonce="[^"]+"', 'nonce=""', html)
    html = re.sub(r'(name="csrf_token" value=")[^"]+', r"\1", html)
    return re.sub(r"(X-CSRFToken&#34;: &#34;)[^&]+", r"\1", html)


def test_the_app_renders_with_its_own_template_class(app: Flask) -> None:
    assert app.jinja_env.template_class is templating.Template


def test_macro_imports_do_not_test_each_global_name(
        client: AppClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Profiled, Jinja's check before reusing an imported macro module (the importing
    context's globals, name by name against a ChainMap) was 40% of the cost of
    rendering the empty layout page, which imports twenty macro files."""
    client.get("/accessibility")  # load and compile the templates first
    calls = {"n": 0}
    contains = collections.ChainMap.__contains__

    def counted(self: Any, key: object) -> bool:
        calls["n"] += 1
        return contains(self, key)

    monkeypatch.setattr(collections.ChainMap, "__contains__", counted)
    assert client.get("/accessibility").status_code == 200
    assert calls["n"] == 0


@pytest.fixture
def partnership(make_partnership: Any, make_organisation: Any, make_forum: Any) -> Any:
    """Something for the pages to list: members (tags on each) and forums."""
    members = [make_organisation(f"Group {n}") for n in range(3)]
    made = make_partnership(members=members)
    make_forum(made, "VCSE Alliance")
    make_forum(made, "Youth Forum", public=False)
    return made


def test_pure_govuk_macros_render_once_for_each_argument(
        client: AppClient, partnership: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``govukTag`` and ``govukAttributes`` depend on their params alone: a page with a
    tag on every row renders each distinct tag once, and later pages none."""
    made: list[str] = []
    remembered = templating.remembered

    def counting(macro: Any, size: int = templating.PURE_MACRO_CACHE) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            made.append(repr(args))
            return macro(*args, **kwargs)
        return remembered(call, size)

    monkeypatch.setattr(templating, "remembered", counting)
    client.application.jinja_env.cache.clear()  # type: ignore[union-attr]
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert page.count(">\n  Small\n<") == 3  # the three groups' tags, all shown
    assert len(made) == len(set(made))  # each distinct call made once
    # The CSRF token in the body's hx-headers carries a timestamp in seconds: a second
    # request in the next second passes new params (so it is rendered anew), rightly.
    first = [call for call in made if "X-CSRFToken" not in call]
    client.get("/partnerships/northbridge-together/")
    assert [call for call in made if "X-CSRFToken" not in call] == first


def test_a_remembered_macro_keeps_at_most_its_size_and_passes_other_calls_through() -> None:
    calls: list[Any] = []

    def macro(*args: Any, **kwargs: Any) -> str:
        calls.append((args, kwargs))
        return f"<{args}{kwargs}>"

    tag = templating.remembered(macro, size=2)
    assert tag({"text": "a"}) == tag({"text": "a"}) and len(calls) == 1
    tag({"text": "b"})
    tag({"text": "c"})
    tag({"text": "a"})  # pushed out by b and c: made again
    assert len(calls) == 4
    tag({"text": "a"}, extra=1)
    tag({"text": "a"}, extra=1)
    assert len(calls) == 6  # keyword arguments are never remembered


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_the_same_as_plain_jinja_renders_them(app: Flask, partnership: Any,
                                                        path: str) -> None:
    fast = app.test_client().get(path)
    plain_app_env = app.jinja_env
    plain_app_env.template_class = jinja2.Template
    plain_app_env.cache.clear()  # type: ignore[union-attr]
    try:
        plain = app.test_client().get(path)
    finally:
        plain_app_env.template_class = templating.Template
        plain_app_env.cache.clear()  # type: ignore[union-attr]
    assert fast.status_code == plain.status_code
    assert _steady(fast.get_data(as_text=True)) == _steady(plain.get_data(as_text=True))


def test_a_template_with_globals_of_its_own_imports_as_plain_jinja_does() -> None:
    """Where the importing template has globals beyond the environment's, the fast
    path steps aside and Jinja decides, so what an import sees is unchanged."""
    sources = {
        "macros.html": "{% macro hello() %}Hello, {{ who }}{% endmacro %}",
        "page.html": '{% from "macros.html" import hello with context %}'
                     '{% from "macros.html" import hello as plain %}{{ hello() }}|{{ plain() }}',
    }
    renders = []
    for template_class in (jinja2.Template, templating.Template):
        env = jinja2.Environment(loader=jinja2.DictLoader(sources))
        env.template_class = template_class
        env.globals["who"] = "world"
        renders.append((env.get_template("page.html").render(),
                        env.get_template("page.html", globals={"who": "Northbridge"}).render()))
    assert renders[0] == renders[1] == (
        "Hello, world|Hello, world", "Hello, Northbridge|Hello, world")
