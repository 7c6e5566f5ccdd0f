"""Partnerships (the "places"): public pages, officers and member organisations.

The package is called ``places`` because ``partnerships`` is the app's own name.
"""
