"""Open data: a read-only JSON API under ``/api/v1/``, CSV downloads of the same lists,
an OpenAPI 3.1 document that describes them, and the human page at ``/open-data``.

Everything here is what an anonymous visitor may see, whoever asks: each dataset
filters with the permissions layer's SQL conditions for a signed-out viewer
(``permissions.meetings_visible_to(None)``, ``forums_readable_by(None)``,
``mous_visible_to(None)``), exactly as the public pages do, so signing in never adds a
members-only row to open data.

Modules:

- ``datasets``: the registry. A ``Dataset`` names its list, its filters, its query, its
  serialiser, its JSON Schema and its CSV columns; routes, the OpenAPI document and the
  human page are all built from the registry, so a new dataset (the engagement record,
  say) is one ``Dataset`` registered from its own module.
- ``params``: query parameters read strictly (unknown, repeated or malformed ones are a
  400 problem), declared once for the routes and the OpenAPI document alike.
- ``problems``: RFC 9457 ``application/problem+json`` answers for every error under
  ``/api/``.
- ``paging``: the list envelope (items, total, links to the next and previous pages).
- ``csvout``: CSV with a header row, safe to open in a spreadsheet.
- ``partnerships``, ``forums``, ``meetings``, ``mous``, ``opportunities``: one dataset
  each (query, serialiser, schema).
- ``openapi``: the OpenAPI 3.1 document.
- ``views``, ``routes``: the blueprint.
"""
