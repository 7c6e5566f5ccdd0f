"""User-written Markdown rendered to safe HTML.

markdown-it-py with raw HTML switched off, then nh3 (ammonia) as a second line of
defence: an allow-list of tags, and ``rel="nofollow noopener"`` on links.

Rendered HTML is kept in a per-process LRU keyed by the Markdown text itself
(``RenderedCache``), because pages show the same stored text on every request (a
thread's posts, a meeting's minutes, a partnership's description) and rendering it
is most of their cost. Why a cache keyed by the text rather than a rendered-HTML
column filled on save: the text appears in some twenty columns of ten tables, each of
which would need a column, a migration with a backfill, and every service that
writes it to fill it; and a stored rendering goes stale when these rules change (the
allowed tags, the GOV.UK classes), where a cache keyed by the text cannot serve HTML
for anything but exactly that text under the rules of the running code. The price:
each worker renders a text once after it starts, and the cache is bounded by
characters held (``CACHE_CHARS``), not by entries, so long texts cannot crowd memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}

# GOV.UK Frontend classes for each element, so user content matches the page.
_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<h2>": '<h2 class="govuk-heading-m">',
    "<h3>": '<h3 class="govuk-heading-s">',
    "<h4>": '<h4 class="govuk-heading-s">',
    "<table>": '<table class="govuk-table">',
    "<hr>": '<hr class="govuk-section-break govuk-section-break--m govuk-section-break--visible">',
}


# Characters of Markdown and HTML kept per process (about 8 MB of text at most).
CACHE_CHARS = 4_000_000


class RenderedCache:
    """Least recently used Markdown -> HTML, bounded by the characters it holds."""

    def __init__(self, max_chars: int = CACHE_CHARS) -> None:
        self._items: OrderedDict[str, Markup] = OrderedDict()
        self._chars = 0
        self._max = max_chars
        self._lock = threading.Lock()

    def get(self, source: str) -> Markup | None:
        with self._lock:
            html = self._items.get(source)
            if html is not None:
                self._items.move_to_end(source)
            return html

    def put(self, source: str, html: Markup) -> None:
        size = len(source) + len(html)
        if size > self._max:
            return
        with self._lock:
            if source in self._items:
                return
            self._items[source] = html
            self._chars += size
            while self._chars > self._max:
                old, old_html = self._items.popitem(last=False)
                self._chars -= len(old) + len(old_html)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0


rendered = RenderedCache()


def render_markdown(source: str | None) -> Markup:
    """Markdown to sanitised HTML, styled with GOV.UK classes (cached: see above).

    Headings are shifted down one level (``#`` becomes ``h2``) so user content never
    adds a second ``h1`` to a page.
    """
    if not source:
        return Markup("")
    html = rendered.get(source)
    if html is None:
        html = _render(source)
        rendered.put(source, html)
    return html


def _render(source: str) -> Markup:
    html = _md.render(_shift_headings(source))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    for plain, styled in _CLASSES.items():
        clean = clean.replace(plain, styled)
    clean = clean.replace("<a ", '<a class="govuk-link" ')
    return Markup(clean)


def _shift_headings(source: str) -> str:
    lines = []
    in_fence = False
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and stripped.startswith("#"):
            hashes = len(stripped) - len(stripped.lstrip("#"))
            if hashes < 6 and stripped[hashes : hashes + 1] in (" ", ""):
                line = "#" + stripped
        lines.append(line)
    return "\n".join(lines)
