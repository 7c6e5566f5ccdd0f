"""Every Flask extension instance, in one place.

Modules import the instances from here and the app factory calls ``init_app`` on
each, so there is exactly one of each and no import cycles through the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter and drop them on SQLite (batch
# mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model (typed SQLAlchemy 2 mappings)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base class for models: ``class Thing(Model)``, the same class as ``db.Model``.
# mypy cannot follow a base class read from an instance attribute (``db.Model`` is built
# by ``SQLAlchemy()`` at run time: python/mypy#8603), so type checking sees what it is
# made of instead: Flask-SQLAlchemy's model mixin (``query``, ``__fsa__``) over ``Base``'s
# declarative base (Flask-SQLAlchemy copies ``Base``'s body, metadata included, into a
# new class with ``Base``'s bases, so at run time ``issubclass(db.Model, Base)`` is False).
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        __abstract__ = True
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
