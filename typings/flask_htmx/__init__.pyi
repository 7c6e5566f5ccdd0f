# Stubs for flask-htmx 0.4 (annotated, but it ships no py.typed marker).
from .htmx import HTMX as HTMX
