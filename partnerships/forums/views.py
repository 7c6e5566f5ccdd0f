"""Forum pages (being built)."""
