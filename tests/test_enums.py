"""Every labelled enum gives each member a label, and behaves as the plain StrEnum it
replaced (equal to its value, looked up by value, stored by SQLAlchemy as before)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import partnerships
from partnerships.enums import LabelledEnum


def _all_labelled() -> list[type[LabelledEnum]]:
    for module in pkgutil.walk_packages(partnerships.__path__, "partnerships."):
        importlib.import_module(module.name)
    found: list[type[LabelledEnum]] = []
    pending = list(LabelledEnum.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("enum", _all_labelled(), ids=lambda e: e.__qualname__)
def test_every_member_has_a_label(enum: type[LabelledEnum]) -> None:
    for member in enum:
        assert member.label.strip(), f"{enum.__name__}.{member.name} has no label"
        assert enum(member.value) is member
        assert member == member.value


def test_choices_keep_declaration_order() -> None:
    class Kind(LabelledEnum):
        B = "b", "Bee"
        A = "a", "Ay", "a hint"

    assert [(c.value, c.label) for c in Kind.choices()] == [("b", "Bee"), ("a", "Ay")]
    assert Kind.A.hint == "a hint" and Kind.B.hint == ""
    assert f"{Kind.A}" == "a"
