# Stubs for Flask-WTF 1.x (untyped, and typeshed has none): only what the app uses.
from .csrf import CSRFProtect as CSRFProtect
from .form import FlaskForm as FlaskForm
