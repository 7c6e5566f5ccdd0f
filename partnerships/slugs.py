"""URL slugs: lower-case words joined by hyphens, made unique within a table."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select

from .extensions import db

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.replace("&", " and ").replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-") or "item"


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_PATTERN.match(slug)) and len(slug) <= MAX_SLUG


def unique_slug(model: Any, text: str, exclude_id: int | None = None) -> str:
    """A slug for ``text`` not yet used in ``model``'s table (adds -2, -3, ...)."""
    base = slugify(text)
    taken = set(
        db.session.scalars(
            select(model.slug).where(
                (model.slug == base) | model.slug.like(f"{base}-%"),
                *( [model.id != exclude_id] if exclude_id is not None else [] ),
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base[: MAX_SLUG - len(str(n)) - 1]}-{n}"
