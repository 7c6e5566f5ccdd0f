"""Jinja's template class, made cheap for templates that import macros.

Why: every page extends ``base.html``, which (with GOV.UK's ``template.html``) imports
twenty macro files, and GOV.UK's component macros import ``govukAttributes`` inside
themselves, so a page runs dozens of ``{% from ... import ... %}`` per render (one per
tag, button or post on a list). Jinja answers each from a cached module, but first
checks whether the importing context has globals the imported template lacks
(``ctx.globals_keys - self.globals.keys()``), and ``self.globals`` is a ``ChainMap``
over the environment's globals whose ``keys()`` view tests each name against every
map in Python: profiled, that check was 40% of the time to render the empty layout
page (``bench/profile.py``).

``Template`` below answers the same question with one set difference in C when the
imported template has no globals of its own (always the case here: templates get
the environment's globals only), and defers to Jinja otherwise, so what a template
sees is unchanged. ``create_app`` installs it as the environment's ``template_class``.
"""

from __future__ import annotations

from collections import ChainMap
from typing import Any

import jinja2
from jinja2.runtime import Context


class Template(jinja2.Template):
    """``jinja2.Template`` with a fast check before reusing an imported module."""

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        if ctx is not None:
            own: Any = self.globals
            shared = self.environment.globals
            if (isinstance(own, ChainMap) and len(own.maps) == 2 and not own.maps[0]
                    and own.maps[1] is shared
                    and not ctx.globals_keys - shared.keys()):
                ctx = None  # nothing the cached module lacks: Jinja would reuse it too
        return super()._get_default_module(ctx)
