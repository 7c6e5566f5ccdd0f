"""Absolute links: every address that leaves the site is built from ``BASE_URL``.

Emails, calendar feeds, exports and printouts carry absolute links. Building them from
the request's ``Host`` header would let anyone who can send a request with a forged
host (``Host: attacker.example``) make the app email a real person a working
password-reset or invitation link that points at the attacker. So there is one rule,
kept here: an external URL is ``BASE_URL`` plus the path inside the app, whatever host
the request came in on, and outside a request too (CLI jobs build the same links).

``App`` is the Flask class the factory builds. It overrides ``url_for`` (which
``flask.url_for`` and the templates' ``url_for`` both call), so ``_external=True``
anywhere in the code goes through ``public_url``; nothing else builds absolute URLs.
``trusted_hosts`` gives production its list of hosts to accept (``TRUSTED_HOSTS``):
requests for any other host are refused with a 400 before they reach a view.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_request_context, request
from flask.globals import _cv_request, request_ctx
from flask.wrappers import Request
from werkzeug.routing import MapAdapter


def public_base(base_url: str) -> str:
    """``BASE_URL`` without its trailing slash: ``https://example.org/partnerships``."""
    return base_url.rstrip("/")


def public_url(app: Flask, path: str) -> str:
    """The absolute address of ``path`` (a path inside the app, from ``url_for``)."""
    return public_base(app.config["BASE_URL"]) + path


def trusted_hosts(base_url: str, configured: str | None) -> list[str]:
    """Hosts a production server answers for: ``TRUSTED_HOSTS`` (comma-separated; a
    leading dot allows subdomains) if set, else the host of ``BASE_URL``."""
    if configured is not None and configured.strip():
        return [host.strip().lower() for host in configured.split(",") if host.strip()]
    host = urlsplit(base_url).hostname
    return [host.lower()] if host else []


def is_own_address(url: str, app: Flask) -> bool:
    """Whether ``url`` (say, a Referer) is on a host this site answers for: the host of
    ``BASE_URL`` or one of ``TRUSTED_HOSTS``, never the request's own Host header."""
    host = (urlsplit(url).hostname or "").lower()
    configured = app.config.get("TRUSTED_HOSTS") or []
    own = trusted_hosts(app.config["BASE_URL"], None) + [h.lower() for h in configured]
    return bool(host) and any(host == h or (h.startswith(".") and host.endswith(h))
                              for h in own)


# How many built paths ``App.url_for`` keeps (a page builds a few dozen to a few
# hundred; the whole cache is dropped when full, which costs less than an LRU's upkeep).
BUILT_PATHS = 8192


class App(Flask):
    """Flask, with external URLs taken from ``BASE_URL`` rather than the request.

    It also remembers the paths it builds. Werkzeug's ``MapAdapter.build`` is a large
    part of a page's time (a list page builds a link per row, and every page builds
    the navigation's); a path is a pure function of the URL map (fixed once the app
    serves requests), the script root, the endpoint, the values in their order and
    their types, the anchor and the method. So within a request, once the app has
    started serving, an absolute endpoint with hashable values is built once per
    app; anything else (a relative ``.endpoint``, a list of values, a build error,
    before the first request) goes the usual way.
    """

    _built: dict[Hashable, str] | None = None

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Outside a request (CLI jobs), build URLs as if for a request to ``BASE_URL``,
        with paths relative to the app; ``url_for`` makes them absolute."""
        adapter = super().create_url_adapter(request)
        if adapter is None and request is None:
            adapter = self._adapter_for_base("/")
        return adapter

    def _adapter_for_base(self, script_name: str) -> MapAdapter:
        parts = urlsplit(self.config["BASE_URL"])
        return self.url_map.bind(parts.netloc or "localhost", script_name=script_name,
                                 url_scheme=parts.scheme or "http")

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """As Flask's ``url_for``; an external URL (asked for, or the default outside a
        request) is ``BASE_URL`` + the app path. ``_scheme`` is refused: the scheme is
        ``BASE_URL``'s."""
        if _scheme is not None:
            raise ValueError("External URLs take their scheme from BASE_URL; omit _scheme.")
        in_request = has_request_context()
        if in_request and request_ctx.url_adapter is None:
            # The request was refused before routing (a host not in TRUSTED_HOSTS): its
            # error page still needs links, relative to the app as any page's are.
            request_ctx.url_adapter = self._adapter_for_base(request.script_root or "/")
        external = _external if _external is not None else not in_request
        path = self._path_for(endpoint, _anchor, _method, values)
        if not external:
            return path
        root = request.script_root if in_request else ""
        if root and path.startswith(root):
            path = path[len(root):]
        return public_url(self, path)

    def _path_for(self, endpoint: str, anchor: str | None, method: str | None,
                  values: dict[str, Any]) -> str:
        """``Flask.url_for``'s path (not external), remembered where that is safe."""
        req_ctx = _cv_request.get(None)
        if req_ctx is None or not self._got_first_request or endpoint[:1] == "." \
                or req_ctx.url_adapter is None:
            return super().url_for(endpoint, _anchor=anchor, _method=method,
                                   _external=False, **values)
        key: Hashable = (req_ctx.url_adapter.script_name, endpoint, anchor, method,
                         *[(name, type(value), value) for name, value in values.items()])
        built = self._built
        if built is None:
            built = self._built = {}
        try:
            return built[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (a list of query values)
            return super().url_for(endpoint, _anchor=anchor, _method=method,
                                   _external=False, **values)
        path = super().url_for(endpoint, _anchor=anchor, _method=method, _external=False,
                               **values)
        if len(built) >= BUILT_PATHS:
            built.clear()
        built[key] = path
        return path
