# Stubs for Flask-Login 0.6 (untyped, and typeshed has none): only what the app uses.
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from flask import Flask
from werkzeug.wrappers import Response

_P = ParamSpec("_P")
_R = TypeVar("_R")
_UserLoader = TypeVar("_UserLoader", bound=Callable[[str], Any])

class UserMixin:
    __hash__ = object.__hash__
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> str | None: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class AnonymousUserMixin:
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> None: ...

class LoginManager:
    anonymous_user: type[Any]
    login_view: str | None
    login_message: str
    login_message_category: str
    refresh_view: str | None
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    # A redirect to the sign-in page (or it aborts with 401 when there is no login view).
    def unauthorized(self) -> Response: ...
    def user_loader(self, callback: _UserLoader) -> _UserLoader: ...

# The signed-in user (the app's User, whatever `user_loader` returns) or an
# AnonymousUserMixin: a werkzeug LocalProxy, so Any.
current_user: Any

def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
def login_required(func: Callable[_P, _R]) -> Callable[_P, _R | Response]: ...
def fresh_login_required(func: Callable[_P, _R]) -> Callable[_P, _R | Response]: ...
