"""The HTML part of every email, made from its plain text, so the two always say the
same thing: paragraphs at blank lines, line breaks kept, web addresses made into links,
everything else escaped. One layout (``templates/email/_layout.html``) in the style of
GOV.UK Notify: one column, the service name as a header, no images, no tracking.
"""

from __future__ import annotations

import re

from flask import current_app, render_template
from markupsafe import Markup, escape

# A web address up to white space or a character that cannot end one here; trailing
# punctuation of the sentence it sits in is left outside the link.
URL_RE = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]}"


def _linked(line: str) -> Markup:
    out = Markup("")
    last = 0
    for match in URL_RE.finditer(line):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        out += escape(line[last:match.start()])
        out += Markup('<a href="{0}" style="color:#1d70b8;">{0}</a>').format(url)
        last = end
    return out + escape(line[last:])


def paragraphs(text: str) -> list[Markup]:
    """The text's paragraphs as safe HTML, line breaks inside each kept."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.strip())]
    return [Markup("<br>\n").join(_linked(line) for line in block.split("\n"))
            for block in blocks if block.strip()]


def to_html(text: str, subject: str) -> str:
    return render_template("email/_layout.html", subject=subject,
                           paragraphs=paragraphs(text),
                           service_name=current_app.config["SERVICE_NAME"])
