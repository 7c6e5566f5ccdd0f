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

PAGES = ["/", "/accessibility", "/account/sign-in", "/organisations/", "/no-such-page"]


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


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_the_same_as_plain_jinja_renders_them(app: Flask, path: str) -> None:
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
