"""Discussion pages (being built)."""
