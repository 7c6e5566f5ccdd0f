"""Your Local Partnerships (``/my/``): what needs the signed-in person, on one page."""
