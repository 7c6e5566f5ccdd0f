"""User-written Markdown rendered to safe HTML.

markdown-it-py with raw HTML switched off, then nh3 (ammonia) as a second line of
defence: an allow-list of tags, and ``rel="nofollow noopener"`` on links.
"""

from __future__ import annotations

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


def render_markdown(source: str | None) -> Markup:
    """Markdown to sanitised HTML, styled with GOV.UK classes.

    Headings are shifted down one level (``#`` becomes ``h2``) so user content never
    adds a second ``h1`` to a page.
    """
    if not source:
        return Markup("")
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
