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

It also remembers the output of the GOV.UK macros that are pure functions of their
one argument and are called most (``PURE_MACROS``): ``govukAttributes``, which every
component calls for every element, and ``govukTag``, called on every row of many
lists (about 50 µs a call; a remembered one costs the ``repr`` of its params). Each
keeps at most ``PURE_MACRO_CACHE`` outputs, least recently used first out.
"""

from __future__ import annotations

import threading
from collections import ChainMap, OrderedDict
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2.runtime import Context

# Macro files whose named macros are pure functions of their single argument (GOV.UK
# Frontend's: the output depends on the params alone).
PURE_MACROS: dict[str, tuple[str, ...]] = {
    "govuk_frontend_jinja/macros/attributes.html": ("govukAttributes",),
    "govuk_frontend_jinja/components/tag/macro.html": ("govukTag",),
}
PURE_MACRO_CACHE = 1024


def remembered(macro: Callable[..., Any], size: int = PURE_MACRO_CACHE) -> Callable[..., Any]:
    """``macro``, remembering its output for each argument (by ``repr``: equal dicts of
    equal strings give equal HTML; ``Markup`` and ``str`` differ in their ``repr``, as
    they do in the output). Calls with other than one positional argument go through."""
    outputs: OrderedDict[str, Any] = OrderedDict()
    lock = threading.Lock()

    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) != 1 or kwargs:
            return macro(*args, **kwargs)
        key = repr(args[0])
        with lock:
            found = outputs.get(key)
            if found is not None:
                outputs.move_to_end(key)
                return found
        output = macro(args[0])
        with lock:
            outputs[key] = output
            while len(outputs) > size:
                outputs.popitem(last=False)
        return output

    return call


class _Remembering:
    """An imported macro module whose pure macros remember their output."""

    def __init__(self, module: Any, names: tuple[str, ...]) -> None:
        self._module = module
        self._macros = {name: remembered(getattr(module, name)) for name in names}

    def __getattr__(self, name: str) -> Any:
        macro = self._macros.get(name)
        return macro if macro is not None else getattr(self._module, name)


class Template(jinja2.Template):
    """``jinja2.Template`` with a fast check before reusing an imported module, and
    remembered output for ``PURE_MACROS``."""

    _remembering: _Remembering | None = None

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        if ctx is not None:
            own: Any = self.globals
            shared = self.environment.globals
            if (isinstance(own, ChainMap) and len(own.maps) == 2 and not own.maps[0]
                    and own.maps[1] is shared
                    and not ctx.globals_keys - shared.keys()):
                ctx = None  # nothing the cached module lacks: Jinja would reuse it too
        module = super()._get_default_module(ctx)
        names = PURE_MACROS.get(self.name or "")
        if ctx is not None or names is None:
            return module
        if self._remembering is None or self._remembering._module is not module:
            self._remembering = _Remembering(module, names)
        return self._remembering
