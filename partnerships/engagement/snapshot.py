"""The engagement record frozen as JSON, for a published annual report.

``dump`` turns an ``EngagementRecord`` (frozen dataclasses all the way down) into JSON
text and ``load`` builds the same dataclasses back, so the report renders its figures
with the record page's own templates and charts, from what was true on the day it was
published. Both walk the dataclasses' type hints, so a figure added to the record is
frozen with the rest without touching this module; a snapshot written before a field
existed loads with that field's default, or empty (zero, none, an empty list).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

from .record import EngagementRecord

VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(_plain(key)): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def dump(record: EngagementRecord) -> str:
    return json.dumps({"version": VERSION, "record": _plain(record)}, ensure_ascii=False)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _empty(kind: Any) -> Any:
    """A value for a field the snapshot lacks (written before the field existed)."""
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        return None
    if origin is tuple:
        return ()
    if origin is dict:
        return {}
    if kind in (int, float):
        return 0
    if kind is str:
        return ""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _build(kind, {})
    return None


def _build(cls: type, data: dict[str, Any]) -> Any:
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _value(_hints(cls)[f.name], data[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            values[f.name] = _empty(_hints(cls)[f.name])
    return cls(**values)


def _value(kind: Any, data: Any) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if data is None:
            return None
        return _value(next(arg for arg in args if arg is not type(None)), data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item) for item in data)
        return tuple(_value(arg, item) for arg, item in zip(args, data, strict=True))
    if origin is dict:
        return {_value(args[0], key): _value(args[1], item) for key, item in data.items()}
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _build(kind, data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is date:
        return date.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind is float and data is not None:
        return float(data)
    return data


def load(text: str) -> EngagementRecord:
    data = json.loads(text)
    record: EngagementRecord = _build(EngagementRecord, data["record"])
    return record
