"""Worlds built once per worker and copied into each later test's database.

The route-by-role tables build the same small world (people, a partnership, forums,
meetings, MoUs) for each of a hundred parametrised tests, through the services: about a
second each, most of those files' time. ``reuse`` builds it for the first test in the
process, keeps a copy of every row and uploaded file (``tests.demo``'s copy, as for the
demo), and gives each later test the same rows in its own empty database, with the
world's objects loaded afresh by their keys. Each test still starts from exactly what
the builder made, and may change it freely. A copy is reused only on the UK day it was
made, as the worlds are laid out relative to today.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import inspect

from partnerships.extensions import db
from partnerships.modelbase import Model
from partnerships.timeutil import today_uk
from tests import demo

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _Row:
    """Where an object of the world was: its class and primary key."""

    model: type[Model]
    key: tuple[Any, ...]


@dataclasses.dataclass
class _Kept:
    day: date
    copy: Any
    shape: Any


_kept: dict[Any, _Kept] = {}


def _shape(value: Any) -> Any:
    """The world with each model object replaced by where it is."""
    if isinstance(value, Model):
        identity = inspect(value).identity
        assert identity is not None, f"{value!r} is not saved: commit the world first"
        return _Row(type(value), identity)
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_shape(item) for item in value)
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**{key: _shape(item) for key, item in vars(value).items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{  # type: ignore[misc]
            field.name: _shape(getattr(value, field.name))
            for field in dataclasses.fields(value) if field.init})
    return value


def _load(shape: Any) -> Any:
    """The world again, its objects read from this test's database."""
    if isinstance(shape, _Row):
        found = db.session.get(shape.model, shape.key)
        assert found is not None, f"{shape.model.__name__} {shape.key} was not copied"
        return found
    if isinstance(shape, dict):
        return {key: _load(item) for key, item in shape.items()}
    if isinstance(shape, list | tuple):
        return type(shape)(_load(item) for item in shape)
    if isinstance(shape, SimpleNamespace):
        return SimpleNamespace(**{key: _load(item) for key, item in vars(shape).items()})
    if dataclasses.is_dataclass(shape) and not isinstance(shape, type):
        return dataclasses.replace(shape, **{  # type: ignore[misc]
            field.name: _load(getattr(shape, field.name))
            for field in dataclasses.fields(shape) if field.init})
    return shape


def reuse(key: Any, build: Callable[[], T]) -> T:
    """``build()``'s world in this test's (empty) database: built and committed here the
    first time in this process for ``key`` today, copied in after that."""
    kept = _kept.get(key)
    if kept is not None and kept.day == today_uk():
        demo.restore_rows(kept.copy)
        return _load(kept.shape)  # type: ignore[no-any-return]
    world = build()
    db.session.commit()
    _kept[key] = _Kept(today_uk(), demo.take_rows(), _shape(world))
    return world
